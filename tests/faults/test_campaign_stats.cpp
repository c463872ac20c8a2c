// The campaign statistics without a database (faults/campaign_stats.h): normal quantiles, the
// margin of error, and the summary of per-fault outcome counts, checked against values computed by
// hand. This binary links no SQLite.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "faults/campaign_shard.h"
#include "faults/campaign_stats.h"
#include "faults/stratified.h"
#include "hw/array_config.h"

namespace axsa::faults {
namespace {

TEST(campaign_stats, normal_quantiles_and_margin) {
  EXPECT_NEAR(stats::t_for_confidence(0.99), 2.5758293035489, 1e-12);
  EXPECT_NEAR(stats::t_for_confidence(0.95), 1.9599639845400536, 1e-12);
  EXPECT_NEAR(stats::normal_quantile(0.5), 0.0, 1e-14);
  EXPECT_NEAR(stats::normal_quantile(0.001), -3.090232306167813, 1e-10);
  EXPECT_THROW(stats::t_for_confidence(1.0), config_error);
  // 99 %, N = 12544 (INT8 stuck-at on 28x28), Leveugle's n = 7143 for e = 0.01: margin just under 1 %.
  EXPECT_NEAR(stats::margin_of_error(12544, 7143, stats::t_for_confidence(0.99)), 0.0099996, 1e-6);
  EXPECT_EQ(stats::margin_of_error(12544, 12544, 2.5758), 0.0);
  EXPECT_TRUE(std::isnan(stats::margin_of_error(12544, 0, 2.5758)));
}

// Shards (faults/campaign_shard.h): I/N owns the ids congruent to I-1 modulo N; the N slices of a
// sample are disjoint, cover it, and differ in size by at most one.
TEST(campaign_shard, parse_accepts_i_of_n_and_refuses_the_rest) {
  const shard_spec s = parse_shard("3/4");
  EXPECT_EQ(s.index, 3u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.str(), "3/4");
  EXPECT_TRUE(parse_shard("1/1").whole());
  EXPECT_EQ(parse_shard("1000000/1000000").count, 1000000u);
  for (const char* bad : {"", "3", "0/4", "5/4", "1/0", "-1/4", "1/-4", "a/b", "1/4/2", " 1/4", "1/4 ", "1/1000001",
                          "99999999/99999999", "/4", "1/"}) {
    EXPECT_THROW(parse_shard(bad), config_error) << bad;
  }
  try {
    parse_shard("5/4");
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("'5/4'"), std::string::npos) << e.what();
  }
}

TEST(campaign_shard, slices_partition_the_sample_in_order) {
  const fault_space space(fault_site::weight_link, fault_set::all, 3, 2, 4, 17);
  for (std::uint64_t n : std::vector<std::uint64_t>{1, 2, 7, 50, space.size()}) {
    const std::vector<fault> sample = sample_in_run_order(space, n, 11);
    ASSERT_EQ(sample.size(), n);
    for (std::uint64_t count : std::vector<std::uint64_t>{1, 2, 3, 4, 7}) {
      if (count > n) continue;
      std::vector<int> owner(n, 0);
      std::uint64_t smallest = n, largest = 0;
      for (std::uint64_t index = 1; index <= count; ++index) {
        const shard_spec shard{index, count};
        const std::vector<fault> slice = shard_slice(sample, shard);
        ASSERT_EQ(slice.size(), shard.size(n)) << shard.str() << " of " << n;
        smallest = std::min<std::uint64_t>(smallest, slice.size());
        largest = std::max<std::uint64_t>(largest, slice.size());
        for (std::uint64_t pos = 0; pos < slice.size(); ++pos) {
          const std::uint64_t id = shard.id_at(pos);
          ASSERT_LT(id, n);
          EXPECT_TRUE(shard.contains(id));
          EXPECT_EQ(shard.position(id), pos);
          EXPECT_EQ(slice[pos], sample[id]);
          ++owner[id];
        }
      }
      for (std::uint64_t id = 0; id < n; ++id) EXPECT_EQ(owner[id], 1) << "fault " << id << ", " << count << " shards";
      EXPECT_LE(largest - smallest, 1u);
    }
  }
  // The same seed redraws the same order; another seed does not.
  EXPECT_EQ(sample_in_run_order(space, 30, 11), sample_in_run_order(space, 30, 11));
  EXPECT_NE(sample_in_run_order(space, 30, 11), sample_in_run_order(space, 30, 12));
}

// A configuration from_key_values accepts: 10 faults of 100, one image.
campaign_config small_config() {
  campaign_config c;
  c.model_path = "m.onnx";
  c.population = 100;
  c.sample_size = 10;
  c.images = 1;
  c.batch = 1;
  return c;
}

TEST(campaign_shard, the_shard_is_stored_only_for_a_real_split) {
  campaign_config c = small_config();
  auto has_shard_key = [](const campaign_config& cfg) {
    for (const auto& kv : cfg.to_key_values()) {
      if (kv.first == "shard") return true;
    }
    return false;
  };
  EXPECT_FALSE(has_shard_key(c));
  EXPECT_TRUE(campaign_config::from_key_values(c.to_key_values()).shard.whole());
  c.shard = shard_spec{2, 3};
  EXPECT_TRUE(has_shard_key(c));
  const campaign_config back = campaign_config::from_key_values(c.to_key_values());
  EXPECT_EQ(back.shard, (shard_spec{2, 3}));
  EXPECT_TRUE(back == c);
  c.shard = shard_spec{1, 11};  // more shards than faults in the sample
  EXPECT_THROW(campaign_config::from_key_values(c.to_key_values()), config_error);
}

// The logits convention is stored only when it is not the default, so older databases still match.
TEST(campaign_config, the_logits_convention_is_stored_when_requantized_and_checked) {
  campaign_config c = small_config();
  auto value_of = [](const campaign_config& cfg, const std::string& key) -> std::string {
    for (const auto& kv : cfg.to_key_values())
      if (kv.first == key) return kv.second;
    return "(absent)";
  };
  EXPECT_EQ(value_of(c, "logits"), "(absent)");
  EXPECT_EQ(campaign_config::from_key_values(c.to_key_values()).logits, "dequantized");
  c.logits = "requantized";
  EXPECT_EQ(value_of(c, "logits"), "requantized");
  const campaign_config back = campaign_config::from_key_values(c.to_key_values());
  EXPECT_EQ(back.logits, "requantized");
  EXPECT_TRUE(back == c);
  campaign_config other = c;
  other.logits = "dequantized";
  EXPECT_FALSE(other == c);  // a resume with the other convention is a different campaign
  auto kv = c.to_key_values();
  kv.back().second = "softmax";
  try {
    campaign_config::from_key_values(kv);
    FAIL() << "a malformed logits value was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("logits = 'softmax' is not dequantized or requantized"), std::string::npos) << e.what();
  }
}

fault make_fault(unsigned row, unsigned col, unsigned bit, fault_kind kind) {
  fault f;
  f.row = row;
  f.col = col;
  f.bit = bit;
  f.kind = kind;
  return f;
}

// Four of six faults of a 2x2, W = 2 space of N = 10 have results over 5 images:
// MMMMM, MMMCC, MMMMT, XXMCT (X: crash). Shares are pairs over pairs; the intervals treat the fault as
// the sampling unit: SE = sd(per-fault share) / sqrt(4) * sqrt((10 - 4) / (10 - 1)).
TEST(campaign_stats, summary_of_counts_matches_the_hand_computed_example) {
  campaign_config cfg;
  cfg.bits = 2;
  cfg.rows = 2;
  cfg.cols = 2;
  cfg.confidence = 0.99;
  cfg.population = 10;
  cfg.sample_size = 6;
  const std::vector<fault> list = {make_fault(0, 0, 0, fault_kind::stuck_at_0), make_fault(0, 1, 1, fault_kind::stuck_at_1),
                                   make_fault(1, 0, 1, fault_kind::bit_flip),   make_fault(1, 1, 0, fault_kind::stuck_at_1),
                                   make_fault(0, 0, 1, fault_kind::stuck_at_0), make_fault(1, 1, 1, fault_kind::stuck_at_1)};
  using counts = std::array<std::uint64_t, outcome_count>;  // masked, tolerable, critical, crash, hang
  const std::vector<counts> per_fault = {{5, 0, 0, 0, 0}, {3, 0, 2, 0, 0}, {4, 1, 0, 0, 0}, {1, 1, 1, 2, 0}, {}, {}};
  const campaign_summary s = summarize_counts(cfg, list, per_fault);
  EXPECT_EQ(s.faults_stored, 6u);
  EXPECT_EQ(s.faults_done, 4u);
  EXPECT_FALSE(s.complete);
  EXPECT_EQ(s.pairs, 20u);
  EXPECT_DOUBLE_EQ(s.fault_space_share, 0.4);
  EXPECT_NEAR(s.margin, 0.5257889548502807, 1e-12);
  EXPECT_NEAR(s.planned_margin, 0.3505259699001871, 1e-12);
  const auto& masked = s.classes[static_cast<std::size_t>(outcome::masked)];
  EXPECT_EQ(masked.pairs, 13u);
  EXPECT_NEAR(masked.fraction, 0.65, 1e-12);
  EXPECT_NEAR(masked.std_error, 0.13944333775567924, 1e-12);  // per-fault shares 1, .6, .8, .2
  EXPECT_NEAR(masked.ci.low, 0.29081776442425483, 1e-12);
  EXPECT_DOUBLE_EQ(masked.ci.high, 1.0);
  const auto& crash = s.classes[static_cast<std::size_t>(outcome::crash)];
  EXPECT_EQ(crash.faults, 1u);
  EXPECT_NEAR(crash.std_error, 0.08164965809277261, 1e-12);
  EXPECT_EQ(s.per_pe[3].by_outcome[static_cast<std::size_t>(outcome::crash)], 2u);
  EXPECT_EQ(s.per_bit[0].pairs, 10u);
  EXPECT_EQ(s.per_kind[static_cast<std::size_t>(fault_kind::bit_flip)].pairs, 5u);

  // Every fault done: complete, and the finite-population correction of a whole space is zero.
  cfg.population = cfg.sample_size = 4;
  const std::vector<fault> four(list.begin(), list.begin() + 4);
  const std::vector<counts> done(per_fault.begin(), per_fault.begin() + 4);
  const campaign_summary all = summarize_counts(cfg, four, done);
  EXPECT_TRUE(all.complete);
  EXPECT_EQ(all.margin, 0.0);
  EXPECT_EQ(all.classes[static_cast<std::size_t>(outcome::masked)].std_error, 0.0);
}

// ---------------------------------------------------------------------------------------------
// stratified sampling (faults/stratified.h)

// The strata (site x bit) partition the space: every index in exactly one, each fault of a stratum
// on its site and bit, and the populations summing to the space.
TEST(stratified, strata_partition_the_fault_space_by_site_and_bit) {
  const fault_space space({fault_site::act_link, fault_site::acc}, fault_set::all, 2, 3, 3, 5, 4);
  const auto strata = space.strata();
  ASSERT_EQ(strata.size(), 3u + 5u);
  std::set<std::uint64_t> seen;
  std::uint64_t sum = 0;
  for (std::size_t h = 0; h < strata.size(); ++h) {
    EXPECT_EQ(strata[h].site, h < 3 ? fault_site::act_link : fault_site::acc);
    EXPECT_EQ(strata[h].bit, h < 3 ? h : h - 3);
    EXPECT_EQ(strata[h].population, (2u + 4u) * 6u);  // 2 polarities + 4 cycles, x R*C
    sum += strata[h].population;
    for (std::uint64_t k = 0; k < strata[h].population; ++k) {
      const std::uint64_t index = space.stratum_index(h, k);
      EXPECT_TRUE(seen.insert(index).second) << "index " << index << " in two strata";
      const fault f = space.at(index);
      EXPECT_EQ(f.site, strata[h].site);
      EXPECT_EQ(f.bit, strata[h].bit);
    }
  }
  EXPECT_EQ(sum, space.size());
  EXPECT_EQ(seen.size(), space.size());
  EXPECT_THROW(space.stratum_index(0, strata[0].population), config_error);
  EXPECT_THROW(space.stratum_index(strata.size(), 0), config_error);
}

// Neyman allocation on two strata of 100 with spreads 0.5 and 0.1, margin 0.1 at t = 2 (by hand:
// n = 0.3^2 / (0.01 / 4 + 0.13 / 200) = 28.57; n_h = n W_h s_h / 0.3 = 23.8 and 4.76, rounded up).
TEST(stratified, neyman_allocation_matches_the_hand_computed_example_and_meets_the_margin) {
  const std::vector<std::uint64_t> n = neyman_allocation({100, 100}, {0.5, 0.1}, 0.1, 2.0);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0], 24u);
  EXPECT_EQ(n[1], 5u);
  // The margin those counts give, from the stratified variance with each stratum's correction.
  const double var = 0.25 * 0.25 / 24 * (1 - 24.0 / 100) + 0.25 * 0.01 / 5 * (1 - 5.0 / 100);
  EXPECT_LE(2.0 * std::sqrt(var), 0.1);
  // Uniform sampling of the same 200 faults for the same margin (p = 0.5) needs 67.
  EXPECT_EQ(leveugle_sample_size(200, 0.1, std::erf(2.0 / std::sqrt(2.0)), 0.5), 67u);
  // Equal spreads of 0.5 allocate in proportion and add up to Leveugle's n (within the rounding up).
  const std::vector<std::uint64_t> even = neyman_allocation({300, 100, 600}, {0.5, 0.5, 0.5}, 0.05, 2.5758);
  const std::uint64_t lev = leveugle_sample_size(1000, 0.05, 0.99, 0.5);
  const std::uint64_t total = even[0] + even[1] + even[2];
  EXPECT_GE(total, lev - 1);
  EXPECT_LE(total, lev + 3);
  EXPECT_NEAR(static_cast<double>(even[2]) / static_cast<double>(even[1]), 6.0, 0.2);
  // At least two faults of every stratum (its variance needs them), never more than it holds.
  const std::vector<std::uint64_t> tiny = neyman_allocation({1000, 3, 1}, {0.5, 0.0, 0.5}, 0.2, 2.0);
  EXPECT_EQ(tiny[1], 2u);
  EXPECT_EQ(tiny[2], 1u);
  EXPECT_THROW(neyman_allocation({10}, {0.5, 0.5}, 0.1, 2.0), config_error);
}

