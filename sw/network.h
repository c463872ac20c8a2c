// A float network imported from ONNX: the chain of layers axsa can map onto the array (conv, dense,
// ReLU, max/average pooling, flatten, softmax) with weights, shapes and padding made explicit, plus
// a plain float forward pass (NCHW, one image) that checks the import against the exporter's own
// accuracy. A multi-exit network is a trunk (the chain to its deepest output) with exit heads, each a
// chain of its own that branches off the trunk and ends in a class vector. Anything outside that
// subset (other ops, paths that merge again, cycles) is a config_error naming the op and node.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "hw/array_config.h"  // config_error, which every function here throws
#include "sw/idx.h"

namespace axsa::sw {

namespace onnx {
struct model;  // sw/onnx_reader.h
}

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

// An internal exit: a chain of layers fed by the trunk's activation after `branch` trunk layers
// (the image when 0), ending in the classes of the final exit.
struct exit_head {
  std::string output;         // its graph output
  std::size_t branch = 0;     // trunk layers that run before it
  std::vector<layer> layers;  // the head, ending in a class vector
};

struct network {
  std::string source;  // the file it was imported from
  tensor_shape input;
  std::vector<layer> layers;       // the trunk: from the input to the final (last) graph output
  std::string output;              // the trunk's graph output
  std::vector<exit_head> exits;    // internal exits, shallowest branch first; empty for a plain chain

  std::size_t classes() const;  // size of the last layer's output
  std::size_t exit_count() const { return exits.size() + 1; }  // internal exits plus the final one
  // Graph output name of exit e (0 = shallowest, exit_count() - 1 = final).
  const std::string& exit_name(std::size_t e) const { return e < exits.size() ? exits[e].output : output; }
};

// Imports the model: one graph input with known C,H,W (batch may be symbolic; a rank-2 [N, F]
// input is F x 1 x 1) and supported ops. With one graph output the graph must be a single chain;
// with several (exits listed shallowest first), the last output ends the trunk and every other
// output ends an exit head, a chain branching off the trunk (heads do not branch again, nothing
// merges). Exits are ordered by where they branch off. Throws config_error
// naming the file, the node and the problem otherwise.
network load_onnx(const std::string& path);
// The import alone, of a model already read (sw/onnx_reader.h); `source` names it in messages.
network import_onnx(const onnx::model& m, const std::string& source);

// Float reference forward pass of one image (input: net.input.size() values, C,H,W order).
// Returns the output of the last layer (the final exit).
std::vector<float> forward(const network& net, const float* input);

// Every exit's output for one image, exit 0 (shallowest) first, the final exit last.
std::vector<std::vector<float>> forward_exits(const network& net, const float* input);

// The outputs of every layer of a chain fed `input` (result[i] is the output of layers[i]).
std::vector<std::vector<float>> forward_chain(const std::vector<layer>& layers, const std::vector<float>& input);

// The same, keeping every layer's output: result[i] is the output of net.layers[i] (used to
// calibrate quantisation ranges).
std::vector<std::vector<float>> forward_all(const network& net, const float* input);

// Throws config_error unless the network's input is 1 x rows x cols of the images.
void check_input(const network& net, const idx_images& images);

}  // namespace axsa::sw
