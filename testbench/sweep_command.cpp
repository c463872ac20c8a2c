// axsa sweep: a grid of array sizes x data widths x multipliers on a CNN and MNIST, each
// configuration's cycles, utilisation, accuracy, energy, area proxy and (optionally) critical fault
// share stored in SQLite or CSV as it finishes (docs/sweep.md). The grid runs in faults/sweep.h;
// this command parses options and prints the results.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "faults/sweep.h"
#include "faults/sweep_store.h"
#include "testbench/commands.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

// A number as json_object writes it, or null when absent.
json_value optional_json(const std::optional<double>& v) { return v ? json_number(*v) : json_value(nullptr); }

json_object result_json(const sweep::config_result& r) {
  json_object o;
  o.add("rows", r.point.rows).add("cols", r.point.cols).add("bits", r.point.bits).add("mult", r.point.mult);
  o.add("dataflow", r.point.dataflow).add("status", r.status).add("note", r.note);
  if (r.status == "done") {
    o.add("acc_bits", r.acc_bits).add("images", r.images).add("correct", r.correct).add("accuracy", r.accuracy);
    o.add("cycles_per_image", r.cycles_per_image).add("utilization", r.utilization);
    o.add("macs_per_image", r.macs_per_image).add("energy_pj", r.energy_pj);
    json_object e;
    e.add("multipliers", r.energy_mult_pj).add("adders", r.energy_adder_pj).add("registers", r.energy_register_pj);
    e.add("buffers", r.energy_buffer_pj).add("offchip", r.energy_offchip_pj);
    o.add("energy_breakdown_pj", e);
    o.add("mult_pj_per_product", r.mult_pj_per_product).add("mult_energy_basis", r.mult_energy_basis);
    o.add("mult_area_nand2", optional_json(r.mult_area)).add("pe_area_nand2", optional_json(r.pe_area));
    o.add("array_area_nand2", optional_json(r.array_area)).add("area_basis", r.area_basis);
    o.add("critical_share", optional_json(r.critical_share));
    if (r.critical_share) o.add("campaign_faults", r.campaign_faults).add("campaign_pairs", r.campaign_pairs);
    o.add("seconds", r.seconds);
  }
  return o;
}

}  // namespace