// The pilot's spread: the largest sample standard deviation of the per-fault shares over classes,
// floored at sqrt(q (1 - q)), q = 0.5 / (n + 1); 0.5 with fewer than two pilot results.
TEST(stratified, pilot_spread_is_the_largest_class_spread_with_a_floor) {
  using counts = std::array<std::uint64_t, outcome_count>;
  EXPECT_DOUBLE_EQ(pilot_spread({}), 0.5);
  EXPECT_DOUBLE_EQ(pilot_spread({counts{3, 1, 0, 0, 0}}), 0.5);
  const double q = 0.5 / 6;  // five faults, every pair masked: no spread, the floor
  EXPECT_NEAR(pilot_spread(std::vector<counts>(5, counts{10, 0, 0, 0, 0})), std::sqrt(q * (1 - q)), 1e-15);
  // Masked shares 1, 1, 0, 0: variance (4 x 0.25) / 3.
  EXPECT_NEAR(pilot_spread({counts{4, 0, 0, 0, 0}, counts{4, 0, 0, 0, 0}, counts{0, 0, 4, 0, 0}, counts{0, 0, 4, 0, 0}}),
              std::sqrt(1.0 / 3), 1e-15);
  // Masked shares 1, 0, 0.5 and tolerable 0, 1, 0.5 (pairs of 4): sd 0.5, above the floor of three
  // faults, sqrt(0.125 x 0.875); shares 0.5, 0.75, 0.75 spread less (0.144) and get the floor.
  EXPECT_NEAR(pilot_spread({counts{4, 0, 0, 0, 0}, counts{0, 4, 0, 0, 0}, counts{2, 2, 0, 0, 0}}), 0.5, 1e-15);
  EXPECT_NEAR(pilot_spread({counts{2, 2, 0, 0, 0}, counts{3, 1, 0, 0, 0}, counts{3, 1, 0, 0, 0}}),
              std::sqrt(0.125 * 0.875), 1e-15);
}

