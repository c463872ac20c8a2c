#include "sw/quantized_network.h"

#include <algorithm>
#include <cmath>

namespace axsa::sw {

namespace {

std::int32_t qmax(unsigned bits) { return (std::int32_t{1} << (bits - 1)) - 1; }

bool is_gemm(layer_kind k) { return k == layer_kind::conv || k == layer_kind::dense; }

std::string where(const network& net, const layer& l) { return net.source + ": layer '" + l.name + "'"; }


// Quantises one chain of layers (the trunk or an exit head) whose input has `scale`. The last GEMM
// produces logits; after it only Flatten or a final Softmax may follow. `no_fuse[i + 1]` keeps the
// ReLU at float layer i + 1 apart from the GEMM at layer i. Fills q_count[b] and scale_at[b] for
// every b = 0..layers.size() when given. Returns whether the chain ends in Softmax.
bool quantize_chain(const network& net, const std::vector<layer>& layers, const std::vector<double>& out_max, double scale,
                    const std::vector<bool>& no_fuse, unsigned bits, std::vector<qlayer>& out,
                    std::vector<std::size_t>* q_count, std::vector<double>* scale_at) {
  const std::int32_t Q = qmax(bits);
  bool softmax = false;
  std::size_t last_gemm = layers.size();
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (is_gemm(layers[i].kind)) last_gemm = i;
  if (last_gemm == layers.size()) {
    throw config_error(net.source + (&layers == &net.layers ? std::string(": the network")
                                                              : ": the exit head ending in layer '" + layers.back().name + "'") +
                       " has no Conv, Gemm or MatMul layer");
  }
  auto record = [&](std::size_t b) {
    if (q_count) q_count->push_back(out.size());
    if (scale_at) scale_at->push_back(scale);
    (void)b;
  };
  record(0);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const layer& l = layers[i];
    qlayer ql;
    ql.kind = l.kind;
    ql.name = l.name;
    ql.in = l.in;
    ql.out = l.out;
    ql.kh = l.kh;
    ql.kw = l.kw;
    ql.stride_h = l.stride_h;
    ql.stride_w = l.stride_w;
    ql.pad_top = l.pad_top;
    ql.pad_left = l.pad_left;
    ql.pad_bottom = l.pad_bottom;
    ql.pad_right = l.pad_right;
    if (i > last_gemm && l.kind != layer_kind::softmax && l.kind != layer_kind::flatten) {
      throw config_error(where(net, l) + ": only Softmax or Flatten may follow the last Conv/Gemm/MatMul");
    }
    if (l.kind == layer_kind::softmax) {
      if (i + 1 != layers.size()) throw config_error(where(net, l) + ": Softmax must be the last layer");
      softmax = true;
      record(i + 1);
      continue;
    }
    if (!is_gemm(l.kind)) {
      out.push_back(ql);  // relu, pools, flatten: integers in, integers out, same scale
      record(i + 1);
      continue;
    }
    // Weights: per-layer scale into [-1, 1], then W bits.
    const bool conv = l.kind == layer_kind::conv;
    ql.gemm_n = conv ? l.out.c : l.out.size();
    ql.gemm_k = conv ? std::size_t{l.in.c} * l.kh * l.kw : l.in.size();
    double wmax = 0;
    for (float w : l.weights) wmax = std::max(wmax, static_cast<double>(std::fabs(w)));
    if (wmax == 0) wmax = 1;  // an all-zero layer: any scale represents it exactly
    ql.weight_scale = wmax / Q;
    ql.weight_kn.resize(ql.gemm_k * ql.gemm_n);
    for (std::size_t n = 0; n < ql.gemm_n; ++n) {
      for (std::size_t k = 0; k < ql.gemm_k; ++k) {
        // conv weights [out_c][in_c][kh][kw] and dense weights [out][in] are both [n][k].
        const double w = l.weights[n * ql.gemm_k + k];
        ql.weight_kn[k * ql.gemm_n + n] = static_cast<std::int16_t>(std::lround(w / ql.weight_scale));
      }
    }
    ql.acc_scale = scale * ql.weight_scale;
    ql.bias_acc.resize(ql.gemm_n);
    for (std::size_t n = 0; n < ql.gemm_n; ++n) {
      ql.bias_acc[n] = l.bias.empty() ? 0 : std::llround(static_cast<double>(l.bias[n]) / ql.acc_scale);
    }
    if (i == last_gemm) {
      // The logits keep their accumulator sums; the requantised reading (logits_convention) uses
      // the same calibrated rescale into [-1, 1] as every other layer's outputs.
      const double lmax = out_max[i] > 0 ? out_max[i] : 1.0;
      ql.out_scale = lmax / Q;
      ql.out_lo = -Q;
      ql.out_hi = Q;
      ql.produces_logits = true;
      out.push_back(ql);
      record(i + 1);
      continue;
    }
    // Output activations: fuse a following ReLU into the clamp, rescale by the calibrated range.
    std::size_t range_layer = i;
    const bool fuse = i + 1 < layers.size() && layers[i + 1].kind == layer_kind::relu &&
                      !(i + 1 < no_fuse.size() && no_fuse[i + 1]);
    if (fuse) {
      ql.relu_fused = true;
      range_layer = i + 1;
    }
    const double ymax = out_max[range_layer] > 0 ? out_max[range_layer] : 1.0;
    ql.out_scale = ymax / Q;
    ql.out_lo = ql.relu_fused ? 0 : -Q;
    ql.out_hi = Q;
    scale = ql.out_scale;
    out.push_back(ql);
    record(i + 1);
    if (fuse) {
      ++i;
      record(i + 1);
    }
  }
  return softmax;
}

}  // namespace

