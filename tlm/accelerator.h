// The accelerator as a TLM-2.0 target (docs/tlm-register-map.md): a register window, activation
// and weight buffers (int16) and an output buffer (int64) on one simple_target_socket, the
// systolic array as a child module, and `irq` driven high while DONE is set and IRQ_ENABLE on.
// Timing contract: loosely timed. b_transport never waits; it adds its latency to the delay it is
// handed (register 2 cycles, buffer 2 + ceil(len / 8) cycles, of the array clock), only for
// accesses answered TLM_OK_RESPONSE. A START written with delay d starts the array d later; the
// job then takes its array cycles of SystemC time. Debug transport costs nothing and has no effect
// on the registers. Reset (construction): every register and buffer is zero, irq low.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "hw/activity.h"
#include "hw/array_config.h"
#include "hw/array_core.h"
#include "hw/systolic_array.h"

namespace axsa::tlm_model {

// Address map: one 256 MiB window per region, addresses relative to the target.
constexpr std::uint64_t reg_base = 0x0000'0000;
constexpr std::uint64_t reg_window_bytes = 0x100;
constexpr std::uint64_t act_base = 0x1000'0000;
constexpr std::uint64_t weight_base = 0x2000'0000;
constexpr std::uint64_t out_base = 0x3000'0000;
constexpr std::uint64_t window_bytes = 0x1000'0000;

// Register offsets (32-bit words) and their bits.
namespace reg {
constexpr std::uint64_t id = 0x00;
constexpr std::uint64_t config = 0x04;
constexpr std::uint64_t ctrl = 0x08;
constexpr std::uint64_t status = 0x0C;
constexpr std::uint64_t error = 0x10;
constexpr std::uint64_t irq_enable = 0x14;
constexpr std::uint64_t m = 0x18;
constexpr std::uint64_t k = 0x1C;
constexpr std::uint64_t n = 0x20;
constexpr std::uint64_t act_offset = 0x24;
constexpr std::uint64_t wgt_offset = 0x28;
constexpr std::uint64_t out_offset = 0x2C;
constexpr std::uint64_t cycles_lo = 0x30;
constexpr std::uint64_t cycles_hi = 0x34;
constexpr std::uint64_t jobs = 0x38;
constexpr std::uint64_t last = jobs;  // every word offset 0x00..last is a register

constexpr std::uint32_t id_value = 0x41585341;  // "AXSA"
constexpr std::uint32_t ctrl_start = 1u << 0;
constexpr std::uint32_t ctrl_clear = 1u << 1;
constexpr std::uint32_t ctrl_abort = 1u << 2;  // reset the array: a running job stops, BUSY/DONE/ERROR clear
constexpr std::uint32_t status_busy = 1u << 0;
constexpr std::uint32_t status_done = 1u << 1;
constexpr std::uint32_t status_error = 1u << 2;
constexpr std::uint32_t irq_enable_on = 1u << 0;

// Values of the ERROR register.
constexpr std::uint32_t error_none = 0;
constexpr std::uint32_t error_busy = 1;           // START while busy
constexpr std::uint32_t error_zero_dim = 2;       // M, K or N is 0
constexpr std::uint32_t error_out_of_buffer = 3;  // an operand or the result lies outside its buffer
constexpr std::uint32_t error_misaligned = 4;     // an offset is not aligned to its element size
constexpr std::uint32_t error_array_busy = 5;     // START while the array still runs a job DONE was raised for
constexpr std::uint32_t error_array_fault = 6;    // the array's controller stopped the job on an error
}  // namespace reg

// Bus latencies in array clock cycles.
constexpr std::uint64_t reg_access_cycles = 2;
constexpr std::uint64_t buffer_access_cycles = 2;  // plus one per bus beat
constexpr std::uint64_t bus_beat_bytes = 8;        // 64-bit data path

struct buffer_sizes {
  std::size_t act_bytes = 4u << 20;
  std::size_t weight_bytes = 4u << 20;
  std::size_t out_bytes = 8u << 20;

  // Throws config_error unless each size is positive, a multiple of 8 and at most window_bytes.
  void validate() const;
};

class accelerator : public sc_core::sc_module {
  // Declared first, so bad sizes throw before any child module or buffer exists.
  buffer_sizes m_sizes;