// The stratified sample holds n_h distinct faults of every stratum, the same for the same seed, and
// the pilot draws up to its size from each stratum.
TEST(stratified, sample_and_pilot_draw_the_allocated_faults_of_each_stratum) {
  const fault_space space({fault_site::weight_link}, fault_set::all, 3, 3, 4, 16, 7);
  const std::vector<std::uint64_t> n = {1, 0, 30, 5};
  const auto a = stratified_sample_in_run_order(space, n, 11);
  const auto b = stratified_sample_in_run_order(space, n, 11);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, stratified_sample_in_run_order(space, n, 12));
  std::vector<std::uint64_t> per_bit(4, 0);
  std::set<std::string> distinct;
  for (const fault& f : a) {
    ++per_bit[f.bit];
    distinct.insert(describe(f));
  }
  EXPECT_EQ(per_bit, n);
  EXPECT_EQ(distinct.size(), a.size());
  EXPECT_THROW(stratified_sample_in_run_order(space, {1, 2, 3}, 1), config_error);
  EXPECT_THROW(stratified_sample_in_run_order(space, {1, 2, 3, space.strata()[3].population + 1}, 1), config_error);

  const pilot_sample pilot = draw_pilot(space, 3, 5);
  ASSERT_EQ(pilot.faults.size(), 12u);
  for (std::size_t i = 0; i < pilot.faults.size(); ++i) {
    EXPECT_EQ(pilot.stratum_of[i], i / 3);
    EXPECT_EQ(pilot.faults[i].bit, i / 3);
  }
}

