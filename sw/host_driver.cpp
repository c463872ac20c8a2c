#include "sw/host_driver.h"

#include <algorithm>
#include <cstring>

#include "hw/cycle_model.h"

namespace axsa::sw {

namespace reg = tlm_model::reg;

host_driver::host_driver(const sc_core::sc_module_name& name, const hw::array_config& cfg,
                         const tlm_model::buffer_sizes& sizes)
    : sc_core::sc_module(name), socket("socket"), irq("irq"), m_cfg(cfg), m_sizes(sizes) {
  SC_THREAD(thread);
}

void host_driver::thread() {
  try {
    write_reg(reg::irq_enable, reg::irq_enable_on);
    if (m_program) m_program();
  } catch (...) {
    m_failure = std::current_exception();
  }
}

void host_driver::access(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t len) {
  tlm::tlm_generic_payload trans;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  trans.set_command(cmd);
  trans.set_address(addr);
  trans.set_data_ptr(static_cast<unsigned char*>(data));
  trans.set_data_length(static_cast<unsigned>(len));
  trans.set_streaming_width(static_cast<unsigned>(len));
  trans.set_byte_enable_ptr(nullptr);
  trans.set_dmi_allowed(false);
  trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  socket->b_transport(trans, delay);
  if (trans.is_response_error()) {
    throw bus_error("bus error: " + std::string(cmd == tlm::TLM_READ_COMMAND ? "read" : "write") + " of " +
                    std::to_string(len) + " bytes at 0x" + [addr] {
                      char b[24];
                      std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(addr));
                      return std::string(b);
                    }() + ": " + trans.get_response_string());
  }
  // Every transaction waits out its latency: bus time is simulated time.
  m_bus_cycles += static_cast<std::uint64_t>(delay / sc_core::sc_time(m_cfg.clock_period_ns, sc_core::SC_NS) + 0.5);
  sc_core::wait(delay);
}

std::uint32_t host_driver::read_reg(std::uint64_t offset) {
  std::uint32_t v = 0;
  access(tlm::TLM_READ_COMMAND, tlm_model::reg_base + offset, &v, 4);
  return v;
}

void host_driver::write_reg(std::uint64_t offset, std::uint32_t value) {
  access(tlm::TLM_WRITE_COMMAND, tlm_model::reg_base + offset, &value, 4);
}

std::size_t host_driver::rows_per_job(const hw::gemm_shape& shape, const tlm_model::buffer_sizes& sizes) {
  // As many rows of M as the activation and output buffers hold.
  return std::min({shape.m, sizes.act_bytes / (2 * shape.k), sizes.out_bytes / (8 * shape.n)});
}

host_model host_driver::model(const tlm_model::buffer_sizes& sizes) {
  sizes.validate();
  host_model m;
  m.rows_per_job = [sizes](const hw::gemm_shape& s) { return rows_per_job(s, sizes); };
  m.weight_bytes = sizes.weight_bytes;
  m.beat_bytes = tlm_model::bus_beat_bytes;
  return m;
}

gemm_stats host_driver::gemm(const hw::gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight,
                             std::int64_t* out, const void* weight_id) {
  shape.validate();
  const std::size_t K = shape.k, N = shape.n;
  if (2 * K * N > m_sizes.weight_bytes) {
    throw config_error("a " + std::to_string(K) + "x" + std::to_string(N) + " weight matrix does not fit the " +
                       std::to_string(m_sizes.weight_bytes) + "-byte weight buffer");
  }
  const std::size_t rows = rows_per_job(shape, m_sizes);
  if (rows == 0) {
    throw config_error("one row of a GEMM with K=" + std::to_string(K) + ", N=" + std::to_string(N) +
                       " does not fit the accelerator's buffers");
  }
  gemm_stats st;
  const std::uint64_t bus_before = m_bus_cycles;
  const hw::activity activity_before = probe();
  // Resident weights are used as they are; others are uploaded when the host's copy changed.
  weight_region_entry& r = place(weight_id, K * N);
  if (!r.pinned && (r.source.size() != K * N || !std::equal(r.source.begin(), r.source.end(), weight))) {
    access(tlm::TLM_WRITE_COMMAND, tlm_model::weight_base + r.offset, const_cast<std::int16_t*>(weight), 2 * K * N);
    if (weight_id != nullptr) r.source.assign(weight, weight + K * N);  // scratch is always uploaded again
  }
  write_reg(reg::k, static_cast<std::uint32_t>(K));
  write_reg(reg::n, static_cast<std::uint32_t>(N));
  write_reg(reg::act_offset, 0);
  write_reg(reg::wgt_offset, static_cast<std::uint32_t>(r.offset));
  write_reg(reg::out_offset, 0);
  for (std::size_t m0 = 0; m0 < shape.m; m0 += rows) {
    const std::size_t mr = std::min(rows, shape.m - m0);
    const hw::gemm_shape part{mr, K, N};
    access(tlm::TLM_WRITE_COMMAND, tlm_model::act_base, const_cast<std::int16_t*>(act + m0 * K), 2 * mr * K);
    write_reg(reg::m, static_cast<std::uint32_t>(mr));
    write_reg(reg::ctrl, reg::ctrl_start);
    // Done raises irq; a job that overruns its budget is a hang, not an endless wait.
    const double budget = m_watchdog_factor * static_cast<double>(hw::gemm_cycles(part, m_cfg)) + 1000;
    const sc_core::sc_time limit = sc_core::sc_time(m_cfg.clock_period_ns, sc_core::SC_NS) * budget;
    if (!irq.read()) {
      sc_core::wait(limit, irq.posedge_event());
      if (!irq.read()) {
        // The watchdog resets the accelerator, so that the array stops and the bus is usable again.
        write_reg(reg::ctrl, reg::ctrl_abort);
        throw hang_error("the accelerator did not signal done within " + std::to_string(static_cast<std::uint64_t>(budget)) +
                         " cycles (GEMM " + std::to_string(mr) + "x" + std::to_string(K) + "x" + std::to_string(N) + ")");
      }
    }
    const std::uint32_t status = read_reg(reg::status);
    if (status & reg::status_error) {
      throw bus_error("the accelerator reported error " + std::to_string(read_reg(reg::error)) + " for GEMM " +
                      std::to_string(mr) + "x" + std::to_string(K) + "x" + std::to_string(N));
    }
    const std::uint64_t cycles = read_reg(reg::cycles_lo) | (std::uint64_t{read_reg(reg::cycles_hi)} << 32);
    access(tlm::TLM_READ_COMMAND, tlm_model::out_base, out + m0 * N, 8 * mr * N);
    write_reg(reg::ctrl, reg::ctrl_clear);
    m_issued.push_back({part, cycles});
    st.gemms += 1;
    st.array_cycles += cycles;
    st.macs += static_cast<std::uint64_t>(mr) * K * N;
  }
  st.bus_cycles = m_bus_cycles - bus_before;
  st.activity = probe().since(activity_before);
  return st;
}

