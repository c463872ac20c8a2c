// The dataflow descriptor: the one home of the array's timing rule (docs/cycle-model.md). Given the
// array and a GEMM it answers the fold order and length, which (m, k, n) each PE sees at each cycle,
// when a PE accumulates, what the feeders present and when and where the drain delivers. The fast
// engine (array_core), the structural engine (pe_array), the cycle model (cycle_model.h), the
// campaign shortcut (faults/campaign.cpp) and the RTL stimulus (rtl/array/feed_schedule.cpp) ask it;
// none of them restates the rule.
//
// Two dataflows (array_config::dataflow), each a fold of up to three stages (preload, compute, drain):
//
// Output-stationary (os, the design): PE (r, c) owns output (m0 + r, n0 + c) of a fold. The activation
// of row r enters at the west edge and moves one PE east per cycle; the weight of column c enters at
// the north edge and moves `weight_hop` cycles per PE south (1 in the design; array_config::weight_hop
// is a test-only variant with more register stages on the weight path). The west feeder of row r is
// skewed by weight_hop * r cycles, the north feeder of column c by c, so that PE (r, c) sees the pair
//   k = t - weight_hop * r - c
// in cycle t of the compute stage. Then the accumulators shift south for R drain cycles, leaving at
// the bottom. Folds run row-of-tiles by row-of-tiles (blocks of R rows of M, then blocks of C of N).
//
// Weight-stationary (ws, as SCALE-Sim defines it): PE (r, c) holds weight (k0 + r, n0 + c) of a fold.
// Preload: R cycles in which the weights shift down the columns, bottom row first. Compute: the
// activation act[m][k0 + r] enters row r in cycle m + r and moves east; the partial sums move south,
// PE (r, c) adding its product for m in cycle m + r + c, and out[m][n0 + c] of this fold leaves the
// bottom of column c in cycle m + R + c (M + R + C - 1 cycles). A fold adds into the outputs of the
// folds before it with the same n0. Folds run column-of-tiles by column-of-tiles (blocks of R of K
// inside blocks of C of N).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "hw/array_config.h"

namespace axsa::hw {

// The stages of a fold, in order; a dataflow may skip one (length 0).
enum class stage { preload, compute, drain };

class dataflow {
 public:
  dataflow(const array_config& cfg, const gemm_shape& shape);
  // The design's output-stationary timing (weight_hop 1) for an R x C array: what the cycle formula needs.
  dataflow(unsigned rows, unsigned cols, const gemm_shape& shape);

  dataflow_kind kind() const { return m_kind; }
  bool output_stationary() const { return m_kind == dataflow_kind::output_stationary; }
  unsigned rows() const { return m_rows; }
  unsigned cols() const { return m_cols; }
  const gemm_shape& shape() const { return m_shape; }
  // Cycles a weight spends in each PE before it moves on south (register stages on the weight path).
  unsigned weight_hop() const { return m_hop; }

  // ---- Fold order and length (both dataflows)
  std::uint64_t folds() const { return m_folds_a * m_folds_n; }
  std::uint64_t stage_cycles(stage s) const {
    return s == stage::preload ? m_preload : s == stage::compute ? m_compute : m_drain;
  }
  std::uint64_t fold_cycles() const { return m_preload + m_compute + m_drain; }
  std::uint64_t cycles() const { return folds() * fold_cycles(); }
  // os: feed and compute, until the last pair (k = K-1) has reached PE (R-1, C-1).
  std::uint64_t compute_cycles() const { return m_compute; }
  // os: drain, one accumulator row leaving per cycle.
  std::uint64_t drain_cycles() const { return m_drain; }

  // The part of the GEMM a fold covers: os, outputs m0.. x n0..; ws, weights k0.. x n0.. (m0 = 0);
  // and how many of the array's rows and columns it uses (fewer on a ragged last tile).
  struct tile {
    std::size_t m0 = 0, k0 = 0, n0 = 0;
    unsigned rows_used = 0, cols_used = 0;
  };
  tile fold_tile(std::uint64_t fold) const {
    tile t;
    t.n0 = static_cast<std::size_t>(output_stationary() ? fold % m_folds_n : fold / m_folds_a) * m_cols;
    const std::size_t a0 = static_cast<std::size_t>(output_stationary() ? fold / m_folds_n : fold % m_folds_a) * m_rows;
    (output_stationary() ? t.m0 : t.k0) = a0;
    t.rows_used = static_cast<unsigned>(std::min<std::size_t>(m_rows, (output_stationary() ? m_shape.m : m_shape.k) - a0));
    t.cols_used = static_cast<unsigned>(std::min<std::size_t>(m_cols, m_shape.n - t.n0));
    return t;
  }

