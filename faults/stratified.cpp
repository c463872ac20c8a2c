#include "faults/stratified.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace axsa::faults {

namespace {
std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser: a seed per stratum
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
constexpr std::uint64_t pilot_salt = 0x70696c6f74ull;   // "pilot"
constexpr std::uint64_t strata_salt = 0x7374726174ull;  // "strat"
}  // namespace

sampling_kind parse_sampling(const std::string& text) {
  if (text == "uniform") return sampling_kind::uniform;
  if (text == "stratified") return sampling_kind::stratified;
  throw config_error("--sampling must be uniform or stratified (got '" + text + "')");
}

const char* to_string(sampling_kind s) { return s == sampling_kind::stratified ? "stratified" : "uniform"; }

pilot_sample draw_pilot(const fault_space& space, std::uint64_t per_stratum, std::uint64_t seed) {
  pilot_sample out;
  const auto strata = space.strata();
  for (std::size_t h = 0; h < strata.size(); ++h) {
    const std::uint64_t n = std::min(per_stratum, strata[h].population);
    for (std::uint64_t k : sample_indices(strata[h].population, n, mix(seed ^ pilot_salt ^ mix(h)))) {
      out.faults.push_back(space.at(space.stratum_index(h, k)));
      out.stratum_of.push_back(h);
    }
  }
  return out;
}

double pilot_spread(const std::vector<std::array<std::uint64_t, outcome_count>>& counts) {
  std::vector<std::array<double, outcome_count>> shares;
  for (const auto& c : counts) {
    std::uint64_t m = 0;
    for (auto v : c) m += v;
    if (m == 0) continue;
    std::array<double, outcome_count> y{};
    for (std::size_t o = 0; o < outcome_count; ++o) y[o] = static_cast<double>(c[o]) / static_cast<double>(m);
    shares.push_back(y);
  }
  const std::size_t n = shares.size();
  if (n < 2) return 0.5;
  // The floor: the spread of a class the pilot never saw, its share taken as 0.5 / (n + 1).
  const double q = 0.5 / (static_cast<double>(n) + 1);
  double spread = std::sqrt(q * (1 - q));
  for (std::size_t o = 0; o < outcome_count; ++o) {
    double mean = 0;
    for (const auto& y : shares) mean += y[o];
    mean /= static_cast<double>(n);
    double ss = 0;
    for (const auto& y : shares) ss += (y[o] - mean) * (y[o] - mean);
    spread = std::max(spread, std::sqrt(ss / static_cast<double>(n - 1)));
  }
  return spread;
}

std::vector<std::uint64_t> neyman_allocation(const std::vector<std::uint64_t>& populations,
                                             const std::vector<double>& spreads, double margin, double t) {
  if (populations.size() != spreads.size() || populations.empty()) {
    throw config_error("stratified sampling: one spread per stratum is needed");
  }
  if (!(margin > 0 && margin < 1)) throw config_error("margin must lie strictly between 0 and 1");
  double big_n = 0;
  for (auto p : populations) big_n += static_cast<double>(p);
  if (big_n == 0) throw config_error("stratified sampling: the fault space is empty");
  double a = 0, b = 0;
  for (std::size_t h = 0; h < populations.size(); ++h) {
    const double w = static_cast<double>(populations[h]) / big_n;
    a += w * spreads[h];
    b += w * spreads[h] * spreads[h];
  }
  std::vector<std::uint64_t> n(populations.size(), 0);
  const double total = a > 0 ? a * a / (margin * margin / (t * t) + b / big_n) : 0;
  for (std::size_t h = 0; h < populations.size(); ++h) {
    const double w = static_cast<double>(populations[h]) / big_n;
    const double share = a > 0 ? total * w * spreads[h] / a : 0;
    const std::uint64_t lo = std::min<std::uint64_t>(2, populations[h]);
    const double capped = std::min(std::ceil(share), static_cast<double>(populations[h]));
    n[h] = std::max(lo, static_cast<std::uint64_t>(capped));
  }
  return n;
}

std::string format_allocation(const std::vector<std::uint64_t>& n) {
  std::string out;
  for (std::size_t h = 0; h < n.size(); ++h) out += (h ? "," : "") + std::to_string(n[h]);
  return out;
}

std::vector<std::uint64_t> parse_allocation(const std::string& text) {
  std::vector<std::uint64_t> out;
  std::size_t at = 0;
  while (true) {
    const std::size_t comma = text.find(',', at);
    const std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (item.empty() || item.size() > 19 || item.find_first_not_of("0123456789") != std::string::npos) {
      throw config_error("strata allocation '" + text + "' is not a comma-separated list of fault counts");
    }
    out.push_back(std::stoull(item));
    if (comma == std::string::npos) return out;
    at = comma + 1;
  }
}

std::vector<fault> stratified_sample_in_run_order(const fault_space& space, const std::vector<std::uint64_t>& n,
                                                  std::uint64_t seed) {
  const auto strata = space.strata();
  if (n.size() != strata.size()) {
    throw config_error("strata allocation has " + std::to_string(n.size()) + " counts for " +
                       std::to_string(strata.size()) + " strata");
  }
  std::vector<std::uint64_t> order;
  for (std::size_t h = 0; h < strata.size(); ++h) {
    if (n[h] > strata[h].population) {
      throw config_error("strata allocation: " + std::to_string(n[h]) + " faults of a stratum of " +
                         std::to_string(strata[h].population));
    }
    for (std::uint64_t k : sample_indices(strata[h].population, n[h], mix(seed ^ strata_salt ^ mix(h)))) {
      order.push_back(space.stratum_index(h, k));
    }
  }
  std::sort(order.begin(), order.end());
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed ^ 0x9e3779b97f4a7c15ull));
  std::vector<fault> list;
  list.reserve(order.size());
  for (std::uint64_t index : order) list.push_back(space.at(index));
  return list;
}

}  // namespace axsa::faults
