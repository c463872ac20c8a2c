// The dataflow descriptor: the one home of the array's timing rule (docs/cycle-model.md). Given the
// array and a GEMM it answers the fold order and length, which (m, k, n) each PE sees at each cycle,
// when a PE accumulates, what the feeders present and when and where the drain delivers. The fast
// engine (array_core), the structural engine (pe_array), the cycle model (cycle_model.h), the
// campaign shortcut (faults/campaign.cpp) and the RTL stimulus (rtl/array/feed_schedule.cpp) ask it;
// none of them restates the rule.
//
// Output-stationary: PE (r, c) owns output (m0 + r, n0 + c) of a fold. The activation of row r enters
// at the west edge and moves one PE east per cycle; the weight of column c enters at the north edge
// and moves `weight_hop` cycles per PE south (1 in the design; array_config::weight_hop is a test-only
// variant with more register stages on the weight path). The west feeder of row r is skewed by
// weight_hop * r cycles, the north feeder of column c by c, so that PE (r, c) sees the pair
//   k = t - weight_hop * r - c
// in cycle t of a fold's compute phase. After the compute phase the accumulators shift south for R
// drain cycles. Folds run back to back, row-of-tiles by row-of-tiles.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "hw/array_config.h"

namespace axsa::hw {

class dataflow {
 public:
  dataflow(const array_config& cfg, const gemm_shape& shape);
  // The design's timing (weight_hop 1) for an R x C array: what the cycle formula needs.
  dataflow(unsigned rows, unsigned cols, const gemm_shape& shape);

  unsigned rows() const { return m_rows; }
  unsigned cols() const { return m_cols; }
  const gemm_shape& shape() const { return m_shape; }
  // Cycles a weight spends in each PE before it moves on south (register stages on the weight path).
  unsigned weight_hop() const { return m_hop; }

  // ---- Fold order and length
  std::uint64_t folds_m() const { return m_folds_m; }
  std::uint64_t folds_n() const { return m_folds_n; }
  std::uint64_t folds() const { return m_folds_m * m_folds_n; }
  // Feed and compute: until the last pair (k = K-1) has reached PE (R-1, C-1).
  std::uint64_t compute_cycles() const { return m_compute; }
  // Drain: one accumulator row leaves per cycle.
  std::uint64_t drain_cycles() const { return m_rows; }
  std::uint64_t fold_cycles() const { return m_compute + m_rows; }
  std::uint64_t cycles() const { return folds() * fold_cycles(); }

  // The output tile of a fold: rows m0.. and columns n0.. of out, and how many of the array's
  // rows and columns it uses (fewer on a ragged last tile).
  struct tile {
    std::size_t m0 = 0, n0 = 0;
    unsigned rows_used = 0, cols_used = 0;
  };
  tile fold_tile(std::uint64_t fold) const {
    tile t;
    t.m0 = static_cast<std::size_t>(fold / m_folds_n) * m_rows;
    t.n0 = static_cast<std::size_t>(fold % m_folds_n) * m_cols;
    t.rows_used = static_cast<unsigned>(std::min<std::size_t>(m_rows, m_shape.m - t.m0));
    t.cols_used = static_cast<unsigned>(std::min<std::size_t>(m_cols, m_shape.n - t.n0));
    return t;
  }

  // Where cycle `cycle` of the job (0 = its first) falls: fold, cycle t within it, drain or not.
  struct position {
    std::uint64_t fold = 0, t = 0;
    bool draining = false;
    std::uint64_t drain_cycle() const { return t; }  // meaningful when draining: t counts drain cycles
  };
  position locate(std::uint64_t cycle) const {
    position p;
    p.fold = cycle / fold_cycles();
    const std::uint64_t t = cycle % fold_cycles();
    p.draining = t >= m_compute;
    p.t = p.draining ? t - m_compute : t;
    return p;
  }

  // ---- Which operand each PE sees
  // The reduction index of the pair PE (r, c) holds in compute cycle t (outside 0..K-1: none).
  std::int64_t k_at(std::uint64_t t, unsigned r, unsigned c) const {
    return static_cast<std::int64_t>(t) - static_cast<std::int64_t>(m_hop) * r - c;
  }
  // The compute cycle in which PE (r, c) holds index k.
  std::uint64_t cycle_of(std::uint64_t k, unsigned r, unsigned c) const { return k + std::uint64_t{m_hop} * r + c; }
  // When a PE accumulates (mac_en): in the compute phase, on a real pair, inside the tile.
  bool accumulates(const tile& tl, std::uint64_t t, unsigned r, unsigned c) const {
    if (r >= tl.rows_used || c >= tl.cols_used) return false;
    const std::int64_t k = k_at(t, r, c);
    return k >= 0 && k < static_cast<std::int64_t>(m_shape.k);
  }
  // The columns [first, second] of row r that accumulate in compute cycle t: one contiguous run
  // (empty when first > second). The fast engine's MAC loop runs over exactly these.
  std::pair<std::int64_t, std::int64_t> busy_columns(const tile& tl, std::uint64_t t, unsigned r) const {
    if (r >= tl.rows_used) return {0, -1};
    const std::int64_t hi = static_cast<std::int64_t>(t) - static_cast<std::int64_t>(m_hop) * r;
    const std::int64_t lo = std::max<std::int64_t>(0, hi - static_cast<std::int64_t>(m_shape.k) + 1);
    return {lo, std::min<std::int64_t>(hi, static_cast<std::int64_t>(tl.cols_used) - 1)};
  }
  // True when every PE of the array accumulates in compute cycle t (a full tile, past the skew).
  bool all_busy(const tile& tl, std::uint64_t t) const {
    return tl.rows_used == m_rows && tl.cols_used == m_cols && t >= m_fill && t < m_shape.k;
  }

  // ---- Feeder schedule: the k the west feeder of row r and the north feeder of column c present
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

  // ---- Drain: in drain cycle d the bottom row leaves through the drain ports carrying this row of
  // the tile (the accumulators form one shift chain per column, zeros entering at the top).
  unsigned drained_row(std::uint64_t d) const { return static_cast<unsigned>(m_rows - 1 - d); }

 private:
  unsigned m_rows, m_cols, m_hop;
  gemm_shape m_shape;
  std::uint64_t m_folds_m, m_folds_n, m_compute, m_fill;
};

}  // namespace axsa::hw
