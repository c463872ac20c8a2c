#include "sw/inference.h"

#include <algorithm>
#include <limits>
#include <string>

namespace axsa::sw {

namespace {

const char* kind_name(layer_kind k) {
  switch (k) {
    case layer_kind::conv: return "conv";
    case layer_kind::dense: return "dense";
    case layer_kind::relu: return "relu";
    case layer_kind::max_pool: return "maxpool";
    case layer_kind::avg_pool: return "avgpool";
    case layer_kind::flatten: return "flatten";
    case layer_kind::softmax: return "softmax";
  }
  return "?";
}

void add(gemm_stats& a, const gemm_stats& b) { a += b; }

// im2col of a batch: row (b, oy, ox), column (c, dy, dx); zero outside the input. The window's
// rows and columns inside the input are worked out once per output pixel, so the copy itself has
// no bounds tests.
void im2col(const qlayer& l, const std::vector<std::int16_t>& in, std::size_t batch, std::vector<std::int16_t>& act) {
  const std::size_t K = l.gemm_k, pix = std::size_t{l.out.h} * l.out.w, in_size = l.in.size();
  const long H = l.in.h, W = l.in.w, kh = l.kh, kw = l.kw;
  act.assign(batch * pix * K, 0);
  for (std::size_t b = 0; b < batch; ++b) {
    const std::int16_t* src = in.data() + b * in_size;
    for (unsigned oy = 0; oy < l.out.h; ++oy) {
      const long y0 = static_cast<long>(oy) * l.stride_h - l.pad_top;
      const long dy_lo = std::max(0L, -y0), dy_hi = std::min(kh, H - y0);
      for (unsigned ox = 0; ox < l.out.w; ++ox) {
        const long x0 = static_cast<long>(ox) * l.stride_w - l.pad_left;
        const long dx_lo = std::max(0L, -x0), dx_hi = std::min(kw, W - x0);
        std::int16_t* row = act.data() + ((b * l.out.h + oy) * l.out.w + ox) * K;
        for (long c = 0; c < static_cast<long>(l.in.c); ++c) {
          const std::int16_t* plane = src + c * H * W;
          for (long dy = dy_lo; dy < dy_hi; ++dy) {
            const std::int16_t* s = plane + (y0 + dy) * W + x0;
            std::int16_t* d = row + (c * kh + dy) * kw;
            for (long dx = dx_lo; dx < dx_hi; ++dx) d[dx] = s[dx];
          }
        }
      }
    }
  }
}

void pool(const qlayer& l, const std::vector<std::int16_t>& in, std::size_t batch, std::vector<std::int16_t>& out) {
  out.assign(batch * l.out.size(), 0);
  for (std::size_t b = 0; b < batch; ++b) {
    const std::int16_t* src = in.data() + b * l.in.size();
    std::int16_t* dst = out.data() + b * l.out.size();
    for (unsigned c = 0; c < l.out.c; ++c)
      for (unsigned oy = 0; oy < l.out.h; ++oy)
        for (unsigned ox = 0; ox < l.out.w; ++ox) dst[(c * l.out.h + oy) * l.out.w + ox] = pool_output(l, src, c, oy, ox);
  }
}

}  // namespace

std::int16_t pool_output(const qlayer& l, const std::int16_t* image, unsigned c, unsigned oy, unsigned ox) {
  std::int32_t best = std::numeric_limits<std::int32_t>::min();
  std::int64_t sum = 0;
  std::int64_t count = 0;
  for (unsigned dy = 0; dy < l.kh; ++dy) {
    const long y = static_cast<long>(oy) * l.stride_h + dy - l.pad_top;
    if (y < 0 || y >= static_cast<long>(l.in.h)) continue;
    for (unsigned dx = 0; dx < l.kw; ++dx) {
      const long x = static_cast<long>(ox) * l.stride_w + dx - l.pad_left;
      if (x < 0 || x >= static_cast<long>(l.in.w)) continue;
      const std::int32_t v = image[(c * l.in.h + static_cast<std::size_t>(y)) * l.in.w + static_cast<std::size_t>(x)];
      best = std::max(best, v);
      sum += v;
      ++count;
    }
  }
  std::int32_t r = 0;
  if (l.kind == layer_kind::max_pool) {
    r = count ? best : 0;
  } else if (count) {  // average of the covered inputs, rounded half away from zero
    r = static_cast<std::int32_t>((sum >= 0 ? 2 * sum + count : 2 * sum - count) / (2 * count));
  }
  return static_cast<std::int16_t>(r);
}

std::vector<std::int32_t> im2col_offsets(const qlayer& l) {
  const std::size_t K = l.gemm_k, pix = std::size_t{l.out.h} * l.out.w;
  std::vector<std::int32_t> off(pix * K, -1);
  for (unsigned oy = 0; oy < l.out.h; ++oy) {
    for (unsigned ox = 0; ox < l.out.w; ++ox) {
      for (unsigned c = 0; c < l.in.c; ++c) {
        for (unsigned dy = 0; dy < l.kh; ++dy) {
          const long y = static_cast<long>(oy) * l.stride_h - l.pad_top + dy;
          for (unsigned dx = 0; dx < l.kw; ++dx) {
            const long x = static_cast<long>(ox) * l.stride_w - l.pad_left + dx;
            if (y < 0 || y >= static_cast<long>(l.in.h) || x < 0 || x >= static_cast<long>(l.in.w)) continue;
            off[(std::size_t{oy} * l.out.w + ox) * K + (std::size_t{c} * l.kh + dy) * l.kw + dx] =
                static_cast<std::int32_t>((std::size_t{c} * l.in.h + static_cast<std::size_t>(y)) * l.in.w +
                                          static_cast<std::size_t>(x));
          }
        }
      }
    }
  }
  return off;
}

exit_policy parse_exit_policy(const std::string& text) {
  if (text == "confidence") return exit_policy::confidence;
  if (text == "final") return exit_policy::final;
  if (text == "all") return exit_policy::all;
  throw config_error("--exit-policy must be confidence, final or all (got '" + text + "')");
}

const char* to_string(exit_policy p) {
  switch (p) {
    case exit_policy::confidence: return "confidence";
    case exit_policy::final: return "final";
    case exit_policy::all: return "all";
  }
  return "?";
}

namespace {

void append_gemm_stats(const std::vector<qlayer>& chain, std::vector<layer_stats>& out) {
  for (const auto& l : chain) {
    if (l.kind != layer_kind::conv && l.kind != layer_kind::dense) continue;
    layer_stats s;
    s.name = l.name;
    s.kind = kind_name(l.kind);
    s.shape_per_image = {l.kind == layer_kind::conv ? std::size_t{l.out.h} * l.out.w : 1, l.gemm_k, l.gemm_n};
    out.push_back(s);
  }
}

std::size_t gemm_count(const std::vector<qlayer>& chain, std::size_t end) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < end; ++i) n += chain[i].kind == layer_kind::conv || chain[i].kind == layer_kind::dense;
  return n;
}

