// A campaign's fault sample in run order, and the slices of it that shards run (docs/scale-out.md).
// The sample is a seeded, ordered list (ids 0..n-1); shard I of N owns the ids congruent to I-1
// modulo N. Striding rather than contiguous blocks keeps every shard's prefix a near-equal share of
// the single run's prefix: shards stopped at the same time together hold about what one process
// would have finished, and a partial merge is then close to an interrupted single run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "faults/fault_space.h"
#include "hw/fault.h"

namespace axsa::faults {

struct shard_spec {
  std::uint64_t index = 1;  // 1..count
  std::uint64_t count = 1;  // 1: the whole sample (no shard)

  static constexpr std::uint64_t max_count = 1'000'000;

  bool whole() const { return count == 1; }
  bool contains(std::uint64_t id) const { return id % count == index - 1; }
  // Faults of a sample of n that fall into this shard: ceil((n - index + 1) / count), 0 if n < index.
  std::uint64_t size(std::uint64_t n) const { return n >= index ? (n - index) / count + 1 : 0; }
  std::uint64_t id_at(std::uint64_t position) const { return index - 1 + position * count; }
  std::uint64_t position(std::uint64_t id) const { return id / count; }  // of an id it contains
  std::string str() const { return std::to_string(index) + "/" + std::to_string(count); }
  bool operator==(const shard_spec& o) const { return index == o.index && count == o.count; }
  bool operator!=(const shard_spec& o) const { return !(*this == o); }
};

// "I/N" with 1 <= I <= N <= max_count; config_error naming what was expected otherwise.
shard_spec parse_shard(const std::string& text);

// `n` faults of `space` drawn with `seed` (all of them when n is the population), in a seeded random
// order: any prefix of a partial campaign is then itself a random sample, so interim reports are
// unbiased, and so is any fixed slice of positions (a shard).
std::vector<fault> sample_in_run_order(const fault_space& space, std::uint64_t n, std::uint64_t seed);

// The faults of `sample` that `shard` owns, in id order.
std::vector<fault> shard_slice(const std::vector<fault>& sample, const shard_spec& shard);

}  // namespace axsa::faults
