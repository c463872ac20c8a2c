// Fault spaces and statistical fault sampling (docs/campaigns.md, docs/faults.md), per site, with
// B the width of the value the site corrupts (W for the weight and activation sites, A for acc, 2
// for valid, control_field::width for control) and U its units (R*C PEs; 1 controller for control):
//  - stuck-at: the survey's space, 2 polarities x B bits x U, each fault active for the whole
//    run (every cycle of every image);
//  - bit-flip: B bits x U x T cycles, a single-cycle transient at one of the T array cycles of
//    the golden run;
//  - all: the union of the two.
// A space over several sites is the concatenation of the sites' spaces, in the order given.
// Faults are numbered 0..N-1 in a fixed order, so a sample is a set of indices. Sample sizes follow
// Leveugle et al. (DATE 2009): n = N / (1 + e^2 (N - 1) / (t^2 p (1 - p))).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/fault.h"

namespace axsa::faults {

enum class fault_set { stuck_at, bit_flip, all };
fault_set parse_fault_set(const std::string& text);  // "stuck-at" | "bit-flip" | "all"
const char* to_string(fault_set s);

class fault_space {
 public:
  // rows x cols PEs, faults on `site` of `bits` bits (the site's width), T array cycles in the golden run.
  fault_space(fault_site site, fault_set set, unsigned rows, unsigned cols, unsigned bits, std::uint64_t run_cycles);
  // Several sites, each with its width (site_bits: W-bit data, A-bit accumulators, ...).
  fault_space(const std::vector<fault_site>& sites, fault_set set, unsigned rows, unsigned cols, unsigned data_bits,
              unsigned acc_bits, std::uint64_t run_cycles);
  std::uint64_t size() const { return m_size; }
  fault at(std::uint64_t index) const;

  // One site's part: indices [first, first + stuck + flip).
  struct part {
    fault_site site;
    unsigned bits;
    std::uint64_t first, stuck, flip;
  };
  const std::vector<part>& parts() const { return m_parts; }

  // Strata for stratified sampling (faults/stratified.h): one per site and bit, in part order then
  // bit order. Bit is the innermost index of both halves of a part, so stratum (part, bit) holds the
  // indices first + k * bits + bit, k in [0, (stuck + flip) / bits).
  struct stratum {
    fault_site site;
    unsigned bit;
    std::uint64_t population;
  };
  std::vector<stratum> strata() const;
  // The index in the space of the k-th fault of stratum h (k < strata()[h].population).
  std::uint64_t stratum_index(std::size_t h, std::uint64_t k) const;

 private:
  void add(fault_site site, fault_set set, unsigned bits);
  unsigned m_rows, m_cols;
  std::uint64_t m_cycles;
  std::vector<part> m_parts;
  std::uint64_t m_size = 0;
};

// Leveugle's sample size n = N / (1 + e^2 (N - 1) / (t^2 p (1 - p))), t the two-sided normal cut-off of
// the confidence (2.5758 for 0.99), rounded up and at most N.
std::uint64_t leveugle_sample_size(std::uint64_t population, double margin, double confidence, double p);

// n distinct indices in [0, population), uniformly, ascending; the same for the same seed.
std::vector<std::uint64_t> sample_indices(std::uint64_t population, std::uint64_t n, std::uint64_t seed);

}  // namespace axsa::faults
