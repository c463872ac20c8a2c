#include "tlm/accelerator.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace axsa::tlm_model {

// Buffers hold host integers and the bus is little-endian: bytes are copied, not swapped.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the buffers assume a little-endian host");

namespace {

void check_size(const char* what, std::size_t bytes) {
  if (bytes == 0 || bytes % 8 != 0 || bytes > window_bytes) {
    throw config_error(std::string(what) + " must be a positive multiple of 8 bytes, at most " +
                       std::to_string(window_bytes) + " (got " + std::to_string(bytes) + ")");
  }
}

const buffer_sizes& validated(const buffer_sizes& sizes) {
  sizes.validate();
  return sizes;
}

// True when rows x cols elements of elem bytes at byte `offset` lie inside a buffer of `size` bytes.
// rows and cols are 32-bit register values, so their product cannot overflow 64 bits.
bool fits(std::uint64_t offset, std::uint64_t rows, std::uint64_t cols, std::uint64_t elem, std::uint64_t size) {
  const std::uint64_t elements = rows * cols;
  if (elements > size / elem) return false;
  return offset <= size - elements * elem;
}

}  // namespace

void buffer_sizes::validate() const {
  check_size("activation buffer size", act_bytes);
  check_size("weight buffer size", weight_bytes);
  check_size("output buffer size", out_bytes);
}

accelerator::accelerator(const sc_core::sc_module_name& name, const hw::array_config& cfg, const buffer_sizes& sizes)
    : sc_core::sc_module(name),
      m_sizes(validated(sizes)),
      socket("socket"),
      irq("irq"),
      array("array", cfg),
      m_act(m_sizes.act_bytes / sizeof(std::int16_t)),
      m_weight(m_sizes.weight_bytes / sizeof(std::int16_t)),
      m_out(m_sizes.out_bytes / sizeof(std::int64_t)) {
  socket.register_b_transport(this, &accelerator::b_transport);
  socket.register_get_direct_mem_ptr(this, &accelerator::get_direct_mem_ptr);
  socket.register_transport_dbg(this, &accelerator::transport_dbg);
  SC_THREAD(job_thread);
  SC_METHOD(irq_method);
  sensitive << m_irq_event;
}

sc_core::sc_time accelerator::cycles_to_time(std::uint64_t cycles) const {
  return array.clock_period() * static_cast<double>(cycles);
}

std::uint64_t accelerator::buffer_cycles(std::uint64_t length) {
  return buffer_access_cycles + (length + bus_beat_bytes - 1) / bus_beat_bytes;
}

// ---------------------------------------------------------------------------------------------
// Address decoding

std::uint64_t accelerator::region_base(region r) {
  switch (r) {
    case region::act: return act_base;
    case region::weight: return weight_base;
    case region::out: return out_base;
    default: return reg_base;
  }
}

std::uint64_t accelerator::region_bytes(region r) const {
  switch (r) {
    case region::registers: return reg_window_bytes;
    case region::act: return m_sizes.act_bytes;
    case region::weight: return m_sizes.weight_bytes;
    case region::out: return m_sizes.out_bytes;
    default: return 0;
  }
}

unsigned char* accelerator::region_data(region r) {
  switch (r) {
    case region::act: return reinterpret_cast<unsigned char*>(m_act.data());
    case region::weight: return reinterpret_cast<unsigned char*>(m_weight.data());
    case region::out: return reinterpret_cast<unsigned char*>(m_out.data());
    default: return nullptr;
  }
}

std::uint64_t accelerator::element_bytes(region r) {
  switch (r) {
    case region::act:
    case region::weight: return sizeof(std::int16_t);
    case region::out: return sizeof(std::int64_t);
    default: return 4;
  }
}