std::size_t qnetwork::max_k() const {
  std::size_t k = 0;
  for (const auto& l : layers) k = std::max(k, l.gemm_k);
  for (const auto& e : exits)
    for (const auto& l : e.layers) k = std::max(k, l.gemm_k);
  return k;
}

const qlayer& qnetwork::logits_layer(std::size_t e) const {
  const std::vector<qlayer>& chain = e < exits.size() ? exits[e].layers : layers;
  for (const qlayer& l : chain)
    if (l.produces_logits) return l;
  throw config_error(source + ": exit " + std::to_string(e) + " has no logits layer");
}

unsigned safe_acc_bits(const network& net, unsigned bits) {
  std::size_t max_k = 1;
  auto scan = [&](const std::vector<layer>& chain) {
    for (const auto& l : chain) {
      if (l.kind == layer_kind::conv) max_k = std::max<std::size_t>(max_k, std::size_t{l.in.c} * l.kh * l.kw);
      if (l.kind == layer_kind::dense) max_k = std::max<std::size_t>(max_k, l.in.size());
    }
  };
  scan(net.layers);
  for (const auto& e : net.exits) scan(e.layers);
  unsigned log2k = 0;
  while ((std::size_t{1} << log2k) < max_k) ++log2k;
  return std::min(64u, std::max(32u, 2 * bits + log2k));
}

std::int16_t quantize_pixel(std::uint8_t pixel, unsigned bits) {
  // round(pixel * Q / 255), half up, in integers.
  const std::int32_t q = qmax(bits);
  return static_cast<std::int16_t>((2 * std::int32_t{pixel} * q + 255) / 510);
}

std::int16_t requantize(std::int64_t sum, const qlayer& l) {
  return requantize(sum, l.acc_scale / l.out_scale, l.out_lo, l.out_hi);
}

std::vector<double> softmax(const std::vector<std::int64_t>& logits, double acc_scale) {
  std::vector<double> p(logits.size());
  if (logits.empty()) return p;
  const std::int64_t top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    p[i] = std::exp(static_cast<double>(logits[i] - top) * acc_scale);
    sum += p[i];
  }
  for (double& v : p) v /= sum;
  return p;
}

logits_convention parse_logits_convention(const std::string& text) {
  if (text == "dequantized") return logits_convention::dequantized;
  if (text == "requantized") return logits_convention::requantized;
  throw config_error("--logits must be dequantized or requantized (got '" + text + "')");
}

const char* to_string(logits_convention c) {
  return c == logits_convention::requantized ? "requantized" : "dequantized";
}

