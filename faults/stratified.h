// Stratified fault sampling (docs/campaigns.md, "Stratified sampling"): strata per site and per bit
// (fault_space::strata()), a seeded pilot that measures how much each stratum's outcomes vary, and a
// Neyman allocation that spends faults where they vary. Strata whose faults nearly all end the same
// way (the low bits are almost always Masked, a sign bit almost always Critical) get few faults, so
// the same margin of error needs fewer faults than uniform sampling when the strata differ.
//
// Planning is plain arithmetic, kept apart from the engines that run the pilot (faults/campaign.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "faults/campaign_config.h"
#include "faults/fault_space.h"

namespace axsa::faults {

enum class sampling_kind { uniform, stratified };
sampling_kind parse_sampling(const std::string& text);  // "uniform" | "stratified"
const char* to_string(sampling_kind s);

// Pilot faults per stratum unless --pilot says otherwise.
constexpr std::uint64_t default_pilot_per_stratum = 24;

// The pilot: up to `per_stratum` distinct faults of every stratum, drawn with a seed of their own
// (derived from `seed`), stratum after stratum. `stratum_of[i]` is the stratum of pilot fault i.
struct pilot_sample {
  std::vector<fault> faults;
  std::vector<std::size_t> stratum_of;
};
pilot_sample draw_pilot(const fault_space& space, std::uint64_t per_stratum, std::uint64_t seed);

// The standard deviation of one fault's outcome shares in a stratum, estimated from its pilot faults'
// per-class pair counts: the largest over classes of the sample standard deviation of the per-fault
// shares, and never below sqrt(q (1 - q)) with q = 0.5 / (n + 1), the spread of a class the pilot did
// not see, so a stratum whose pilot ended one way keeps a few faults. 0.5, the worst case, for a
// stratum with fewer than two pilot results.
double pilot_spread(const std::vector<std::array<std::uint64_t, outcome_count>>& counts);

// Neyman allocation: n_h proportional to N_h s_h, the total n the least for which
// t^2 sum_h W_h^2 s_h^2 / n_h (1 - n_h / N_h) <= margin^2 (W_h = N_h / N), i.e.
// n = (sum W_h s_h)^2 / (margin^2 / t^2 + sum W_h s_h^2 / N). Each n_h is rounded up and kept in
// [min(2, N_h), N_h]: two faults at least, so every stratum's variance can be estimated.
std::vector<std::uint64_t> neyman_allocation(const std::vector<std::uint64_t>& populations,
                                             const std::vector<double>& spreads, double margin, double t);

// The stored form of an allocation ("n_1,n_2,..."), and back (config_error naming the text).
std::string format_allocation(const std::vector<std::uint64_t>& n);
std::vector<std::uint64_t> parse_allocation(const std::string& text);

// n_h distinct faults of every stratum h, each stratum with a seed of its own, then all of them
// shuffled into run order as sample_in_run_order does.
std::vector<fault> stratified_sample_in_run_order(const fault_space& space, const std::vector<std::uint64_t>& n,
                                                  std::uint64_t seed);

}  // namespace axsa::faults
