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
  if (weight_id == nullptr || weight_id != m_loaded_weights || m_loaded_shape.k != K || m_loaded_shape.n != N) {
    access(tlm::TLM_WRITE_COMMAND, tlm_model::weight_base, const_cast<std::int16_t*>(weight), 2 * K * N);
    m_loaded_weights = weight_id;
    m_loaded_shape = shape;
  }
  write_reg(reg::k, static_cast<std::uint32_t>(K));
  write_reg(reg::n, static_cast<std::uint32_t>(N));
  write_reg(reg::act_offset, 0);
  write_reg(reg::wgt_offset, 0);
  write_reg(reg::out_offset, 0);
  for (std::size_t m0 = 0; m0 < shape.m; m0 += rows) {
    const std::size_t mr = std::min(rows, shape.m - m0);
    const hw::gemm_shape part{mr, K, N};
    access(tlm::TLM_WRITE_COMMAND, tlm_model::act_base, const_cast<std::int16_t*>(act + m0 * K), 2 * mr * K);
    write_reg(reg::m, static_cast<std::uint32_t>(mr));
    write_reg(reg::ctrl, reg::ctrl_start);
    // Done raises irq; a job that overruns its budget is a hang, not an endless wait.
    const double budget = m_watchdog_factor * static_cast<double>(hw::gemm_cycles(part, m_cfg.rows, m_cfg.cols)) + 1000;
    const sc_core::sc_time limit = sc_core::sc_time(m_cfg.clock_period_ns, sc_core::SC_NS) * budget;
    if (!irq.read()) {
      sc_core::wait(limit, irq.posedge_event());
      if (!irq.read()) {
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
  return st;
}

}  // namespace axsa::sw
