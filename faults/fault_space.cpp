#include "faults/fault_space.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_set>

namespace axsa::faults {

fault_set parse_fault_set(const std::string& text) {
  if (text == "stuck-at") return fault_set::stuck_at;
  if (text == "bit-flip") return fault_set::bit_flip;
  if (text == "all") return fault_set::all;
  throw config_error("unknown fault types '" + text + "' (expected stuck-at, bit-flip or all)");
}

const char* to_string(fault_set s) {
  switch (s) {
    case fault_set::stuck_at: return "stuck-at";
    case fault_set::bit_flip: return "bit-flip";
    case fault_set::all: return "all";
  }
  return "?";
}

fault_space::fault_space(fault_site site, fault_set set, unsigned rows, unsigned cols, unsigned bits,
                         std::uint64_t run_cycles)
    : m_rows(rows), m_cols(cols), m_cycles(run_cycles) {
  add(site, set, bits);
}

fault_space::fault_space(const std::vector<fault_site>& sites, fault_set set, unsigned rows, unsigned cols,
                         unsigned data_bits, unsigned acc_bits, std::uint64_t run_cycles)
    : m_rows(rows), m_cols(cols), m_cycles(run_cycles) {
  if (sites.empty()) throw config_error("a fault space needs at least one site");
  for (fault_site s : sites) add(s, set, site_bits(s, data_bits, acc_bits));
}

void fault_space::add(fault_site site, fault_set set, unsigned bits) {
  part p{site, bits, m_size, 0, 0};
  const std::uint64_t pes_bits = site_units(site, m_rows, m_cols) * bits;
  if (set != fault_set::bit_flip) p.stuck = 2 * pes_bits;
  if (set != fault_set::stuck_at) {
    if (m_cycles == 0) throw config_error("a bit-flip fault space needs the golden run's cycle count");
    p.flip = pes_bits * m_cycles;
  }
  m_size += p.stuck + p.flip;
  m_parts.push_back(p);
}

// Order: the sites in turn; within one, stuck-at (polarity, then PE row-major, then bit), then
// bit-flips (cycle, PE, bit).
fault fault_space::at(std::uint64_t index) const {
  if (index >= size()) throw config_error("fault index " + std::to_string(index) + " outside a space of " + std::to_string(size()));
  const part* pp = &m_parts.front();
  for (const part& p : m_parts)
    if (index >= p.first) pp = &p;
  const part& p = *pp;
  index -= p.first;
  fault f;
  f.site = p.site;
  const std::uint64_t per_pe = p.bits;
  if (index < p.stuck) {
    const std::uint64_t half = p.stuck / 2;
    f.kind = index < half ? fault_kind::stuck_at_0 : fault_kind::stuck_at_1;
    std::uint64_t i = index % half;
    f.bit = static_cast<unsigned>(i % per_pe);
    i /= per_pe;
    if (p.site != fault_site::control) {
      f.col = static_cast<unsigned>(i % m_cols);
      f.row = static_cast<unsigned>(i / m_cols);
    }
    return f;  // window: the whole run
  }
  std::uint64_t i = index - p.stuck;
  f.kind = fault_kind::bit_flip;
  f.bit = static_cast<unsigned>(i % per_pe);
  i /= per_pe;
  const std::uint64_t pes = site_units(p.site, m_rows, m_cols);
  const std::uint64_t pe = i % pes;
  if (p.site != fault_site::control) {
    f.row = static_cast<unsigned>(pe / m_cols);
    f.col = static_cast<unsigned>(pe % m_cols);
  }
  f.first_cycle = f.last_cycle = i / pes;
  return f;
}

std::vector<fault_space::stratum> fault_space::strata() const {
  std::vector<stratum> out;
  for (const part& p : m_parts) {
    for (unsigned b = 0; b < p.bits; ++b) out.push_back({p.site, b, (p.stuck + p.flip) / p.bits});
  }
  return out;
}

std::uint64_t fault_space::stratum_index(std::size_t h, std::uint64_t k) const {
  for (const part& p : m_parts) {
    if (h < p.bits) {
      if (k >= (p.stuck + p.flip) / p.bits) throw config_error("fault " + std::to_string(k) + " outside its stratum");
      return p.first + k * p.bits + h;
    }
    h -= p.bits;
  }
  throw config_error("stratum outside the fault space");
}

std::uint64_t leveugle_sample_size(std::uint64_t population, double margin, double confidence, double p) {
  if (!(confidence > 0 && confidence < 1)) throw config_error("confidence must lie strictly between 0 and 1");
  if (!(margin > 0 && margin < 1)) throw config_error("margin must lie strictly between 0 and 1");
  if (!(p > 0 && p < 1)) throw config_error("p must lie strictly between 0 and 1");
  if (population == 0) return 0;
  // t: erf(t / sqrt 2) = confidence, by bisection (erf is monotone).
  double lo = 0, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erf(mid / std::sqrt(2.0)) < confidence ? lo : hi) = mid;
  }
  const double t = (lo + hi) / 2;
  const double N = static_cast<double>(population);
  const double n = N / (1 + margin * margin * (N - 1) / (t * t * p * (1 - p)));
  return std::min<std::uint64_t>(population, static_cast<std::uint64_t>(std::ceil(n)));
}

std::vector<std::uint64_t> sample_indices(std::uint64_t population, std::uint64_t n, std::uint64_t seed) {
  if (n > population) throw config_error("cannot draw " + std::to_string(n) + " faults from a space of " + std::to_string(population));
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> out;
  if (n == population) {
    out.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) out[i] = i;
    return out;
  }
  // Floyd's algorithm: n draws, each uniform, no replacement, memory O(n).
  std::unordered_set<std::uint64_t> chosen;
  chosen.reserve(static_cast<std::size_t>(n) * 2);
  for (std::uint64_t j = population - n; j < population; ++j) {
    const std::uint64_t t = std::uniform_int_distribution<std::uint64_t>(0, j)(rng);
    chosen.insert(chosen.count(t) ? j : t);
  }
  out.assign(chosen.begin(), chosen.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace axsa::faults