// A region of `count` weights for `weight_id` (nullptr: a scratch region, never kept): the layer's
// own while every layer fits, 8-byte aligned; when the buffer is full, every region is dropped and
// placing starts again at offset 0.
host_driver::weight_region_entry& host_driver::place(const void* weight_id, std::size_t count) {
  const auto it = m_regions.find(weight_id);
  if (it != m_regions.end() && it->second.count == count) return it->second;
  if (it != m_regions.end()) {
    if (it->second.pinned) {
      throw config_error("weight memory: a resident layer of " + std::to_string(it->second.count) +
                         " weights cannot take " + std::to_string(count));
    }
    m_regions.erase(it);
  }
  const std::uint64_t bytes = (2 * std::uint64_t{count} + 7) / 8 * 8;
  if (bytes > m_sizes.weight_bytes) {
    throw config_error("a " + std::to_string(count) + "-weight matrix does not fit the " +
                       std::to_string(m_sizes.weight_bytes) + "-byte weight buffer");
  }
  if (m_next_region + bytes > m_sizes.weight_bytes) {
    for (const auto& [id, region] : m_regions) {
      if (region.pinned) {
        throw config_error("weight memory: the network's weights do not all fit the " +
                           std::to_string(m_sizes.weight_bytes) + "-byte weight buffer");
      }
    }
    m_regions.clear();
    m_next_region = 0;
  }
  weight_region_entry& r = m_regions[weight_id];
  r.offset = m_next_region;
  r.count = count;
  m_next_region += bytes;
  if (weight_id == nullptr) {  // scratch: the next GEMM without an identity reuses the same place
    m_next_region -= bytes;
  }
  return r;
}

std::uint64_t host_driver::weight_region(const void* weight_id) const {
  const auto it = m_regions.find(weight_id);
  if (it == m_regions.end()) throw config_error("weight memory: the layer is not resident");
  return it->second.offset;
}

void host_driver::write_weights(const void* weight_id, const std::int16_t* w, std::size_t count, gemm_stats& cost) {
  if (weight_id == nullptr) throw config_error("weight memory: a resident layer needs an identity");
  const std::uint64_t bus_before = m_bus_cycles;
  const hw::activity activity_before = probe();
  weight_region_entry& r = place(weight_id, count);
  access(tlm::TLM_WRITE_COMMAND, tlm_model::weight_base + r.offset, const_cast<std::int16_t*>(w), 2 * count);
  r.pinned = true;
  r.source.clear();
  cost.bus_cycles += m_bus_cycles - bus_before;
  cost.activity += probe().since(activity_before);
}

void host_driver::read_weights(const void* weight_id, std::int16_t* out, std::size_t count, gemm_stats& cost) {
  const auto it = m_regions.find(weight_id);
  if (it == m_regions.end() || it->second.count != count) {
    throw config_error("weight memory: the layer is not resident (write its weights first)");
  }
  const std::uint64_t bus_before = m_bus_cycles;
  const hw::activity activity_before = probe();
  access(tlm::TLM_READ_COMMAND, tlm_model::weight_base + it->second.offset, out, 2 * count);
  cost.bus_cycles += m_bus_cycles - bus_before;
  cost.activity += probe().since(activity_before);
}

void host_driver::stick_weight_bits(const void* weight_id, const std::vector<stuck_weight_bit>& bits) {
  const auto it = m_regions.find(weight_id);
  if (it == m_regions.end() || !it->second.pinned) throw config_error("weight memory: bits can only stick in a resident layer");
  if (!m_fault_port) throw config_error("weight memory: this driver has no fault port to the accelerator");
  for (const stuck_weight_bit& b : bits) {
    if (b.index >= it->second.count) {
      throw config_error("weight memory: stuck bit in weight " + std::to_string(b.index) + " outside the layer's " +
                         std::to_string(it->second.count) + " weights");
    }
    m_fault_port(it->second.offset + 2 * b.index, b.bit, b.value);
  }
}

}  // namespace axsa::sw
