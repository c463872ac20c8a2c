#include "faults/campaign_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "faults/stratified.h"
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

namespace {

using counts_t = std::array<std::uint64_t, outcome_count>;

std::uint64_t total(const counts_t& c) {
  std::uint64_t m = 0;
  for (auto v : c) m += v;
  return m;
}

double largest_margin(const std::array<class_share, outcome_count>& classes, double t) {
  double m = 0;
  for (const auto& cs : classes) {
    if (std::isnan(cs.std_error)) return std::nan("");
    m = std::max(m, t * cs.std_error);
  }
  return m;
}

void set_interval(class_share& cs, double t) {
  cs.ci.low = std::isnan(cs.std_error) ? std::nan("") : clip01(cs.fraction - t * cs.std_error);
  cs.ci.high = std::isnan(cs.std_error) ? std::nan("") : clip01(cs.fraction + t * cs.std_error);
}

// Cluster sampling: fault i contributes c_i pairs of the class out of m_i images. The share is the
// ratio R = sum c / sum m; its variance comes from the spread of c_i - R m_i over faults, which for
// equal m_i is the sample variance of the per-fault shares c_i / m_i.
share_estimate cluster_estimate(const std::vector<const counts_t*>& done, std::uint64_t population, double t) {
  share_estimate e;
  e.population = population;
  const std::uint64_t n = done.size();
  e.faults = n;
  for (const auto* c : done) e.pairs += total(*c);
  const double fpc = population == 0 ? 1.0
                     : n >= population ? 0.0
                                       : std::sqrt(static_cast<double>(population - n) / static_cast<double>(population - 1));
  const double mean_size = n ? static_cast<double>(e.pairs) / static_cast<double>(n) : 0;
  for (std::size_t o = 0; o < outcome_count; ++o) {
    class_share& cs = e.classes[o];
    for (const auto* c : done) {
      cs.pairs += (*c)[o];
      cs.faults += (*c)[o] > 0;
    }
    if (e.pairs == 0) {
      cs.fraction = cs.std_error = cs.ci.low = cs.ci.high = std::nan("");
      continue;
    }
    const double r = static_cast<double>(cs.pairs) / static_cast<double>(e.pairs);
    cs.fraction = r;
    if (fpc == 0) {
      cs.std_error = 0;
    } else if (n < 2) {
      cs.std_error = std::nan("");
    } else {
      double ss = 0;
      for (const auto* c : done) {
        const double d = static_cast<double>((*c)[o]) - r * static_cast<double>(total(*c));
        ss += d * d;
      }
      const double sd = std::sqrt(ss / static_cast<double>(n - 1)) / mean_size;
      cs.std_error = sd / std::sqrt(static_cast<double>(n)) * fpc;
    }
    set_interval(cs, t);
  }
  e.margin = e.pairs ? largest_margin(e.classes, t) : std::nan("");
  return e;
}

// The stratified estimate: sum_h W_h R_h, variance sum_h W_h^2 se_h^2, over the strata with results
// (W_h = N_h over their populations' sum, so a partial campaign estimates the strata it reached).
share_estimate combine_strata(const std::vector<const share_estimate*>& strata, double t) {
  share_estimate e;
  double reached = 0;
  for (const auto* s : strata) {
    e.population += s->population;
    e.faults += s->faults;
    e.pairs += s->pairs;
    if (s->pairs) reached += static_cast<double>(s->population);
  }
  for (std::size_t o = 0; o < outcome_count; ++o) {
    class_share& cs = e.classes[o];
    double fraction = 0, variance = 0;
    for (const auto* s : strata) {
      cs.pairs += s->classes[o].pairs;
      cs.faults += s->classes[o].faults;
      if (!s->pairs) continue;
      const double w = static_cast<double>(s->population) / reached;
      fraction += w * s->classes[o].fraction;
      variance += w * w * s->classes[o].std_error * s->classes[o].std_error;
    }
    cs.fraction = e.pairs ? fraction : std::nan("");
    cs.std_error = e.pairs ? std::sqrt(variance) : std::nan("");
    set_interval(cs, t);
  }
  e.margin = e.pairs ? largest_margin(e.classes, t) : std::nan("");
  return e;
}

}  // namespace

