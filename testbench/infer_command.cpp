// axsa infer: a quantised CNN (ONNX) over MNIST images on the functional twin or on the
// cycle-accurate array behind the TLM bus; accuracy, per-layer cycles, utilisation, speed.
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include <unistd.h>

#include <systemc>

#include "hw/cycle_model.h"
#include "rtl/mult_registry.h"
#include "sw/accelerated_system.h"
#include "sw/functional_engine.h"
#include "sw/inference.h"
#include "testbench/commands.h"
#include "testbench/energy_options.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

using clock_type = std::chrono::steady_clock;

double ratio(std::size_t a, std::size_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }

// Useful MACs over PE-cycles; 0 for a layer that never ran (an exit no image reached).
double layer_utilization(const sw::layer_stats& l, const hw::array_config& cfg) {
  if (l.totals.array_cycles == 0) return 0;
  return static_cast<double>(l.totals.macs) /
         (static_cast<double>(cfg.rows) * cfg.cols * static_cast<double>(l.totals.array_cycles));
}

// The trunk layer an exit branches after ("input" for the image itself, "(trunk)" for the final exit).
std::string exit_branch_name(const sw::network& net, std::size_t e) {
  if (e + 1 == net.exit_count()) return "(trunk)";
  const std::size_t b = net.exits[e].branch;
  return b == 0 ? "input" : net.layers[b - 1].name;
}

std::shared_ptr<const hw::multiplier> make_mult(const std::string& name, const hw::array_config& cfg,
                                                rtl::eval_mode mode) {
  if (name == "exact") return nullptr;
  return rtl::make_multiplier(name, cfg.data_bits, mode, cfg.align);
}

