// Closed-form cycle count of a GEMM on the array (derivation in docs/cycle-model.md). The model
// does not use this to time itself: its count comes from stepping the registers; tests and the
// command line compare the two.
#pragma once

#include <cstdint>

#include "hw/array_config.h"

namespace axsa::hw {

inline std::uint64_t fold_count(const gemm_shape& s, unsigned rows, unsigned cols) {
  return ((s.m + rows - 1) / rows) * ((s.n + cols - 1) / cols);
}

// folds * (K + 2R + C - 2): K + R + C - 2 cycles until the last pair reaches PE (R-1, C-1), R to drain.
inline std::uint64_t gemm_cycles(const gemm_shape& s, unsigned rows, unsigned cols) {
  return fold_count(s, rows, cols) * (s.k + 2ull * rows + cols - 2);
}

// Useful MACs over PE-cycles spent.
inline double utilization(const gemm_shape& s, unsigned rows, unsigned cols, std::uint64_t cycles) {
  if (cycles == 0) return 0;
  return static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n) /
         (static_cast<double>(rows) * cols * static_cast<double>(cycles));
}

}  // namespace axsa::hw
