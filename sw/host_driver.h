// The host side of the accelerator: a TLM-2.0 initiator that runs an inference from its SC_THREAD.
// As a GEMM backend it writes the weights and activations over the bus, programs the registers,
// starts the array, waits for the done interrupt (with a watchdog derived from the cycle formula),
// and reads the results back. Each layer's weights get a region of their own in the weight buffer
// and stay resident while the buffer holds them all (uploaded again only when the host's copy
// changes; when they no longer fit, the buffer is reused from its start). It counts array cycles
// (from the CYCLES register) and bus cycles (the latency the target annotates on every transaction).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "hw/array_config.h"
#include "sw/gemm_backend.h"
#include "tlm/accelerator.h"

namespace axsa::sw {

// A bus transaction the target answered with an error, or a job the accelerator reported as failed.
class bus_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The accelerator did not raise done within its cycle budget.
class hang_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class host_driver : public sc_core::sc_module, public gemm_backend {
 public:
  SC_HAS_PROCESS(host_driver);
  host_driver(const sc_core::sc_module_name& name, const hw::array_config& cfg, const tlm_model::buffer_sizes& sizes);

  tlm_utils::simple_initiator_socket<host_driver> socket;
  sc_core::sc_in<bool> irq;

  // The work the driver's thread runs once the simulation starts (e.g. an inference over images).
  void set_program(std::function<void()> program) { m_program = std::move(program); }
  // An exception thrown by the program, rethrown by the caller after sc_start() returns.
  std::exception_ptr failure() const { return m_failure; }

  // Rows of M the driver puts in one job so that operands and results fit the buffers (0 when one
  // row does not fit). Fault campaigns use it to lay out cycles exactly as the driver does.
  static std::size_t rows_per_job(const hw::gemm_shape& shape, const tlm_model::buffer_sizes& sizes);
  // What the functional twin needs to report this driver's cycles and bus traffic (sw/gemm_backend.h).
  static host_model model(const tlm_model::buffer_sizes& sizes);

  gemm_stats gemm(const hw::gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight, std::int64_t* out,
                  const void* weight_id) override;
  std::string name() const override { return "systemc"; }

  // Every GEMM issued to the array: its shape and the cycles the array reported.
  struct issued_gemm {
    hw::gemm_shape shape;
    std::uint64_t cycles;
  };
  const std::vector<issued_gemm>& issued() const { return m_issued; }
  std::uint64_t bus_cycles() const { return m_bus_cycles; }
  // Cycle budget of one job: 2 x the formula + 1000 cycles; done later than this is a hang: the
  // driver then writes CTRL.ABORT (the array stops) and throws hang_error.
  void set_watchdog_factor(double factor) { m_watchdog_factor = factor; }

  // The weight memory over the bus (sw/gemm_backend.h). Stuck bits reach the accelerator through
  // the fault port, a back door standing for a defect of the silicon, not a bus access.
  void write_weights(const void* weight_id, const std::int16_t* w, std::size_t count, gemm_stats& cost) override;
  void read_weights(const void* weight_id, std::int16_t* out, std::size_t count, gemm_stats& cost) override;
  void stick_weight_bits(const void* weight_id, const std::vector<stuck_weight_bit>& bits) override;
  using fault_port = std::function<void(std::uint64_t byte_offset, unsigned bit, bool value)>;
  void set_fault_port(fault_port port) { m_fault_port = std::move(port); }
  // Where the driver reads the accelerator's activity counts (a probe beside the bus, as an
  // instrumented system has): each GEMM's stats then carry the activity it caused.
  using activity_probe = std::function<hw::activity()>;
  void set_activity_probe(activity_probe probe) { m_activity_probe = std::move(probe); }
  // Byte offset of a resident layer's region in the weight buffer.
  std::uint64_t weight_region(const void* weight_id) const;

 private:
  void thread();
  void access(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t len);
  std::uint32_t read_reg(std::uint64_t offset);
  void write_reg(std::uint64_t offset, std::uint32_t value);

  hw::array_config m_cfg;
  tlm_model::buffer_sizes m_sizes;
  std::function<void()> m_program;
  std::exception_ptr m_failure;
  std::vector<issued_gemm> m_issued;
  std::uint64_t m_bus_cycles = 0;
  struct weight_region_entry {
    std::uint64_t offset = 0;
    std::size_t count = 0;
    std::vector<std::int16_t> source;  // the host copy last uploaded (empty when the host wrote it explicitly)
    bool pinned = false;               // written by write_weights: GEMMs use it as it is
  };
  std::map<const void*, weight_region_entry> m_regions;
  std::uint64_t m_next_region = 0;
  weight_region_entry& place(const void* weight_id, std::size_t count);
  fault_port m_fault_port;
  activity_probe m_activity_probe;
  hw::activity probe() const { return m_activity_probe ? m_activity_probe() : hw::activity{}; }
  double m_watchdog_factor = 2.0;
};

}  // namespace axsa::sw