  // Where cycle `cycle` of the job (0 = its first) falls: fold, stage, cycle t within the stage.
  struct position {
    std::uint64_t fold = 0;
    hw::stage stage = hw::stage::compute;
    std::uint64_t t = 0;
  };
  position locate(std::uint64_t cycle) const {
    position p;
    p.fold = cycle / fold_cycles();
    std::uint64_t t = cycle % fold_cycles();
    if (t < m_preload) return {p.fold, stage::preload, t};
    t -= m_preload;
    if (t < m_compute) return {p.fold, stage::compute, t};
    return {p.fold, stage::drain, t - m_compute};
  }
  // The stage that follows s in a fold (preload -> compute -> drain), skipping empty ones; drain
  // (or the last non-empty stage) ends the fold.
  bool next_stage(stage& s) const {
    for (;;) {
      if (s == stage::drain) return false;
      s = s == stage::preload ? stage::compute : stage::drain;
      if (stage_cycles(s) > 0) return true;
    }
  }
  stage first_stage() const { return m_preload > 0 ? stage::preload : stage::compute; }

  // ---- Both dataflows, per stage: the feeders, the controller's signals, the outputs.
  struct index {
    std::size_t row = 0, col = 0;
  };
  // The activation act[row][col] the west feeder of row r presents in cycle t of stage s, if any.
  std::optional<index> west_operand(const tile& tl, stage s, std::uint64_t t, unsigned r) const {
    if (s != stage::compute || r >= tl.rows_used) return std::nullopt;
    if (output_stationary()) {
      if (!west_valid(tl, t, r)) return std::nullopt;
      return index{tl.m0 + r, static_cast<std::size_t>(west_k(t, r))};
    }
    if (t < r || t - r >= m_shape.m) return std::nullopt;
    return index{static_cast<std::size_t>(t - r), tl.k0 + r};
  }
  // The weight weight[row][col] the north feeder of column c presents in cycle t of stage s, if any.
  std::optional<index> north_operand(const tile& tl, stage s, std::uint64_t t, unsigned c) const {
    if (c >= tl.cols_used) return std::nullopt;
    if (output_stationary()) {
      if (s != stage::compute || !north_valid(tl, t, c)) return std::nullopt;
      return index{static_cast<std::size_t>(north_k(t, c)), tl.n0 + c};
    }
    if (s != stage::preload) return std::nullopt;
    const std::uint64_t row = m_rows - 1 - t;  // the bottom row's weight enters first
    if (row >= tl.rows_used) return std::nullopt;
    return index{tl.k0 + static_cast<std::size_t>(row), tl.n0 + c};
  }
  // The controller's signals to every PE in stage s: whether the weight registers take what arrives
  // from the north (os: always, the weights flow; ws: only while preloading), and whether the
  // accumulators take the one to the north plus their product (os: only while draining, when no PE
  // accumulates; ws: always, the partial sums flow) instead of adding their product in place.
  bool weights_advance(stage s) const { return output_stationary() || s == stage::preload; }
  bool sums_advance(stage s) const { return !output_stationary() || s == stage::drain; }
  // Whether the bottom row's accumulators are the array's outputs in stage s (the drain ports).
  bool drains(stage s) const { return s == (output_stationary() ? stage::drain : stage::compute); }
  // Where the value leaving column c at the bottom in cycle t of stage s goes: out[m][n], written
  // (add = false) or added to what earlier folds left there (add = true); none when it is no output.
  struct output_index {
    std::size_t m = 0, n = 0;
    bool add = false;
  };
  std::optional<output_index> output(const tile& tl, stage s, std::uint64_t t, unsigned c) const {
    if (!drains(s) || c >= tl.cols_used) return std::nullopt;
    if (output_stationary()) {
      const unsigned row = drained_row(t);
      if (row >= tl.rows_used) return std::nullopt;
      return output_index{tl.m0 + row, tl.n0 + c, false};
    }
    if (t < std::uint64_t{m_rows} + c || t - m_rows - c >= m_shape.m) return std::nullopt;
    return output_index{static_cast<std::size_t>(t - m_rows - c), tl.n0 + c, tl.k0 > 0};
  }
  // When a PE accumulates (mac_en) in cycle t of stage s.
  bool accumulates(const tile& tl, stage s, std::uint64_t t, unsigned r, unsigned c) const {
    return s == stage::compute && accumulates(tl, t, r, c);
  }