std::vector<double> output_probabilities(const std::vector<std::int64_t>& logits, const qlayer& layer, unsigned bits,
                                         logits_convention convention) {
  if (convention == logits_convention::dequantized) return softmax(logits, layer.acc_scale);
  // q / Q in [-1, 1]: softmax(q / Q) is the softmax of the integers q with the scale 1 / Q.
  std::vector<std::int64_t> q(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) q[i] = requantize(logits[i], layer);
  return softmax(q, 1.0 / qmax(bits));
}

qnetwork quantize(const network& net, unsigned bits, unsigned acc_bits, const idx_images& calibration,
                  std::size_t calibration_count) {
  if (bits < 2 || bits > 16) throw config_error("data bits must be in 2..16 (got " + std::to_string(bits) + ")");
  if (acc_bits < 2 || acc_bits > 64) throw config_error("accumulator bits must be in 2..64 (got " + std::to_string(acc_bits) + ")");
  if (net.input.c != 1 || net.input.h != calibration.rows || net.input.w != calibration.cols) {
    throw config_error(net.source + ": the network takes " + std::to_string(net.input.c) + "x" +
                       std::to_string(net.input.h) + "x" + std::to_string(net.input.w) +
                       " inputs, the calibration images are 1x" + std::to_string(calibration.rows) + "x" +
                       std::to_string(calibration.cols));
  }
  if (calibration_count == 0) throw config_error("quantisation needs at least one calibration image");
  if (calibration_count > calibration.count) {
    throw config_error("--calibration " + std::to_string(calibration_count) + " asks for more images than the " +
                       std::to_string(calibration.count) + " of the training set");
  }

  // Largest magnitude of every layer's output over the calibration images (float network), for the
  // trunk and for every exit head.
  std::vector<double> out_max(net.layers.size(), 0.0);
  std::vector<std::vector<double>> head_max(net.exits.size());
  for (std::size_t e = 0; e < net.exits.size(); ++e) head_max[e].assign(net.exits[e].layers.size(), 0.0);
  const std::size_t pixels = std::size_t{calibration.rows} * calibration.cols;
  std::vector<float> image(pixels);
  auto widen = [](std::vector<double>& range, const std::vector<std::vector<float>>& outs) {
    for (std::size_t l = 0; l < outs.size(); ++l)
      for (float v : outs[l]) range[l] = std::max(range[l], static_cast<double>(std::fabs(v)));
  };
  for (std::size_t i = 0; i < calibration_count; ++i) {
    for (std::size_t p = 0; p < pixels; ++p) image[p] = static_cast<float>(calibration.pixels[i * pixels + p]) / 255.0f;
    const auto outs = forward_all(net, image.data());
    widen(out_max, outs);
    for (std::size_t e = 0; e < net.exits.size(); ++e) {
      const exit_head& h = net.exits[e];
      widen(head_max[e], forward_chain(h.layers, h.branch == 0 ? image : outs[h.branch - 1]));
    }
  }

  qnetwork q;
  q.source = net.source;
  q.bits = bits;
  q.acc_bits = acc_bits;
  q.input = net.input;
  q.classes = net.classes();
  q.output = net.output;
  q.input_scale = 1.0 / qmax(bits);
  // A ReLU right after a branch point stays a layer of its own: the head reads the value before it.
  std::vector<bool> branch_after(net.layers.size() + 1, false);
  for (const exit_head& h : net.exits) branch_after[h.branch] = true;
  std::vector<std::size_t> q_count;  // q_count[b]: quantised layers made from the first b float layers
  std::vector<double> scale_at;      // scale_at[b]: real value of one unit of the activation after b float layers
  q.softmax = quantize_chain(net, net.layers, out_max, q.input_scale, branch_after, bits, q.layers, &q_count, &scale_at);
  for (std::size_t e = 0; e < net.exits.size(); ++e) {
    const exit_head& h = net.exits[e];
    qexit qe;
    qe.output = h.output;
    qe.branch = q_count[h.branch];
    quantize_chain(net, h.layers, head_max[e], scale_at[h.branch], {}, bits, qe.layers, nullptr, nullptr);
    q.exits.push_back(std::move(qe));
  }
  return q;
}

}  // namespace axsa::sw
