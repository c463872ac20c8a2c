#include "hw/mult/error_metrics.h"

#include <cmath>
#include <cstdlib>
#include <random>

namespace axsa::hw::mult {

namespace {

class accumulator {
 public:
  explicit accumulator(unsigned bits) : m_range(std::ldexp(1.0, 2 * static_cast<int>(bits))) {}

  void add(std::int64_t approx, std::int64_t exact) {
    const std::int64_t e = approx - exact;
    const double ae = static_cast<double>(std::llabs(e));
    ++m_pairs;
    m_sum_abs += ae;
    m_sum += static_cast<double>(e);
    m_sum_sq += ae * ae;
    if (ae > m_wce) m_wce = ae;
    if (e != 0) ++m_wrong;
    if (exact != 0) {
      m_sum_red += ae / static_cast<double>(std::llabs(exact));
      ++m_nonzero;
    }
  }

  error_metrics result(bool exhaustive) const {
    error_metrics r;
    r.pairs = m_pairs;
    r.exhaustive = exhaustive;
    if (m_pairs == 0) return r;
    const double n = static_cast<double>(m_pairs);
    r.mae = m_sum_abs / n;
    r.wce = m_wce;
    r.mae_pct = r.mae / m_range * 100;
    r.wce_pct = r.wce / m_range * 100;
    r.mred_pct = m_nonzero ? m_sum_red / static_cast<double>(m_nonzero) * 100 : 0;
    r.ep_pct = static_cast<double>(m_wrong) / n * 100;
    r.mean_error = m_sum / n;
    r.mse = m_sum_sq / n;
    return r;
  }

 private:
  double m_range;
  std::uint64_t m_pairs = 0, m_wrong = 0, m_nonzero = 0;
  double m_sum_abs = 0, m_sum = 0, m_sum_sq = 0, m_wce = 0, m_sum_red = 0;
};

std::int32_t sign_extend(std::uint32_t v, unsigned bits) {
  const unsigned shift = 32 - bits;
  return static_cast<std::int32_t>(v << shift) >> shift;
}

}  // namespace

error_metrics metrics_from_table(const std::vector<std::int32_t>& full, unsigned bits) {
  accumulator acc(bits);
  const std::uint32_t side = 1u << bits;
  for (std::uint32_t ua = 0; ua < side; ++ua) {
    const std::int64_t a = sign_extend(ua, bits);
    for (std::uint32_t ub = 0; ub < side; ++ub) {
      acc.add(full[(static_cast<std::size_t>(ua) << bits) | ub], a * sign_extend(ub, bits));
    }
  }
  return acc.result(true);
}

error_metrics metrics_sampled(const multiplier& m, std::uint64_t pairs, std::uint64_t seed) {
  const unsigned bits = m.bits();
  accumulator acc(bits);
  const std::int32_t lo = -(std::int32_t{1} << (bits - 1));
  const std::int32_t hi = (std::int32_t{1} << (bits - 1)) - 1;
  const std::int32_t edges[] = {lo, lo + 1, -1, 0, 1, hi - 1, hi};
  for (std::int32_t a : edges)
    for (std::int32_t b : edges) acc.add(m.multiply(a, b), std::int64_t{a} * b);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> dist(lo, hi);
  for (std::uint64_t i = 0; i < pairs; ++i) {
    const std::int32_t a = dist(rng), b = dist(rng);
    acc.add(m.multiply(a, b), std::int64_t{a} * b);
  }
  return acc.result(false);
}

}  // namespace axsa::hw::mult
