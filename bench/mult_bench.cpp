// Benchmark: PE-cycles per second of the structural 28x28 array with the exact multiplier (native
// products) and with each approximate multiplier through its product table, in one run, as JSON.
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
};

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
      array.set_multiplier(mult.get());
      std::vector<double> times;
      for (int i = 0; i < repeat; ++i) {
        const auto t0 = clock_type::now();
        cycles = array.run(job);
        times.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
      }
      std::sort(times.begin(), times.end());
      best_seconds.push_back(times[times.size() / 2]);
      std::shared_ptr<const axsa::hw::multiplier> ref;
      if (spec.name != "exact") ref = axsa::rtl::make_behavioural(axsa::rtl::find_entry(spec.name));
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
  std::string runs = "[";
  bool all_match = true;
  double worst_table_ratio = 1e9;
  for (std::size_t i = 0; i < top.runs.size(); ++i) {
    const auto& spec = top.runs[i].first;
    const double rate = pe * static_cast<double>(top.cycles) / top.best_seconds[i];
    json_object o;
    o.add("mult", spec.name).add("eval", spec.name == "exact" ? "native" : (spec.mode == axsa::rtl::eval_mode::rtl ? "rtl" : "table"));
    o.add("median_seconds", top.best_seconds[i]).add("pe_cycles_per_second", rate);
    o.add("ratio_to_exact", rate / exact_rate).add("match", static_cast<bool>(top.matches[i]));
    all_match = all_match && top.matches[i];
    if (spec.name != "exact" && spec.mode == axsa::rtl::eval_mode::table) worst_table_ratio = std::min(worst_table_ratio, rate / exact_rate);
    runs += (runs.size() > 1 ? ", " : "") + o.str();
  }
  runs += "]";
  json_object result;
  result.add("benchmark", "multipliers").add("rows", cfg.rows).add("cols", cfg.cols).add("bits", cfg.data_bits);
  result.add("m", std::uint64_t{shape.m}).add("k", std::uint64_t{shape.k}).add("n", std::uint64_t{shape.n});
  result.add("cycles", top.cycles).add("table_kernel", axsa::hw::kernels::table_kernel_name());
  result.raw("runs", runs).add("worst_table_ratio_to_exact", worst_table_ratio);
  if (exhaustive) {
    std::string checks = "[";
    for (const auto& e : axsa::rtl::registered_entries()) {
      if (std::string(e.origin) != "axsa" || e.bits != 12) continue;
      const auto o = exhaustive_check(e);
      all_match = all_match && o.str().find("\"mismatches\": 0,") != std::string::npos;
      checks += (checks.size() > 1 ? ", " : "") + o.str();
    }
    result.raw("exhaustive_12bit", checks + "]");
  }
  std::cout << result.str() << std::endl;
  return all_match ? 0 : 1;
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
