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


// Quantised against float, layer by layer, with a bound derived from W (docs/testing.md).
// Write x~ = q_x * s_in and w~ = q_w * s_w for the dequantised operands of a GEMM layer, x and w for
// the float ones. With |x~ - x| <= e (propagated, below) and |w~ - w| <= s_w / 2 (rounding, s_w =
// w_max / Q), each output's error before requantisation is at most
//   sum_k (|x_k| + e_k) * s_w / 2  +  |w_k| * e_k      (x~ w~ - x w = x~ (w~ - w) + w (x~ - x))
// plus s_acc / 2 for the bias rounded to accumulator units. Requantisation adds s_out / 2, the clamp
// to the calibrated range adds how far the float value lies outside it, and ReLU and max-pooling
// never widen a bound (both are 1-Lipschitz in each element). The pixels start with e = 1 / (2Q).
// Every term shrinks as 2^-(W-1). A bias in the wrong unit or a missing bias breaks the bound at
// once: at W = 16 the whole bound on a logit is far below any of LeNet-5's biases.
TEST_F(lenet, dequantised_activations_and_logits_stay_within_the_bound_derived_from_w) {
  const std::size_t images = 24;
  for (unsigned bits : {8u, 16u}) {
    const double Q = static_cast<double>((1 << (bits - 1)) - 1);
    hw::array_config cfg;
    cfg.rows = cfg.cols = 8;
    cfg.data_bits = bits;
    cfg.acc_bits = safe_acc_bits(net, bits);
    const qnetwork q = quantize(net, bits, cfg.acc_bits, train.images, 1000);
    functional_engine engine(cfg, nullptr);
    std::vector<layer_stats> stats = make_layer_stats(q);
    std::vector<std::vector<std::int16_t>> entering;  // activations entering every quantised layer
    const auto logits = run_batch(q, engine, quantize_images(q, test.images, 0, images), images, 0, stats, &entering);
    ASSERT_EQ(logits.size(), images);
    std::vector<float> img(784);
    double worst_share = 0;  // largest error / bound seen, for the log
    for (std::size_t i = 0; i < images; ++i) {
      for (std::size_t p = 0; p < 784; ++p) img[p] = static_cast<float>(test.images.pixels[i * 784 + p]) / 255.0f;
      const auto fl = forward_all(net, img.data());  // output of every float layer
      std::vector<double> x(img.begin(), img.end());
      std::vector<double> err(784, 0.5 / Q);
      double scale = 1.0 / Q;  // real value of one unit of the activation entering the layer
      std::size_t f = 0;       // float layer index of the next quantised layer
      for (std::size_t l = 0; l < q.layers.size(); ++l) {
        const qlayer& ql = q.layers[l];
        SCOPED_TRACE("INT" + std::to_string(bits) + " image " + std::to_string(i) + " layer " + ql.name);
        // The quantised activation entering this layer against the float one.
        const std::vector<std::int16_t>& in_q = entering[l];
        const std::size_t per_image = in_q.size() / images;
        ASSERT_EQ(per_image, x.size());
        for (std::size_t j = 0; j < per_image; ++j) {
          const double d = std::fabs(in_q[i * per_image + j] * scale - x[j]);
          ASSERT_LE(d, err[j] * (1 + 1e-6) + 1e-6) << "element " << j;
          if (err[j] > 0) worst_share = std::max(worst_share, d / err[j]);
        }
        const layer& fl_layer = net.layers[f];
        ASSERT_EQ(fl_layer.name, ql.name);
        if (ql.kind == layer_kind::conv || ql.kind == layer_kind::dense) {
          EXPECT_NEAR(ql.acc_scale, scale * ql.weight_scale, 1e-12 * ql.acc_scale);
          const std::size_t out_index = ql.relu_fused ? f + 1 : f;
          const std::vector<float>& y = fl[out_index];
          std::vector<double> y_err(y.size());
          const double s_w = ql.weight_scale;
          // The error of every output through the same im2col geometry as the float layer.
          const tensor_shape& in = fl_layer.in;
          const tensor_shape& out = fl_layer.out;
          for (std::size_t n = 0; n < y.size(); ++n) {
            double bound = 0;
            auto term = [&](double xv, double ev, double wv) { bound += (std::fabs(xv) + ev) * s_w / 2 + std::fabs(wv) * ev; };
            if (ql.kind == layer_kind::conv) {
              const std::size_t oc = n / (out.h * out.w), oy = n / out.w % out.h, ox = n % out.w;
              for (std::size_t ic = 0; ic < in.c; ++ic)
                for (unsigned ky = 0; ky < fl_layer.kh; ++ky)
                  for (unsigned kx = 0; kx < fl_layer.kw; ++kx) {
                    const long iy = static_cast<long>(oy * fl_layer.stride_h + ky) - fl_layer.pad_top;
                    const long ix = static_cast<long>(ox * fl_layer.stride_w + kx) - fl_layer.pad_left;
                    if (iy < 0 || ix < 0 || iy >= static_cast<long>(in.h) || ix >= static_cast<long>(in.w)) continue;
                    const std::size_t j = (ic * in.h + static_cast<std::size_t>(iy)) * in.w + static_cast<std::size_t>(ix);
                    term(x[j], err[j], fl_layer.weights[((oc * in.c + ic) * fl_layer.kh + ky) * fl_layer.kw + kx]);
                  }
            } else {
              for (std::size_t j = 0; j < x.size(); ++j) term(x[j], err[j], fl_layer.weights[n * x.size() + j]);
            }
            bound += ql.acc_scale / 2 + 1e-5 * (1 + std::fabs(y[n]));  // bias rounding; float32 sums
            if (!ql.produces_logits) {
              const double top = ql.out_hi * ql.out_scale;
              bound += ql.out_scale / 2 + std::max(0.0, std::fabs(static_cast<double>(y[n])) - top);
            }
            y_err[n] = bound;
          }
          if (ql.produces_logits) {
            // The network's output: dequantised logits against the float network's logits.
            ASSERT_EQ(logits[i].size(), y.size());
            for (std::size_t n = 0; n < y.size(); ++n) {
              EXPECT_LE(std::fabs(static_cast<double>(logits[i][n]) * ql.acc_scale - y[n]), y_err[n])
                  << "logit " << n << ": quantised " << static_cast<double>(logits[i][n]) * ql.acc_scale << ", float " << y[n];
            }
            if (bits == 16) {
              EXPECT_LT(*std::max_element(y_err.begin(), y_err.end()), 0.01);
            }
          } else {
            scale = ql.out_scale;
          }
          x.assign(y.begin(), y.end());
          err = y_err;
          f = out_index + 1;
        } else {
          // Pools, ReLU, Flatten: the bound of an output is the largest bound under its window.
          const std::vector<float>& y = fl[f];
          std::vector<double> y_err(y.size(), 0.0);
          if (ql.kind == layer_kind::max_pool) {
            const tensor_shape& in = fl_layer.in;
            const tensor_shape& out = fl_layer.out;
            for (std::size_t n = 0; n < y.size(); ++n) {
              const std::size_t c = n / (out.h * out.w), oy = n / out.w % out.h, ox = n % out.w;
              for (unsigned ky = 0; ky < fl_layer.kh; ++ky)
                for (unsigned kx = 0; kx < fl_layer.kw; ++kx) {
                  const std::size_t iy = oy * fl_layer.stride_h + ky, ix = ox * fl_layer.stride_w + kx;
                  if (iy < in.h && ix < in.w) y_err[n] = std::max(y_err[n], err[(c * in.h + iy) * in.w + ix]);
                }
            }
          } else {
            ASSERT_EQ(y.size(), err.size()) << "only max-pooling changes the shape here";
            y_err = err;
          }
          x.assign(y.begin(), y.end());
          err = y_err;
          ++f;
        }
      }
    }
    std::cout << "INT" << bits << ": largest activation error " << worst_share * 100 << " % of its bound\n";
  }
}

}  // namespace
}  // namespace axsa::sw
