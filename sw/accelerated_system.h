// The whole system for an accelerated inference: the host driver bound to the accelerator's
// target socket, and the done interrupt wired between them.
#pragma once

#include <systemc>

#include "sw/host_driver.h"
#include "tlm/accelerator.h"

namespace axsa::sw {

class accelerated_system : public sc_core::sc_module {
 public:
  accelerated_system(const sc_core::sc_module_name& name, const hw::array_config& cfg,
                     const tlm_model::buffer_sizes& sizes = {})
      : sc_core::sc_module(name), accelerator("accelerator", cfg, sizes), host("host", cfg, sizes), m_irq("irq") {
    host.socket.bind(accelerator.socket);
    host.set_fault_port([this](std::uint64_t offset, unsigned bit, bool value) {
      accelerator.stick_weight_bit(offset, bit, value);
    });
    host.set_activity_probe([this] { return accelerator.counts(); });
    accelerator.irq(m_irq);
    host.irq(m_irq);
  }

  tlm_model::accelerator accelerator;
  host_driver host;

 private:
  sc_core::sc_signal<bool> m_irq;
};

}  // namespace axsa::sw
