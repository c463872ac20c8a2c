// EPSILON against independent computations (kernel-free, on the functional twin's weight memory):
// the signatures, the fault points and drawn faults, and each branch of Algorithm 1 — a confident
// exit skips the check, low confidence without faults corrects nothing, a planted fault is flagged in
// its layer and corrected exactly as docs/epsilon.md says — plus MENDNet's energy score and the
// signature file's checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "faults/epsilon.h"
#include "sw/functional_engine.h"
#include <cstdlib>
#include <filesystem>

namespace axsa::epsilon {
namespace {

const std::string source_dir = AXSA_SOURCE_DIR;

class epsilon_test : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    const sw::network net = sw::load_onnx(source_dir + "/models/lenet5_exits_mnist.onnx");
    train = new sw::dataset(sw::load_mnist(source_dir + "/data/mnist", "train"));
    test = new sw::dataset(sw::load_mnist(source_dir + "/data/mnist", "t10k"));
    q = new sw::qnetwork(sw::quantize(net, 8, sw::safe_acc_bits(net, 8), train->images, 300));
  }
  static void TearDownTestSuite() {
    delete q;
    delete train;
    delete test;
  }
  static hw::array_config config() {
    hw::array_config cfg;
    cfg.data_bits = 8;
    cfg.acc_bits = q->acc_bits;
    return cfg;
  }
  static sw::qnetwork* q;
  static sw::dataset* train;
  static sw::dataset* test;
};

sw::qnetwork* epsilon_test::q = nullptr;
sw::dataset* epsilon_test::train = nullptr;
sw::dataset* epsilon_test::test = nullptr;

// Quantile with linear interpolation between closest ranks, written out independently.
double reference_quantile(std::vector<int> v, double p) {
  std::sort(v.begin(), v.end());
  const double h = p * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(h);
  return i + 1 < v.size() ? v[i] + (h - static_cast<double>(i)) * (v[i + 1] - v[i]) : v[i];
}

TEST_F(epsilon_test, signatures_equal_an_independent_computation) {
  const signature_set s = make_signatures(*q, {});
  const auto layers = weight_layers(*q);
  ASSERT_EQ(s.layers.size(), layers.size());
  ASSERT_EQ(layers.size(), 5u + 3u);  // five trunk GEMMs, one per head
  std::size_t max_k = 0;
  for (const auto* l : layers) max_k = std::max(max_k, l->gemm_k);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::vector<int> w(layers[i]->weight_kn.begin(), layers[i]->weight_kn.end());
    double mean = 0;
    for (const int v : w) mean += v;
    mean /= static_cast<double>(w.size());
    double var = 0;
    for (const int v : w) var += (v - mean) * (v - mean);
    const layer_signature& sig = s.layers[i];
    EXPECT_EQ(sig.count, w.size());
    EXPECT_NEAR(sig.mean, mean, 1e-9);
    EXPECT_NEAR(sig.stddev, std::sqrt(var / static_cast<double>(w.size())), 1e-9);
    EXPECT_EQ(sig.quantiles[0], *std::min_element(w.begin(), w.end()));
    EXPECT_EQ(sig.quantiles[4], *std::max_element(w.begin(), w.end()));
    for (int qi = 1; qi < 4; ++qi) EXPECT_NEAR(sig.quantiles[qi], reference_quantile(w, 0.25 * qi), 1e-9);
    // 16 bins of 16 values each over -128..127.
    std::vector<double> hist(16, 0);
    for (const int v : w) hist[static_cast<std::size_t>((v + 128) / 16)] += 1.0 / static_cast<double>(w.size());
    ASSERT_EQ(sig.pattern.size(), 16u);
    for (std::size_t b = 0; b < 16; ++b) EXPECT_NEAR(sig.pattern[b], hist[b], 1e-12) << "layer " << i << " bin " << b;
    const double zeros = static_cast<double>(std::count(w.begin(), w.end(), 0)) / static_cast<double>(w.size());
    const double type = layers[i]->kind == sw::layer_kind::conv ? 1.0 : 0.8;
    EXPECT_NEAR(sig.gamma_s, type * std::log2(static_cast<double>(layers[i]->gemm_k)) / std::log2(static_cast<double>(max_k)) * (1 - zeros), 1e-12);
    EXPECT_NEAR(sig.alpha, sig.beta * sig.gamma_s, 1e-12);
    EXPECT_GE(sig.alpha, 0.0);
    EXPECT_LE(sig.alpha, 1.0);
    EXPECT_NEAR(threshold(sig, {}), (3 + sig.alpha) * sig.stddev, 1e-12);
  }
  // Positional importance falls from 1 at the first trunk layer to beta_min at the last.
  EXPECT_DOUBLE_EQ(s.layers[0].beta, 1.0);
  EXPECT_DOUBLE_EQ(s.layers[4].beta, 0.5);
  EXPECT_DOUBLE_EQ(s.layers[5].beta, 1.0);  // exit1's head sits where conv1 feeds it
}