campaign_summary summarize_counts(const campaign_config& cfg, const std::vector<fault>& list,
                                  const std::vector<std::array<std::uint64_t, outcome_count>>& per_fault) {
  campaign_summary out;
  out.config = cfg;
  out.faults_stored = list.size();
  out.per_pe.assign(std::size_t{cfg.rows} * cfg.cols, {});
  out.per_bit.assign(cfg.bits, {});
  const fault_space space = campaign_fault_space(cfg);
  const std::vector<fault_site> sites = parse_sites(cfg.site);
  const auto strata = space.strata();
  std::vector<std::size_t> first_stratum(fault_site_count, 0);  // of each site, in strata()
  for (std::size_t h = strata.size(); h-- > 0;) first_stratum[static_cast<std::size_t>(strata[h].site)] = h;
  std::vector<std::vector<const counts_t*>> by_stratum(strata.size());
  std::vector<const counts_t*> done;
  for (std::size_t id = 0; id < list.size(); ++id) {
    const auto& counts = per_fault[id];
    const std::uint64_t m = total(counts);
    if (m == 0) continue;
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
    const std::size_t h = first_stratum[static_cast<std::size_t>(f.site)] + f.bit;
    if (h >= strata.size() || strata[h].site != f.site || strata[h].bit != f.bit) {
      throw config_error("campaign results hold a fault (" + describe(f) + ") outside the campaign's fault space");
    }
    by_stratum[h].push_back(&counts);
  }
  out.faults_done = done.size();
  out.complete = out.faults_stored > 0 && out.faults_done == out.faults_stored &&
                 out.faults_stored >= cfg.shard.size(cfg.sample_size);

  const std::uint64_t big_n = cfg.population;
  const std::uint64_t n = out.faults_done;
  out.fault_space_share = big_n > 0 ? static_cast<double>(n) / static_cast<double>(big_n) : std::nan("");
  out.t = stats::t_for_confidence(cfg.confidence);

  // Per stratum (site, bit): the sampling unit of a stratified campaign, and the parts a site's
  // estimate combines from when sampling was stratified.
  const bool stratified = cfg.sampling == "stratified";
  const std::vector<std::uint64_t> planned = stratified ? parse_allocation(cfg.strata) : std::vector<std::uint64_t>{};
  if (stratified && planned.size() != strata.size()) {
    throw config_error("campaign config: strata holds " + std::to_string(planned.size()) + " counts for " +
                       std::to_string(strata.size()) + " strata");
  }
  std::vector<share_estimate> stratum_estimates;
  if (stratified) {
    for (std::size_t h = 0; h < strata.size(); ++h) {
      stratum_estimates.push_back(cluster_estimate(by_stratum[h], strata[h].population, out.t));
      out.per_stratum.push_back({strata[h].site, strata[h].bit, planned[h], stratum_estimates.back()});
    }
  }
  for (fault_site site : sites) {
    site_summary ss;
    ss.site = site;
    if (stratified) {
      std::vector<const share_estimate*> parts;
      for (std::size_t h = 0; h < strata.size(); ++h)
        if (strata[h].site == site) parts.push_back(&stratum_estimates[h]);
      ss.estimate = combine_strata(parts, out.t);
    } else {
      std::vector<const counts_t*> of_site;
      std::uint64_t population = 0;
      for (std::size_t h = 0; h < strata.size(); ++h) {
        if (strata[h].site != site) continue;
        of_site.insert(of_site.end(), by_stratum[h].begin(), by_stratum[h].end());
        population += strata[h].population;
      }
      ss.estimate = cluster_estimate(of_site, population, out.t);
    }
    out.per_site.push_back(ss);
  }

  if (stratified) {
    std::vector<const share_estimate*> parts;
    for (const auto& e : stratum_estimates) parts.push_back(&e);
    const share_estimate all = combine_strata(parts, out.t);
    out.classes = all.classes;
    out.estimated_margin = out.margin = all.margin;
    out.planned_margin = cfg.margin;
  } else {
    const share_estimate all = cluster_estimate(done, big_n, out.t);
    out.classes = all.classes;
    out.estimated_margin = all.margin;
    out.margin = stats::margin_of_error(big_n, n, out.t);
    out.planned_margin = stats::margin_of_error(big_n, cfg.sample_size ? cfg.sample_size : out.faults_stored, out.t);
  }
  return out;
}

}  // namespace axsa::faults
