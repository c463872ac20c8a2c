// Runs a quantised network over images with a GEMM backend: lowers convolutions by im2col and
// dense layers to GEMMs (several images batched into M), and does bias, requantisation, ReLU and
// pooling on the host. Identical host code for every backend, so the functional twin and the
// cycle-accurate TLM run differ only in where the GEMMs execute.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sw/gemm_backend.h"
#include "sw/quantized_network.h"

namespace axsa::sw {

struct layer_stats {
  std::string name;
  std::string kind;
  hw::gemm_shape shape_per_image;  // GEMM of one image (M for conv = output pixels, 1 for dense)
  gemm_stats totals;               // over all images run
};

// How a multi-exit network decides where an image stops (docs/multi-exit.md).
enum class exit_policy {
  confidence,  // stop at the first exit whose top softmax probability is above gamma
  final,       // run every image to the final exit; no head is evaluated
  all,         // evaluate every exit on every image; the exit that counts is the one `confidence` picks
};
exit_policy parse_exit_policy(const std::string& text);  // throws config_error naming the choices
const char* to_string(exit_policy p);

struct exit_options {
  exit_policy policy = exit_policy::confidence;
  double gamma = 0.5;
  // Replaces the confidence test (`confident(logits, acc_scale, gamma)`) where given: whether an
  // image stops at internal exit `exit` with these logits. The final exit always stops.
  std::function<bool(std::size_t exit, const std::vector<std::int64_t>& logits, double acc_scale)> stop;
};

struct inference_result {
  std::size_t images = 0;
  std::vector<std::vector<std::int64_t>> logits;  // per image: accumulator sums of the logits layer of the exit taken
  std::vector<int> predictions;                   // argmax of the logits (lowest index on ties)
  std::vector<layer_stats> layers;                // GEMM layers only: the trunk's in order, then each exit head's
  gemm_stats totals;
  // Multi-exit networks (empty otherwise): per image, the exit that counts (0 = shallowest) and the
  // logits of every exit evaluated for it ([image][exit], empty where the exit did not run).
  std::vector<int> exit_taken;
  std::vector<std::vector<std::vector<std::int64_t>>> exit_logits;
};

// The layers [start, end) of one batch of `nb` images whose activations at layer `start` are
// `cur` (nb x layer input, CHW per image). Returns each image's logits (accumulator sums plus bias).
// `stats` (one per GEMM layer of the network) accumulates what the GEMMs cost. If `inputs` is given,
// (*inputs)[l] receives the activations entering layer l. If `stop` is given it is asked after every
// layer with the activations entering the next one; returning true abandons the batch (the result
// is then empty): fault campaigns stop once a faulty run is back on the golden path.
using batch_stop = std::function<bool(std::size_t next_layer, const std::vector<std::int16_t>& activations)>;
std::vector<std::vector<std::int64_t>> run_batch(const qnetwork& net, gemm_backend& backend, std::vector<std::int16_t> cur,
                                                 std::size_t nb, std::size_t start, std::vector<layer_stats>& stats,
                                                 std::vector<std::vector<std::int16_t>>* inputs = nullptr,
                                                 const batch_stop& stop = {});
// One output of a max or average pool layer `l` at (c, oy, ox) of one image (CHW at `image`): the
// rule the layer loop applies to every output, for callers that recompute a few (fault campaigns).
std::int16_t pool_output(const qlayer& l, const std::int16_t* image, unsigned c, unsigned oy, unsigned ox);
// The im2col of conv layer `l` as offsets: entry [pixel * K + k] is the offset in one image's input
// (CHW) of GEMM operand (pixel, k), or -1 where the window lies in the padding (operand 0).
std::vector<std::int32_t> im2col_offsets(const qlayer& l);
// Quantised input activations of images [first, first + nb).
std::vector<std::int16_t> quantize_images(const qnetwork& net, const idx_images& images, std::size_t first, std::size_t nb);
// Empty per-layer statistics for `net` (one entry per GEMM layer).
std::vector<layer_stats> make_layer_stats(const qnetwork& net);
// Index of the GEMM layer `layer` among the network's GEMM layers.
std::size_t gemm_ordinal(const qnetwork& net, std::size_t layer);

// Layers [start, end) of a chain (the trunk or an exit head) on a batch of `nb` images whose
// activations entering layer `start` are `cur`; on return `cur` holds the activations entering
// layer `end` (unchanged past the logits layer). Returns each image's logits if the chain's logits
// layer ran. `stats` points at the chain's first GEMM layer's statistics.
std::vector<std::vector<std::int64_t>> run_layers(const std::vector<qlayer>& chain, gemm_backend& backend,
                                                  std::vector<std::int16_t>& cur, std::size_t nb, std::size_t start,
                                                  std::size_t end, layer_stats* stats);

// Images [first, first + count) of `images`, `batch` at a time. Throws config_error when the
// images do not fit the network's input. A multi-exit network runs the trunk segment by segment,
// evaluates each exit head at its branch point as `exits` says, and continues only with the images
// that did not stop (so later GEMMs of a batch are smaller).
inference_result run_inference(const qnetwork& net, gemm_backend& backend, const idx_images& images,
                               std::size_t first, std::size_t count, std::size_t batch, const exit_options& exits = {});

// Whether logits of an exit whose logits layer has `acc_scale` are confident enough to stop at.
bool confident(const std::vector<std::int64_t>& logits, double acc_scale, double gamma);

// Accuracy of predictions against labels[first ...].
double accuracy(const inference_result& r, const std::vector<std::uint8_t>& labels, std::size_t first);
// Re-reads every image's prediction under `convention` (the argmax of output_probabilities of the
// logits of the exit it took; lowest index on ties, which the coarse requantised logits can have).
// The dequantised convention leaves `r` as it is.
void apply_logits_convention(inference_result& r, const qnetwork& net, logits_convention convention);

// Multi-exit results: per exit, the share of images that stopped there, and the accuracy of the
// exit's own prediction over the images where it ran (every image under exit_policy::all).
struct exit_summary {
  std::size_t evaluated = 0, taken = 0, correct = 0;  // correct among evaluated
};
std::vector<exit_summary> summarize_exits(const inference_result& r, std::size_t exit_count,
                                          const std::vector<std::uint8_t>& labels, std::size_t first);

// Adds `part` (images run separately, e.g. on another thread) to `into`, in order.
void append_result(inference_result& into, const inference_result& part);

}  // namespace axsa::sw
