// A sequential float network imported from ONNX: the chain of layers axsa can map onto the array
// (conv, dense, ReLU, max/average pooling, flatten, softmax) with weights, shapes and padding made
// explicit, plus a plain float forward pass (NCHW, one image) that checks the import against the
// exporter's own accuracy. Anything outside that subset is a config_error naming the op and node.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "hw/array_config.h"  // config_error, which every function here throws
#include "sw/idx.h"

namespace axsa::sw {

// Channels x height x width of one image's activation; a flat vector of n features is n x 1 x 1.
struct tensor_shape {
  unsigned c = 0, h = 0, w = 0;

  std::size_t size() const { return std::size_t{c} * h * w; }
  bool operator==(const tensor_shape& o) const { return c == o.c && h == o.h && w == o.w; }
  bool operator!=(const tensor_shape& o) const { return !(*this == o); }
};

std::string to_string(const tensor_shape& s);  // "CxHxW", or "N" for a flat vector

enum class layer_kind { conv, dense, relu, max_pool, avg_pool, flatten, softmax };

const char* to_string(layer_kind kind);

struct layer {
  layer_kind kind = layer_kind::relu;
  std::string name;  // the ONNX node name (or op_type#index if unnamed)
  tensor_shape in, out;
  // conv: weights [out_c][in_c][kh][kw] row-major, bias [out_c] (zeros if absent)
  // dense: weights [out][in] row-major, bias [out]
  std::vector<float> weights, bias;
  // conv and pools: window, strides and zero (conv) or ignored (pools) padding.
  unsigned kh = 0, kw = 0, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

struct network {
  std::string source;  // the file it was imported from
  tensor_shape input;
  std::vector<layer> layers;

  std::size_t classes() const;  // size of the last layer's output
};

// Imports the model: one graph input with known C,H,W (batch may be symbolic; a rank-2 [N, F]
// input is F x 1 x 1), a single chain of supported ops to the one graph output. Throws
// config_error naming the file, the node and the problem otherwise.
network load_onnx(const std::string& path);

// Float reference forward pass of one image (input: net.input.size() values, C,H,W order).
// Returns the output of the last layer.
std::vector<float> forward(const network& net, const float* input);

// The same, keeping every layer's output: result[i] is the output of net.layers[i] (used to
// calibrate quantisation ranges).
std::vector<std::vector<float>> forward_all(const network& net, const float* input);

// Throws config_error unless the network's input is 1 x rows x cols of the images.
void check_input(const network& net, const idx_images& images);

}  // namespace axsa::sw
