// The R x C output-stationary systolic array as a SystemC module: named PEs, west and north
// feeders (the skew), a drain port per column, and a controller thread that runs a GEMM as
// folds of R x C output tiles (docs/cycle-model.md) by clocking one of the two cycle engines
// (hw/array_engine.h, chosen by cfg.engine): the fast engine (array_core, with read-only pe_view
// modules naming its registers) or the structural engine (pe_array: pe modules with multiplier
// and saboteur submodules). SystemC time advances by the clock period per cycle, synchronised with
// the kernel every `quantum` cycles (1 = every cycle). A job starts on start(), done_event() fires
// when its last output row has drained; cycles are counted from start to done.
//
// The done signal is the controller's pulse to whoever waits (the accelerator), sampled on every
// cycle of a job and on the cycle after its last edge, where it is high. A control fault on its bit
// (hw/fault.h, control_field::done) can raise it while the job still runs (done_event() fires early,
// the engine carries on) or swallow the pulse at the end (done_event() never fires for that job).
// abort() is the controller's reset: the job stops, done_event() fires with last_job_aborted().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>

#include "hw/array_core.h"
#include "hw/array_engine.h"
#include "hw/pe_array.h"
#include "hw/pe_view.h"
#include "hw/signal_view.h"

namespace axsa::hw {

// A module of named views with no behaviour of its own: the feeder registers and drain ports.
class view_bank : public sc_core::sc_module {
 public:
  view_bank(const sc_core::sc_module_name& name, const char* prefix, unsigned count, unsigned bits,
            const std::function<std::int64_t(unsigned)>& read);
  const signal_view& at(unsigned i) const { return *m_views.at(i); }
  unsigned size() const { return static_cast<unsigned>(m_views.size()); }

 private:
  std::vector<std::unique_ptr<signal_view>> m_views;
};

class systolic_array : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(systolic_array);
  systolic_array(const sc_core::sc_module_name& name, const array_config& cfg);
  const char* kind() const override { return "axsa_systolic_array"; }

  const array_config& config() const { return m_engine->config(); }
  void set_multiplier(const multiplier* m) { m_engine->set_multiplier(m); }

  // Queues a GEMM; it begins at the controller's next activation. Throws if one is running.
  void start(const gemm_job& job);
  // Blocking form for SC_THREADs: start, wait for done, return the job's cycles.
  std::uint64_t run(const gemm_job& job);
  // From start() until the controller has finished the job in simulated time (the engine may have
  // run its cycles ahead of it, up to a quantum).
  bool busy() const { return m_pending || m_in_job || m_engine->busy(); }
  const sc_core::sc_event& done_event() const { return m_done; }
  std::uint64_t last_job_cycles() const { return m_last_job_cycles; }
  // Stops the running job (if any) and clears the array's registers.
  void abort();
  // Whether the last done_event() ended a job by abort().
  bool last_job_aborted() const { return m_aborted; }
  // Whether the last job ended on an error of the controller (array_engine::failed()).
  bool last_job_failed() const { return m_engine->failed(); }

  // Cycles between synchronisations with the SystemC kernel (>= 1).
  void set_quantum(std::uint64_t cycles);
  // Called once per cycle with the state of that cycle (before its clock edge), and once after
  // the last edge of each job; tracers and lockstep checkers hang here. Costs nothing when unset.
  using cycle_observer = std::function<void(const array_engine&)>;
  void add_cycle_observer(cycle_observer obs) { m_observers.push_back(std::move(obs)); }

  const array_engine& engine() const { return *m_engine; }
  array_engine& engine() { return *m_engine; }
  // The structural engine's modules, or nullptr when the fast engine runs.
  pe_array* structure() { return m_structural.get(); }
  sc_core::sc_time clock_period() const { return m_period; }

  // Every view of the PEs with rows r0..r1 and columns c0..c1 (inclusive), plus the feeders
  // and drain ports of those rows and columns (fast engine; throws config_error otherwise).
  std::vector<const signal_view*> views(unsigned r0, unsigned r1, unsigned c0, unsigned c1) const;

 private:
  void control_thread();
  void notify_observers() const;
  // The done signal in `cycle`, given its fault-free value: the done faults of the engine's list.
  bool done_signal(bool fault_free, std::uint64_t cycle) const;
  // Cycles since the last synchronisation with the kernel; an abort() wakes it early.
  void sync(std::uint64_t& unsynced);

  sc_core::sc_time m_period;
  // One engine runs: the fast engine with its views, or the structural engine.
  std::unique_ptr<array_core> m_core;
  std::vector<std::unique_ptr<pe_view>> m_pes;
  std::unique_ptr<view_bank> m_west_feeder, m_north_feeder, m_drain;
  std::unique_ptr<pe_array> m_structural;
  array_engine* m_engine = nullptr;
  std::vector<cycle_observer> m_observers;
  std::uint64_t m_quantum = 1024;
  gemm_job m_job{};
  bool m_pending = false;
  std::uint64_t m_last_job_cycles = 0;
  std::vector<faults::fault> m_done_faults;  // the running job's faults on the done signal
  bool m_aborted = false;
  bool m_in_job = false;  // the controller thread is between a job's start and its end in time
  sc_core::sc_event m_abort;
  sc_core::sc_event m_start;
  sc_core::sc_event m_done;
};

}  // namespace axsa::hw
