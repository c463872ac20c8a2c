// Benchmark: simulated PE-cycles per second of the SystemC array with either cycle engine (fast:
// array_core; structural: pe modules) against the plain C++ cycle loop of bench/plain_loop.h on
// the same GEMM, as one JSON object. Both results are checked against the reference GEMM.
//   axsa_bench_array [--rows 28 --cols 28 --bits 8 --m 56 --k 8192 --n 56 --repeat 5 --structural 0|1]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <systemc>

#include "bench/plain_loop.h"
#include "hw/systolic_array.h"
#include "hw/tabled_multiplier.h"
#include "sw/gemm_workload.h"
#include "bench/timed_array.h"
#include "testbench/json.h"

namespace {

using axsa::bench::clock_type;
using axsa::bench::median;
using bench_top = axsa::bench::timed_array;

}  // namespace

int sc_main(int argc, char* argv[]) {
  axsa::hw::array_config cfg;
  axsa::hw::gemm_shape shape{56, 8192, 56};
  int repeat = 5;
  bool tabled = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (key == "--rows") cfg.rows = static_cast<unsigned>(v);
    else if (key == "--cols") cfg.cols = static_cast<unsigned>(v);
    else if (key == "--bits") cfg.data_bits = static_cast<unsigned>(v);
    else if (key == "--m") shape.m = static_cast<std::size_t>(v);
    else if (key == "--k") shape.k = static_cast<std::size_t>(v);
    else if (key == "--n") shape.n = static_cast<std::size_t>(v);
    else if (key == "--repeat") repeat = static_cast<int>(v);
    else if (key == "--table") tabled = v != 0;
    else if (key == "--structural") cfg.engine = v != 0 ? axsa::hw::engine_kind::structural : axsa::hw::engine_kind::fast;
    else {
      std::cerr << "axsa_bench_array: error: unknown option " << key << "\n";
      return 2;
    }
  }
  try {
    cfg.validate();
    shape.validate();
  } catch (const axsa::config_error& e) {
    std::cerr << "axsa_bench_array: error: " << e.what() << "\n";
    return 2;
  }
  if (repeat < 1) repeat = 1;
  const auto work = axsa::sw::make_workload(shape, cfg.data_bits, axsa::sw::operand_fill::random, 42);
  const auto expected = axsa::sw::reference_gemm(work, cfg.acc_bits);

  std::vector<std::int64_t> out_model(shape.m * shape.n), out_plain(shape.m * shape.n);
  bench_top top("top", cfg, {shape, work.act.data(), work.weight.data(), out_model.data()}, repeat);
  // A table of exact products, flagged inexact so the array takes the table path.
  struct table_exact final : axsa::hw::multiplier {
    std::string name() const override { return "table_exact"; }
    unsigned bits() const override { return 16; }
    std::int32_t multiply(std::int32_t a, std::int32_t b) const override { return a * b; }
  };
  std::unique_ptr<axsa::hw::tabled_multiplier> table;
  if (tabled) {
    table = std::make_unique<axsa::hw::tabled_multiplier>(std::make_shared<table_exact>(), cfg.data_bits);
    top.array.set_multiplier(table.get());
  }
  sc_core::sc_start();

  std::vector<double> plain_seconds;
  std::uint64_t plain_cycles = 0;
  axsa::bench::plain_loop_array<std::uint32_t> plain(cfg.rows, cfg.cols, cfg.acc_bits);
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = clock_type::now();
    plain_cycles = plain.run(shape, work.act.data(), work.weight.data(), out_plain.data());
    plain_seconds.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
  }

  const double pe = static_cast<double>(cfg.rows) * cfg.cols;
  const double model_rate = pe * static_cast<double>(top.cycles) / median(top.seconds);
  const double plain_rate = pe * static_cast<double>(plain_cycles) / median(plain_seconds);
  axsa::cli::json_object model, base, o;
  model.add("cycles", top.cycles).add("median_seconds", median(top.seconds)).add("pe_cycles_per_second", model_rate);
  model.add("match", out_model == expected);
  base.add("cycles", plain_cycles).add("median_seconds", median(plain_seconds)).add("pe_cycles_per_second", plain_rate);
  base.add("match", out_plain == expected);
  o.add("benchmark", "array").add("rows", cfg.rows).add("cols", cfg.cols).add("bits", cfg.data_bits);
  o.add("m", std::uint64_t{shape.m}).add("k", std::uint64_t{shape.k}).add("n", std::uint64_t{shape.n});
  o.add("repeat", static_cast<unsigned>(repeat));
  o.add("engine", axsa::hw::to_string(cfg.engine));
  o.add("model", model).add("plain_loop", base);
  o.add("ratio_model_over_plain", model_rate / plain_rate);
  std::cout << o.str() << std::endl;
  return (out_model == expected && out_plain == expected && top.cycles == plain_cycles) ? 0 : 1;
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