// The region whose populated part holds `address`; none for holes and for a buffer's window past its size.
accelerator::decoded accelerator::decode(std::uint64_t address) const {
  for (region r : {region::registers, region::act, region::weight, region::out}) {
    const std::uint64_t base = region_base(r);
    if (address >= base && address - base < region_bytes(r)) return {r, address - base};
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Blocking transport

hw::activity accelerator::counts() const {
  hw::activity a = array.engine().counts();
  a.bus_transactions = m_bus.bus_transactions;
  a.bus_beats = m_bus.bus_beats;
  a.bus_write_bytes = m_bus.bus_write_bytes;
  a.bus_read_bytes = m_bus.bus_read_bytes;
  return a;
}

void accelerator::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const decoded d = decode(trans.get_address());
  tlm::tlm_response_status status = tlm::TLM_ADDRESS_ERROR_RESPONSE;
  std::uint64_t cycles = 0;
  if (d.where == region::registers) {
    cycles = reg_access_cycles;
    // Register writes take effect when the access completes, i.e. after its latency.
    status = access_registers(trans, d.offset, delay + cycles_to_time(cycles));
  } else if (d.where != region::none) {
    cycles = buffer_cycles(trans.get_data_length());
    status = access_buffer(trans, d);
  }
  // Only accesses that moved data cost bus cycles.
  if (status == tlm::TLM_OK_RESPONSE && trans.get_command() != tlm::TLM_IGNORE_COMMAND) {
    m_bus_cycles += cycles;
    delay += cycles_to_time(cycles);
    // Activity: one beat per register access, one per 8 bytes of a buffer access.
    const std::uint64_t len = trans.get_data_length();
    ++m_bus.bus_transactions;
    if (d.where == region::registers) {
      ++m_bus.bus_beats;
    } else {
      m_bus.bus_beats += (len + bus_beat_bytes - 1) / bus_beat_bytes;
      (trans.get_command() == tlm::TLM_WRITE_COMMAND ? m_bus.bus_write_bytes : m_bus.bus_read_bytes) += len;
    }
  }
  trans.set_response_status(status);
}

// Checks in the order of the TLM-2.0 base protocol: address, command, burst, byte enables.
tlm::tlm_response_status accelerator::access_registers(tlm::tlm_generic_payload& trans, std::uint64_t offset,
                                                       const sc_core::sc_time& delay) {
  if (offset % 4 != 0 || offset > reg::last) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  const tlm::tlm_command cmd = trans.get_command();
  if (cmd == tlm::TLM_IGNORE_COMMAND) return tlm::TLM_OK_RESPONSE;
  if (cmd == tlm::TLM_WRITE_COMMAND && !writable(offset)) return tlm::TLM_COMMAND_ERROR_RESPONSE;
  if (trans.get_data_length() != 4 || trans.get_streaming_width() != 4) return tlm::TLM_BURST_ERROR_RESPONSE;
  if (trans.get_byte_enable_ptr() != nullptr) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;

  unsigned char* data = trans.get_data_ptr();
  if (cmd == tlm::TLM_READ_COMMAND) {
    const std::uint32_t value = read_register(offset);
    for (unsigned i = 0; i < 4; ++i) data[i] = static_cast<unsigned char>(value >> (8 * i));
  } else {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < 4; ++i) value |= std::uint32_t{data[i]} << (8 * i);
    write_register(offset, value, delay);
  }
  return tlm::TLM_OK_RESPONSE;
}

