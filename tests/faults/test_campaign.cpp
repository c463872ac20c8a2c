// Campaign pieces without a simulation kernel: outcome classification on constructed cases,
// including its boundaries; fault spaces and sampling; the model hash.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "faults/campaign.h"
#include "faults/fault_space.h"
#include "sw/sha256.h"

namespace axsa::faults {
namespace {

// A logits layer whose requantisation step is 8 accumulator units: acc_scale / out_scale = 1/8
// (powers of two, so the rounding boundaries are exact).
sw::qlayer logits_layer_with_step_8() {
  sw::qlayer l;
  l.kind = sw::layer_kind::dense;
  l.acc_scale = 1.0 / 64;
  l.out_scale = 1.0 / 8;
  l.out_lo = -127;
  l.out_hi = 127;
  l.produces_logits = true;
  return l;
}

std::vector<double> softmax_by_hand(const std::vector<double>& x) {
  std::vector<double> p;
  double sum = 0;
  for (double v : x) sum += std::exp(v);
  for (double v : x) p.push_back(std::exp(v) / sum);
  return p;
}

TEST(logits_convention, requantized_reads_the_logits_as_w_bit_values_in_minus_one_to_one) {
  const sw::qlayer l = logits_layer_with_step_8();
  // Sums 403 and -237 requantise to 50 and -30 (50.375, -29.625); 5000 clamps to 127.
  const auto p = sw::output_probabilities({403, -237, 5000}, l, 8, sw::logits_convention::requantized);
  const auto want = softmax_by_hand({50.0 / 127, -30.0 / 127, 1.0});
  ASSERT_EQ(p.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(p[i], want[i], 1e-15) << i;
  // Dequantised: sum * acc_scale.
  const auto d = sw::output_probabilities({403, -237, 5000}, l, 8, sw::logits_convention::dequantized);
  const auto want_d = softmax_by_hand({403.0 / 64, -237.0 / 64, 5000.0 / 64});
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(d[i], want_d[i], 1e-15) << i;
  EXPECT_EQ(sw::parse_logits_convention("requantized"), sw::logits_convention::requantized);
  EXPECT_THROW(sw::parse_logits_convention("Requantized"), config_error);
}

TEST(logits_convention, a_change_below_one_requantisation_step_is_masked) {
  const sw::qlayer l = logits_layer_with_step_8();
  const auto req = [&](const std::vector<std::int64_t>& v) {
    return sw::output_probabilities(v, l, 8, sw::logits_convention::requantized);
  };
  const auto deq = [&](const std::vector<std::int64_t>& v) {
    return sw::output_probabilities(v, l, 8, sw::logits_convention::dequantized);
  };
  const std::vector<std::int64_t> golden = {400, 160, -240};  // q = 50, 20, -30
  // 400 -> 403: 50.375 still rounds to 50, so Y' == Y: Masked; read dequantised it is not.
  EXPECT_EQ(classify(0, req(golden), req({403, 160, -240})).result, outcome::masked);
  EXPECT_EQ(classify(0, deq(golden), deq({403, 160, -240})).result, outcome::tolerable);
  // 404 is 50.5, half a step: rounds away from zero to 51, no longer masked (same label, more
  // confident: Tolerable).
  EXPECT_EQ(classify(0, req(golden), req({404, 160, -240})).result, outcome::tolerable);
  // Below: 396 is 49.5, which rounds back to 50 (Masked); 395 is 49.375 -> 49, and the top class
  // drops by well under 5 %: Tolerable.
  EXPECT_EQ(classify(0, req(golden), req({396, 160, -240})).result, outcome::masked);
  EXPECT_EQ(classify(0, req(golden), req({395, 160, -240})).result, outcome::tolerable);
  // Above the clamp every change is absorbed: 2000 and 2500 both read as 127.
  EXPECT_EQ(classify(0, req({2000, 0, 0}), req({2500, 0, 0})).result, outcome::masked);
}

TEST(logits_convention, requantized_softmax_is_unsaturated_so_a_modest_drop_is_critical) {
  const sw::qlayer l = logits_layer_with_step_8();
  // Ten classes, the top one at the largest value: softmax of q / Q with q in [-127, 127].
  std::vector<std::int64_t> golden(10, 0), faulty(10, 0);
  golden[3] = 1016;  // q = 127
  faulty[3] = 800;   // q = 100: still the top class
  const auto g = sw::output_probabilities(golden, l, 8, sw::logits_convention::requantized);
  const auto f = sw::output_probabilities(faulty, l, 8, sw::logits_convention::requantized);
  EXPECT_LT(g[3], 0.25);  // far from saturated: e / (e + 9)
  const pair_result r = classify(0, g, f);
  EXPECT_EQ(r.faulty_label, 3);
  EXPECT_LT(r.ratio, 0.95);
  EXPECT_EQ(r.result, outcome::critical);
  // Read dequantised, the same sums give a saturated top class, and the change is Tolerable.
  const pair_result d = classify(0, sw::output_probabilities(golden, l, 8, sw::logits_convention::dequantized),
                                 sw::output_probabilities(faulty, l, 8, sw::logits_convention::dequantized));
  EXPECT_EQ(d.result, outcome::tolerable);
}

TEST(classify, each_class_and_its_boundaries) {
  const std::vector<double> y = {0.6, 0.3, 0.1};
  // Masked: Y' == Y.
  EXPECT_EQ(classify(0, y, y).result, outcome::masked);
  // Logits shifted by one constant give the same softmax, bit for bit: Masked as well.
  EXPECT_EQ(classify(0, sw::softmax({100, 40, -7}, 0.05), sw::softmax({103, 43, -4}, 0.05)).result, outcome::masked);
  // Tolerable above 1: same label, a more confident top class.
  auto r = classify(0, y, {0.7, 0.2, 0.1});
  EXPECT_EQ(r.result, outcome::tolerable);
  EXPECT_GT(r.ratio, 1.0);
  // Ratio exactly 1 with Y' != Y (other classes swapped): Tolerable.
  r = classify(0, y, {0.6, 0.1, 0.3});
  EXPECT_EQ(r.ratio, 1.0);
  EXPECT_EQ(r.result, outcome::tolerable);
  // Between 0.95 and 1: Tolerable.
  r = classify(0, y, {0.58, 0.31, 0.11});
  EXPECT_GT(r.ratio, 0.95);
  EXPECT_EQ(r.result, outcome::tolerable);
  // Exactly 0.95: Critical (the bound itself is not tolerable).
  const std::vector<double> half = {0.5, 0.3, 0.2};
  r = classify(0, half, {0.475, 0.3, 0.225});
  ASSERT_EQ(r.ratio, 0.95);
  EXPECT_EQ(r.result, outcome::critical);
  // Below 0.95, same label: Critical.
  EXPECT_EQ(classify(0, half, {0.45, 0.3, 0.25}).result, outcome::critical);
  // Label changes, even with a higher top probability: Critical.
  r = classify(7, half, {0.1, 0.8, 0.1});
  EXPECT_EQ(r.result, outcome::critical);
  EXPECT_EQ(r.golden_label, 0);
  EXPECT_EQ(r.faulty_label, 1);
  EXPECT_EQ(r.image, 7u);
  // Ties: the lowest index is the label.
  EXPECT_EQ(classify(0, {0.4, 0.4, 0.2}, {0.4, 0.4, 0.2}).golden_label, 0);
}

// Several sites: the sites' spaces one after the other, each of its own width (A bits for acc).
TEST(fault_space, site_lists_concatenate_per_site_spaces) {
  const std::vector<fault_site> sites = {fault_site::act_link, fault_site::acc, fault_site::weight_mult};
  const fault_space space(sites, fault_set::all, 4, 3, 8, 20, 50);
  const std::uint64_t act = 2u * 8 * 12 + 8u * 12 * 50, acc = 2u * 20 * 12 + 20u * 12 * 50;
  EXPECT_EQ(space.size(), act + acc + act);
  ASSERT_EQ(space.parts().size(), 3u);
  EXPECT_EQ(space.parts()[1].first, act);
  EXPECT_EQ(space.parts()[1].bits, 20u);
  // The first and last index of every part, and the acc part's top bit.
  EXPECT_EQ(space.at(0).site, fault_site::act_link);
  EXPECT_EQ(space.at(act - 1).site, fault_site::act_link);
  EXPECT_EQ(space.at(act).site, fault_site::acc);
  EXPECT_EQ(space.at(act + 19).bit, 19u);
  EXPECT_EQ(space.at(act + acc - 1).site, fault_site::acc);
  EXPECT_EQ(space.at(act + acc - 1).kind, fault_kind::bit_flip);
  EXPECT_EQ(space.at(act + acc - 1).first_cycle, 49u);
  EXPECT_EQ(space.at(act + acc).site, fault_site::weight_mult);
  EXPECT_EQ(space.at(space.size() - 1).site, fault_site::weight_mult);
  EXPECT_THROW(space.at(space.size()), config_error);
  // A one-site list is the one-site space, index for index.
  const fault_space one({fault_site::weight_link}, fault_set::all, 4, 3, 8, 32, 50);
  const fault_space old(fault_site::weight_link, fault_set::all, 4, 3, 8, 50);
  ASSERT_EQ(one.size(), old.size());
  for (std::uint64_t i = 0; i < one.size(); i += 37) EXPECT_EQ(one.at(i), old.at(i));
  // Every index of a small mixed space is a distinct fault that validates.
  hw::array_config cfg;
  cfg.rows = 2;
  cfg.cols = 2;
  cfg.acc_bits = 12;
  const fault_space small({fault_site::acc, fault_site::act_mult}, fault_set::all, 2, 2, 8, 12, 3);
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < small.size(); ++i) {
    const fault f = small.at(i);
    EXPECT_NO_THROW(f.validate(cfg)) << describe(f);
    seen.insert(describe(f));
  }
  EXPECT_EQ(seen.size(), small.size());
  EXPECT_THROW(fault_space(std::vector<fault_site>{}, fault_set::stuck_at, 2, 2, 8, 12, 3), config_error);
}

TEST(fault_space, sizes_order_and_sampling) {
  const fault_space stuck(fault_site::weight_link, fault_set::stuck_at, 28, 28, 8, 1000);
  EXPECT_EQ(stuck.size(), 2u * 8 * 784);  // the survey's 2 x K x M
  const fault_space flips(fault_site::weight_mult, fault_set::bit_flip, 4, 3, 8, 500);
  EXPECT_EQ(flips.size(), 8u * 12 * 500);
  const fault_space both(fault_site::weight_link, fault_set::all, 4, 3, 8, 500);
  EXPECT_EQ(both.size(), 2u * 8 * 12 + 8u * 12 * 500);
  // Every index maps to a distinct, valid fault.
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 3;
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < both.size(); i += 7) {
    const fault f = both.at(i);
    EXPECT_NO_THROW(f.validate(cfg));
    EXPECT_TRUE(seen.insert(describe(f)).second) << describe(f);
    if (f.kind == fault_kind::bit_flip) {
      EXPECT_EQ(f.first_cycle, f.last_cycle);
      EXPECT_LT(f.first_cycle, 500u);
    } else {
      EXPECT_EQ(f.first_cycle, 0u);
      EXPECT_EQ(f.last_cycle, UINT64_MAX);
    }
  }
  EXPECT_THROW(both.at(both.size()), config_error);
  // Leveugle: n tends to 16,590 for e = 1 %, 99 %, p = 0.5 as N grows; and never exceeds N.
  EXPECT_NEAR(static_cast<double>(leveugle_sample_size(1'000'000'000'000ull, 0.01, 0.99, 0.5)), 16587, 5);
  EXPECT_EQ(leveugle_sample_size(12544, 0.01, 0.99, 0.5), 7143u);
  EXPECT_EQ(leveugle_sample_size(10, 0.01, 0.99, 0.5), 10u);
  // Samples: distinct, ascending, reproducible.
  const auto a = sample_indices(1'000'000, 5000, 3), b = sample_indices(1'000'000, 5000, 3);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set<std::uint64_t>(a.begin(), a.end()).size(), 5000u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_NE(a, sample_indices(1'000'000, 5000, 4));
  EXPECT_EQ(sample_indices(5, 5, 1), (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
}

TEST(sha256, known_vectors_and_the_committed_model) {
  EXPECT_EQ(sw::sha256_bytes("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sw::sha256_bytes("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string m56(56, 'a');
  EXPECT_EQ(sw::sha256_bytes(m56.data(), 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  std::ifstream in(std::string(AXSA_SOURCE_DIR) + "/models/lenet5.json");
  std::stringstream s;
  s << in.rdbuf();
  std::smatch m;
  const std::string text = s.str();
  ASSERT_TRUE(std::regex_search(text, m, std::regex("\"onnx_sha256\": \"([0-9a-f]{64})\"")));
  EXPECT_EQ(sw::sha256_file(std::string(AXSA_SOURCE_DIR) + "/models/lenet5.onnx"), m[1].str());
}

}  // namespace
}  // namespace axsa::faults
