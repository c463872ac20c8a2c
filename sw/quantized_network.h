// Post-training quantisation of a float network into the integer pipeline the accelerator runs
// (docs/quantization.md). Following the survey's case study: every layer's weights are scaled into
// [-1, 1] by their largest magnitude, every activation into [-1, 1] (or [0, 1] after ReLU) by its
// largest magnitude over calibration images, and both are quantised to W bits as
// round(x * (2^(W-1) - 1)). Biases are kept in accumulator units (64-bit). Convolutions and dense
// layers become GEMMs for the array; bias, requantisation, ReLU and pooling run on the host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sw/idx.h"
#include "sw/network.h"

namespace axsa::sw {

struct qlayer {
  layer_kind kind;
  std::string name;
  tensor_shape in, out;
  // conv and dense, as GEMM out[M x N] = act[M x K] * weight[K x N], M = pixels x batch or batch.
  std::size_t gemm_k = 0, gemm_n = 0;
  std::vector<std::int16_t> weight_kn;  // K x N, in [-Q, Q]
  std::vector<std::int64_t> bias_acc;   // N, in accumulator units
  double weight_scale = 0;              // real value of one weight unit
  double acc_scale = 0;                 // real value of one accumulator unit (input scale * weight scale)
  double out_scale = 0;                 // real value of one output unit
  std::int32_t out_lo = 0, out_hi = 0;  // clamp of requantised outputs (out_lo = 0: ReLU fused)
  bool relu_fused = false;
  bool produces_logits = false;         // the last GEMM layer: its accumulators are the network's output
  // Geometry (conv and pools), as in sw::layer.
  unsigned kh = 0, kw = 0, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

// An internal exit of a multi-exit network, quantised: a chain fed by the trunk's activation after
// `branch` trunk layers (of qnetwork::layers; the image when 0), ending in its logits layer.
struct qexit {
  std::string output;          // the graph output it ends in
  std::size_t branch = 0;
  std::vector<qlayer> layers;  // the last GEMM layer has produces_logits
};

struct qnetwork {
  std::string source;
  unsigned bits = 8;
  unsigned acc_bits = 32;
  tensor_shape input;
  double input_scale = 0;  // real value of one input unit (1 / Q: pixels in [0, 1])
  std::vector<qlayer> layers;  // the trunk, ending in the final exit's logits layer
  std::vector<qexit> exits;    // internal exits, shallowest first (empty for a single-exit network)
  std::string output;          // the final exit's graph output
  std::size_t classes = 0;
  bool softmax = false;    // the float network ends in Softmax (outputs are probabilities either way)
  // Largest K of any GEMM (trunk and exit heads): the accumulator must hold K products.
  std::size_t max_k() const;
  std::size_t exit_count() const { return exits.size() + 1; }
  // The logits layer of exit e (the final exit is exit_count() - 1).
  const qlayer& logits_layer(std::size_t e) const;
};

// Accumulator width that can never overflow for this network and data width:
// max(32, 2W + ceil(log2(max K))), capped at 64, over the trunk and every exit head.
unsigned safe_acc_bits(const network& net, unsigned bits);

// Quantises `net` to `bits` (2..16); activation ranges come from the first `calibration_count`
// images of `calibration` (pixels / 255). Exit heads are quantised like the trunk, from the scale of
// the trunk activation they branch off; a ReLU right after a branch point is not fused into the
// GEMM before it, so the head sees the same values as the float network's. Throws config_error for a network the pipeline cannot run,
// or when `calibration` holds fewer images than asked for.
qnetwork quantize(const network& net, unsigned bits, unsigned acc_bits, const idx_images& calibration,
                  std::size_t calibration_count);

// Quantised input of one image: round(pixel / 255 * Q).
std::int16_t quantize_pixel(std::uint8_t pixel, unsigned bits);

// Requantisation of an accumulator sum to an output activation: round half away from zero of
// sum * acc_scale / out_scale, clamped to [out_lo, out_hi].
std::int16_t requantize(std::int64_t sum, const qlayer& layer);

// The same with the layer's factor (acc_scale / out_scale) worked out once, for the inner loop.
// Rounds as std::round does, without a library call: the value is first held inside +-2^16 (the
// clamp is narrower), so truncation to an integer is exact and so is the fraction it leaves.
inline std::int16_t requantize(std::int64_t sum, double factor, std::int32_t lo, std::int32_t hi) {
  double v = static_cast<double>(sum) * factor;
  v = v < -65536.0 ? -65536.0 : (v > 65536.0 ? 65536.0 : v);
  auto r = static_cast<std::int32_t>(v);
  const double frac = v - static_cast<double>(r);
  if (frac >= 0.5) ++r;
  else if (frac <= -0.5) --r;
  return static_cast<std::int16_t>(r < lo ? lo : (r > hi ? hi : r));
}

// Softmax of the dequantised logits (sum * acc_scale of the logits layer).
std::vector<double> softmax(const std::vector<std::int64_t>& logits, double acc_scale);

// How the network's output vector is read before the softmax (docs/quantization.md, "Logits"):
//  dequantized (default): the logits layer's sums (accumulator plus bias) times its acc_scale;
//  requantized: the sums requantised to W bits in [-1, 1] exactly as every other layer's outputs
//    (rescale by the calibrated range, round, clamp to [-Q, Q]), read as q / Q. This is the survey's
//    reading: its Y and Y' are W-bit values, and small accumulator changes below one step vanish.
enum class logits_convention { dequantized, requantized };
logits_convention parse_logits_convention(const std::string& text);  // throws config_error
const char* to_string(logits_convention c);
// Softmax probabilities of one image's logits (sums with bias) under `convention`.
std::vector<double> output_probabilities(const std::vector<std::int64_t>& logits, const qlayer& logits_layer,
                                         unsigned bits, logits_convention convention);

}  // namespace axsa::sw
