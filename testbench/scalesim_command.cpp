// axsa scalesim: a SCALE-Sim topology and config run layer by layer on the cycle-accurate array, each
// layer's GEMM checked against the plain C++ reference, reported in SCALE-Sim's COMPUTE_REPORT.csv
// columns and in AXSA_REPORT.csv beside SCALE-Sim's cycle formula (docs/scalesim.md).
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <memory>

#include <systemc>

#include "hw/systolic_array.h"
#include "rtl/mult_registry.h"
#include "sw/gemm_workload.h"
#include "sw/scalesim.h"
#include "testbench/commands.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

namespace ss = sw::scalesim;

// Operands, outputs and the reference of one layer live at once; beyond this a layer is refused
// before anything runs (the largest layers of VGG-16 or ResNet-50 need a few hundred MiB).
constexpr double max_layer_mib = 2048;

double layer_mib(const hw::gemm_shape& s) {
  const double mk = static_cast<double>(s.m) * static_cast<double>(s.k);
  const double kn = static_cast<double>(s.k) * static_cast<double>(s.n);
  const double mn = static_cast<double>(s.m) * static_cast<double>(s.n);
  return (2 * (mk + kn) + 2 * 8 * mn) / (1024.0 * 1024.0);  // int16 operands, int64 out and reference
}

struct run_settings {
  bool zeros = false;
  std::uint64_t seed = 1;
  const hw::multiplier* reference_mult = nullptr;
};

// The array and a host thread that runs the layers' GEMMs one after the other, as axsa gemm runs one.
class scalesim_testbench : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(scalesim_testbench);
  scalesim_testbench(const sc_core::sc_module_name& name, const hw::array_config& cfg, const ss::topology& topo,
                     const ss::config& scfg, const run_settings& settings)
      : sc_core::sc_module(name), array("array", cfg), m_topo(topo), m_scfg(scfg), m_settings(settings) {
    SC_THREAD(host);
  }

  hw::systolic_array array;
  std::vector<ss::layer_result> results;
  double seconds = 0;

 private:
  void host() {
    const auto t0 = std::chrono::steady_clock::now();
    const hw::array_config& cfg = array.config();
    for (std::size_t i = 0; i < m_topo.layers.size(); ++i) {
      const ss::layer& l = m_topo.layers[i];
      const hw::gemm_shape shape = l.gemm();
      sw::gemm_workload work;
      if (m_settings.zeros) {
        work.shape = shape;
        work.act.assign(shape.m * shape.k, 0);
        work.weight.assign(shape.k * shape.n, 0);
      } else {
        work = sw::make_workload(shape, cfg.data_bits, sw::operand_fill::random, m_settings.seed + i);
      }
      std::vector<std::int64_t> out(shape.m * shape.n, 0);
      const std::uint64_t cycles = array.run({shape, work.act.data(), work.weight.data(), out.data()});
      ss::layer_result r = ss::make_result(l, m_scfg, cycles);
      const std::vector<std::int64_t> expected = sw::reference_gemm(work, cfg.acc_bits, m_settings.reference_mult);
      for (std::size_t j = 0; j < out.size(); ++j) r.mismatches += out[j] != expected[j];
      r.match = r.mismatches == 0;
      results.push_back(std::move(r));
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  const ss::topology& m_topo;
  const ss::config& m_scfg;
  run_settings m_settings;
};

void print_table(std::ostream& os, const ss::topology& topo, const ss::config& scfg, const hw::array_config& cfg,
                 const std::string& mult, const std::vector<ss::layer_result>& results, const std::string& out_dir) {
  os << "topology   " << topo.file << " (" << topo.layers.size() << " layers)\n"
     << "config     " << scfg.file << ": run '" << scfg.run_name << "', " << cfg.rows << "x" << cfg.cols << ", "
     << hw::to_string(cfg.dataflow) << ", W=" << cfg.data_bits << ", A=" << cfg.acc_bits << ", multiplier " << mult
     << ", " << hw::to_string(cfg.engine) << " engine\n\n";
  std::size_t name_width = 5;
  for (const auto& r : results) name_width = std::max(name_width, r.name.size());
  os << std::left << std::setw(static_cast<int>(name_width)) << "layer" << std::right << std::setw(9) << "M"
     << std::setw(8) << "K" << std::setw(7) << "N" << std::setw(8) << "folds" << std::setw(11) << "cycles"
     << std::setw(11) << "scale-sim" << std::setw(8) << "offset" << std::setw(12) << "documented" << std::setw(9)
     << "util %" << "  result\n";
  std::uint64_t total = 0, total_formula = 0;
  for (const auto& r : results) {
    total += r.cycles;
    total_formula += r.formula;
    os << std::left << std::setw(static_cast<int>(name_width)) << r.name << std::right << std::setw(9) << r.shape.m
       << std::setw(8) << r.shape.k << std::setw(7) << r.shape.n << std::setw(8) << r.folds << std::setw(11) << r.cycles
       << std::setw(11) << r.formula << std::setw(8) << r.offset() << std::setw(12) << r.documented << std::setw(9)
       << std::fixed << std::setprecision(2) << r.overall_util << std::defaultfloat << "  "
       << (r.match ? "match" : "MISMATCH (" + std::to_string(r.mismatches) + " outputs)") << '\n';
  }
  os << std::left << std::setw(static_cast<int>(name_width)) << "total" << std::right << std::setw(43) << total
     << std::setw(11) << total_formula << '\n'
     << "\nreports    " << (std::filesystem::path(out_dir) / "COMPUTE_REPORT.csv").string() << ", "
     << (std::filesystem::path(out_dir) / "AXSA_REPORT.csv").string() << '\n';
}

}  // namespace

