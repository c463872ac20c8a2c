// Quantisation and the functional twin, without a simulation kernel: the twin's GEMM equals the
// reference for every product path and loop orientation; the quantisation arithmetic behaves as
// docs/quantization.md says; and LeNet-5 keeps its accuracy at INT16 and INT8 on the full MNIST
// test set.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "hw/tabled_multiplier.h"
#include "sw/functional_engine.h"
#include "sw/gemm_workload.h"
#include "sw/inference.h"

namespace axsa::sw {
namespace {

const std::string source_dir = AXSA_SOURCE_DIR;

class skewed final : public hw::multiplier {  // inexact, and mult(0, x) != 0: no zero skipping allowed
 public:
  std::string name() const override { return "skewed"; }
  unsigned bits() const override { return 16; }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override { return a * b + (a ^ b) % 5; }
};

TEST(functional_engine, equals_reference_gemm_on_every_path) {
  auto skew = std::make_shared<skewed>();
  struct path {
    const char* name;
    std::shared_ptr<const hw::multiplier> mult;
    unsigned bits;
  };
  const std::vector<path> paths = {{"native", nullptr, 8},
                                   {"table", std::make_shared<hw::tabled_multiplier>(skew, 8), 8},
                                   {"slot", skew, 12},
                                   {"native16", nullptr, 16}};
  // Wide N (row-major loop) and narrow N (column loop); zeros in both operands.
  const std::vector<hw::gemm_shape> shapes = {{7, 33, 40}, {300, 25, 6}, {1, 400, 120}, {5, 3, 1}};
  for (const auto& p : paths) {
    for (unsigned acc_bits : {32u, 20u, 48u}) {
      hw::array_config cfg;
      cfg.data_bits = p.bits;
      cfg.acc_bits = acc_bits;
      functional_engine engine(cfg, p.mult);
      for (const auto& s : shapes) {
        SCOPED_TRACE(std::string(p.name) + " A=" + std::to_string(acc_bits) + " " + std::to_string(s.m) + "x" +
                     std::to_string(s.k) + "x" + std::to_string(s.n));
        auto w = make_workload(s, p.bits, operand_fill::random, 3);
        for (std::size_t i = 0; i < w.act.size(); i += 3) w.act[i] = 0;
        for (std::size_t i = 0; i < w.weight.size(); i += 4) w.weight[i] = 0;
        std::vector<std::int64_t> out(s.m * s.n);
        const auto st = engine.gemm(s, w.act.data(), w.weight.data(), out.data(), nullptr);
        EXPECT_EQ(out, reference_gemm(w, acc_bits, p.mult.get()));
        EXPECT_EQ(st.macs, s.m * s.k * s.n);
        EXPECT_EQ(st.array_cycles, ((s.m + 27) / 28) * ((s.n + 27) / 28) * (s.k + 2 * 28 + 28 - 2));
      }
      // The extremes: every product (-2^(W-1))^2, so pairs of them and their sums wrap the accumulator.
      const hw::gemm_shape s{9, 17, 3};
      const auto w = make_workload(s, p.bits, operand_fill::min, 1);
      std::vector<std::int64_t> out(s.m * s.n);
      engine.gemm(s, w.act.data(), w.weight.data(), out.data(), nullptr);
      EXPECT_EQ(out, reference_gemm(w, acc_bits, p.mult.get())) << p.name << " A=" << acc_bits << " at the minimum";
    }
  }
}

// When the host driver splits M into jobs that fit the buffers, the twin counts each job's cycles.
TEST(functional_engine, counts_cycles_job_by_job_when_m_is_split) {
  hw::array_config cfg;  // 28 x 28
  functional_engine engine(cfg, nullptr);
  const hw::gemm_shape s{100, 30, 40};
  const auto w = make_workload(s, 8, operand_fill::random, 1);
  std::vector<std::int64_t> whole(s.m * s.n), split(s.m * s.n);
  const std::uint64_t fold = 30 + 2 * 28 + 28 - 2;
  EXPECT_EQ(engine.gemm(s, w.act.data(), w.weight.data(), whole.data(), nullptr).array_cycles, 4 * 2 * fold);
  engine.set_rows_per_job([](const hw::gemm_shape&) { return std::size_t{30}; });
  // Jobs of 30, 30, 30 and 10 rows: 2, 2, 2 and 1 row folds, each times 2 column folds.
  EXPECT_EQ(engine.gemm(s, w.act.data(), w.weight.data(), split.data(), nullptr).array_cycles, 7 * 2 * fold);
  EXPECT_EQ(split, whole);
}

TEST(quantization, pixels_requantisation_and_softmax) {
  EXPECT_EQ(quantize_pixel(0, 8), 0);
  EXPECT_EQ(quantize_pixel(255, 8), 127);
  EXPECT_EQ(quantize_pixel(255, 16), 32767);
  EXPECT_EQ(quantize_pixel(1, 8), 0);    // 0.498 rounds down
  EXPECT_EQ(quantize_pixel(2, 8), 1);    // 0.996 rounds up
  EXPECT_EQ(quantize_pixel(128, 4), 4);  // 128 * 7 / 255 = 3.51
  qlayer l;
  l.acc_scale = 1.0;
  l.out_scale = 4.0;
  l.out_lo = -127;
  l.out_hi = 127;
  EXPECT_EQ(requantize(10, l), 3);      // 2.5 -> 3 (half away from zero)
  EXPECT_EQ(requantize(-10, l), -3);
  EXPECT_EQ(requantize(9, l), 2);
  EXPECT_EQ(requantize(100000, l), 127);
  EXPECT_EQ(requantize(-100000, l), -127);
  l.out_lo = 0;  // fused ReLU
  EXPECT_EQ(requantize(-9, l), 0);
  const auto p = softmax({0, 10, 20}, 0.1);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
  EXPECT_NEAR(p[2] / p[1], std::exp(1.0), 1e-9);
}

double json_accuracy(const std::string& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  std::smatch m;
  const std::string text = s.str();
  if (!std::regex_search(text, m, std::regex("\"float_test_accuracy\": ([0-9.]+)"))) return -1;
  return std::stod(m[1]);
}

class lenet : public testing::Test {
 protected:
  void SetUp() override {
    net = load_onnx(source_dir + "/models/lenet5.onnx");
    test = load_mnist(source_dir + "/data/mnist", "t10k");
    train = load_mnist(source_dir + "/data/mnist", "train");
  }
  network net;
  dataset test, train;
};

TEST_F(lenet, committed_model_float_accuracy_is_recorded_and_above_98_9) {
  const double recorded = json_accuracy(source_dir + "/models/lenet5.json");
  EXPECT_GE(recorded, 0.989);
  std::size_t correct = 0;
  std::vector<float> img(784);
  for (std::size_t i = 0; i < test.images.count; ++i) {
    for (std::size_t p = 0; p < 784; ++p) img[p] = static_cast<float>(test.images.pixels[i * 784 + p]) / 255.0f;
    const auto out = forward(net, img.data());
    correct += static_cast<std::size_t>(std::max_element(out.begin(), out.end()) - out.begin()) == test.labels.labels[i];
  }
  EXPECT_NEAR(static_cast<double>(correct) / 10000.0, recorded, 0.0002);
}

TEST_F(lenet, int16_within_0_1_and_int8_within_0_5_points_of_float) {
  const double fl = json_accuracy(source_dir + "/models/lenet5.json");
  for (unsigned bits : {16u, 8u}) {
    hw::array_config cfg;
    cfg.data_bits = bits;
    cfg.acc_bits = safe_acc_bits(net, bits);
    const qnetwork q = quantize(net, bits, cfg.acc_bits, train.images, 1000);
    functional_engine engine(cfg, nullptr);
    const auto r = run_inference(q, engine, test.images, 0, test.images.count, 28);
    const double acc = accuracy(r, test.labels.labels, 0);
    std::cout << "INT" << bits << " accuracy " << acc * 100 << " % (float " << fl * 100 << " %)\n";
    EXPECT_GE(acc, fl - (bits == 16 ? 0.001 : 0.005)) << "INT" << bits;
    EXPECT_EQ(r.predictions.size(), 10000u);
  }
  EXPECT_EQ(safe_acc_bits(net, 8), 32u);
  EXPECT_EQ(safe_acc_bits(net, 16), 41u);
}

// The survey's variant (scripts/train_lenet5.py --variant survey): the committed file is the network
// its docstring describes, its float accuracy is the one its .json records, and it quantises as
// well as the classic one on the first 500 test images.
TEST(survey_lenet, committed_model_is_three_convs_and_four_dense_layers_and_infers_at_int16_and_int8) {
  const network net = load_onnx(source_dir + "/models/lenet5_survey.onnx");
  std::vector<std::size_t> conv_out, dense_out;
  for (const auto& l : net.layers) {
    if (l.kind == layer_kind::conv) conv_out.push_back(l.out.c);
    if (l.kind == layer_kind::dense) dense_out.push_back(l.out.size());
  }
  EXPECT_EQ(conv_out, (std::vector<std::size_t>{6, 16, 120}));
  EXPECT_EQ(dense_out, (std::vector<std::size_t>{84, 56, 28, 10}));
  const dataset test = load_mnist(source_dir + "/data/mnist", "t10k");
  const dataset train = load_mnist(source_dir + "/data/mnist", "train");
  const double recorded = json_accuracy(source_dir + "/models/lenet5_survey.json");
  EXPECT_GE(recorded, 0.985);
  constexpr std::size_t images = 500;
  std::size_t correct = 0;
  std::vector<float> img(784);
  for (std::size_t i = 0; i < images; ++i) {
    for (std::size_t p = 0; p < 784; ++p) img[p] = static_cast<float>(test.images.pixels[i * 784 + p]) / 255.0f;
    const auto out = forward(net, img.data());
    correct += static_cast<std::size_t>(std::max_element(out.begin(), out.end()) - out.begin()) == test.labels.labels[i];
  }
  const double float_acc = static_cast<double>(correct) / images;
  EXPECT_GE(float_acc, 0.97);
  for (unsigned bits : {16u, 8u}) {
    hw::array_config cfg;
    cfg.data_bits = bits;
    cfg.acc_bits = safe_acc_bits(net, bits);
    const qnetwork q = quantize(net, bits, cfg.acc_bits, train.images, 1000);
    functional_engine engine(cfg, nullptr);
    const auto r = run_inference(q, engine, test.images, 0, images, 28);
    const double acc = accuracy(r, test.labels.labels, 0);
    std::cout << "survey LeNet-5, first " << images << " images: INT" << bits << " " << acc * 100 << " % (float "
              << float_acc * 100 << " %)\n";
    EXPECT_GE(acc, float_acc - (bits == 16 ? 0.002 : 0.01)) << "INT" << bits;
  }
}

TEST_F(lenet, quantised_layers_follow_the_documented_ranges) {
  const qnetwork q = quantize(net, 8, 32, train.images, 200);
  std::size_t gemms = 0;
  for (const auto& l : q.layers) {
    if (l.kind != layer_kind::conv && l.kind != layer_kind::dense) continue;
    ++gemms;
    const auto [lo, hi] = std::minmax_element(l.weight_kn.begin(), l.weight_kn.end());
    EXPECT_GE(*lo, -127);
    EXPECT_LE(*hi, 127);
    EXPECT_EQ(std::max<int>(-*lo, *hi), 127) << l.name << ": the largest weight maps to Q";
    if (!l.produces_logits) {
      EXPECT_TRUE(l.relu_fused) << l.name;
      EXPECT_EQ(l.out_lo, 0);
      EXPECT_EQ(l.out_hi, 127);
    }
  }
  EXPECT_EQ(gemms, 5u);
  EXPECT_TRUE(q.layers.back().produces_logits);
  EXPECT_THROW(quantize(net, 1, 32, train.images, 10), config_error);
  EXPECT_THROW(quantize(net, 8, 32, train.images, 0), config_error);
  try {
    (void)quantize(net, 8, 32, train.images, train.images.count + 1);
    ADD_FAILURE() << "more calibration images than the training set has";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("--calibration " + std::to_string(train.images.count + 1)), std::string::npos) << e.what();
  }
}


// Quantised against float, layer by layer, with a bound derived from W (docs/testing.md). Each GEMM
// layer is checked on its own: given the integer activations that actually enter it (x~ = q_x * s_in,
// known exactly), the float layer computes y = sum_k x~_k w_k + b from the float weights and bias. The
// quantised layer differs from y only by its own roundings:
//   weights  |q_w s_w - w| <= s_w / 2           ->  sum_k |x~_k| s_w / 2
//   bias     rounded to accumulator units       ->  s_acc / 2
//   output   requantised to units of s_out      ->  s_out / 2 (not for the logits, which stay sums)
// and the clamp (ReLU, calibrated range) never widens a difference, so the float value is clamped the
// same way before comparing. No error is carried from layer to layer, so the bound stays tight: at
// W = 16 it is far below LeNet-5's biases, and a bias in the wrong unit, or no bias, breaks it.
TEST_F(lenet, every_layer_stays_within_its_rounding_bound_given_the_integers_entering_it) {
  const std::size_t images = 16;
  for (unsigned bits : {8u, 16u}) {
    hw::array_config cfg;
    cfg.rows = cfg.cols = 8;
    cfg.data_bits = bits;
    cfg.acc_bits = safe_acc_bits(net, bits);
    const qnetwork q = quantize(net, bits, cfg.acc_bits, train.images, 1000);
    functional_engine engine(cfg, nullptr);
    std::vector<layer_stats> stats = make_layer_stats(q);
    std::vector<std::vector<std::int16_t>> entering;  // the activations entering every quantised layer
    const auto logits = run_batch(q, engine, quantize_images(q, test.images, 0, images), images, 0, stats, &entering);
    ASSERT_EQ(logits.size(), images);
    ASSERT_EQ(entering.size(), q.layers.size());
    double worst_share = 0, bias_sum = 0;
    std::size_t checked = 0;
    double in_scale = 1.0 / ((1 << (bits - 1)) - 1);  // pixels: one unit is 1/Q
    for (std::size_t l = 0; l < q.layers.size(); ++l) {
      const qlayer& ql = q.layers[l];
      const bool gemm = ql.kind == layer_kind::conv || ql.kind == layer_kind::dense;
      if (!gemm) continue;
      // The float layer of the same name (quantised layers keep the network's order).
      const layer* fl = nullptr;
      for (const auto& candidate : net.layers)
        if (candidate.name == ql.name) fl = &candidate;
      ASSERT_NE(fl, nullptr) << ql.name;
      if (l > 0) {
        // The scale of the activation entering: the last GEMM layer's output scale before it.
        for (std::size_t p = l; p-- > 0;)
          if (q.layers[p].kind == layer_kind::conv || q.layers[p].kind == layer_kind::dense) {
            in_scale = q.layers[p].out_scale;
            break;
          }
      }
      for (double b : fl->bias) bias_sum += std::fabs(b);
      const tensor_shape& in = fl->in;
      const tensor_shape& out = fl->out;
      const std::size_t in_size = in.c * in.h * in.w, out_size = out.c * out.h * out.w;
      ASSERT_EQ(entering[l].size(), in_size * images) << ql.name;
      const bool last = ql.produces_logits;
      ASSERT_TRUE(last || l + 1 < entering.size());
      for (std::size_t i = 0; i < images; ++i) {
        const std::int16_t* x = entering[l].data() + i * in_size;
        for (std::size_t n = 0; n < out_size; ++n) {
          double y = 0, ax = 0;
          auto mac = [&](std::size_t j, float w) {
            const double xv = x[j] * in_scale;
            y += xv * w;
            ax += std::fabs(xv);
          };
          std::size_t oc = n;
          if (ql.kind == layer_kind::conv) {
            oc = n / (out.h * out.w);
            const std::size_t oy = n / out.w % out.h, ox = n % out.w;
            for (std::size_t ic = 0; ic < in.c; ++ic)
              for (unsigned ky = 0; ky < fl->kh; ++ky)
                for (unsigned kx = 0; kx < fl->kw; ++kx) {
                  const long iy = static_cast<long>(oy * fl->stride_h + ky) - fl->pad_top;
                  const long ix = static_cast<long>(ox * fl->stride_w + kx) - fl->pad_left;
                  if (iy < 0 || ix < 0 || iy >= static_cast<long>(in.h) || ix >= static_cast<long>(in.w)) continue;
                  mac((ic * in.h + static_cast<std::size_t>(iy)) * in.w + static_cast<std::size_t>(ix),
                      fl->weights[((oc * in.c + ic) * fl->kh + ky) * fl->kw + kx]);
                }
          } else {
            for (std::size_t j = 0; j < in_size; ++j) mac(j, fl->weights[n * in_size + j]);
          }
          y += fl->bias[oc];
          double bound = ax * ql.weight_scale / 2 + ql.acc_scale / 2 + 1e-6 * (1 + std::fabs(y));
          double got = 0;
          if (last) {
            got = static_cast<double>(logits[i][n]) * ql.acc_scale;
          } else {
            // The requantised output, as the next layer receives it (a pool may follow: then it
            // is that pool's input, the same integers).
            got = entering[l + 1][i * out_size + n] * ql.out_scale;
            y = std::clamp(y, ql.out_lo * ql.out_scale, ql.out_hi * ql.out_scale);
            bound += ql.out_scale / 2;
          }
          const double d = std::fabs(got - y);
          ASSERT_LE(d, bound) << "INT" << bits << " " << ql.name << " image " << i << " output " << n << ": quantised "
                              << got << ", float " << y;
          worst_share = std::max(worst_share, d / bound);
          if (bits == 16) {
            EXPECT_LT(bound, 0.01) << ql.name;
          }
          ++checked;
        }
      }
    }
    EXPECT_GT(checked, 0u);
    EXPECT_GT(bias_sum, 0.0) << "the model has biases for this test to guard";
    std::cout << "INT" << bits << ": " << checked << " outputs checked, largest error " << worst_share * 100
              << " % of its bound\n";
  }
}

}  // namespace
}  // namespace axsa::sw
