// Error metrics of a multiplier against the exact product, in the conventions of the EvoApprox
// tables so the two can be read side by side: absolute MAE and WCE in product units, the same
// relative to the output range 2^(2N) in percent, MRED and error probability in percent.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/multiplier.h"

namespace axsa::hw::mult {

struct error_metrics {
  std::uint64_t pairs = 0;  // operand pairs evaluated
  bool exhaustive = false;  // all 2^(2N) pairs
  double mae = 0;           // mean |approx - exact|
  double wce = 0;           // max |approx - exact|
  double mae_pct = 0;       // mae / 2^(2N) * 100
  double wce_pct = 0;       // wce / 2^(2N) * 100
  double mred_pct = 0;      // mean of |approx - exact| / |exact| over pairs with exact != 0, in %
  double ep_pct = 0;        // share of pairs with approx != exact, in %
  double mean_error = 0;    // mean (approx - exact): the bias
  double mse = 0;           // mean (approx - exact)^2
};

// Exhaustive metrics from a full N-bit product table (index (a << N) | b over N-bit patterns).
error_metrics metrics_from_table(const std::vector<std::int32_t>& full, unsigned bits);
// Metrics over `pairs` random operand pairs plus every pair of the extreme values, for circuits
// too wide to enumerate (N > 12).
error_metrics metrics_sampled(const multiplier& m, std::uint64_t pairs, std::uint64_t seed);

}  // namespace axsa::hw::mult