campaign_config stratified_config() {
  campaign_config cfg;
  cfg.bits = 2;
  cfg.rows = 1;
  cfg.cols = 2;
  cfg.site = "weight-link";
  cfg.fault_types = "stuck-at";
  cfg.population = 8;  // 2 polarities x 2 bits x 2 PEs; strata of 4 per bit
  cfg.images = 2;
  cfg.batch = 1;
  cfg.sampling = "stratified";
  cfg.pilot = 4;
  cfg.strata = "3,2";
  cfg.sample_size = 5;
  return cfg;
}

TEST(stratified, config_stores_sampling_pilot_and_allocation_only_when_stratified) {
  const campaign_config uniform;
  for (const auto& [k, v] : uniform.to_key_values()) EXPECT_NE(k, "sampling") << v;
  const campaign_config cfg = stratified_config();
  const campaign_config back = campaign_config::from_key_values(cfg.to_key_values());
  EXPECT_EQ(back, cfg);
  EXPECT_EQ(back.strata, "3,2");
  EXPECT_NE(back, uniform);
  auto kv = cfg.to_key_values();
  for (auto& [k, v] : kv)
    if (k == "strata") v = "3,3";  // sums to 6, not sample_size
  EXPECT_THROW(campaign_config::from_key_values(kv), config_error);
  for (auto& [k, v] : kv)
    if (k == "strata") v = "3,,2";
  EXPECT_THROW(campaign_config::from_key_values(kv), config_error);
  const auto sample = campaign_sample(cfg);
  ASSERT_EQ(sample.size(), 5u);
  EXPECT_EQ(std::count_if(sample.begin(), sample.end(), [](const fault& f) { return f.bit == 0; }), 3);
}