int run_scalesim(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("topology", po::value<std::string>(), "SCALE-Sim convolution topology CSV (required)")
    ("config", po::value<std::string>(), "SCALE-Sim .cfg: ArrayHeight, ArrayWidth and Dataflow (os or ws) (required)")
    ("out", po::value<std::string>(), "folder for COMPUTE_REPORT.csv and AXSA_REPORT.csv, created if missing (required)")
    ("data", po::value<std::string>()->default_value("random"),
     "operands: random (uniform over the signed W-bit range, seeded per layer) or zeros")
    ("seed", po::value<long long>()->default_value(1), "seed of the random operands; layer i (from 0) uses seed + i")
    ("bits", po::value<long long>()->default_value(8), "data width W of weights and activations (2..16)")
    ("acc-bits", po::value<long long>()->default_value(32), "accumulator width A (2..64), wraps on overflow")
    ("mult", po::value<std::string>()->default_value("exact"),
     "multiplier in the PEs: exact (native) or a registered name (axsa multipliers)")
    ("engine", po::value<std::string>()->default_value("fast"), "cycle engine: fast or structural")
    ("json", "print one JSON object instead of the table");
  po::variables_map vm;
  if (!parse_command("scalesim",
                     "Runs every layer of a SCALE-Sim topology as a GEMM (M = output pixels, K = filter window,\n"
                     "N = filters; no padding, as SCALE-Sim) on the cycle-accurate array the config describes,\n"
                     "checks each against a plain C++ reference GEMM, and writes DIR/COMPUTE_REPORT.csv (SCALE-Sim's\n"
                     "columns) and DIR/AXSA_REPORT.csv (axsa's cycles beside SCALE-Sim's formula and the documented\n"
                     "offset; docs/scalesim.md). Exit 0 when every layer matches the reference and its cycles equal\n"
                     "the formula plus the documented offset, 1 otherwise, 2 for bad options or files.",
                     desc, args, vm)) {
    return 0;
  }
  for (const char* required : {"topology", "config", "out"}) {
    if (!vm.count(required)) throw config_error(std::string("--") + required + " is required (see axsa scalesim --help)");
  }
  const std::string data = vm["data"].as<std::string>();
  if (data != "random" && data != "zeros") throw config_error("--data must be random or zeros (got '" + data + "')");
  const std::string out_dir = vm["out"].as<std::string>();
  if (out_dir.empty()) throw config_error("--out must name a folder (got an empty path)");
  const std::string mult_name = vm["mult"].as<std::string>();
  const bool json = vm.count("json") > 0;

  const ss::topology topo = ss::read_topology(vm["topology"].as<std::string>());
  const ss::config scfg = ss::read_config(vm["config"].as<std::string>());
  hw::array_config cfg;
  cfg.rows = scfg.rows;
  cfg.cols = scfg.cols;
  cfg.dataflow = scfg.dataflow;
  cfg.data_bits = static_cast<unsigned>(ranged(vm, "bits", 2, 16));
  cfg.acc_bits = static_cast<unsigned>(ranged(vm, "acc-bits", 2, 64));
  cfg.engine = hw::parse_engine(vm["engine"].as<std::string>());
  cfg.validate();
  run_settings settings;
  settings.zeros = data == "zeros";
  settings.seed = ranged(vm, "seed", 0, std::numeric_limits<long long>::max() / 2);
  for (const auto& l : topo.layers) {
    const double mib = layer_mib(l.gemm());
    if (mib > max_layer_mib) {
      throw config_error(topo.file + ": line " + std::to_string(l.line) + ", layer '" + l.name + "': its GEMM needs " +
                         std::to_string(static_cast<long long>(mib)) + " MiB of operands and results (at most " +
                         std::to_string(static_cast<long long>(max_layer_mib)) + " MiB)");
    }
  }

  // The array's multiplier and the reference's, as axsa gemm chooses them: the behavioural C++ model
  // of an in-house design, the verilated model for circuits without one, plain products for exact.
  std::shared_ptr<const hw::multiplier> array_mult, reference_mult;
  if (mult_name != "exact") {
    array_mult = rtl::make_multiplier(mult_name, cfg.data_bits, rtl::eval_mode::table);
    reference_mult = rtl::make_behavioural(rtl::find_entry(mult_name));
    if (!reference_mult) reference_mult = rtl::make_multiplier(mult_name, cfg.data_bits, rtl::eval_mode::rtl);
  }
  settings.reference_mult = reference_mult.get();

  // The folder comes first, so a run never ends without a place for its reports.
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec || !std::filesystem::is_directory(out_dir)) {
    throw config_error("--out '" + out_dir + "': cannot create the folder" + (ec ? ": " + ec.message() : ": a file of that name exists"));
  }

  scalesim_testbench tb("top", cfg, topo, scfg, settings);
  tb.array.set_multiplier(array_mult.get());
  sc_core::sc_start();
  const auto& results = tb.results;
  if (results.size() != topo.layers.size()) throw std::runtime_error("the host thread stopped before the last layer");

  const std::string compute_path = (std::filesystem::path(out_dir) / "COMPUTE_REPORT.csv").string();
  const std::string axsa_path = (std::filesystem::path(out_dir) / "AXSA_REPORT.csv").string();
  ss::write_compute_report(compute_path, results);
  ss::write_axsa_report(axsa_path, scfg, results);

  bool all_match = true, on_formula = true;
  std::uint64_t total = 0, total_formula = 0;
  for (const auto& r : results) {
    all_match = all_match && r.match;
    on_formula = on_formula && r.offset() == static_cast<std::int64_t>(r.documented);
    total += r.cycles;
    total_formula += r.formula;
  }
  if (json) {
    json_object o;
    o.add("topology", topo.file).add("config", scfg.file).add("run_name", scfg.run_name);
    o.add("rows", cfg.rows).add("cols", cfg.cols).add("dataflow", hw::to_string(cfg.dataflow));
    o.add("bits", cfg.data_bits).add("acc_bits", cfg.acc_bits).add("mult", mult_name);
    o.add("engine", hw::to_string(cfg.engine)).add("data", data).add("seed", settings.seed);
    o.add("out", out_dir).add("compute_report", compute_path).add("axsa_report", axsa_path);
    o.add("cycles", total).add("cycles_formula", total_formula);
    o.add("match", all_match).add("on_formula", on_formula).add("wall_seconds", tb.seconds);
    json_value layers = json_value::array();
    for (const auto& r : results) {
      json_object lo;
      lo.add("name", r.name).add("m", std::uint64_t{r.shape.m}).add("k", std::uint64_t{r.shape.k});
      lo.add("n", std::uint64_t{r.shape.n}).add("folds", r.folds).add("cycles", r.cycles);
      lo.add("scalesim_cycles", r.formula).add("offset", r.offset()).add("documented_offset", r.documented);
      lo.add("overall_util", r.overall_util).add("mapping_efficiency", r.mapping_efficiency);
      lo.add("compute_util", r.compute_util).add("match", r.match).add("mismatches", r.mismatches);
      layers.push_back(lo.value());
    }
    o.add("layers", layers);
    std::cout << o.str() << std::endl;
  } else {
    print_table(std::cout, topo, scfg, cfg, mult_name, results, out_dir);
  }
  if (!all_match) std::cerr << "axsa scalesim: a layer's result differs from the reference GEMM (see the result column)\n";
  if (!on_formula) {
    std::cerr << "axsa scalesim: a layer's cycles differ from SCALE-Sim's formula plus the documented offset\n";
  }
  return all_match && on_formula ? 0 : 1;
}

}  // namespace axsa::cli