// Size of one image's activation entering layer `b` of a chain fed `input`.
std::size_t activation_size(const std::vector<qlayer>& chain, const tensor_shape& input, std::size_t b) {
  return b == 0 ? input.size() : chain[b - 1].out.size();
}

int argmax(const std::vector<std::int64_t>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

std::vector<layer_stats> make_layer_stats(const qnetwork& net) {
  std::vector<layer_stats> out;
  append_gemm_stats(net.layers, out);
  for (const auto& e : net.exits) append_gemm_stats(e.layers, out);
  return out;
}

std::size_t gemm_ordinal(const qnetwork& net, std::size_t layer) { return gemm_count(net.layers, layer); }

std::vector<std::int16_t> quantize_images(const qnetwork& net, const idx_images& images, std::size_t first, std::size_t nb) {
  const std::size_t pixels = std::size_t{images.rows} * images.cols;
  std::vector<std::int16_t> cur(nb * pixels);
  for (std::size_t b = 0; b < nb; ++b)
    for (std::size_t p = 0; p < pixels; ++p) cur[b * pixels + p] = quantize_pixel(images.pixels[(first + b) * pixels + p], net.bits);
  return cur;
}

namespace {

// The layer loop shared by every chain; `stop` and `inputs` serve the fault campaigns (run_batch).
std::vector<std::vector<std::int64_t>> run_chain(const std::vector<qlayer>& chain, gemm_backend& backend,
                                                        std::vector<std::int16_t>& cur, std::size_t nb,
                                                        std::size_t start, std::size_t end, layer_stats* stats,
                                                        std::vector<std::vector<std::int16_t>>* inputs,
                                                        const batch_stop& stop, bool* stopped) {
  std::vector<std::vector<std::int64_t>> logits;
  std::vector<std::int16_t> next, act;
  std::vector<std::int64_t> acc;
  std::size_t gemm_index = gemm_count(chain, start);
  for (std::size_t li = start; li < end; ++li) {
    const qlayer& l = chain[li];
    if (inputs) (*inputs)[li] = cur;
    switch (l.kind) {
      case layer_kind::conv:
      case layer_kind::dense: {
        const std::size_t pix = l.kind == layer_kind::conv ? std::size_t{l.out.h} * l.out.w : 1;
        const hw::gemm_shape shape{nb * pix, l.gemm_k, l.gemm_n};
        const std::int16_t* a = cur.data();
        if (l.kind == layer_kind::conv) {
          im2col(l, cur, nb, act);
          a = act.data();
        }
        acc.assign(shape.m * shape.n, 0);
        add(stats[gemm_index].totals, backend.gemm(shape, a, l.weight_kn.data(), acc.data(), &l));
        ++gemm_index;
        if (l.produces_logits) {
          for (std::size_t b = 0; b < nb; ++b) {
            std::vector<std::int64_t> v(l.gemm_n);
            for (std::size_t n = 0; n < l.gemm_n; ++n) v[n] = acc[b * l.gemm_n + n] + l.bias_acc[n];
            logits.push_back(std::move(v));
          }
          break;
        }
        // Back to CHW per image: GEMM row (b, pixel), column n -> [b][n][pixel].
        next.assign(nb * l.out.size(), 0);
        const double factor = l.acc_scale / l.out_scale;
        // Channel by channel, so the writes run along the output plane.
        for (std::size_t b = 0; b < nb; ++b) {
          for (std::size_t n = 0; n < l.gemm_n; ++n) {
            const std::int64_t* src = acc.data() + b * pix * l.gemm_n + n;
            std::int16_t* dst = next.data() + b * l.out.size() + n * pix;
            const std::int64_t bias = l.bias_acc[n];
            for (std::size_t p = 0; p < pix; ++p) dst[p] = requantize(src[p * l.gemm_n] + bias, factor, l.out_lo, l.out_hi);
          }
        }
        cur.swap(next);
        break;
      }
      case layer_kind::relu:
        for (auto& v : cur) v = std::max<std::int16_t>(v, 0);
        break;
      case layer_kind::max_pool:
      case layer_kind::avg_pool:
        pool(l, cur, nb, next);
        cur.swap(next);
        break;
      case layer_kind::flatten:
      case layer_kind::softmax:
        break;  // CHW is already the flattened order; softmax is taken on the logits
    }
    if (stop && li + 1 < chain.size() && stop(li + 1, cur)) {
      *stopped = true;
      return {};
    }
  }
  return logits;
}

}  // namespace

std::vector<std::vector<std::int64_t>> run_layers(const std::vector<qlayer>& chain, gemm_backend& backend,
                                                  std::vector<std::int16_t>& cur, std::size_t nb, std::size_t start,
                                                  std::size_t end, layer_stats* stats) {
  bool stopped = false;
  return run_chain(chain, backend, cur, nb, start, end, stats, nullptr, {}, &stopped);
}

std::vector<std::vector<std::int64_t>> run_batch(const qnetwork& net, gemm_backend& backend, std::vector<std::int16_t> cur,
                                                 std::size_t nb, std::size_t start, std::vector<layer_stats>& stats,
                                                 std::vector<std::vector<std::int16_t>>* inputs, const batch_stop& stop) {
  if (inputs) inputs->resize(net.layers.size());
  bool stopped = false;
  auto logits = run_chain(net.layers, backend, cur, nb, start, net.layers.size(), stats.data(), inputs, stop, &stopped);
  return stopped ? std::vector<std::vector<std::int64_t>>{} : logits;
}

bool confident(const std::vector<std::int64_t>& logits, double acc_scale, double gamma) {
  const std::vector<double> p = softmax(logits, acc_scale);
  return !p.empty() && *std::max_element(p.begin(), p.end()) > gamma;
}

namespace {

// One batch through a multi-exit network: trunk segment by segment, each exit head at its branch
// point, continuing with the images that have not stopped.
void run_exits_batch(const qnetwork& net, gemm_backend& backend, std::vector<std::int16_t> cur, std::size_t nb,
                     const exit_options& opt, inference_result& r) {
  const std::size_t exits = net.exit_count();
  std::vector<std::size_t> alive(nb);  // batch positions still running, in order
  for (std::size_t i = 0; i < nb; ++i) alive[i] = i;
  std::vector<int> taken(nb, -1);
  std::vector<std::vector<std::vector<std::int64_t>>> logits(nb, std::vector<std::vector<std::int64_t>>(exits));
  std::size_t done = 0, head_stats = gemm_count(net.layers, net.layers.size());
  for (std::size_t e = 0; e + 1 < exits; ++e) {
    const qexit& head = net.exits[e];
    run_layers(net.layers, backend, cur, alive.size(), done, head.branch, r.layers.data());
    done = head.branch;
    layer_stats* stats = r.layers.data() + head_stats;
    head_stats += gemm_count(head.layers, head.layers.size());
    if (opt.policy == exit_policy::final) continue;
    std::vector<std::int16_t> head_in = cur;
    const auto lg = run_layers(head.layers, backend, head_in, alive.size(), 0, head.layers.size(), stats);
    const double scale = net.logits_layer(e).acc_scale;
    std::vector<std::size_t> still;
    std::vector<std::int16_t> kept;
    const std::size_t size = activation_size(net.layers, net.input, done);
    for (std::size_t i = 0; i < alive.size(); ++i) {
      const std::size_t pos = alive[i];
      logits[pos][e] = lg[i];
      const bool stops = opt.stop ? opt.stop(e, lg[i], scale) : confident(lg[i], scale, opt.gamma);
      if (taken[pos] < 0 && stops) taken[pos] = static_cast<int>(e);
      if (opt.policy == exit_policy::confidence && taken[pos] < 0) {
        still.push_back(pos);
        kept.insert(kept.end(), cur.begin() + static_cast<std::ptrdiff_t>(i * size),
                    cur.begin() + static_cast<std::ptrdiff_t>((i + 1) * size));
      }
    }
    if (opt.policy == exit_policy::confidence) {
      alive.swap(still);
      cur.swap(kept);
      if (alive.empty()) break;
    }
  }
  if (!alive.empty()) {
    const auto lg = run_layers(net.layers, backend, cur, alive.size(), done, net.layers.size(), r.layers.data());
    for (std::size_t i = 0; i < alive.size(); ++i) {
      logits[alive[i]][exits - 1] = lg[i];
      if (taken[alive[i]] < 0) taken[alive[i]] = static_cast<int>(exits - 1);
    }
  }
  for (std::size_t pos = 0; pos < nb; ++pos) {
    r.logits.push_back(logits[pos][static_cast<std::size_t>(taken[pos])]);
    r.predictions.push_back(argmax(r.logits.back()));
    r.exit_taken.push_back(taken[pos]);
    r.exit_logits.push_back(std::move(logits[pos]));
  }
}

}  // namespace

inference_result run_inference(const qnetwork& net, gemm_backend& backend, const idx_images& images, std::size_t first,
                               std::size_t count, std::size_t batch, const exit_options& exits) {
  if (net.input.c != 1 || net.input.h != images.rows || net.input.w != images.cols) {
    throw config_error(net.source + ": the network takes " + std::to_string(net.input.c) + "x" +
                       std::to_string(net.input.h) + "x" + std::to_string(net.input.w) + " inputs, the images are 1x" +
                       std::to_string(images.rows) + "x" + std::to_string(images.cols));
  }
  if (first > images.count || count > images.count - first) {
    throw config_error("images " + std::to_string(first) + ".." + std::to_string(first + count) + " requested, the data set has " +
                       std::to_string(images.count));
  }
  if (batch == 0) throw config_error("batch must be at least 1");
  if (!(exits.gamma >= 0 && exits.gamma <= 1)) throw config_error("--gamma must be in [0, 1]");
  inference_result r;
  r.images = count;
  r.layers = make_layer_stats(net);
  for (std::size_t b0 = 0; b0 < count; b0 += batch) {
    const std::size_t nb = std::min(batch, count - b0);
    if (!net.exits.empty()) {
      run_exits_batch(net, backend, quantize_images(net, images, first + b0, nb), nb, exits, r);
      continue;
    }
    for (auto& v : run_batch(net, backend, quantize_images(net, images, first + b0, nb), nb, 0, r.layers)) {
      r.predictions.push_back(argmax(v));
      r.logits.push_back(std::move(v));
    }
  }
  for (const auto& s : r.layers) add(r.totals, s.totals);
  return r;
}

std::vector<exit_summary> summarize_exits(const inference_result& r, std::size_t exit_count,
                                          const std::vector<std::uint8_t>& labels, std::size_t first) {
  std::vector<exit_summary> out(exit_count);
  for (std::size_t i = 0; i < r.exit_taken.size(); ++i) {
    out.at(static_cast<std::size_t>(r.exit_taken[i])).taken++;
    for (std::size_t e = 0; e < exit_count && e < r.exit_logits[i].size(); ++e) {
      const auto& v = r.exit_logits[i][e];
      if (v.empty()) continue;
      out[e].evaluated++;
      out[e].correct += argmax(v) == labels.at(first + i);
    }
  }
  return out;
}

double accuracy(const inference_result& r, const std::vector<std::uint8_t>& labels, std::size_t first) {
  if (r.predictions.empty()) return 0;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < r.predictions.size(); ++i) correct += r.predictions[i] == labels.at(first + i);
  return static_cast<double>(correct) / static_cast<double>(r.predictions.size());
}