  // ---- Which operand each PE sees (os; for ws k_at is the activation row m)
  // The reduction index of the pair PE (r, c) holds in compute cycle t (outside 0..K-1: none).
  std::int64_t k_at(std::uint64_t t, unsigned r, unsigned c) const {
    return static_cast<std::int64_t>(t) - static_cast<std::int64_t>(m_hop) * r - c;
  }
  // The compute cycle in which PE (r, c) holds index k.
  std::uint64_t cycle_of(std::uint64_t k, unsigned r, unsigned c) const { return k + std::uint64_t{m_hop} * r + c; }
  // When a PE accumulates (mac_en) in cycle t of the compute stage: inside the tile, and the index
  // k_at() gives is a real one (os: a reduction index below K; ws: an activation row below M).
  bool accumulates(const tile& tl, std::uint64_t t, unsigned r, unsigned c) const {
    if (r >= tl.rows_used || c >= tl.cols_used) return false;
    const std::int64_t k = k_at(t, r, c);
    return k >= 0 && k < static_cast<std::int64_t>(output_stationary() ? m_shape.k : m_shape.m);
  }
  // The columns [first, second] of row r that accumulate in compute cycle t: one contiguous run
  // (empty when first > second). The fast engine's MAC loop runs over exactly these.
  std::pair<std::int64_t, std::int64_t> busy_columns(const tile& tl, std::uint64_t t, unsigned r) const {
    if (r >= tl.rows_used) return {0, -1};
    const std::int64_t hi = static_cast<std::int64_t>(t) - static_cast<std::int64_t>(m_hop) * r;
    const std::int64_t len = static_cast<std::int64_t>(output_stationary() ? m_shape.k : m_shape.m);
    const std::int64_t lo = std::max<std::int64_t>(0, hi - len + 1);
    return {lo, std::min<std::int64_t>(hi, static_cast<std::int64_t>(tl.cols_used) - 1)};
  }
  // True when every PE of the array accumulates in compute cycle t (a full tile, past the skew).
  bool all_busy(const tile& tl, std::uint64_t t) const {
    return tl.rows_used == m_rows && tl.cols_used == m_cols && t >= m_fill && t < m_shape.k;
  }

  // ---- os feeder schedule: the k the west feeder of row r and the north feeder of column c present
  // in compute cycle t; they are valid (and non-zero) when k lies in 0..K-1 inside the tile.
  std::uint64_t west_skew(unsigned r) const { return std::uint64_t{m_hop} * r; }
  std::uint64_t north_skew(unsigned c) const { return c; }
  std::int64_t west_k(std::uint64_t t, unsigned r) const { return static_cast<std::int64_t>(t - west_skew(r)); }
  std::int64_t north_k(std::uint64_t t, unsigned c) const { return static_cast<std::int64_t>(t - north_skew(c)); }
  bool west_valid(const tile& tl, std::uint64_t t, unsigned r) const {
    return r < tl.rows_used && t >= west_skew(r) && t - west_skew(r) < m_shape.k;
  }
  bool north_valid(const tile& tl, std::uint64_t t, unsigned c) const {
    return c < tl.cols_used && t >= north_skew(c) && t - north_skew(c) < m_shape.k;
  }

  // ---- os drain: in drain cycle d the bottom row leaves through the drain ports carrying this row of
  // the tile (the accumulators form one shift chain per column, zeros entering at the top).
  unsigned drained_row(std::uint64_t d) const { return static_cast<unsigned>(m_rows - 1 - d); }

 private:
  dataflow_kind m_kind;
  unsigned m_rows, m_cols, m_hop;
  gemm_shape m_shape;
  std::uint64_t m_folds_a;  // folds over M (os) or K (ws)
  std::uint64_t m_folds_n, m_preload, m_compute, m_drain, m_fill;
};

}  // namespace axsa::hw
