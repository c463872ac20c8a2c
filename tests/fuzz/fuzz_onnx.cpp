// libFuzzer target: the ONNX reader (libonnx: protobuf parse, checker, shape inference) and the graph
// import (sw/network.h) on one model's bytes. External data is refused (no model folder). A model it
// imports must chain its shapes, and a small one is run through the float forward pass.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sw/network.h"
#include "sw/onnx_reader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  axsa::fuzz::expect_clean([&] {
    const axsa::sw::onnx::model m = axsa::sw::onnx::parse_model(data, size, "fuzz.onnx");
    const axsa::sw::network net = axsa::sw::import_onnx(m, "fuzz.onnx");
    if (net.layers.empty()) axsa::fuzz::finding("imported a network without layers");
    std::size_t work = 0;
    for (std::size_t i = 0; i < net.layers.size(); ++i) {
      const auto& want = i == 0 ? net.input : net.layers[i - 1].out;
      if (net.layers[i].in != want) axsa::fuzz::finding("imported layer " + std::to_string(i) + "'s input shape breaks the chain");
      work += net.layers[i].in.size() + net.layers[i].out.size();
    }
    if (work <= (1u << 16)) {
      const std::vector<float> input(net.input.size(), 0.5f);
      const auto out = axsa::sw::forward(net, input.data());
      if (out.size() != net.classes()) axsa::fuzz::finding("forward pass gives " + std::to_string(out.size()) + " outputs");
    }
  });
  return 0;
}