tlm::tlm_response_status accelerator::access_buffer(tlm::tlm_generic_payload& trans, const decoded& d) {
  const std::uint64_t length = trans.get_data_length();
  if (length > region_bytes(d.where) - d.offset) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  if (d.offset % element_bytes(d.where) != 0) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  const tlm::tlm_command cmd = trans.get_command();
  if (cmd == tlm::TLM_IGNORE_COMMAND) return tlm::TLM_OK_RESPONSE;
  // The array reads the operands while it runs; the results are only ever written by the array.
  if (cmd == tlm::TLM_WRITE_COMMAND && (d.where == region::out || m_busy)) return tlm::TLM_COMMAND_ERROR_RESPONSE;
  if (length == 0 || trans.get_streaming_width() != length) return tlm::TLM_BURST_ERROR_RESPONSE;
  if (trans.get_byte_enable_ptr() != nullptr) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;

  unsigned char* buffer = region_data(d.where) + d.offset;
  if (cmd == tlm::TLM_READ_COMMAND) {
    std::memcpy(trans.get_data_ptr(), buffer, length);
  } else {
    std::memcpy(buffer, trans.get_data_ptr(), length);
    if (d.where == region::weight) apply_stuck(d.offset / 2, length / 2);
  }
  trans.set_dmi_allowed(!m_busy);  // the hint: get_direct_mem_ptr would grant this buffer now
  return tlm::TLM_OK_RESPONSE;
}

// ---------------------------------------------------------------------------------------------
// Registers

bool accelerator::writable(std::uint64_t offset) {
  switch (offset) {
    case reg::ctrl:
    case reg::irq_enable:
    case reg::m:
    case reg::k:
    case reg::n:
    case reg::act_offset:
    case reg::wgt_offset:
    case reg::out_offset: return true;
    default: return false;
  }
}

std::uint32_t accelerator::read_register(std::uint64_t offset) const {
  const hw::array_config& cfg = array.config();
  switch (offset) {
    case reg::id: return reg::id_value;
    case reg::config:
      return (cfg.rows & 0xFFu) | (cfg.cols & 0xFFu) << 8 | (cfg.data_bits & 0xFFu) << 16 |
             (cfg.acc_bits & 0xFFu) << 24;
    case reg::status:
      return (m_busy ? reg::status_busy : 0u) | (m_done ? reg::status_done : 0u) |
             (m_error != reg::error_none ? reg::status_error : 0u);
    case reg::error: return m_error;
    case reg::irq_enable: return m_irq_enable;
    case reg::m: return m_m;
    case reg::k: return m_k;
    case reg::n: return m_n;
    case reg::act_offset: return m_act_offset;
    case reg::wgt_offset: return m_wgt_offset;
    case reg::out_offset: return m_out_offset;
    case reg::cycles_lo: return static_cast<std::uint32_t>(m_last_job_cycles);
    case reg::cycles_hi: return static_cast<std::uint32_t>(m_last_job_cycles >> 32);
    case reg::jobs: return m_jobs;
    default: return 0;  // CTRL reads 0
  }
}

void accelerator::write_register(std::uint64_t offset, std::uint32_t value, const sc_core::sc_time& delay) {
  switch (offset) {
    case reg::ctrl:
      // CLEAR first, so CLEAR | START in one write starts from a clean status.
      if (value & reg::ctrl_clear) {
        m_done = false;
        m_error = reg::error_none;
        m_irq_event.notify(delay);
      }
      if (value & reg::ctrl_abort) abort();
      if (value & reg::ctrl_start) start(delay);
      break;
    case reg::irq_enable:
      m_irq_enable = value & reg::irq_enable_on;
      m_irq_event.notify(delay);
      break;
    case reg::m: m_m = value; break;
    case reg::k: m_k = value; break;
    case reg::n: m_n = value; break;
    case reg::act_offset: m_act_offset = value; break;
    case reg::wgt_offset: m_wgt_offset = value; break;
    case reg::out_offset: m_out_offset = value; break;
    default: break;
  }
}

// ---------------------------------------------------------------------------------------------
// Jobs