void apply_logits_convention(inference_result& r, const qnetwork& net, logits_convention convention) {
  if (convention == logits_convention::dequantized) return;
  for (std::size_t i = 0; i < r.predictions.size(); ++i) {
    const std::size_t e = i < r.exit_taken.size() && r.exit_taken[i] >= 0 ? static_cast<std::size_t>(r.exit_taken[i])
                                                                          : net.exit_count() - 1;
    const auto p = output_probabilities(r.logits[i], net.logits_layer(e), net.bits, convention);
    r.predictions[i] = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
  }
}

void append_result(inference_result& into, const inference_result& part) {
  if (into.layers.empty()) into.layers = part.layers;
  else
    for (std::size_t i = 0; i < into.layers.size(); ++i) add(into.layers[i].totals, part.layers[i].totals);
  into.images += part.images;
  into.logits.insert(into.logits.end(), part.logits.begin(), part.logits.end());
  into.predictions.insert(into.predictions.end(), part.predictions.begin(), part.predictions.end());
  into.exit_taken.insert(into.exit_taken.end(), part.exit_taken.begin(), part.exit_taken.end());
  into.exit_logits.insert(into.exit_logits.end(), part.exit_logits.begin(), part.exit_logits.end());
  add(into.totals, part.totals);
}

}  // namespace axsa::sw