// Stratified estimate by hand: stratum bit 0 (N = 4, W = 1/2) has 3 faults with masked shares 1, 1,
// 0.5; stratum bit 1 (N = 4, W = 1/2) 2 faults with 0 and 0.5. Masked = (5/6 + 1/4) / 2; each
// stratum's SE^2 = s^2 / n (N - n) / (N - 1) and the combined SE^2 = sum W^2 SE_h^2.
TEST(stratified, summary_combines_the_strata_by_their_weights) {
  const campaign_config cfg = stratified_config();
  using counts = std::array<std::uint64_t, outcome_count>;
  const std::vector<fault> list = {make_fault(0, 0, 0, fault_kind::stuck_at_0), make_fault(0, 1, 0, fault_kind::stuck_at_0),
                                   make_fault(0, 0, 0, fault_kind::stuck_at_1), make_fault(0, 0, 1, fault_kind::stuck_at_0),
                                   make_fault(0, 1, 1, fault_kind::stuck_at_1)};
  const std::vector<counts> per_fault = {{2, 0, 0, 0, 0}, {2, 0, 0, 0, 0}, {1, 0, 1, 0, 0}, {0, 0, 2, 0, 0}, {1, 1, 0, 0, 0}};
  const campaign_summary s = summarize_counts(cfg, list, per_fault);
  ASSERT_EQ(s.per_stratum.size(), 2u);
  EXPECT_EQ(s.per_stratum[0].planned, 3u);
  EXPECT_EQ(s.per_stratum[1].estimate.faults, 2u);
  const auto& masked = s.classes[static_cast<std::size_t>(outcome::masked)];
  EXPECT_NEAR(masked.fraction, (5.0 / 6 + 0.25) / 2, 1e-12);
  const double var0 = (2 * std::pow(1 - 5.0 / 6, 2) + std::pow(0.5 - 5.0 / 6, 2)) / 2;  // sample variance
  const double var1 = (std::pow(0 - 0.25, 2) + std::pow(0.5 - 0.25, 2)) / 1;
  const double se2 = 0.25 * var0 / 3 * (4 - 3) / 3.0 + 0.25 * var1 / 2 * (4 - 2) / 3.0;
  EXPECT_NEAR(masked.std_error, std::sqrt(se2), 1e-12);
  EXPECT_NEAR(s.margin, s.estimated_margin, 0);
  EXPECT_DOUBLE_EQ(s.planned_margin, cfg.margin);
  ASSERT_EQ(s.per_site.size(), 1u);
  EXPECT_NEAR(s.per_site[0].estimate.classes[0].fraction, masked.fraction, 1e-15);
  // A fault outside the campaign's space (bit 2 of a 2-bit operand) is refused, not counted.
  std::vector<fault> bad = list;
  bad[4].bit = 2;
  EXPECT_THROW(summarize_counts(cfg, bad, per_fault), config_error);
}