std::uint32_t accelerator::check_job() const {
  if (m_m == 0 || m_k == 0 || m_n == 0) return reg::error_zero_dim;
  if (m_act_offset % sizeof(std::int16_t) != 0 || m_wgt_offset % sizeof(std::int16_t) != 0 ||
      m_out_offset % sizeof(std::int64_t) != 0) {
    return reg::error_misaligned;
  }
  if (!fits(m_act_offset, m_m, m_k, sizeof(std::int16_t), m_sizes.act_bytes) ||
      !fits(m_wgt_offset, m_k, m_n, sizeof(std::int16_t), m_sizes.weight_bytes) ||
      !fits(m_out_offset, m_m, m_n, sizeof(std::int64_t), m_sizes.out_bytes)) {
    return reg::error_out_of_buffer;
  }
  // Inside its buffers a shape can still exceed the array's index range (M or N above 2^24 with
  // the other 1 and buffers over 128 MiB): too large for the array, reported like an overflow.
  try {
    hw::gemm_shape{m_m, m_k, m_n}.validate();
  } catch (const config_error&) {
    return reg::error_out_of_buffer;
  }
  return reg::error_none;
}

void accelerator::start(const sc_core::sc_time& delay) {
  if (m_busy) {
    m_error = reg::error_busy;  // the running job carries on
    return;
  }
  m_done = false;
  m_error = check_job();
  // DONE was raised for a job the array still runs (a fault on its done signal): nothing starts.
  if (m_error == reg::error_none && array.busy()) m_error = reg::error_array_busy;
  if (m_error != reg::error_none) {
    // Nothing runs, but DONE (and irq) rise at once so a waiting driver never hangs.
    m_done = true;
    m_irq_event.notify(delay);
    return;
  }
  m_busy = true;
  m_job.shape = hw::gemm_shape{m_m, m_k, m_n};
  m_job.act = m_act.data() + m_act_offset / sizeof(std::int16_t);
  m_job.weight = m_weight.data() + m_wgt_offset / sizeof(std::int16_t);
  m_job.out = m_out.data() + m_out_offset / sizeof(std::int64_t);
  invalidate_dmi();
  m_start_event.notify(delay);
  m_irq_event.notify(delay);  // DONE cleared
}

void accelerator::invalidate_dmi() {
  if (!m_dmi_granted) return;
  m_dmi_granted = false;
  socket->invalidate_direct_mem_ptr(act_base, out_base + window_bytes - 1);
}

void accelerator::job_thread() {
  while (true) {
    sc_core::wait(m_start_event);
    std::uint64_t cycles = 0;
    try {
      cycles = array.run(m_job);
    } catch (const config_error&) {
      // The array is still finishing a job in simulated time (an ABORT that has not reached its
      // controller yet, or DONE raised early by a control fault): the START is refused as start()
      // refuses it, with ERROR 5 and DONE, never by an exception out of this thread.
      m_error = reg::error_array_busy;
      m_busy = false;
      m_done = true;
      m_irq_event.notify(sc_core::SC_ZERO_TIME);
      continue;
    }
    if (array.last_job_aborted()) continue;  // abort() has reset the status
    m_last_job_cycles = cycles;
    ++m_jobs;
    if (array.last_job_failed()) m_error = reg::error_array_fault;
    m_busy = false;
    m_done = true;
    m_irq_event.notify(sc_core::SC_ZERO_TIME);
  }
}

void accelerator::abort() {
  array.abort();
  m_busy = false;
  m_done = false;
  m_error = reg::error_none;
  m_irq_event.notify(sc_core::SC_ZERO_TIME);
}

void accelerator::irq_method() { irq.write(m_done && (m_irq_enable & reg::irq_enable_on) != 0); }

// ---------------------------------------------------------------------------------------------
// DMI and debug transport

bool accelerator::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
  const std::uint64_t address = trans.get_address();
  const decoded d = decode(address);
  dmi.allow_none();
  const bool buffer = d.where == region::act || d.where == region::weight || d.where == region::out;
  if (!buffer || m_busy) {
    // No range to promise: a refusal while busy lasts only until the job ends.
    dmi.set_start_address(address);
    dmi.set_end_address(address);
    return false;
  }
  const std::uint64_t base = region_base(d.where);
  dmi.set_dmi_ptr(region_data(d.where));
  dmi.set_start_address(base);
  dmi.set_end_address(base + region_bytes(d.where) - 1);
  if (d.where == region::out || (d.where == region::weight && !m_stuck.empty())) {
    dmi.allow_read();
  } else {
    dmi.allow_read_write();
  }
  // Per byte: one cycle per 8-byte beat, without the 2-cycle bus overhead DMI bypasses.
  const sc_core::sc_time per_byte = cycles_to_time(1) / static_cast<double>(bus_beat_bytes);
  dmi.set_read_latency(per_byte);
  dmi.set_write_latency(per_byte);
  m_dmi_granted = true;
  return true;
}

