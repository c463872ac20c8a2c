// A minimal virtual platform built against the installed axsa package: a host thread on a TLM
// initiator socket loads two matrices into the accelerator, programs and starts it, waits for the
// done interrupt and checks the result against a plain loop. Prints one line; exit 0 when it matches.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "hw/cycle_model.h"
#include "tlm/accelerator.h"

namespace {

namespace reg = axsa::tlm_model::reg;

class host : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(host);
  explicit host(const sc_core::sc_module_name& name) : sc_core::sc_module(name), socket("socket"), irq("irq") {
    SC_THREAD(run);
  }
  tlm_utils::simple_initiator_socket<host> socket;
  sc_core::sc_in<bool> irq;
  bool ok = false;
  std::uint64_t cycles = 0;

 private:
  bool access(tlm::tlm_command cmd, std::uint64_t address, void* data, unsigned length) {
    tlm::tlm_generic_payload t;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    t.set_command(cmd);
    t.set_address(address);
    t.set_data_ptr(static_cast<unsigned char*>(data));
    t.set_data_length(length);
    t.set_streaming_width(length);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(t, delay);
    sc_core::wait(delay);
    return t.is_response_ok();
  }
  bool write_reg(std::uint64_t offset, std::uint32_t v) {
    return access(tlm::TLM_WRITE_COMMAND, axsa::tlm_model::reg_base + offset, &v, 4);
  }
  std::uint32_t read_reg(std::uint64_t offset) {
    std::uint32_t v = 0;
    access(tlm::TLM_READ_COMMAND, axsa::tlm_model::reg_base + offset, &v, 4);
    return v;
  }

  void run() {
    const std::uint32_t m = 7, k = 9, n = 5;
    std::vector<std::int16_t> act(m * k), wgt(k * n);
    for (std::size_t i = 0; i < act.size(); ++i) act[i] = static_cast<std::int16_t>(static_cast<int>(i * 37 % 255) - 128);
    for (std::size_t i = 0; i < wgt.size(); ++i) wgt[i] = static_cast<std::int16_t>(static_cast<int>(i * 91 % 255) - 127);
    bool bus_ok = read_reg(reg::id) == reg::id_value;
    bus_ok &= access(tlm::TLM_WRITE_COMMAND, axsa::tlm_model::act_base, act.data(), static_cast<unsigned>(act.size() * 2));
    bus_ok &= access(tlm::TLM_WRITE_COMMAND, axsa::tlm_model::weight_base, wgt.data(), static_cast<unsigned>(wgt.size() * 2));
    bus_ok &= write_reg(reg::m, m) && write_reg(reg::k, k) && write_reg(reg::n, n);
    bus_ok &= write_reg(reg::irq_enable, reg::irq_enable_on) && write_reg(reg::ctrl, reg::ctrl_start);
    if (!irq.read()) sc_core::wait(irq.posedge_event());
    cycles = read_reg(reg::cycles_lo);
    std::vector<std::int64_t> out(m * n);
    bus_ok &= access(tlm::TLM_READ_COMMAND, axsa::tlm_model::out_base, out.data(), static_cast<unsigned>(out.size() * 8));
    // The documented cycle count, from the installed cycle model.
    bool match = bus_ok && read_reg(reg::error) == reg::error_none &&
                 cycles == axsa::hw::gemm_cycles({m, k, n}, 4, 3);
    for (std::uint32_t i = 0; i < m; ++i) {
      for (std::uint32_t j = 0; j < n; ++j) {
        std::int64_t sum = 0;
        for (std::uint32_t x = 0; x < k; ++x) sum += std::int64_t{act[i * k + x]} * wgt[x * n + j];
        match &= out[i * n + j] == sum;
      }
    }
    ok = match;
  }
};

class platform : public sc_core::sc_module {
 public:
  explicit platform(const sc_core::sc_module_name& name, const axsa::hw::array_config& cfg)
      : sc_core::sc_module(name), cpu("cpu"), accelerator("accelerator", cfg), m_irq("irq") {
    cpu.socket.bind(accelerator.socket);
    accelerator.irq(m_irq);
    cpu.irq(m_irq);
  }
  host cpu;
  axsa::tlm_model::accelerator accelerator;

 private:
  sc_core::sc_signal<bool> m_irq;
};

}  // namespace

int sc_main(int, char*[]) {
  axsa::hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 3;
  platform top("top", cfg);
  sc_core::sc_start();
  std::cout << "axsa consumer: " << (top.cpu.ok ? "match" : "MISMATCH") << ", " << top.cpu.cycles << " cycles\n";
  return top.cpu.ok ? 0 : 1;
}