TEST_F(epsilon_test, signature_file_round_trips_and_refuses_another_model) {
  std::string dir = testing::TempDir() + "axsa_epsilon_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/lenet.sig";
  const signature_set s = make_signatures(*q, {});
  write_signatures(path, s);
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) EXPECT_LT(line.size(), 1024u) << "at most 1 KB per layer";
  const signature_set back = read_signatures(path, *q, {});
  ASSERT_EQ(back.layers.size(), s.layers.size());
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    EXPECT_EQ(back.layers[i].name, s.layers[i].name);
    EXPECT_DOUBLE_EQ(back.layers[i].stddev, s.layers[i].stddev);
    EXPECT_DOUBLE_EQ(back.layers[i].alpha, s.layers[i].alpha);
  }
  // The same network at another width has other weights: refused.
  const sw::network net = sw::load_onnx(source_dir + "/models/lenet5_exits_mnist.onnx");
  const sw::qnetwork q16 = sw::quantize(net, 16, sw::safe_acc_bits(net, 16), train->images, 300);
  try {
    read_signatures(path, q16, {});
    ADD_FAILURE() << "a signature file of INT8 weights was accepted for INT16";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("signatures of another model"), std::string::npos) << e.what();
  }
  {
    std::ofstream f(path, std::ios::app);
    f << "layer broken 12 nan\n";
  }
  try {
    read_signatures(path, *q, {});
    ADD_FAILURE() << "a malformed line was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 14"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST_F(epsilon_test, fault_points_and_drawn_faults) {
  const auto fps = fault_points(*q);
  ASSERT_EQ(fps.size(), 4u);
  const auto layers = weight_layers(*q);
  EXPECT_EQ(fps[3].layer, layers[0]);  // FP4: the first convolution
  EXPECT_EQ(fps[0].layer, layers[4]);  // FP1: the last trunk GEMM, the final exit's
  EXPECT_EQ(fps[2].layer, layers[1]);  // FP3: conv2, which feeds exit2
  EXPECT_EQ(fps[1].layer, layers[2]);  // FP2: fc1, which feeds exit3
  EXPECT_EQ(parse_fault_point("fp3"), 2u);
  EXPECT_THROW(parse_fault_point("FP5"), config_error);
  for (const double rate : {0.1, 0.3, 0.5}) {
    const auto bits = draw_faults(2400, 8, {2, rate, true, -1, 7});
    EXPECT_EQ(bits.size(), static_cast<std::size_t>(std::llround(rate * 2400)));
    std::set<std::size_t> where;
    std::set<unsigned> which;
    for (const auto& b : bits) {
      where.insert(b.index);
      which.insert(b.bit);
      EXPECT_LT(b.index, 2400u);
      EXPECT_TRUE(b.value);
    }
    EXPECT_EQ(where.size(), bits.size()) << "positions are distinct";
    EXPECT_EQ(which.size(), 8u) << "every bit is drawn";
    const auto again = draw_faults(2400, 8, {2, rate, true, -1, 7});
    const auto other = draw_faults(2400, 8, {2, rate, true, -1, 8});
    EXPECT_TRUE(std::equal(bits.begin(), bits.end(), again.begin(), [](auto& a, auto& b) { return a.index == b.index && a.bit == b.bit; }));
    EXPECT_FALSE(std::equal(bits.begin(), bits.end(), other.begin(), [](auto& a, auto& b) { return a.index == b.index && a.bit == b.bit; }));
  }
  for (const auto& b : draw_faults(100, 8, {0, 0.2, false, 3, 1})) EXPECT_EQ(b.bit, 3u);
  EXPECT_THROW(draw_faults(100, 8, {0, 0.0, false, -1, 1}), config_error);
  EXPECT_THROW(draw_faults(100, 8, {0, 1.0, false, -1, 1}), config_error);
  EXPECT_THROW(draw_faults(100, 8, {0, 0.5, false, 8, 1}), config_error);
}

TEST_F(epsilon_test, a_confident_exit_skips_the_check) {
  const signature_set s = make_signatures(*q, {});
  sw::functional_engine engine(config(), nullptr);
  deploy(*q, engine);
  inject(*q, engine, {1, 0.5, true, -1, 3});
  run_options o;
  o.gamma = 0.0;  // every top probability is above 0: every image stops at exit 1
  const run_result r = run(*q, engine, test->images, 0, 56, o, &s);
  EXPECT_EQ(r.analyses, 0u);
  EXPECT_EQ(r.extra.bus_cycles + r.extra.array_cycles, 0u);
  for (const int e : r.inference.exit_taken) EXPECT_EQ(e, 0);
}

TEST_F(epsilon_test, low_confidence_without_faults_corrects_nothing) {
  const signature_set s = make_signatures(*q, {});
  sw::functional_engine engine(config(), nullptr), plain(config(), nullptr);
  deploy(*q, engine);
  run_options o;
  o.gamma = 1.0;  // no top probability is above 1: every batch is checked
  o.batch = 14;
  const run_result r = run(*q, engine, test->images, 0, 56, o, &s);
  EXPECT_EQ(r.analyses, 4u);
  EXPECT_EQ(r.layers_flagged, 0u);
  EXPECT_EQ(r.weights_corrected, 0u);
  EXPECT_EQ(r.reruns, 0u);
  for (const bool f : r.image_flagged) EXPECT_FALSE(f);
  const auto reference = sw::run_inference(*q, plain, test->images, 0, 56, 14, {sw::exit_policy::final, 0.5, {}});
  EXPECT_EQ(r.inference.logits, reference.logits);
}

TEST_F(epsilon_test, a_planted_fault_is_flagged_in_its_layer_and_corrected_as_documented) {
  const signature_set s = make_signatures(*q, {});
  const auto layers = weight_layers(*q);
  sw::functional_engine engine(config(), nullptr);
  deploy(*q, engine);
  // FP2 (fc1): bit 6 stuck at 1 in 10 % of the weights.
  const auto bits = inject(*q, engine, {1, 0.1, true, 6, 11});
  std::vector<std::int16_t> faulty(layers[2]->weight_kn.size());
  sw::gemm_stats cost;
  engine.read_weights(layers[2], faulty.data(), faulty.size(), cost);
  run_options o;
  o.gamma = 1.0;
  o.batch = 30;
  const run_result r = run(*q, engine, test->images, 0, 30, o, &s);
  EXPECT_EQ(r.analyses, 1u);
  ASSERT_EQ(r.flags_per_layer.size(), layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i) EXPECT_EQ(r.flags_per_layer[i], i == 2 ? 1u : 0u) << "layer " << i;
  EXPECT_EQ(r.reruns, 30u);
  for (const bool f : r.image_flagged) EXPECT_TRUE(f);
  // Expected memory: every weight beyond (3 + alpha) sigma of the mean goes to the nearest of Q1,
  // median, Q3 (rounded), then the stuck bits apply again.
  const layer_signature& sig = s.layers[2];
  const double t = (3 + sig.alpha) * sig.stddev;
  std::vector<std::int16_t> expected = faulty;
  std::size_t changed = 0;
  for (auto& w : expected) {
    if (std::fabs(w - sig.mean) <= t) continue;
    double best = sig.quantiles[1];
    for (const double c : {sig.quantiles[2], sig.quantiles[3]})
      if (std::fabs(w - c) < std::fabs(w - best)) best = c;
    const auto v = static_cast<std::int16_t>(std::llround(best));
    changed += v != w;
    w = v;
  }
  EXPECT_EQ(r.weights_corrected, changed);
  EXPECT_GT(changed, 0u);
  for (const auto& b : bits) expected[b.index] = sw::stick_bit(expected[b.index], b.bit, b.value, 8);
  std::vector<std::int16_t> stored(expected.size());
  engine.read_weights(layers[2], stored.data(), stored.size(), cost);
  EXPECT_EQ(stored, expected);
}

// The grid's shortcut for vanilla runs: starting at the fault point from recorded fault-free
// activations gives the same predictions, logits and cycles as running the whole network.
TEST_F(epsilon_test, vanilla_from_the_golden_prefix_equals_the_whole_run) {
  sw::functional_engine golden(config(), nullptr);
  const golden_prefix prefix = record_prefix(*q, golden, test->images, 5, 61, 14);
  ASSERT_EQ(prefix.inputs.size(), 5u);
  run_options o;
  o.tech = technique::vanilla;
  o.batch = 14;
  for (std::size_t fp = 0; fp < 4; ++fp) {
    sw::functional_engine whole(config(), nullptr), cut(config(), nullptr);
    for (sw::functional_engine* e : {&whole, &cut}) {
      deploy(*q, *e);
      inject(*q, *e, {fp, 0.3, fp % 2 == 0, -1, 9});
    }
    const run_result a = run(*q, whole, test->images, 5, 61, o, nullptr);
    const run_result b = run(*q, cut, test->images, 5, 61, o, nullptr, &prefix, fp);
    EXPECT_EQ(a.inference.logits, b.inference.logits) << "FP" << fp + 1;
    EXPECT_EQ(a.inference.predictions, b.inference.predictions);
    EXPECT_EQ(a.inference.totals.array_cycles, b.inference.totals.array_cycles) << "FP" << fp + 1;
    EXPECT_EQ(a.inference.totals.macs, b.inference.totals.macs);
  }
  EXPECT_THROW(run(*q, golden, test->images, 5, 60, o, nullptr, &prefix, 0), config_error);
}

TEST(epsilon, energy_score_and_options) {
  // -log(e^1 + e^2 + e^3) for logits 10, 20, 30 at scale 0.1.
  EXPECT_NEAR(energy_score({10, 20, 30}, 0.1), -std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-12);
  EXPECT_EQ(parse_technique("mendnet"), technique::mendnet);
  EXPECT_THROW(parse_technique("tmr"), config_error);
  EXPECT_THROW(parse_units("bits"), config_error);
  EXPECT_EQ(parse_candidates("quartiles-minmax"), candidate_set::quartiles_minmax);
  // Eq. 6 in both units on a hand-made layer: 8 weights in bin 8 (0..15), then two move to bin 15.
  layer_signature sig;
  sig.pattern.assign(16, 0.0);
  sig.pattern[8] = 1.0;
  sig.stddev = 1;
  std::vector<std::int16_t> w(8, 3);
  w[0] = w[1] = 120;
  options sigma, share;
  share.units = score_units::share;
  EXPECT_NEAR(pattern_score(sig, w, share, 8), 0.5, 1e-12);  // |0.75 - 1| + |0.25 - 0|
  EXPECT_NEAR(pattern_score(sig, w, sigma, 8), 2.0 / 3.0 + 2.0, 1e-12);  // 2 / sqrt(8 + 1) + 2 / sqrt(0 + 1)
}

}  // namespace
}  // namespace axsa::epsilon