unsigned int accelerator::transport_dbg(tlm::tlm_generic_payload& trans) {
  const decoded d = decode(trans.get_address());
  const tlm::tlm_command cmd = trans.get_command();
  unsigned char* data = trans.get_data_ptr();
  const std::uint64_t length = trans.get_data_length();
  if (d.where == region::none || cmd == tlm::TLM_IGNORE_COMMAND) return 0;

  std::uint64_t done = 0;
  if (d.where == region::registers) {
    // Reads only: a debug write to CTRL would start or clear a job.
    if (cmd != tlm::TLM_READ_COMMAND) return 0;
    const std::uint64_t end = std::min<std::uint64_t>(d.offset + length, reg::last + 4);
    for (std::uint64_t a = d.offset; a < end; ++a, ++done) {
      data[done] = static_cast<unsigned char>(read_register(a & ~std::uint64_t{3}) >> (8 * (a & 3)));
    }
  } else {
    done = std::min<std::uint64_t>(length, region_bytes(d.where) - d.offset);
    unsigned char* buffer = region_data(d.where) + d.offset;
    if (cmd == tlm::TLM_READ_COMMAND) {
      std::memcpy(data, buffer, done);
    } else {
      std::memcpy(buffer, data, done);
      // Whole words touched, including a half-written one at either end.
      if (d.where == region::weight) apply_stuck(d.offset / 2, (d.offset % 2 + done + 1) / 2);
    }
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return static_cast<unsigned int>(done);
}

// ---------------------------------------------------------------------------------------------
// Weight-memory faults

void accelerator::stick_weight_bit(std::uint64_t byte_offset, unsigned bit, bool value) {
  const unsigned bits = array.config().data_bits;
  if (byte_offset % 2 != 0 || byte_offset >= m_sizes.weight_bytes) {
    throw config_error("weight memory fault at byte offset " + std::to_string(byte_offset) +
                       ": not a 2-byte word of the " + std::to_string(m_sizes.weight_bytes) + "-byte weight buffer");
  }
  if (bit >= bits) {
    throw config_error("weight memory fault: bit " + std::to_string(bit) + " outside the " + std::to_string(bits) +
                       "-bit weights");
  }
  stuck_word& w = m_stuck[byte_offset / 2];
  const auto mask = static_cast<std::uint16_t>(1u << bit);
  if (value) {
    w.set |= mask;
    w.clear &= static_cast<std::uint16_t>(~mask);
  } else {
    w.clear |= mask;
    w.set &= static_cast<std::uint16_t>(~mask);
  }
  invalidate_dmi();  // a read-write grant given before must not bypass the fault
  apply_stuck(byte_offset / 2, 1);
}

void accelerator::apply_stuck(std::size_t first_word, std::size_t words) {
  if (m_stuck.empty()) return;
  const unsigned bits = array.config().data_bits;
  const std::uint32_t sign = 1u << (bits - 1), field = (1u << bits) - 1;
  for (auto it = m_stuck.lower_bound(first_word); it != m_stuck.end() && it->first < first_word + words; ++it) {
    std::int16_t& word = m_weight[it->first];
    std::uint32_t pattern = static_cast<std::uint16_t>(word) & field;
    pattern = (pattern | it->second.set) & ~std::uint32_t{it->second.clear};
    word = static_cast<std::int16_t>(static_cast<std::int32_t>(pattern ^ sign) - static_cast<std::int32_t>(sign));
  }
}

}  // namespace axsa::tlm_model
