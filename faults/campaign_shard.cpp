#include "faults/campaign_shard.h"

#include <algorithm>
#include <random>

namespace axsa::faults {

shard_spec parse_shard(const std::string& text) {
  auto fail = [&] {
    return config_error("--shard must be I/N with 1 <= I <= N <= " + std::to_string(shard_spec::max_count) + " (got '" +
                        text + "')");
  };
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw fail();
  auto number = [&](const std::string& part) -> std::uint64_t {
    if (part.empty() || part.size() > 7 || part.find_first_not_of("0123456789") != std::string::npos) throw fail();
    return std::stoull(part);
  };
  shard_spec s;
  s.index = number(text.substr(0, slash));
  s.count = number(text.substr(slash + 1));
  if (s.count < 1 || s.count > shard_spec::max_count || s.index < 1 || s.index > s.count) throw fail();
  return s;
}

std::vector<fault> sample_in_run_order(const fault_space& space, std::uint64_t n, std::uint64_t seed) {
  std::vector<std::uint64_t> order = sample_indices(space.size(), n, seed);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed ^ 0x9e3779b97f4a7c15ull));
  std::vector<fault> list;
  list.reserve(order.size());
  for (std::uint64_t index : order) list.push_back(space.at(index));
  return list;
}

std::vector<fault> shard_slice(const std::vector<fault>& sample, const shard_spec& shard) {
  std::vector<fault> slice;
  slice.reserve(shard.size(sample.size()));
  for (std::uint64_t id = shard.index - 1; id < sample.size(); id += shard.count) slice.push_back(sample[id]);
  return slice;
}

}  // namespace axsa::faults
