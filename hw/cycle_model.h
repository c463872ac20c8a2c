// Closed-form cycle count of a GEMM on the array (derivation in docs/cycle-model.md), from the
// dataflow descriptor (hw/dataflow.h), the one place the timing rule is written. The engines do not
// use this to time themselves: their count comes from stepping the registers; tests and the command
// line compare the two.
#pragma once

#include <cstdint>

#include "hw/array_config.h"
#include "hw/dataflow.h"

namespace axsa::hw {

inline std::uint64_t fold_count(const gemm_shape& s, unsigned rows, unsigned cols) {
  return dataflow(rows, cols, s).folds();
}

// Cycles of a GEMM on an R x C array of the design (folds * (K + 2R + C - 2)).
inline std::uint64_t gemm_cycles(const gemm_shape& s, unsigned rows, unsigned cols) {
  return dataflow(rows, cols, s).cycles();
}
// The same for any configuration (its dataflow variant included).
inline std::uint64_t gemm_cycles(const gemm_shape& s, const array_config& cfg) { return dataflow(cfg, s).cycles(); }

// Useful MACs over PE-cycles spent.
inline double utilization(const gemm_shape& s, unsigned rows, unsigned cols, std::uint64_t cycles) {
  if (cycles == 0) return 0;
  return static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n) /
         (static_cast<double>(rows) * cols * static_cast<double>(cycles));
}

}  // namespace axsa::hw
