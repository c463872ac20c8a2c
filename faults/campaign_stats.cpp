#include "faults/campaign_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "hw/array_config.h"

namespace axsa::faults {

namespace {
std::string format_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
double clip01(double v) { return std::min(1.0, std::max(0.0, v)); }
}  // namespace

// ---------------------------------------------------------------------------------------------
// statistics

namespace stats {

double normal_quantile(double probability) {
  if (!(probability > 0 && probability < 1)) {
    throw std::invalid_argument("normal_quantile: probability " + format_double(probability) + " outside (0, 1)");
  }
  // Bisection on the CDF 0.5 erfc(-x / sqrt 2): slow but exact to the last bits, and called
  // once per report.
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < probability ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double t_for_confidence(double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    throw config_error("confidence must lie strictly between 0 and 1 (got " + format_double(confidence) + ")");
  }
  return normal_quantile((1 + confidence) / 2);
}

double margin_of_error(std::uint64_t population, std::uint64_t n, double t, double p) {
  if (n == 0) return std::nan("");
  if (n >= population) return 0;
  const double big_n = static_cast<double>(population), small_n = static_cast<double>(n);
  return t * std::sqrt(p * (1 - p) / small_n * (big_n - small_n) / (big_n - 1));
}

}  // namespace stats

// ---------------------------------------------------------------------------------------------
// summary

campaign_summary summarize_counts(const campaign_config& cfg, const std::vector<fault>& list,
                                  const std::vector<std::array<std::uint64_t, outcome_count>>& per_fault) {
  campaign_summary out;
  out.config = cfg;
  out.faults_stored = list.size();
  out.per_pe.assign(std::size_t{cfg.rows} * cfg.cols, {});
  out.per_bit.assign(cfg.bits, {});
  std::vector<std::uint64_t> sizes;  // images per completed fault (the cluster sizes)
  std::vector<const std::array<std::uint64_t, outcome_count>*> done;
  for (std::size_t id = 0; id < list.size(); ++id) {
    const auto& counts = per_fault[id];
    std::uint64_t m = 0;
    for (auto c : counts) m += c;
    if (m == 0) continue;
    sizes.push_back(m);
    done.push_back(&counts);
    out.pairs += m;
    const fault& f = list[id];
    std::vector<group_counts*> groups{&out.per_kind[static_cast<std::size_t>(f.kind)]};
    if (f.row < cfg.rows && f.col < cfg.cols) groups.push_back(&out.per_pe[std::size_t{f.row} * cfg.cols + f.col]);
    if (f.bit < cfg.bits) groups.push_back(&out.per_bit[f.bit]);
    for (group_counts* g : groups) {
      ++g->faults;
      g->pairs += m;
      for (std::size_t o = 0; o < outcome_count; ++o) g->by_outcome[o] += counts[o];
    }
    for (std::size_t o = 0; o < outcome_count; ++o) out.classes[o].faults += counts[o] > 0;
  }
  out.faults_done = done.size();
  out.complete = out.faults_stored > 0 && out.faults_done == out.faults_stored &&
                 out.faults_stored >= cfg.shard.size(cfg.sample_size);

  const std::uint64_t big_n = cfg.population;
  const std::uint64_t n = out.faults_done;
  out.fault_space_share = big_n > 0 ? static_cast<double>(n) / static_cast<double>(big_n) : std::nan("");
  out.t = stats::t_for_confidence(cfg.confidence);
  out.margin = stats::margin_of_error(big_n, n, out.t);
  out.planned_margin = stats::margin_of_error(big_n, cfg.sample_size ? cfg.sample_size : out.faults_stored, out.t);

  // Cluster sampling: fault i contributes c_i pairs of the class out of m_i images. The share is
  // the ratio R = sum c / sum m; its variance comes from the spread of c_i - R m_i over faults,
  // which for equal m_i is the sample variance of the per-fault shares c_i / m_i.
  const double fpc = big_n == 0 ? 1.0
                     : n >= big_n ? 0.0
                                  : std::sqrt(static_cast<double>(big_n - n) / static_cast<double>(big_n - 1));
  const double mean_size = n ? static_cast<double>(out.pairs) / static_cast<double>(n) : 0;
  for (std::size_t o = 0; o < outcome_count; ++o) {
    class_share& cs = out.classes[o];
    for (const auto* counts : done) cs.pairs += (*counts)[o];
    if (out.pairs == 0) {
      cs.fraction = cs.std_error = cs.ci.low = cs.ci.high = std::nan("");
      continue;
    }
    const double r = static_cast<double>(cs.pairs) / static_cast<double>(out.pairs);
    cs.fraction = r;
    if (fpc == 0) {
      cs.std_error = 0;
    } else if (n < 2) {
      cs.std_error = std::nan("");
    } else {
      double ss = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>((*done[i])[o]) - r * static_cast<double>(sizes[i]);
        ss += d * d;
      }
      const double sd = std::sqrt(ss / static_cast<double>(n - 1)) / mean_size;
      cs.std_error = sd / std::sqrt(static_cast<double>(n)) * fpc;
    }
    cs.ci.low = std::isnan(cs.std_error) ? std::nan("") : clip01(r - out.t * cs.std_error);
    cs.ci.high = std::isnan(cs.std_error) ? std::nan("") : clip01(r + out.t * cs.std_error);
  }
  return out;
}

}  // namespace axsa::faults
