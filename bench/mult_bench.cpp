// Benchmark: PE-cycles per second of the structural 28x28 array with the exact multiplier (native
// products) and with each approximate multiplier through its product table, in one run, as JSON.
// It also runs exact8 through its product table (the design for N <= 12; the array
// normally recognises an exact table and multiplies natively), and times the two MAC kernels
// alone on one array's worth of PEs, which bounds the table/native ratio any engine built on
// them can reach: (overhead + native) / (overhead + table), overhead being the engine's
// per-PE-cycle cost outside the MAC.
// With --exhaustive it also checks every 12-bit in-house design on all 2^24 operand pairs
// (verilated model vs behavioural model vs product table) and reports the time taken.
//   axsa_bench_mult [--rows 28 --cols 28 --m 56 --k 8192 --n 56 --repeat 5] [--exhaustive]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <systemc>

#include "hw/systolic_array.h"
#include "hw/mac_kernels.h"
#include "rtl/mult_registry.h"
#include "sw/gemm_workload.h"
#include "testbench/json.h"

namespace {

using clock_type = std::chrono::steady_clock;
using axsa::cli::json_object;

struct run_spec {
  std::string name;  // "exact" or a registry name
  axsa::rtl::eval_mode mode;
  bool force_table = false;  // an exact multiplier looked up in its table instead of multiplied natively
};

// Presents an exact tabled multiplier as inexact, so that the array uses its product table.
class table_only final : public axsa::hw::multiplier {
 public:
  explicit table_only(std::shared_ptr<const axsa::hw::multiplier> inner) : m_inner(std::move(inner)) {}
  std::string name() const override { return m_inner->name(); }
  unsigned bits() const override { return m_inner->bits(); }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override { return m_inner->multiply(a, b); }
  const std::int32_t* product_table(unsigned data_bits) const override { return m_inner->product_table(data_bits); }

 private:
  std::shared_ptr<const axsa::hw::multiplier> m_inner;
};

// Nanoseconds per product of a MAC kernel over one array's worth of PEs, with operands that
// move like the array's links (a fresh pair enters each step) so the table sees a random walk.
template <class Kernel>
double kernel_ns_per_product(std::size_t pes, Kernel kernel) {
  std::vector<std::int16_t> act(pes), wgt(pes);
  std::vector<std::uint32_t> acc(pes, 0);
  std::uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<std::int16_t>(static_cast<std::int8_t>(state >> 24));
  };
  for (std::size_t i = 0; i < pes; ++i) act[i] = next(), wgt[i] = next();
  const int steps = 20000;
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = clock_type::now();
    for (int s = 0; s < steps; ++s) {
      kernel(acc.data(), act.data(), wgt.data(), pes);
      act[static_cast<std::size_t>(s) % pes] = next();
      wgt[static_cast<std::size_t>(s * 7) % pes] = next();
    }
    best = std::min(best, std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  volatile std::uint32_t sink = acc[0];
  (void)sink;
  return best * 1e9 / (static_cast<double>(steps) * static_cast<double>(pes));
}

class bench_top : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(bench_top);
  bench_top(const sc_core::sc_module_name& n, const axsa::hw::array_config& cfg) : sc_core::sc_module(n), array("array", cfg) {
    SC_THREAD(host);
  }
  axsa::hw::systolic_array array;
  axsa::hw::gemm_job job{};
  std::vector<std::pair<run_spec, std::shared_ptr<const axsa::hw::multiplier>>> runs;
  int repeat = 5;
  std::vector<double> best_seconds;
  std::uint64_t cycles = 0;
  std::vector<bool> matches;
  const axsa::sw::gemm_workload* work = nullptr;
  unsigned acc_bits = 32;

