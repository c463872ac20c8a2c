// The statistics of a campaign (docs/campaigns.md): normal quantiles, the achieved margin of error,
// and the summary of per-fault outcome counts (shares with cluster-sampling intervals, per PE, bit
// and kind). Plain computation, testable without a database; faults/campaign_db.h feeds it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "faults/campaign_config.h"
#include "hw/fault.h"

namespace axsa::faults {

// The statistics of the summary (docs/campaigns.md); their own namespace keeps them apart from
// the sampler's helpers in faults/fault_space.h.
namespace stats {
double normal_quantile(double probability);  // inverse standard normal CDF, probability in (0, 1)
double t_for_confidence(double confidence);  // normal_quantile((1 + confidence) / 2): 2.5758 for 0.99
// Achieved margin of error of n faults out of N: t * sqrt(p(1-p)/n * (N-n)/(N-1)); 0 when n >= N,
// NaN when n = 0.
double margin_of_error(std::uint64_t population, std::uint64_t n, double t, double p = 0.5);
}  // namespace stats


struct interval {
  double low = 0, high = 0;  // NaN when it cannot be estimated (a single fault of a larger space)
};
// One outcome class over all pairs; the interval treats the fault as the sampling unit.
struct class_share {
  std::uint64_t pairs = 0;      // (fault, image) pairs with this outcome
  std::uint64_t faults = 0;     // faults with this outcome on at least one image
  double fraction = 0;          // pairs / all pairs (NaN with no pairs)
  double std_error = 0;         // cluster standard error of fraction, with the finite-population correction
  interval ci;                  // fraction -/+ t * std_error, clipped to [0, 1]
};
// Pair counts of a group of faults (one PE, one bit, one kind).
struct group_counts {
  std::uint64_t faults = 0, pairs = 0;
  std::array<std::uint64_t, outcome_count> by_outcome{};  // indexed by outcome
};
// The shares of a set of faults from a fault space (or part of one) of `population` faults, with
// their margin: the largest t * std_error over the classes (NaN while one cannot be estimated).
struct share_estimate {
  std::uint64_t population = 0, faults = 0, pairs = 0;
  std::array<class_share, outcome_count> classes{};
  double margin = 0;
};
struct site_summary {
  fault_site site = fault_site::weight_link;
  share_estimate estimate;
};
struct stratum_summary {
  fault_site site = fault_site::weight_link;
  unsigned bit = 0;
  std::uint64_t planned = 0;  // n_h of the allocation
  share_estimate estimate;
};
struct campaign_summary {
  campaign_config config;
  std::uint64_t faults_stored = 0;    // the sample as stored (sample_size once the engine has drawn it)
  std::uint64_t faults_done = 0;      // faults with results: the n of every statistic below
  std::uint64_t pairs = 0;            // (fault, image) pairs recorded
  bool complete = false;              // every fault of the sample (of a shard: of its slice) has results
  double fault_space_share = 0;       // faults_done / population
  double t = 0;                       // normal quantile of the confidence
  // Uniform sampling: the achieved margin of error at p = 0.5 (Leveugle's worst case) for n =
  // faults_done, and the same for the whole sample. Stratified sampling has no such bound (its
  // allocation rests on the pilot's spreads): margin is the estimated one, planned_margin the target.
  double margin = 0;
  double planned_margin = 0;
  double estimated_margin = 0;        // the largest t * std_error over the classes (both samplings)
  std::array<class_share, outcome_count> classes{};  // indexed by outcome; stratified: combined over strata
  std::vector<site_summary> per_site;        // the campaign's sites, in its order
  std::vector<stratum_summary> per_stratum;  // stratified campaigns: one per site and bit
  std::vector<group_counts> per_pe;   // rows x cols, index row * cols + col
  std::vector<group_counts> per_bit;  // bits 0 .. bits-1
  std::array<group_counts, 3> per_kind{};  // indexed by fault_kind
};

// The summary of a campaign from its stored faults and, per fault (same order), how many of its
// pairs had each outcome (all zero: no results yet). faults_stored is list.size().
campaign_summary summarize_counts(const campaign_config& config, const std::vector<fault>& list,
                                  const std::vector<std::array<std::uint64_t, outcome_count>>& per_fault);

}  // namespace axsa::faults
