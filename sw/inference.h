// Runs a quantised network over images with a GEMM backend: lowers convolutions by im2col and
// dense layers to GEMMs (several images batched into M), and does bias, requantisation, ReLU and
// pooling on the host. Identical host code for every backend, so the functional twin and the
// cycle-accurate TLM run differ only in where the GEMMs execute.
#pragma once

#include <cstdint>
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

struct inference_result {
  std::size_t images = 0;
  std::vector<std::vector<std::int64_t>> logits;  // per image: accumulator sums of the logits layer
  std::vector<int> predictions;                   // argmax of the logits (lowest index on ties)
  std::vector<layer_stats> layers;                // GEMM layers only, in order
  gemm_stats totals;
};

// Images [first, first + count) of `images`, `batch` at a time. Throws config_error when the
// images do not fit the network's input.
inference_result run_inference(const qnetwork& net, gemm_backend& backend, const idx_images& images,
                               std::size_t first, std::size_t count, std::size_t batch);

// Accuracy of predictions against labels[first ...].
double accuracy(const inference_result& r, const std::vector<std::uint8_t>& labels, std::size_t first);

// Adds `part` (images run separately, e.g. on another thread) to `into`, in order.
void append_result(inference_result& into, const inference_result& part);

}  // namespace axsa::sw
