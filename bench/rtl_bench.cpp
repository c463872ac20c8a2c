// Benchmark: simulated PE-cycles per second of the SystemC model (hw::systolic_array run through
// the kernel, as in bench/array_bench.cpp) and of the verilated RTL array (rtl/array) on the same
// GEMM, as one JSON object with their ratio. The RTL is driven by the documented feed schedule
// and read only at its drain outputs, as a testbench would run it; both results are checked
// against the reference GEMM. Default: 28x28, W=8, exact8, M=N=56, K=2048.
//   axsa_bench_rtl [--rows 28 --cols 28 --bits 8 --acc-bits 32 --mult exact8 --m 56 --k 2048 --n 56 --repeat 21 --rtl-repeat 3]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <systemc>

#include "hw/systolic_array.h"
#include "rtl/array/feed_schedule.h"
#include "rtl/array/lockstep.h"
#include "rtl/array/rtl_array.h"
#include "rtl/mult_registry.h"
#include "sw/gemm_workload.h"
#include "bench/timed_array.h"
#include "testbench/json.h"

namespace {

using axsa::bench::clock_type;
using axsa::bench::median;
using bench_top = axsa::bench::timed_array;

// One GEMM on the RTL: the schedule's edge inputs every cycle, outputs collected at the drain ports.
std::uint64_t run_rtl(axsa::rtl::rtl_array& dut, const axsa::rtl::feed_schedule& schedule, std::size_t n,
                      std::vector<std::int64_t>& out) {
  axsa::rtl::feed_schedule::edges e;
  dut.reset();
  const std::uint64_t cycles = schedule.cycles();
  for (std::uint64_t c = 0; c < cycles; ++c) {
    schedule.inputs(c, e);
    for (unsigned r = 0; r < e.west.size(); ++r) dut.set_west(r, e.west[r], e.west_valid[r] != 0);
    for (unsigned j = 0; j < e.north.size(); ++j) dut.set_north(j, e.north[j], e.north_valid[j] != 0);
    dut.set_drain(e.drain);
    if (auto row = schedule.drained(c)) {
      dut.settle();
      for (unsigned j = 0; j < row->count; ++j) out[row->m * n + row->n0 + j] = dut.drain_out(j);
    }
    dut.clock();
  }
  return cycles;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  axsa::hw::array_config cfg;
  axsa::hw::gemm_shape shape{56, 2048, 56};
  std::string mult = "exact8";
  int repeat = 21, rtl_repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    const long long v = std::atoll(value.c_str());
    if (key == "--rows") cfg.rows = static_cast<unsigned>(v);
    else if (key == "--cols") cfg.cols = static_cast<unsigned>(v);
    else if (key == "--bits") cfg.data_bits = static_cast<unsigned>(v);
    else if (key == "--acc-bits") cfg.acc_bits = static_cast<unsigned>(v);
    else if (key == "--mult") mult = value;
    else if (key == "--m") shape.m = static_cast<std::size_t>(v);
    else if (key == "--k") shape.k = static_cast<std::size_t>(v);
    else if (key == "--n") shape.n = static_cast<std::size_t>(v);
    else if (key == "--repeat") repeat = static_cast<int>(v);
    else if (key == "--rtl-repeat") rtl_repeat = static_cast<int>(v);
    else {
      std::cerr << "axsa_bench_rtl: error: unknown option " << key << "\n";
      return 2;
    }
  }
  try {
    cfg.validate();
    shape.validate();
  } catch (const axsa::config_error& e) {
    std::cerr << "axsa_bench_rtl: error: " << e.what() << "\n";
    return 2;
  }
  repeat = std::max(repeat, 1);
  rtl_repeat = std::max(rtl_repeat, 1);

  axsa::cli::json_object o;
  o.add("benchmark", "rtl").add("rows", cfg.rows).add("cols", cfg.cols).add("bits", cfg.data_bits);
  o.add("acc_bits", cfg.acc_bits).add("mult", mult);
  o.add("m", std::uint64_t{shape.m}).add("k", std::uint64_t{shape.k}).add("n", std::uint64_t{shape.n});
  const axsa::rtl::array_entry* entry = axsa::rtl::find_array(cfg.rows, cfg.cols, cfg.data_bits, cfg.acc_bits, mult);
  const std::string wanted = std::to_string(cfg.rows) + "x" + std::to_string(cfg.cols) + "x" +
                             std::to_string(cfg.data_bits) + (cfg.acc_bits == 32 ? "" : "x" + std::to_string(cfg.acc_bits)) +
                             ":" + mult;
  if (!entry) {
    o.add("rtl_built", false);
    o.add("note", "the RTL configuration " + wanted + " is not built (built: " + axsa::rtl::built_array_list() +
                      "); configure with -DAXSA_RTL_CONFIGS=\"...;" + wanted + "\" to measure it (docs/rtl.md)");
    std::cout << o.str() << std::endl;
    return 0;
  }
  o.add("rtl_built", true).add("rtl_config", entry->name);

  const auto work = axsa::sw::make_workload(shape, cfg.data_bits, axsa::sw::operand_fill::random, 42);
  const auto model_mult = axsa::rtl::model_multiplier(*entry);
  auto reference_mult = axsa::rtl::make_behavioural(axsa::rtl::find_entry(mult));
  if (!reference_mult) reference_mult = axsa::rtl::make_multiplier(mult, cfg.data_bits, axsa::rtl::eval_mode::rtl);
  const auto expected = axsa::sw::reference_gemm(work, cfg.acc_bits, reference_mult.get());

  // The SystemC model, through the kernel.
  std::vector<std::int64_t> out_model(shape.m * shape.n), out_rtl(shape.m * shape.n);
  bench_top top("top", cfg, {shape, work.act.data(), work.weight.data(), out_model.data()}, repeat);
  top.array.set_multiplier(model_mult.get());
  sc_core::sc_start();

  // The RTL.
  const axsa::rtl::feed_schedule schedule(cfg.rows, cfg.cols, shape, work.act.data(), work.weight.data());
  auto dut = entry->make();
  std::vector<double> rtl_seconds;
  std::uint64_t rtl_cycles = 0;
  for (int i = 0; i < rtl_repeat; ++i) {
    const auto t0 = clock_type::now();
    rtl_cycles = run_rtl(*dut, schedule, shape.n, out_rtl);
    rtl_seconds.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
  }

  const double pe = static_cast<double>(cfg.rows) * cfg.cols;
  const double model_rate = pe * static_cast<double>(top.cycles) / median(top.seconds);
  const double rtl_rate = pe * static_cast<double>(rtl_cycles) / median(rtl_seconds);
  axsa::cli::json_object model, rtl;
  model.add("engine", "hw::systolic_array (SystemC kernel)").add("repeat", static_cast<unsigned>(repeat));
  model.add("cycles", top.cycles).add("median_seconds", median(top.seconds)).add("pe_cycles_per_second", model_rate);
  model.add("match", out_model == expected);
  rtl.add("engine", "verilated axsa_array").add("repeat", static_cast<unsigned>(rtl_repeat));
  rtl.add("cycles", rtl_cycles).add("median_seconds", median(rtl_seconds)).add("pe_cycles_per_second", rtl_rate);
  rtl.add("match", out_rtl == expected);
  o.add("systemc_model", model).add("rtl", rtl);
  o.add("ratio_model_over_rtl", model_rate / rtl_rate);
  o.add("model_at_least_as_fast", model_rate >= rtl_rate);
  std::cout << o.str() << std::endl;
  return (out_model == expected && out_rtl == expected && top.cycles == rtl_cycles) ? 0 : 1;
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
