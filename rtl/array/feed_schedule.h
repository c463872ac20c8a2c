// The controller's timing of docs/cycle-model.md, computed from the GEMM alone: for every cycle
// of a job, what the west and north edges of the array carry (the skew), whether the array drains,
// and which output row leaves it. The lockstep drives the RTL with this schedule; it never looks
// at the SystemC model's feeder registers, so a timing bug in either shows up as a mismatch.
//
// Folds run row-of-tiles by row-of-tiles; fold f covers output rows m0 = (f / ceil(N/C)) * R and
// columns n0 = (f % ceil(N/C)) * C. Cycle t of a fold (K + 2R + C - 2 cycles):
//   t <  K+R+C-2 : row i carries act[m0+i][t-i], column j carries weight[t-j][n0+j], each valid when
//                  its index lies in 0..K-1 and inside the tile (zero and invalid otherwise);
//   t >= K+R+C-2 : drain cycle d = t - (K+R+C-2); the bottom row leaves: output row m0 + R-1-d.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "hw/array_core.h"

namespace axsa::rtl {

class feed_schedule {
 public:
  // act (M x K) and weight (K x N) must outlive the schedule.
  feed_schedule(unsigned rows, unsigned cols, const hw::gemm_shape& shape, const std::int16_t* act,
                const std::int16_t* weight);

  std::uint64_t folds() const { return m_folds_m * m_folds_n; }
  // Cycles of the whole job: folds * (K + 2R + C - 2).
  std::uint64_t cycles() const { return folds() * m_fold_len; }

  // The edge inputs of one cycle (zero and invalid from cycles() on: the array is idle).
  struct edges {
    std::vector<std::int32_t> west, north;
    std::vector<std::uint8_t> west_valid, north_valid;
    bool drain = false;
  };
  void inputs(std::uint64_t cycle, edges& out) const;

  // During a drain cycle whose bottom row holds outputs: where they go (m, first n, how many).
  struct drained_row {
    std::size_t m, n0;
    unsigned count;
  };
  std::optional<drained_row> drained(std::uint64_t cycle) const;

 private:
  struct position {
    std::uint64_t t;
    std::size_t m0, n0;
    unsigned rows_used, cols_used;
  };
  position locate(std::uint64_t cycle) const;

  unsigned m_rows, m_cols;
  hw::gemm_shape m_shape;
  const std::int16_t* m_act;
  const std::int16_t* m_weight;
  std::uint64_t m_folds_m, m_folds_n, m_compute_len, m_fold_len;
};

}  // namespace axsa::rtl