 public:
  SC_HAS_PROCESS(accelerator);
  accelerator(const sc_core::sc_module_name& name, const hw::array_config& cfg, const buffer_sizes& sizes = {});

  tlm_utils::simple_target_socket<accelerator> socket;
  sc_core::sc_out<bool> irq;
  hw::systolic_array array;

  const buffer_sizes& sizes() const { return m_sizes; }
  bool busy() const { return m_busy; }
  // Latency cycles charged to b_transport callers so far.
  std::uint64_t bus_cycles() const { return m_bus_cycles; }
  // Activity since reset (hw/activity.h): the array's counts plus the bus traffic b_transport answered
  // with TLM_OK_RESPONSE (DMI and debug accesses are not counted).
  hw::activity counts() const;
  // CTRL.ABORT, as the host's watchdog (or a test harness resetting the system) uses it: the array
  // stops its job and clears its registers; BUSY, DONE and ERROR clear and no DONE follows.
  void abort();
  // Array cycles of the last completed job (the CYCLES register).
  std::uint64_t last_job_cycles() const { return m_last_job_cycles; }
  // The one place where cycles of the array clock become SystemC time.
  sc_core::sc_time cycles_to_time(std::uint64_t cycles) const;

  // Bus latency of a buffer access of `length` bytes: buffer_access_cycles + ceil(length / 8).
  static std::uint64_t buffer_cycles(std::uint64_t length);

  // A permanent fault of the weight buffer (not a bus access): bit `bit` (0..W-1 of the W-bit
  // weight, W - 1 the sign) of the int16 word at `byte_offset` reads `value` from now on, whatever
  // is written there by the bus, DMI or debug transport. While any bit is stuck, DMI to the
  // weight buffer is granted read-only, so every write passes the fault. Throws config_error for an
  // offset outside the buffer or not 2-byte aligned, or a bit outside 0..W-1.
  void stick_weight_bit(std::uint64_t byte_offset, unsigned bit, bool value);
  std::size_t stuck_weight_words() const { return m_stuck.size(); }

 private:
  enum class region { none, registers, act, weight, out };
  struct decoded {
    region where = region::none;
    std::uint64_t offset = 0;  // inside the region
  };

  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);

  decoded decode(std::uint64_t address) const;
  static std::uint64_t region_base(region r);
  std::uint64_t region_bytes(region r) const;
  unsigned char* region_data(region r);
  static std::uint64_t element_bytes(region r);

  tlm::tlm_response_status access_registers(tlm::tlm_generic_payload& trans, std::uint64_t offset,
                                            const sc_core::sc_time& delay);
  tlm::tlm_response_status access_buffer(tlm::tlm_generic_payload& trans, const decoded& d);
  std::uint32_t read_register(std::uint64_t offset) const;
  void write_register(std::uint64_t offset, std::uint32_t value, const sc_core::sc_time& delay);
  static bool writable(std::uint64_t offset);

  void start(const sc_core::sc_time& delay);
  std::uint32_t check_job() const;
  void invalidate_dmi();

  void job_thread();
  void irq_method();

  std::vector<std::int16_t> m_act;
  std::vector<std::int16_t> m_weight;
  struct stuck_word {
    std::uint16_t set = 0, clear = 0;  // bits of the W-bit field forced to 1 and to 0
  };
  std::map<std::size_t, stuck_word> m_stuck;  // weight word index -> its stuck bits
  void apply_stuck(std::size_t first_word, std::size_t words);
  std::vector<std::int64_t> m_out;

  // Registers.
  std::uint32_t m_m = 0, m_k = 0, m_n = 0;
  std::uint32_t m_act_offset = 0, m_wgt_offset = 0, m_out_offset = 0;
  std::uint32_t m_irq_enable = 0;
  std::uint32_t m_error = reg::error_none;
  std::uint32_t m_jobs = 0;
  bool m_busy = false;
  bool m_done = false;
  std::uint64_t m_last_job_cycles = 0;

  hw::gemm_job m_job{};
  bool m_dmi_granted = false;
  std::uint64_t m_bus_cycles = 0;
  hw::activity m_bus;  // the bus fields
  sc_core::sc_event m_start_event;
  sc_core::sc_event m_irq_event;  // irq is driven by one process (sc_signal allows one writer)
};

}  // namespace axsa::tlm_model
