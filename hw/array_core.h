// Register-level engine of the output-stationary systolic array (the fast engine): the state of
// every PE register and link, and the clock edge that updates them all at once, as flat arrays
// (structure of arrays) so that the MAC of all PEs is one vectorised loop. Kernel-free, so the
// SystemC module, the RTL lockstep and the benchmarks drive the very same arithmetic. It is held
// equal, cycle by cycle, to the readable structural engine (hw/pe_array.h) by a lockstep test.
//
// Timing contract: the dataflow descriptor's (hw/dataflow.h), asked once per fold and, outside the
// steady state, once per row and cycle: what the feeders present, which PEs accumulate, how long a
// fold computes and which output row each drain cycle delivers. Each cycle every link register
// takes its input (activations one PE east, weights one register stage south) and the PEs that
// accumulate add their product. Reset (construction) clears every register.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "hw/fault.h"
#include "hw/array_config.h"
#include "hw/array_engine.h"
#include "hw/dataflow.h"
#include "hw/multiplier.h"

namespace axsa::hw {

class array_core final : public array_engine {
 public:
  // The stage of the current fold (hw::stage), or idle between jobs.
  enum class phase { idle, preload, compute, drain };

  explicit array_core(const array_config& cfg);

  const array_config& config() const override { return m_cfg; }
  // nullptr or an exact multiplier: native products. Otherwise the slot's product table for
  // data_bits when it offers one, else m->multiply() for every product.
  void set_multiplier(const multiplier* m) override;
  const multiplier* get_multiplier() const { return m_mult; }
  // How products are evaluated with the current multiplier: "native", "table" or "slot" (its multiply()).
  const char* evaluation() const override { return m_native ? "native" : m_table != nullptr ? "table" : "slot"; }

  // Loads a job: the next cycle is cycle 0 of its first fold. Throws config_error if the
  // shape is invalid or a job is still running.
  void start(const gemm_job& job) override;
  bool busy() const override { return m_phase != phase::idle; }
  // One rising clock edge.
  void step() override;
  void abort() override;
  bool failed() const override { return m_failed; }

  std::uint64_t job_cycles() const override { return m_job_cycles; }
  std::uint64_t total_cycles() const override { return m_total_cycles; }
  phase current_phase() const { return m_phase; }
  std::uint64_t fold_index() const { return m_fold; }
  std::uint64_t fold_count() const { return m_flow ? m_flow->folds() : 0; }
  // Cycle within the current fold's stage (ws: preload or compute; os: compute or drain).
  std::uint64_t phase_cycle() const { return m_phase == phase::drain ? m_drain_cycle : m_t; }

  // State during the current cycle.
  std::int32_t west_in(unsigned r, unsigned c) const override { return m_act[r * m_cols + c]; }
  std::int32_t east_out(unsigned r, unsigned c) const override {
    return c + 1 < m_cols ? m_act[r * m_cols + c + 1] : m_act_edge[r];
  }
  std::int32_t north_in(unsigned r, unsigned c) const override { return m_wgt[north_index(r, c)]; }
  std::int32_t south_out(unsigned r, unsigned c) const override {
    return r + 1 < m_rows ? m_wgt[north_index(r + 1, c)] : m_wgt_edge[c];
  }
  std::int64_t acc(unsigned r, unsigned c) const override;
  // True when PE (r,c) accumulates on this cycle's edge.
  bool mac_enabled(unsigned r, unsigned c) const override;
  // Value on column c's drain output (the bottom accumulator) when draining, else 0.
  std::int64_t drain_out(unsigned c) const override;

  // Test hook for co-verification: overwrite one accumulator (models a corrupted register).
  void poke_acc(unsigned r, unsigned c, std::int64_t value) override;

  // The saboteur: faults on PE data paths and valid bits, and on the controller's registers
  // (hw/fault.h), applied on every cycle of their window, several at once in list order. An empty
  // list costs one test per cycle. Control faults act at the start of a cycle on the registers the
  // controller reads in it: the stage-cycle counter (m_t computing, m_drain_cycle draining), the
  // fold counter (the fold's tile follows it; a fold past the last has an empty tile) and the stage
  // register (applied first: it selects the counter). With control faults the valid bits travel
  // with the operands as in the RTL twin, so operands already in the array finish under their own
  // bits whatever the counter does; without them each PE's pair comes from the descriptor's
  // schedule (the same bits, and the fast path). The done signal's
  // faults act in the systolic_array, which samples it. The address generator checks the fold
  // against the job's fold count: a fold counter past the last fold while a fold runs ends the job
  // at once with an error (failed()); past the last at a fold's end, it ends the job (early).
  void set_faults(std::vector<faults::fault> list) override;
  const std::vector<faults::fault>& active_faults() const override { return m_faults; }

  const activity& counts() const override { return m_counts; }
  void set_counting(bool on) override { m_counting = on; }

