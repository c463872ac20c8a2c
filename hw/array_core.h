// Register-level engine of the output-stationary systolic array: the state of every PE
// register and link, and the clock edge that updates them all at once. Kernel-free, so the
// SystemC module, the RTL lockstep and the benchmarks drive the very same arithmetic.
//
// Timing contract (cycle t of a fold, K the reduction length, PE (i,j) in row i, column j):
//  - the west feeder register of row i holds act[m0+i][t-i] (0 when t-i is outside 0..K-1),
//    the north feeder register of column j holds weight[t-j][n0+j] (same rule);
//  - PE (i,j) reads the registers to its west and north, so it sees the pair with k = t-i-j;
//    it accumulates when 0 <= k < K and the PE holds an output of this fold (valid bits that
//    travel with the activation along the row and with the weight down the column, so rows and
//    columns past a ragged tile stay idle), and registers both inputs towards east and south;
//  - after the last pair reaches PE (R-1,C-1) (t = K+R+C-3) the R accumulator rows shift
//    south for R cycles, leaving the array at the bottom of each column, zeros entering at
//    the top; that drain also clears the accumulators for the next fold.
// Each fold therefore takes K + 2R + C - 2 cycles; folds run back to back (docs/cycle-model.md).
// Reset (construction) clears every register.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "faults/fault.h"
#include "hw/array_config.h"
#include "hw/multiplier.h"

namespace axsa::hw {

// Operands of one GEMM, row-major, values already in the signed W-bit range. The engine
// reads act and weight while it runs and writes out[m][n] (sign-extended accumulator) as
// each row drains; all three must stay valid until the job is done.
struct gemm_job {
  gemm_shape shape;
  const std::int16_t* act = nullptr;     // M x K
  const std::int16_t* weight = nullptr;  // K x N
  std::int64_t* out = nullptr;           // M x N
};

class array_core {
 public:
  enum class phase { idle, compute, drain };

  explicit array_core(const array_config& cfg);

  const array_config& config() const { return m_cfg; }
  // nullptr or an exact multiplier: native products. Otherwise the slot's product table for
  // data_bits when it offers one, else m->multiply() for every product.
  void set_multiplier(const multiplier* m);
  const multiplier* get_multiplier() const { return m_mult; }
  // How products are evaluated with the current multiplier: "native", "table" or "slot" (its multiply()).
  const char* evaluation() const { return m_native ? "native" : m_table != nullptr ? "table" : "slot"; }

  // Loads a job: the next cycle is cycle 0 of its first fold. Throws config_error if the
  // shape is invalid or a job is still running.
  void start(const gemm_job& job);
  bool busy() const { return m_phase != phase::idle; }
  // One rising clock edge.
  void step();
  // Steps until the job is done; returns the cycles it took.
  std::uint64_t run();

  std::uint64_t job_cycles() const { return m_job_cycles; }
  std::uint64_t total_cycles() const { return m_total_cycles; }
  phase current_phase() const { return m_phase; }
  std::uint64_t fold_index() const { return m_fold; }
  std::uint64_t fold_count() const { return m_folds_m * m_folds_n; }
  // Cycle within the current fold's compute phase, or within its drain.
  std::uint64_t phase_cycle() const { return m_phase == phase::drain ? m_drain_cycle : m_t; }

  // State during the current cycle.
  std::int32_t west_in(unsigned r, unsigned c) const { return m_act[r * m_cols + c]; }
  std::int32_t east_out(unsigned r, unsigned c) const {
    return c + 1 < m_cols ? m_act[r * m_cols + c + 1] : m_act_edge[r];
  }
  std::int32_t north_in(unsigned r, unsigned c) const { return m_wgt[r * m_cols + c]; }
  std::int32_t south_out(unsigned r, unsigned c) const {
    return r + 1 < m_rows ? m_wgt[(r + 1) * m_cols + c] : m_wgt_edge[c];
  }
  std::int64_t acc(unsigned r, unsigned c) const;
  // True when PE (r,c) accumulates on this cycle's edge.
  bool mac_enabled(unsigned r, unsigned c) const;
  // Value on column c's drain output (the bottom accumulator) when draining, else 0.
  std::int64_t drain_out(unsigned c) const;

  // Test hook for co-verification: overwrite one accumulator (models a corrupted register).
  void poke_acc(unsigned r, unsigned c, std::int64_t value);

  // The saboteur: faults on PE weight paths (faults/fault.h), applied on every cycle of their
  // window, several at once in list order. An empty list costs one test per cycle.
  void set_faults(std::vector<faults::fault> list);
  const std::vector<faults::fault>& active_faults() const { return m_faults; }

 private:
  template <class Acc, class Mul>
  void compute_macs(Acc* acc, const Mul& mul);
  template <class Acc>
  void drain_row(Acc* acc);
  template <class Acc>
  void apply_mult_faults(Acc* acc, std::uint64_t cycle);
  void apply_link_faults(std::uint64_t cycle);
  void sabotage(std::uint64_t cycle);
  void compute_step();
  void shift_links();
  void load_feeders();
  void begin_fold();

  array_config m_cfg;
  unsigned m_rows;
  unsigned m_cols;
  const multiplier* m_mult = nullptr;
  bool m_native = true;
  const std::int32_t* m_table = nullptr;  // the slot's product table for data_bits, if it has one
  bool m_wide_acc;  // acc_bits > 32: 64-bit accumulators

  // Links, stored so that PE (r,c)'s two inputs sit at the same index r*C+c of two contiguous
  // arrays: the MAC of all PEs is then one flat loop. m_act[r*C+c] comes from the west (c = 0: the
  // feeder register of row r), m_wgt[r*C+c] from the north (r = 0: the feeder of column c). The
  // registers leaving the array at the east and south edges are kept apart.
  std::vector<std::int16_t> m_act;
  std::vector<std::int16_t> m_wgt;
  std::vector<std::int16_t> m_act_edge;  // east output of PE (r, C-1)
  std::vector<std::int16_t> m_wgt_edge;  // south output of PE (R-1, c)
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
  gemm_job m_job{};
  phase m_phase = phase::idle;
  std::uint64_t m_folds_m = 0, m_folds_n = 0, m_fold = 0;
  std::size_t m_m0 = 0, m_n0 = 0;
  unsigned m_rows_used = 0, m_cols_used = 0;
  std::uint64_t m_t = 0, m_compute_len = 0, m_drain_cycle = 0;
  std::uint64_t m_job_cycles = 0, m_total_cycles = 0;
};

}  // namespace axsa::hw