 private:
  void host() {
    for (const auto& [spec, mult] : runs) {
      std::shared_ptr<const axsa::hw::multiplier> used = mult;
      if (spec.force_table) used = std::make_shared<table_only>(mult);
      array.set_multiplier(used.get());
      std::vector<double> times;
      for (int i = 0; i < repeat; ++i) {
        const auto t0 = clock_type::now();
        cycles = array.run(job);
        times.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
      }
      std::sort(times.begin(), times.end());
      best_seconds.push_back(times[times.size() / 2]);
      std::shared_ptr<const axsa::hw::multiplier> ref;
      if (spec.name != "exact" && !spec.force_table) ref = axsa::rtl::make_behavioural(axsa::rtl::find_entry(spec.name));
      const auto expected = axsa::sw::reference_gemm(*work, acc_bits, ref.get());
      matches.push_back(std::equal(expected.begin(), expected.end(), job.out));
    }
  }
};

json_object exhaustive_check(const axsa::rtl::mult_entry& e) {
  const auto t0 = clock_type::now();
  const auto full = axsa::rtl::full_table(e);  // from the verilated model (or its cache)
  const axsa::rtl::verilated_multiplier rtl(e);
  const auto beh = axsa::rtl::make_behavioural(e);
  const unsigned n = e.bits;
  const unsigned shift = 32 - n;
  std::uint64_t bad = 0;
  for (std::uint32_t ua = 0; ua < (1u << n); ++ua) {
    const auto a = static_cast<std::int32_t>(ua << shift) >> shift;
    for (std::uint32_t ub = 0; ub < (1u << n); ++ub) {
      const auto b = static_cast<std::int32_t>(ub << shift) >> shift;
      const std::int32_t r = rtl.multiply(a, b);
      bad += (r != beh->multiply(a, b)) || (r != full[(static_cast<std::size_t>(ua) << n) | ub]);
    }
  }
  json_object o;
  o.add("name", e.name).add("pairs", std::uint64_t{1} << (2 * n)).add("mismatches", bad);
  o.add("seconds", std::chrono::duration<double>(clock_type::now() - t0).count());
  return o;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  axsa::hw::array_config cfg;
  axsa::hw::gemm_shape shape{56, 8192, 56};
  int repeat = 5;
  bool exhaustive = false;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--exhaustive") {
      exhaustive = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "axsa_bench_mult: error: " << key << " needs a value\n";
      return 2;
    }
    const long long v = std::atoll(argv[++i]);
    if (key == "--rows") cfg.rows = static_cast<unsigned>(v);
    else if (key == "--cols") cfg.cols = static_cast<unsigned>(v);
    else if (key == "--m") shape.m = static_cast<std::size_t>(v);
    else if (key == "--k") shape.k = static_cast<std::size_t>(v);
    else if (key == "--n") shape.n = static_cast<std::size_t>(v);
    else if (key == "--repeat") repeat = std::max(1, static_cast<int>(v));
    else {
      std::cerr << "axsa_bench_mult: error: unknown option " << key << "\n";
      return 2;
    }
  }
  try {
    cfg.validate();
    shape.validate();
  } catch (const axsa::config_error& e) {
    std::cerr << "axsa_bench_mult: error: " << e.what() << "\n";
    return 2;
  }

  const auto work = axsa::sw::make_workload(shape, cfg.data_bits, axsa::sw::operand_fill::random, 42);
  std::vector<std::int64_t> out(shape.m * shape.n);
  bench_top top("top", cfg);
  top.job = {shape, work.act.data(), work.weight.data(), out.data()};
  top.repeat = repeat;
  top.work = &work;
  top.acc_bits = cfg.acc_bits;
  top.runs.push_back({{"exact", axsa::rtl::eval_mode::table}, nullptr});
  top.runs.push_back({{"exact8", axsa::rtl::eval_mode::table, true},
                      axsa::rtl::make_multiplier("exact8", cfg.data_bits, axsa::rtl::eval_mode::table)});
  for (const auto& e : axsa::rtl::registered_entries()) {
    if (std::string(e.origin) != "axsa" || e.bits > 12 || std::string(e.module) == "axsa_mul_exact") continue;
    top.runs.push_back({{e.name, axsa::rtl::eval_mode::table},
                        axsa::rtl::make_multiplier(e.name, cfg.data_bits, axsa::rtl::eval_mode::table)});
  }
  top.runs.push_back({{"drum8_k4", axsa::rtl::eval_mode::rtl},
                      axsa::rtl::make_multiplier("drum8_k4", cfg.data_bits, axsa::rtl::eval_mode::rtl)});
  sc_core::sc_start();

  const double pe = static_cast<double>(cfg.rows) * cfg.cols;
  const double exact_rate = pe * static_cast<double>(top.cycles) / top.best_seconds[0];
  const double table_exact_rate = pe * static_cast<double>(top.cycles) / top.best_seconds[1];
  axsa::cli::json_value runs = axsa::cli::json_value::array();
  bool all_match = true;
  double worst_table_ratio = 1e9, worst_table_ratio_tabled = 1e9;
  for (std::size_t i = 0; i < top.runs.size(); ++i) {
    const auto& spec = top.runs[i].first;
    const double rate = pe * static_cast<double>(top.cycles) / top.best_seconds[i];
    json_object o;
    o.add("mult", spec.name).add("eval", spec.name == "exact" ? "native" : (spec.mode == axsa::rtl::eval_mode::rtl ? "rtl" : "table"));
    o.add("median_seconds", top.best_seconds[i]).add("pe_cycles_per_second", rate);
    o.add("ratio_to_exact", rate / exact_rate).add("ratio_to_tabled_exact8", rate / table_exact_rate);
    o.add("match", static_cast<bool>(top.matches[i]));
    all_match = all_match && top.matches[i];
    if (i > 1 && spec.mode == axsa::rtl::eval_mode::table) {
      worst_table_ratio = std::min(worst_table_ratio, rate / exact_rate);
      worst_table_ratio_tabled = std::min(worst_table_ratio_tabled, rate / table_exact_rate);
    }
    runs.push_back(o.value());
  }
  json_object result;
  result.add("benchmark", "multipliers").add("rows", cfg.rows).add("cols", cfg.cols).add("bits", cfg.data_bits);
  result.add("m", std::uint64_t{shape.m}).add("k", std::uint64_t{shape.k}).add("n", std::uint64_t{shape.n});
  result.add("cycles", top.cycles).add("table_kernel", axsa::hw::kernels::table_kernel_name());
  result.add("runs", runs).add("worst_table_ratio_to_exact", worst_table_ratio);
  result.add("worst_table_ratio_to_tabled_exact8", worst_table_ratio_tabled);

  // The kernels alone, on the table of the first approximate run.
  const std::size_t pes = static_cast<std::size_t>(cfg.rows) * cfg.cols;
  const std::int32_t* table = top.runs[2].second->product_table(cfg.data_bits);
  const double native_ns = kernel_ns_per_product(pes, [](std::uint32_t* acc, const std::int16_t* a, const std::int16_t* w,
                                                         std::size_t n) { axsa::hw::kernels::mac_native(acc, a, w, n); });
  const double table_ns = kernel_ns_per_product(pes, [&](std::uint32_t* acc, const std::int16_t* a, const std::int16_t* w,
                                                        std::size_t n) {
    axsa::hw::kernels::mac_table(acc, a, w, n, table, cfg.data_bits);
  });
  const double overhead_ns = std::max(0.0, 1e9 / exact_rate - native_ns);
  json_object kern;
  kern.add("native_ns_per_product", native_ns).add("table_ns_per_product", table_ns);
  kern.add("engine_overhead_ns_per_pe_cycle", overhead_ns);
  kern.add("table_ratio_ceiling", (overhead_ns + native_ns) / (overhead_ns + table_ns));
  result.add("kernels", kern);
  if (exhaustive) {
    axsa::cli::json_value checks = axsa::cli::json_value::array();
    for (const auto& e : axsa::rtl::registered_entries()) {
      if (std::string(e.origin) != "axsa" || e.bits != 12) continue;
      const auto o = exhaustive_check(e);
      all_match = all_match && o.value().at("mismatches") == 0;
      checks.push_back(o.value());
    }
    result.add("exhaustive_12bit", checks);
  }
  std::cout << result.str() << std::endl;
  return all_match ? 0 : 1;
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