 private:
  template <class Acc, class Mul>
  void compute_macs(Acc* acc, const Mul& mul);
  // The MACs of a run of n PEs (activity counting).
  void count_macs(const std::int16_t* act, const std::int16_t* wgt, std::size_t n);
  void count_fold_zeros();
  // The registers clocked in a cycle of stage s (activity counting).
  void count_cycle(stage s);
  template <class Acc>
  void drain_row(Acc* acc);
  template <class Acc>
  void apply_pe_faults(Acc* acc, std::uint64_t cycle);
  // Whether PE (r, c) accumulates in this cycle (stage compute) with the valid faults active at `cycle`.
  bool valid_mac(unsigned r, unsigned c, std::uint64_t cycle) const;
  void sabotage_control(std::uint64_t cycle);
  // The stage the controller runs in cycle `cycle`: the stage register through the stage faults
  // active then (m_phase itself without control faults, and idle between jobs).
  phase phase_at(std::uint64_t cycle) const;
  // Whether both valid bits arriving at PE (r, c) are set in this cycle (before valid faults):
  // the travelling bits with control faults, else the descriptor's schedule (the same bits while
  // the controller counts as it should).
  bool arrived_valid(unsigned r, unsigned c) const;
  template <class Acc, class Mul>
  void compute_macs_travelling(Acc* acc, const Mul& mul);
  // The cycle's MACs with one product strategy, over the descriptor's busy PEs or the travelling valid bits.
  template <class Mul>
  void compute_with(const Mul& mul);
  // The current fold's tile and where its feeders read (m_fold may be past the last fold after a
  // control fault: then the tile is empty).
  void set_fold_tile();
  template <class Acc>
  void apply_acc_faults(Acc* acc, std::uint64_t cycle);
  void apply_link_faults(std::uint64_t cycle);
  void sabotage(std::uint64_t cycle);
  void sabotage_acc(std::uint64_t cycle);
  void compute_step();
  void shift_links();
  void load_feeders();
  void begin_fold();
  // One product with the current multiplier, outside the vectorised kernels.
  std::int32_t product(std::int16_t a, std::int16_t w) const;
  // The weight-stationary dataflow: a plainer step over the descriptor's generic schedule.
  void step_ws();
  void load_feeders_ws();
  template <class Acc>
  void step_ws_sums(Acc* acc);
  // Index in m_wgt of the register PE (r, c) reads from the north (PE (r-1, c)'s south register).
  std::size_t north_index(unsigned r, unsigned c) const {
    return static_cast<std::size_t>(r) * m_hop * m_cols + c;
  }

  array_config m_cfg;
  unsigned m_rows;
  unsigned m_cols;
  unsigned m_hop;  // weight register stages per PE
  bool m_ws;       // weight-stationary: PE (r, c) multiplies its south register, the weight it holds
  const multiplier* m_mult = nullptr;
  bool m_native = true;
  const std::int32_t* m_table = nullptr;  // the slot's product table for data_bits, if it has one
  bool m_wide_acc;  // acc_bits > 32: 64-bit accumulators

  // Links, stored so that PE (r,c)'s two inputs sit at the same index r*C+c of two contiguous
  // arrays: the MAC of all PEs is then one flat loop. m_act[r*C+c] comes from the west (c = 0: the
  // feeder register of row r), m_wgt[r*C+c] from the north (r = 0: the feeder of column c). The
  // registers leaving the array at the east and south edges are kept apart. With more than one
  // weight register stage per PE (weight_hop h), m_wgt holds R*h rows and PE (r,c) reads row r*h.
  std::vector<std::int16_t> m_act;
  std::vector<std::int16_t> m_wgt;
  std::vector<std::int16_t> m_act_edge;  // east output of PE (r, C-1)
  std::vector<std::int16_t> m_wgt_edge;  // south output of PE (R-1, c)
  // The valid bits travelling with the operands, in m_act's and m_wgt's layout: kept only with control
  // faults (m_travel), when the feeders' bits follow a counter that may be corrupted while earlier
  // operands are on their way; without them each PE's pair is the descriptor's schedule.
  std::vector<std::uint8_t> m_act_valid;
  std::vector<std::uint8_t> m_wgt_valid;
  std::vector<std::uint8_t> m_enable;  // per PE: both valid bits set (compute_macs_travelling)
  bool m_travel = false;
  // Accumulators, modulo 2^32 or 2^64; read through acc(), which wraps to acc_bits.
  std::vector<std::uint32_t> m_acc32;
  std::vector<std::uint64_t> m_acc64;

  // Per fold: where each feeder reads its operand (begin_fold(), load_feeders()); m_act_tile is the
  // fold's activation rows transposed, when they are read from a copy.
  std::vector<std::int16_t> m_act_tile;
  const std::int16_t* m_act_src = nullptr;
  std::size_t m_act_step = 1;
  std::vector<std::ptrdiff_t> m_act_off;
  std::vector<std::ptrdiff_t> m_wgt_off;

  std::vector<faults::fault> m_faults;
  bool m_valid_faults = false;    // some fault is on a valid site
  bool m_control_faults = false;  // some fault is on the controller
  bool m_pe_faults = false;       // some fault is on a multiplier operand or a valid bit (apply_pe_faults)
  bool m_failed = false;          // the job ended on the address generator's range check
  gemm_job m_job{};
  std::optional<dataflow> m_flow;  // the running job's timing
  dataflow::tile m_tile;           // the current fold's
  phase m_phase = phase::idle;
  std::uint64_t m_fold = 0;
  std::uint64_t m_t = 0, m_compute_len = 0, m_drain_cycle = 0;
  std::uint64_t m_job_cycles = 0, m_total_cycles = 0;
  bool m_counting = true;
  activity m_counts;
  std::uint64_t m_cycle_macs = 0;  // MACs of the current cycle (counting)
  bool m_fold_zeros_counted = false;  // this fold's zero operands were counted at its start
  std::vector<std::uint32_t> m_zero_act;  // zero activations per k among the fold's rows
};

}  // namespace axsa::hw
