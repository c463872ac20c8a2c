// The campaign statistics without a database (faults/campaign_stats.h): normal quantiles, the
// margin of error, and the summary of per-fault outcome counts, checked against values computed by
// hand. This binary links no SQLite.
#include <gtest/gtest.h>

#include <cmath>

#include "faults/campaign_shard.h"
#include "faults/campaign_stats.h"
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

}  // namespace
}  // namespace axsa::faults