// The functional twin over the images, split into contiguous ranges over `jobs` threads (each with
// its own engine and, for models evaluated per product, its own multiplier instance). Ranges are
// whole batches, so every batch, and so every GEMM and its cycles, is the one a single thread runs:
// the result does not depend on --jobs. The bus model's weight uploads depend on what is already
// resident, so each later range first runs the batch before it, uncounted, as the single thread
// would have (exact when one batch leaves the same weights resident whatever came before, as for
// every single-exit network).
sw::inference_result run_functional(const sw::qnetwork& net, const hw::array_config& cfg, const std::string& mult,
                                    rtl::eval_mode mode, const sw::idx_images& images, std::size_t first,
                                    std::size_t count, std::size_t batch, unsigned jobs, const sw::exit_options& exits) {
  const std::size_t batches = (count + batch - 1) / batch;
  const std::size_t per_batches = (batches + std::max(1u, jobs) - 1) / std::max(1u, jobs);
  const std::size_t per = per_batches * batch;
  jobs = static_cast<unsigned>((batches + per_batches - 1) / per_batches);
  std::vector<sw::inference_result> parts(jobs);
  std::vector<std::exception_ptr> errors(jobs);
  auto shared = make_mult(mult, cfg, mode);
  auto work = [&](unsigned j) {
    try {
      const std::size_t f = first + j * per;
      const std::size_t c = std::min(per, first + count - f);
      auto own = (shared && shared->product_table(cfg.data_bits) == nullptr && !shared->is_exact())
                     ? make_mult(mult, cfg, mode)
                     : shared;
      sw::functional_engine engine(cfg, own);
      // Cycles as the TLM run spends them: the driver splits M to fit the accelerator's buffers.
      engine.set_host_model(sw::host_driver::model({}));
      if (j > 0) (void)sw::run_inference(net, engine, images, f - batch, batch, batch, exits);
      parts[j] = sw::run_inference(net, engine, images, f, c, batch, exits);
    } catch (...) {
      errors[j] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(work, j);
  work(0);
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  sw::inference_result all;
  for (const auto& p : parts) sw::append_result(all, p);
  return all;
}

// The cycle-accurate run: host driver and accelerator over TLM; the inference runs in the
// driver's SC_THREAD.
sw::inference_result run_systemc(const sw::qnetwork& net, const hw::array_config& cfg, const std::string& mult,
                                 rtl::eval_mode mode, const sw::idx_images& images, std::size_t first, std::size_t count,
                                 std::size_t batch, const sw::exit_options& exits,
                                 std::vector<sw::host_driver::issued_gemm>* issued) {
  auto m = make_mult(mult, cfg, mode);
  sw::accelerated_system sys("system", cfg);
  sys.accelerator.array.set_multiplier(m.get());
  sw::inference_result result;
  const bool progress = isatty(STDERR_FILENO) != 0;
  sys.host.set_program([&] {
    for (std::size_t done = 0; done < count; done += batch) {
      const std::size_t n = std::min(batch, count - done);
      sw::append_result(result, sw::run_inference(net, sys.host, images, first + done, n, batch, exits));
      if (progress) std::cerr << "\r" << done + n << "/" << count << " images" << std::flush;
    }
    if (progress) std::cerr << "\r" << std::string(30, ' ') << "\r" << std::flush;
  });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
  if (issued) *issued = sys.host.issued();
  return result;
}

}  // namespace

int run_infer(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("model", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/models/lenet5.onnx"), "ONNX model")
    ("data", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/data/mnist"),
     "folder with the MNIST IDX files (scripts/fetch_mnist.sh puts them in data/mnist)")
    ("images", po::value<long long>(), "test images to run (default: all)")
    ("first", po::value<long long>()->default_value(0), "index of the first test image")
    ("bits", po::value<long long>()->default_value(8), "data width W (2..16)")
    ("acc-bits", po::value<std::string>()->default_value("auto"),
     "accumulator width A (2..64), or auto: the smallest that cannot overflow, at least 32")
    ("mult", po::value<std::string>()->default_value("exact"), "multiplier: exact or a registered name")
    ("mult-eval", po::value<std::string>()->default_value("table"), "table or rtl (see axsa gemm --help)")
    ("rows", po::value<long long>()->default_value(28), "PE rows R (1..128)")
    ("cols", po::value<long long>()->default_value(28), "PE columns C (1..128)")
    ("batch", po::value<long long>(), "images per GEMM batch (default: R)")
    ("engine", po::value<std::string>()->default_value("functional"),
     "functional (the plain C++ twin), systemc (cycle-accurate array behind the TLM bus) or structural (the same\n"
     "with the structural engine: a pe module per PE)")
    ("compare", "with --engine systemc or structural: also run the functional twin and compare every output integer")
    ("float", "also evaluate the float network on the same images (every exit of a multi-exit network)")
    ("exit-policy", po::value<std::string>()->default_value("confidence"),
     "multi-exit networks: confidence (stop at the first exit whose top softmax probability is above --gamma), "
     "final (run every image to the last exit) or all (evaluate every exit on every image; the exit that counts is "
     "the one confidence picks)")
    ("gamma", po::value<double>()->default_value(0.5, "0.5"), "confidence threshold of --exit-policy confidence and all, in [0, 1]")
    ("calibration", po::value<long long>()->default_value(1000), "training images used to calibrate activation ranges")
    ("logits", po::value<std::string>()->default_value("dequantized"),
     "how the output is read: dequantized (the logits layer's sums times its scale) or requantized (the sums\n"
     "requantised to W bits in [-1, 1] like every other layer's outputs; ties go to the lowest class)")
    ("jobs", po::value<long long>()->default_value(std::max(1u, std::thread::hardware_concurrency())),
     "threads for the functional twin")
    ("json", "print one JSON object instead of text");
  add_operand_align_option(desc);
  add_energy_options(desc);
  po::variables_map vm;
  if (!parse_command("infer",
                     "Quantises a CNN to W bits (docs/quantization.md) and classifies MNIST test images with it on the\n"
                     "functional twin or the cycle-accurate array, reporting accuracy, cycles and speed.",
                     desc, args, vm)) {
    return 0;
  }
  hw::array_config cfg = array_from_options(vm);
  const std::string engine = vm["engine"].as<std::string>();
  if (engine != "functional" && engine != "systemc" && engine != "structural") {
    throw config_error("--engine must be functional, systemc or structural (got '" + engine + "')");
  }
  if (vm.count("compare") && engine == "functional") throw config_error("--compare needs --engine systemc or structural");
  if (engine == "structural") cfg.engine = hw::engine_kind::structural;
  const std::string mult = vm["mult"].as<std::string>();
  const rtl::eval_mode mode = rtl::parse_eval_mode(vm["mult-eval"].as<std::string>());
  if (mult != "exact") (void)make_mult(mult, cfg, mode);  // unknown or too narrow: fail before loading data
  const std::size_t batch = vm.count("batch") ? ranged(vm, "batch", 1, 1 << 16) : cfg.rows;
  const auto calibration = ranged(vm, "calibration", 1, 60000);
  const auto jobs = static_cast<unsigned>(ranged(vm, "jobs", 1, 256));
  const bool json = vm.count("json") > 0;
  const std::optional<energy_request> energy = energy_from_options(vm);
  const sw::logits_convention logits = sw::parse_logits_convention(vm["logits"].as<std::string>());
  sw::exit_options exits;
  exits.policy = sw::parse_exit_policy(vm["exit-policy"].as<std::string>());
  exits.gamma = vm["gamma"].as<double>();
  if (!(exits.gamma >= 0 && exits.gamma <= 1)) {
    throw config_error("--gamma must be in [0, 1] (got " + std::to_string(exits.gamma) + ")");
  }

  const sw::network net = sw::load_onnx(vm["model"].as<std::string>());
  const sw::dataset test = sw::load_mnist(vm["data"].as<std::string>(), "t10k");
  sw::check_input(net, test.images);
  const std::size_t first = ranged(vm, "first", 0, static_cast<long long>(test.images.count) - 1);
  const std::size_t count = vm.count("images") ? ranged(vm, "images", 1, static_cast<long long>(test.images.count - first))
                                               : test.images.count - first;
  const std::string acc_text = vm["acc-bits"].as<std::string>();
  if (acc_text == "auto") {
    cfg.acc_bits = sw::safe_acc_bits(net, cfg.data_bits);
  } else {
    if (acc_text.empty() || acc_text.size() > 3 || acc_text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(acc_text) < 2 || std::stoi(acc_text) > 64) {
      throw config_error("--acc-bits must be auto or a number in 2..64 (got '" + acc_text + "')");
    }
    cfg.acc_bits = static_cast<unsigned>(std::stoi(acc_text));
  }
  cfg.validate();
  const sw::dataset train = sw::load_mnist(vm["data"].as<std::string>(), "train");
  const sw::qnetwork qnet = sw::quantize(net, cfg.data_bits, cfg.acc_bits, train.images, calibration);

  const auto t0 = clock_type::now();
  std::vector<sw::host_driver::issued_gemm> issued;
  sw::inference_result r = engine == "functional"
                               ? run_functional(qnet, cfg, mult, mode, test.images, first, count, batch, jobs, exits)
                               : run_systemc(qnet, cfg, mult, mode, test.images, first, count, batch, exits, &issued);
  const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  sw::apply_logits_convention(r, qnet, logits);
  const double acc = sw::accuracy(r, test.labels.labels, first);

  bool identical = true;
  std::size_t formula_mismatches = 0;
  for (const auto& g : issued) formula_mismatches += g.cycles != hw::gemm_cycles(g.shape, cfg.rows, cfg.cols);
  if (vm.count("compare")) {
    const auto twin = run_functional(qnet, cfg, mult, mode, test.images, first, count, batch, jobs, exits);
    identical = twin.logits == r.logits && twin.exit_logits == r.exit_logits && twin.exit_taken == r.exit_taken;
  }
  // Multi-exit: every exit's accuracy with every image forced to it, and the trunk's cost when every
  // image runs to the final exit. Under --exit-policy all the run itself has both; otherwise the
  // functional twin runs every exit on the same images (same integers, untimed).
  const bool multi_exit = qnet.exit_count() > 1;
  sw::inference_result analysis;
  const sw::inference_result* forced = &r;
  if (multi_exit && exits.policy != sw::exit_policy::all) {
    sw::exit_options every = exits;
    every.policy = sw::exit_policy::all;
    analysis = run_functional(qnet, cfg, mult, mode, test.images, first, count, batch, jobs, every);
    forced = &analysis;
  }
  std::vector<sw::exit_summary> exit_summaries, forced_summaries;
  double cycles_full = 0;
  if (multi_exit) {
    exit_summaries = sw::summarize_exits(r, qnet.exit_count(), test.labels.labels, first);
    forced_summaries = sw::summarize_exits(*forced, qnet.exit_count(), test.labels.labels, first);
    const sw::inference_result& full = exits.policy == sw::exit_policy::confidence ? analysis : r;
    const std::size_t trunk_gemms = sw::gemm_ordinal(qnet, qnet.layers.size());
    for (std::size_t l = 0; l < trunk_gemms; ++l) cycles_full += static_cast<double>(full.layers[l].totals.array_cycles);
    cycles_full /= static_cast<double>(full.images);
  }
  double float_acc = -1;
  std::vector<double> float_exit_acc;  // forced to each exit
  if (vm.count("float")) {
    std::vector<std::size_t> correct(net.exit_count(), 0);
    const std::size_t pixels = std::size_t{test.images.rows} * test.images.cols;
    std::vector<float> img(pixels);
    for (std::size_t i = first; i < first + count; ++i) {
      for (std::size_t p = 0; p < pixels; ++p) img[p] = static_cast<float>(test.images.pixels[i * pixels + p]) / 255.0f;
      const auto outs = sw::forward_exits(net, img.data());
      for (std::size_t e = 0; e < outs.size(); ++e) {
        const auto& out = outs[e];
        correct[e] += static_cast<std::size_t>(std::max_element(out.begin(), out.end()) - out.begin()) == test.labels.labels[i];
      }
    }
    for (const std::size_t c : correct) float_exit_acc.push_back(static_cast<double>(c) / static_cast<double>(count));
    float_acc = float_exit_acc.back();
  }

  const double n_img = static_cast<double>(r.images);
  const double cycles_per_image = static_cast<double>(r.totals.array_cycles) / n_img;
  const double util = static_cast<double>(r.totals.macs) /
                      (static_cast<double>(cfg.rows) * cfg.cols * static_cast<double>(r.totals.array_cycles));
  // Energy per image of what ran (the exits taken, the driver's bus traffic), with the buffers the
  // accelerator has.
  std::optional<energy_report> energy_per_image;
  if (energy) {
    hw::energy_setup setup;
    setup.cfg = cfg;
    const tlm_model::buffer_sizes buffers;
    setup.act_buffer_bytes = buffers.act_bytes;
    setup.weight_buffer_bytes = buffers.weight_bytes;
    setup.out_buffer_bytes = buffers.out_bytes;
    energy_per_image = estimate(*energy, r.totals.activity, setup, mult, n_img);
  }
  if (json) {
    json_object o;
    o.add("model", vm["model"].as<std::string>()).add("engine", engine).add("bits", cfg.data_bits);
    o.add("acc_bits", cfg.acc_bits).add("mult", mult).add("operand_align", hw::to_string(cfg.align));
    o.add("rows", cfg.rows).add("cols", cfg.cols);
    o.add("batch", std::uint64_t{batch}).add("first", std::uint64_t{first}).add("images", std::uint64_t{r.images});
    o.add("accuracy", acc).add("cycles_per_image", cycles_per_image);
    o.add("bus_cycles_per_image", static_cast<double>(r.totals.bus_cycles) / n_img);
    o.add("utilization", util).add("wall_seconds", seconds).add("images_per_second", n_img / seconds);
    if (float_acc >= 0) o.add("float_accuracy", float_acc);
    if (logits != sw::logits_convention::dequantized) o.add("logits", sw::to_string(logits));
    if (multi_exit) {
      o.add("exit_policy", sw::to_string(exits.policy)).add("gamma", exits.gamma);
      o.add("cycles_per_image_full", cycles_full);
      json_value list = json_value::array();
      for (std::size_t e = 0; e < qnet.exit_count(); ++e) {
        json_object eo;
        eo.add("name", qnet.exit_count() - 1 == e ? qnet.output : qnet.exits[e].output);
        eo.add("branch_after", exit_branch_name(net, e));
        eo.add("accuracy", ratio(forced_summaries[e].correct, forced_summaries[e].evaluated));
        if (!float_exit_acc.empty()) eo.add("float_accuracy", float_exit_acc[e]);
        eo.add("share", ratio(exit_summaries[e].taken, r.images)).add("taken", std::uint64_t{exit_summaries[e].taken});
        eo.add("evaluated", std::uint64_t{exit_summaries[e].evaluated});
        list.push_back(eo.value());
      }
      o.add("exits", list);
    }
    if (vm.count("compare")) o.add("identical", identical);
    if (energy_per_image) o.add("energy_per_image", energy_json(*energy_per_image));
    if (engine != "functional") {
      o.add("gemms_issued", std::uint64_t{issued.size()});
      o.add("gemms_off_formula", std::uint64_t{formula_mismatches});
    }
    json_value layers = json_value::array();
    for (const auto& l : r.layers) {
      json_object lo;
      lo.add("name", l.name).add("kind", l.kind).add("m", std::uint64_t{l.shape_per_image.m});
      lo.add("k", std::uint64_t{l.shape_per_image.k}).add("n", std::uint64_t{l.shape_per_image.n});
      lo.add("gemms", l.totals.gemms).add("cycles_per_image", static_cast<double>(l.totals.array_cycles) / n_img);
      lo.add("bus_cycles_per_image", static_cast<double>(l.totals.bus_cycles) / n_img);
      lo.add("utilization", layer_utilization(l, cfg));
      layers.push_back(lo.value());
    }
    o.add("layers", layers);
    std::cout << o.str() << std::endl;
  } else {
    std::printf("model        %s\n", vm["model"].as<std::string>().c_str());
    std::printf("config       INT%u, A=%u, multiplier %s%s, %ux%u array, batch %zu, engine %s\n", cfg.data_bits,
                cfg.acc_bits, mult.c_str(), cfg.align == hw::operand_align::high ? " (operands high)" : "", cfg.rows,
                cfg.cols, batch, engine.c_str());
    std::printf("accuracy     %.2f %% (%zu images from %zu)%s%s\n", acc * 100, r.images, first,
                float_acc >= 0 ? (" float " + std::to_string(float_acc * 100).substr(0, 5) + " %").c_str() : "",
                logits == sw::logits_convention::requantized ? ", logits requantized" : "");
    std::printf("cycles       %.0f array cycles per image, %.0f bus cycles per image, utilisation %.1f %%\n",
                cycles_per_image, static_cast<double>(r.totals.bus_cycles) / n_img, util * 100);
    std::printf("speed        %.1f images/s (%.2f s)\n", n_img / seconds, seconds);
    if (vm.count("compare")) std::printf("compare      %s\n", identical ? "identical to the functional twin" : "DIFFERS from the functional twin");
    if (energy_per_image) print_energy(*energy_per_image, "image");
    if (multi_exit) {
      std::printf("exits        policy %s, gamma %g; %.0f array cycles per image to the final exit\n",
                  sw::to_string(exits.policy), exits.gamma, cycles_full);
      int branch_width = 14;
      for (std::size_t e = 0; e < qnet.exit_count(); ++e)
        branch_width = std::max(branch_width, static_cast<int>(exit_branch_name(net, e).size()));
      std::printf("%-5s %-10s %-*s %10s %10s%s\n", "exit", "output", branch_width, "branches after", "accuracy",
                  "stopped", float_exit_acc.empty() ? "" : "      float");
      for (std::size_t e = 0; e < qnet.exit_count(); ++e) {
        const std::string name = qnet.exit_count() - 1 == e ? qnet.output : qnet.exits[e].output;
        std::printf("%-5zu %-10s %-*s %9.2f%% %9.2f%%", e, name.c_str(), branch_width, exit_branch_name(net, e).c_str(),
                    100 * ratio(forced_summaries[e].correct, forced_summaries[e].evaluated),
                    100 * ratio(exit_summaries[e].taken, r.images));
        if (!float_exit_acc.empty()) std::printf(" %9.2f%%", 100 * float_exit_acc[e]);
        std::printf("\n");
      }
    }
    int name_width = 14;
    for (const auto& l : r.layers) name_width = std::max(name_width, static_cast<int>(l.name.size()));
    std::printf("%-*s %-6s %16s %14s %12s\n", name_width, "layer", "kind", "GEMM per image", "cycles/image",
                "utilisation");
    for (const auto& l : r.layers) {
      const std::string dims = std::to_string(l.shape_per_image.m) + "x" + std::to_string(l.shape_per_image.k) + "x" +
                               std::to_string(l.shape_per_image.n);
      std::printf("%-*s %-6s %16s %14.1f %11.1f%%\n", name_width, l.name.c_str(), l.kind.c_str(), dims.c_str(),
                  static_cast<double>(l.totals.array_cycles) / n_img, 100.0 * layer_utilization(l, cfg));
    }
  }
  if (formula_mismatches != 0) {
    std::cerr << "axsa infer: error: " << formula_mismatches << " GEMMs took a cycle count other than the formula's\n";
    return 1;
  }
  return identical ? 0 : 1;
}

}  // namespace axsa::cli