int run_sweep(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("model", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/models/lenet5.onnx"), "ONNX model")
    ("data", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/data/mnist"), "MNIST IDX folder")
    ("rows", po::value<std::string>()->default_value("4,8,16,28"),
     "array sizes: R (an R x R array) or RxC, comma-separated, 1..128 each")
    ("bits", po::value<std::string>()->default_value("8,12,16"), "data widths W, comma-separated, 2..16")
    ("mults", po::value<std::string>()->default_value("exact"),
     "multipliers, comma-separated: exact (native) or registered names (axsa multipliers). A multiplier "
     "narrower than a width is not run at that width: its row has status 'skipped' and the reason in 'note'")
    ("dataflow", po::value<std::string>()->default_value("os"), "os or ws (--campaign quick needs os)")
    ("images", po::value<long long>()->default_value(1000), "test images per configuration")
    ("first", po::value<long long>()->default_value(0), "index of the first test image")
    ("acc-bits", po::value<std::string>()->default_value("auto"),
     "accumulator width A (2..64), or auto: per width, the smallest that cannot overflow, at least 32")
    ("calibration", po::value<long long>()->default_value(1000), "training images that calibrate the activation ranges")
    ("campaign", po::value<std::string>()->default_value("none"),
     "none, or quick: per configuration the critical share of a seeded campaign of 200 stuck-at faults on the "
     "PEs' weight links over the first 20 of the images (the shortcut engine)")
    ("seed", po::value<long long>()->default_value(1), "seed of --campaign quick's fault sample")
    ("energy-table", po::value<std::string>(), "energy table CSV (default: the built-in 45 nm table, hw/energy_45nm.csv)")
    ("out", po::value<std::string>(), "results database (SQLite; default sweep.sqlite). An existing one is resumed")
    ("csv", po::value<std::string>(), "write CSV to this file instead of SQLite. An existing one is resumed")
    ("jobs", po::value<long long>()->default_value(2), "configurations run in parallel")
    ("quiet", "no progress line on stderr")
    ("json", "print every configuration's results as JSON");
  po::variables_map vm;
  if (!parse_command("sweep",
                     "Runs a grid of array sizes x data widths x multipliers on a quantised CNN over MNIST on the\n"
                     "functional twin (cycles as the TLM run spends them), and stores per configuration the cycles\n"
                     "per image, utilisation, top-1 accuracy, energy per image with its breakdown, an array area\n"
                     "proxy and, with --campaign quick, a fault campaign's critical share. Each configuration is\n"
                     "written when it finishes; rerunning the same command resumes a killed sweep (the stored grid\n"
                     "must match). See docs/sweep.md and scripts/plot_sweep.py.",
                     desc, args, vm)) {
    return 0;
  }
  if (vm.count("out") && vm.count("csv")) throw config_error("--out and --csv exclude each other");
  sweep::grid g;
  g.model_path = vm["model"].as<std::string>();
  g.data_dir = vm["data"].as<std::string>();
  g.sizes = sweep::parse_sizes(vm["rows"].as<std::string>());
  g.widths = sweep::parse_widths(vm["bits"].as<std::string>());
  g.mults = sweep::parse_mults(vm["mults"].as<std::string>());
  g.dataflow = hw::to_string(hw::parse_dataflow(vm["dataflow"].as<std::string>()));
  g.images = ranged(vm, "images", 1, 60000);
  g.first = ranged(vm, "first", 0, 60000);
  g.calibration = ranged(vm, "calibration", 1, 60000);
  g.campaign = sweep::parse_campaign_mode(vm["campaign"].as<std::string>());
  g.seed = ranged(vm, "seed", 0, std::numeric_limits<long long>::max());
  const std::string acc = vm["acc-bits"].as<std::string>();
  if (acc != "auto") {
    if (acc.empty() || acc.size() > 2 || acc.find_first_not_of("0123456789") != std::string::npos || std::stoi(acc) < 2 ||
        std::stoi(acc) > 64) {
      throw config_error("--acc-bits must be auto or a number in 2..64 (got '" + acc + "')");
    }
    g.acc_bits = static_cast<unsigned>(std::stoi(acc));
  }
  if (vm.count("energy-table")) g.energy_table_path = vm["energy-table"].as<std::string>();
  const auto jobs = static_cast<unsigned>(ranged(vm, "jobs", 1, 256));
  const bool json = vm.count("json") > 0;

  const sweep::inputs in = sweep::load_inputs(g);  // bad model, data or table: fail before a file is made
  const bool csv = vm.count("csv") > 0;
  const std::string path = csv ? vm["csv"].as<std::string>() : vm.count("out") ? vm["out"].as<std::string>() : "sweep.sqlite";
  const auto definition = g.definition();
  const std::unique_ptr<sweep::store> st =
      csv ? sweep::open_csv_store(path, definition) : sweep::open_sqlite_store(path, definition);
  sweep::run_options opt;
  opt.jobs = jobs;
  opt.progress = !vm.count("quiet");
  const sweep::run_summary sum = sweep::run_grid(g, in, *st, opt);

  const auto rows = st->rows();
  if (json) {
    json_object o;
    o.add("out", path).add("format", csv ? "csv" : "sqlite").add("configs", std::uint64_t{sum.total});
    o.add("resumed", std::uint64_t{sum.already_done}).add("run", std::uint64_t{sum.run});
    o.add("seconds", sum.seconds);
    o.add("configs_per_minute", sum.seconds > 0 ? 60.0 * static_cast<double>(sum.run) / sum.seconds : 0.0);
    json_value list = json_value::array();
    for (const auto& r : rows) list.push_back(result_json(r).value());
    o.add("results", list);
    std::cout << o.str() << std::endl;
    return 0;
  }
  std::printf("sweep        %s: %zu configurations (%zu run now in %.1f s, %zu resumed)\n", path.c_str(), sum.total,
              sum.run, sum.seconds, sum.already_done);
  std::printf("%-7s %-5s %-14s %9s %12s %7s %14s %14s %9s\n", "array", "bits", "mult", "accuracy", "cycles/img", "util",
              "energy/img nJ", "area NAND2-eq", "critical");
  for (const auto& r : rows) {
    const std::string size = std::to_string(r.point.rows) + "x" + std::to_string(r.point.cols);
    if (r.status != "done") {
      std::printf("%-7s %-5u %-14s skipped: %s\n", size.c_str(), r.point.bits, r.point.mult.c_str(), r.note.c_str());
      continue;
    }
    char area[32] = "-", crit[32] = "-";
    if (r.array_area) std::snprintf(area, sizeof area, "%.0f", *r.array_area);
    if (r.critical_share) std::snprintf(crit, sizeof crit, "%.2f%%", *r.critical_share * 100);
    std::printf("%-7s %-5u %-14s %8.2f%% %12.1f %6.1f%% %14.2f %14s %9s\n", size.c_str(), r.point.bits,
                r.point.mult.c_str(), r.accuracy * 100, r.cycles_per_image, r.utilization * 100, r.energy_pj / 1000, area,
                crit);
  }
  return 0;
}

}  // namespace axsa::cli
