#include "hw/systolic_array.h"

#include <string>

namespace axsa::hw {

view_bank::view_bank(const sc_core::sc_module_name& name, const char* prefix, unsigned count, unsigned bits,
                     const std::function<std::int64_t(unsigned)>& read)
    : sc_core::sc_module(name) {
  for (unsigned i = 0; i < count; ++i) {
    const std::string view_name = std::string(prefix) + std::to_string(i);
    m_views.push_back(std::make_unique<signal_view>(view_name.c_str(), bits, [read, i] { return read(i); }));
  }
}

systolic_array::systolic_array(const sc_core::sc_module_name& name, const array_config& cfg)
    : sc_core::sc_module(name), m_period(cfg.clock_period_ns, sc_core::SC_NS) {
  if (cfg.engine == engine_kind::structural) {
    m_structural = std::make_unique<pe_array>(cfg);
    m_engine = m_structural.get();
  } else {
    m_core = std::make_unique<array_core>(cfg);
    m_engine = m_core.get();
    const array_core& core = *m_core;
    m_west_feeder = std::make_unique<view_bank>("west_feeder", "row_", cfg.rows, cfg.data_bits,
                                                [&core](unsigned r) { return std::int64_t{core.west_in(r, 0)}; });
    m_north_feeder = std::make_unique<view_bank>("north_feeder", "col_", cfg.cols, cfg.data_bits,
                                                 [&core](unsigned c) { return std::int64_t{core.north_in(0, c)}; });
    m_drain = std::make_unique<view_bank>("drain", "col_", cfg.cols, cfg.acc_bits,
                                          [&core](unsigned c) { return core.drain_out(c); });
    m_pes.reserve(static_cast<std::size_t>(cfg.rows) * cfg.cols);
    for (unsigned r = 0; r < cfg.rows; ++r) {
      for (unsigned c = 0; c < cfg.cols; ++c) {
        const std::string pe_name = "pe_" + std::to_string(r) + "_" + std::to_string(c);
        m_pes.push_back(std::make_unique<pe_view>(pe_name.c_str(), core, r, c));
      }
    }
  }
  SC_THREAD(control_thread);
}

void systolic_array::set_quantum(std::uint64_t cycles) {
  if (cycles == 0) throw config_error("quantum must be at least 1 cycle");
  m_quantum = cycles;
}

void systolic_array::start(const gemm_job& job) {
  if (busy()) throw config_error("the array is busy: a GEMM is still running");
  job.shape.validate();
  m_job = job;
  m_pending = true;
  m_start.notify(sc_core::SC_ZERO_TIME);
}

std::uint64_t systolic_array::run(const gemm_job& job) {
  start(job);
  sc_core::wait(m_done);
  return m_last_job_cycles;
}

void systolic_array::notify_observers() const {
  for (const auto& obs : m_observers) obs(*m_engine);
}

bool systolic_array::done_signal(bool fault_free, std::uint64_t cycle) const {
  return faults::done_signal(m_done_faults, cycle, fault_free);
}

void systolic_array::sync(std::uint64_t& unsynced) {
  if (unsynced == 0) return;
  sc_core::wait(m_period * static_cast<double>(unsynced), m_abort);
  unsynced = 0;
}

// Whoever waits for done is released, also when the job's done pulse was lost.
void systolic_array::abort() {
  m_engine->abort();
  m_pending = false;
  m_aborted = true;
  m_abort.notify(sc_core::SC_ZERO_TIME);
  m_done.notify(sc_core::SC_ZERO_TIME);
}

void systolic_array::control_thread() {
  while (true) {
    m_in_job = false;
    sc_core::wait(m_start);
    if (!m_pending) continue;  // aborted before it began
    m_in_job = true;
    array_engine& engine = *m_engine;
    engine.start(m_job);
    m_pending = false;
    m_aborted = false;
    m_done_faults.clear();
    for (const auto& f : engine.active_faults())
      if (f.site == faults::fault_site::control && f.bit == faults::control_field::done) m_done_faults.push_back(f);
    std::uint64_t unsynced = 0;
    bool announced = false;  // done was raised early (a done fault)
    while (engine.busy()) {
      if (!m_done_faults.empty()) {
        // Cycle by cycle: the done signal is sampled on each one.
        if (!announced && done_signal(false, engine.total_cycles())) {
          sync(unsynced);
          if (m_aborted) break;
          m_last_job_cycles = engine.job_cycles();
          m_done.notify(sc_core::SC_ZERO_TIME);
          announced = true;
        }
        notify_observers();
        engine.step();
        ++unsynced;
      } else if (m_observers.empty()) {
        // Hot path: a quantum of edges back to back, then one kernel synchronisation.
        while (unsynced < m_quantum && engine.busy()) {
          engine.step();
          ++unsynced;
        }
      } else {
        notify_observers();
        engine.step();
        ++unsynced;
      }
      if (unsynced >= m_quantum) sync(unsynced);
      if (m_aborted) break;
    }
    if (!m_aborted) sync(unsynced);
    if (m_aborted) continue;  // abort() has notified done
    notify_observers();
    if (announced || !done_signal(true, engine.total_cycles())) continue;  // raised early, or the pulse is lost
    m_last_job_cycles = engine.job_cycles();
    m_done.notify(sc_core::SC_ZERO_TIME);
  }
}

std::vector<const signal_view*> systolic_array::views(unsigned r0, unsigned r1, unsigned c0, unsigned c1) const {
  if (!m_core) throw config_error("register views (VCD tracing) exist for the fast engine only");
  std::vector<const signal_view*> out;
  for (unsigned r = r0; r <= r1; ++r) out.push_back(&m_west_feeder->at(r));
  for (unsigned c = c0; c <= c1; ++c) out.push_back(&m_north_feeder->at(c));
  for (unsigned r = r0; r <= r1; ++r) {
    for (unsigned c = c0; c <= c1; ++c) {
      for (const signal_view* v : m_pes[static_cast<std::size_t>(r) * config().cols + c]->views()) out.push_back(v);
    }
  }
  for (unsigned c = c0; c <= c1; ++c) out.push_back(&m_drain->at(c));
  return out;
}

}  // namespace axsa::hw
