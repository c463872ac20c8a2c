// Benchmark: the cost of counting activity (hw/activity.h). The fast engine (array_core, stepped
// directly) and the functional twin run the same GEMMs with counting on and off, interleaved, best
// of `repeat` runs each (thread CPU time); one JSON line per GEMM with both times and their ratio. Results with and
// without counting are checked equal. It asserts nothing about time.
//   axsa_bench_activity [--repeat 5] [--table 0|1]   (--table 1: drum8_k4's product table)
#include <algorithm>
#include <ctime>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "hw/array_core.h"
#include "rtl/mult_registry.h"
#include "sw/functional_engine.h"
#include "sw/gemm_workload.h"
#include "testbench/json.h"

namespace {

// Thread CPU time: a run's own cost, less disturbed than wall time when other work shares the cores.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char* argv[]) {
  int repeat = 5;
  bool tabled = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (key == "--repeat") repeat = static_cast<int>(std::max(1ll, v));
    else if (key == "--table") tabled = v != 0;
    else {
      std::cerr << "axsa_bench_activity: error: unknown option " << key << "\n";
      return 2;
    }
  }
  struct run_case {
    const char* name;
    unsigned rows, cols;
    axsa::hw::gemm_shape shape;
  };
  // LeNet-5's convolutions for a batch of 28 images on 28x28, a dense layer, and a long-K GEMM.
  const std::vector<run_case> cases = {{"lenet_conv1_b28", 28, 28, {28 * 576, 25, 6}},
                                       {"lenet_conv2_b28", 28, 28, {28 * 64, 150, 16}},
                                       {"lenet_fc1_b28", 28, 28, {28, 400, 120}},
                                       {"square_k8192", 28, 28, {56, 8192, 56}}};
  for (const auto& c : cases) {
    axsa::hw::array_config cfg;
    cfg.rows = c.rows;
    cfg.cols = c.cols;
    const auto work = axsa::sw::make_workload(c.shape, cfg.data_bits, axsa::sw::operand_fill::random, 7);
    std::shared_ptr<const axsa::hw::multiplier> mult;
    if (tabled) mult = axsa::rtl::make_multiplier("drum8_k4", cfg.data_bits, axsa::rtl::eval_mode::table);
    axsa::hw::array_core core(cfg);
    core.set_multiplier(mult.get());
    axsa::sw::functional_engine twin(cfg, mult);
    std::vector<std::int64_t> out_on(c.shape.m * c.shape.n), out_off(out_on.size());
    double core_on = 1e30, core_off = 1e30, twin_on = 1e30, twin_off = 1e30;
    for (int r = 0; r < repeat; ++r) {
      for (const bool on : {true, false}) {
        core.set_counting(on);
        double t0 = cpu_now();
        core.start({c.shape, work.act.data(), work.weight.data(), on ? out_on.data() : out_off.data()});
        core.run();
        (on ? core_on : core_off) = std::min(on ? core_on : core_off, cpu_now() - t0);
        twin.set_counting(on);
        t0 = cpu_now();
        twin.gemm(c.shape, work.act.data(), work.weight.data(), on ? out_on.data() : out_off.data(), nullptr);
        (on ? twin_on : twin_off) = std::min(on ? twin_on : twin_off, cpu_now() - t0);
      }
    }
    if (out_on != out_off) {
      std::cerr << "axsa_bench_activity: error: results differ with counting on and off (" << c.name << ")\n";
      return 1;
    }
    axsa::cli::json_object o;
    o.add("gemm", c.name).add("m", std::uint64_t{c.shape.m}).add("k", std::uint64_t{c.shape.k});
    o.add("n", std::uint64_t{c.shape.n}).add("array", std::to_string(c.rows) + "x" + std::to_string(c.cols));
    o.add("products", tabled ? "table (drum8_k4)" : "native");
    o.add("fast_counting_s", core_on).add("fast_plain_s", core_off).add("fast_ratio", core_on / core_off);
    o.add("twin_counting_s", twin_on).add("twin_plain_s", twin_off).add("twin_ratio", twin_on / twin_off);
    std::cout << o.str() << std::endl;
  }
  return 0;
}
