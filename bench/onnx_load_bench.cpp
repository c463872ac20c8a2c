// Benchmark: the cost of loading an ONNX model into axsa's float network (sw::load_onnx: read,
// check, import), each model loaded `repeat` times in a row; one JSON line per model with the
// mean and best time per load (wall clock). It asserts nothing about time.
//   axsa_bench_onnx_load [--repeat 100] MODEL.onnx...   (default: models/lenet5.onnx and vgg_exits_mnist.onnx)
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sw/network.h"

int main(int argc, char* argv[]) {
  int repeat = 100;
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (arg.rfind("--", 0) == 0) {
      std::cerr << "axsa_bench_onnx_load: error: unknown option " << arg << "\n";
      return 2;
    } else {
      models.push_back(arg);
    }
  }
  if (models.empty()) {
    models = {std::string(AXSA_SOURCE_DIR) + "/models/lenet5.onnx", std::string(AXSA_SOURCE_DIR) + "/models/vgg_exits_mnist.onnx"};
  }
  try {
    for (const std::string& path : models) {
      using clock = std::chrono::steady_clock;
      double total = 0, best = 1e300;
      std::size_t layers = 0;
      for (int r = 0; r < repeat; ++r) {
        const auto start = clock::now();
        const axsa::sw::network net = axsa::sw::load_onnx(path);
        const double seconds = std::chrono::duration<double>(clock::now() - start).count();
        layers = net.layers.size();
        total += seconds;
        best = std::min(best, seconds);
      }
      nlohmann::ordered_json line;
      line["benchmark"] = "onnx_load";
      line["model"] = path;
      line["trunk_layers"] = layers;
      line["repeat"] = repeat;
      line["mean_ms"] = 1e3 * total / repeat;
      line["best_ms"] = 1e3 * best;
      std::cout << line.dump() << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "axsa_bench_onnx_load: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