// Uniform campaigns break the outcomes down by site too, each site over its own part of the space.
TEST(campaign_stats, per_site_shares_count_each_sites_faults) {
  campaign_config cfg;
  cfg.bits = 2;
  cfg.rows = 1;
  cfg.cols = 1;
  cfg.site = "weight-link,act-mult";
  cfg.population = 8;
  cfg.sample_size = 3;
  fault a = make_fault(0, 0, 1, fault_kind::stuck_at_1), b = a, c = a;
  b.site = c.site = fault_site::act_mult;
  c.bit = 0;
  using counts = std::array<std::uint64_t, outcome_count>;
  const campaign_summary s = summarize_counts(cfg, {a, b, c}, {counts{0, 0, 4, 0, 0}, counts{4, 0, 0, 0, 0}, counts{2, 2, 0, 0, 0}});
  ASSERT_EQ(s.per_site.size(), 2u);
  EXPECT_EQ(s.per_site[0].site, fault_site::weight_link);
  EXPECT_EQ(s.per_site[0].estimate.faults, 1u);
  EXPECT_EQ(s.per_site[0].estimate.population, 4u);
  EXPECT_DOUBLE_EQ(s.per_site[0].estimate.classes[static_cast<std::size_t>(outcome::critical)].fraction, 1.0);
  EXPECT_EQ(s.per_site[1].estimate.faults, 2u);
  EXPECT_DOUBLE_EQ(s.per_site[1].estimate.classes[static_cast<std::size_t>(outcome::masked)].fraction, 0.75);
  EXPECT_TRUE(s.per_stratum.empty());
}

}  // namespace
}  // namespace axsa::faults
