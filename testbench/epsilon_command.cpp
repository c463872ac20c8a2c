// axsa epsilon: a multi-exit network with permanent stuck-at faults in the accelerator's weight
// memory at a fault point, run with EPSILON, AxMENDNet or AxVanDNN (docs/epsilon.md); one run, or a
// whole grid into SQLite that resumes after a kill.
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <systemc>

#include "faults/epsilon.h"
#include "faults/epsilon_grid.h"
#include "rtl/mult_registry.h"
#include "sw/accelerated_system.h"
#include "sw/functional_engine.h"
#include "testbench/commands.h"
#include "testbench/energy_options.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

using clock_type = std::chrono::steady_clock;

std::shared_ptr<const hw::multiplier> make_mult(const std::string& name, unsigned bits) {
  if (name == "exact") return nullptr;
  return rtl::make_multiplier(name, bits, rtl::eval_mode::table);
}

std::vector<std::string> split_list(const std::string& option, const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) throw config_error("--" + option + ": empty item in '" + text + "'");
    out.push_back(item);
  }
  if (out.empty()) throw config_error("--" + option + " needs at least one value");
  return out;
}

double parse_rate(const std::string& text) {
  std::size_t used = 0;
  double r = 0;
  try {
    r = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(r > 0 && r < 1)) {
    throw config_error("--fault-rate must be a number in (0, 1), e.g. 0.1 (got '" + text + "')");
  }
  return r;
}

int parse_stuck(const std::string& text) {
  if (text == "0" || text == "1") return text[0] - '0';
  throw config_error("--stuck must be 0 or 1 (got '" + text + "')");
}

struct setup {
  sw::qnetwork net;
  sw::dataset test, train;
  hw::array_config cfg;
  epsilon::options eps;
  epsilon::signature_set signatures;
};

// MENDNet's gamma and tau: the pair with the best mean accuracy over the faulty runs of the grid's
// fault set (one seed), on `images` training images the calibration did not use. One run with
// every exit evaluated per fault gives the decisions of every pair.
std::pair<double, double> tune_mendnet(const setup& s, const std::string& mult, std::size_t images, unsigned jobs) {
  const std::size_t first = s.train.images.count - images;
  auto m = make_mult(mult, s.cfg.data_bits);
  std::vector<epsilon::fault_spec> specs;
  for (std::size_t p = 0; p < 4; ++p)
    for (double rate : {0.1, 0.3, 0.5})
      for (int stuck : {0, 1}) specs.push_back({p, rate, stuck == 1, -1, 1});
  std::vector<sw::inference_result> runs(specs.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < specs.size();) {
      sw::functional_engine engine(s.cfg, m);
      epsilon::deploy(s.net, engine);
      epsilon::inject(s.net, engine, specs[i]);
      runs[i] = sw::run_inference(s.net, engine, s.train.images, first, images, 28, {sw::exit_policy::all, 0.5, {}});
    }
  };
  std::vector<std::thread> pool;
  for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  // Candidate taus: quantiles of the fault-free final exit's energy on the same images.
  sw::functional_engine golden(s.cfg, m);
  const auto g = sw::run_inference(s.net, golden, s.train.images, first, images, 28, {sw::exit_policy::final, 0.5, {}});
  const double final_scale = s.net.logits_layer(s.net.exit_count() - 1).acc_scale;
  std::vector<double> energies;
  for (const auto& l : g.logits) energies.push_back(epsilon::energy_score(l, final_scale));
  std::sort(energies.begin(), energies.end());
  std::vector<double> taus;
  for (double q : {0.5, 0.75, 0.9, 0.99}) taus.push_back(energies[static_cast<std::size_t>(q * static_cast<double>(energies.size() - 1))]);
  taus.push_back(std::numeric_limits<double>::infinity());
  double best_acc = -1, best_gamma = 0.5, best_tau = taus.back();
  for (double gamma : {0.5, 0.6, 0.7, 0.8, 0.9}) {
    for (double tau : taus) {
      std::size_t correct = 0, total = 0;
      for (const auto& r : runs) {
        for (std::size_t i = 0; i < r.exit_logits.size(); ++i) {
          std::size_t exit = s.net.exit_count() - 1;
          for (std::size_t e = 0; e + 1 < s.net.exit_count(); ++e) {
            const auto& l = r.exit_logits[i][e];
            const double scale = s.net.logits_layer(e).acc_scale;
            if (sw::confident(l, scale, gamma) && epsilon::energy_score(l, scale) <= tau) {
              exit = e;
              break;
            }
          }
          const auto& l = r.exit_logits[i][exit];
          correct += static_cast<std::size_t>(std::max_element(l.begin(), l.end()) - l.begin()) ==
                     s.train.labels.labels[first + i];
          ++total;
        }
      }
      const double acc = static_cast<double>(correct) / static_cast<double>(total);
      if (acc > best_acc) best_acc = acc, best_gamma = gamma, best_tau = tau;
    }
  }
  return {best_gamma, best_tau};
}

std::string number(double v) {
  if (std::isinf(v)) return "inf";
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

double parse_tau(const std::string& text) {
  if (text == "inf") return std::numeric_limits<double>::infinity();
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || std::isnan(v)) throw config_error("--tau must be auto, inf or a number (got '" + text + "')");
  return v;
}

epsilon::cell_result to_cell(const epsilon::run_result& r, const std::vector<std::uint8_t>& labels, std::size_t first,
                             std::size_t exits) {
  epsilon::cell_result c;
  c.images = r.inference.predictions.size();
  for (std::size_t i = 0; i < c.images; ++i) c.correct += r.inference.predictions[i] == labels[first + i];
  for (const bool f : r.image_flagged) c.flagged_images += f;
  c.analyses = r.analyses;
  c.layers_flagged = r.layers_flagged;
  c.weights_corrected = r.weights_corrected;
  c.reruns = r.reruns;
  c.array_cycles = r.inference.totals.array_cycles;
  c.bus_cycles = r.inference.totals.bus_cycles;
  c.macs = r.inference.totals.macs;
  c.exits_taken.assign(exits, 0);
  for (const int e : r.inference.exit_taken) ++c.exits_taken.at(static_cast<std::size_t>(e));
  return c;
}

}  // namespace

int run_epsilon(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("model", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/models/lenet5_exits_mnist.onnx"),
     "multi-exit ONNX model (FP1..FP4 need four trunk GEMMs and two internal exits past the first layer)")
    ("data", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/data/mnist"), "folder with the IDX files")
    ("technique", po::value<std::string>()->default_value("epsilon"), "epsilon, mendnet (AxMENDNet) or vanilla (AxVanDNN)")
    ("fault-point", po::value<std::string>()->default_value("FP1"), "FP1..FP4, or none for a fault-free run")
    ("fault-rate", po::value<std::string>()->default_value("0.1"), "share of the fault point's weights that are faulty, in (0, 1)")
    ("stuck", po::value<std::string>()->default_value("1"), "stuck-at value, 0 or 1")
    ("stuck-bit", po::value<long long>()->default_value(-1), "the stuck bit (0 = LSB); -1: uniform per faulty weight")
    ("seed", po::value<long long>()->default_value(1), "fault seed")
    ("mult", po::value<std::string>()->default_value("exact"), "the PEs' multiplier: exact or a registered 8-bit name")
    ("bits", po::value<long long>()->default_value(8), "data width W (2..16)")
    ("rows", po::value<long long>()->default_value(28), "PE rows R (1..128)")
    ("cols", po::value<long long>()->default_value(28), "PE columns C (1..128)")
    ("images", po::value<long long>(), "test images (default: all)")
    ("first", po::value<long long>()->default_value(0), "first test image")
    ("batch", po::value<long long>()->default_value(28), "images per batch; a correction takes effect from the next batch (1: per image, as Algorithm 1)")
    ("engine", po::value<std::string>()->default_value("functional"), "functional (the twin) or systemc (host driver, TLM, cycle-accurate array)")
    ("gamma", po::value<double>()->default_value(0.5, "0.5"), "exit confidence threshold (epsilon, mendnet)")
    ("tau", po::value<std::string>()->default_value("auto"), "mendnet's energy threshold: auto (tau and gamma tuned together for mendnet, docs/epsilon.md), inf, or a number")
    ("tune-images", po::value<long long>()->default_value(300), "training images that tune mendnet's gamma and tau")
    ("m", po::value<double>()->default_value(3.0, "3"), "EPSILON's threshold offset: T = (m + alpha) sigma")
    ("alpha", po::value<std::string>()->default_value("auto"), "auto (alpha = beta_p gamma_s per layer) or one value for every layer")
    ("beta-min", po::value<double>()->default_value(0.5, "0.5"), "positional importance at the output end (1 at the input)")
    ("pattern", po::value<std::string>()->default_value("histogram"), "sparsity pattern: histogram (of the W-bit values) or zeros")
    ("bins", po::value<long long>()->default_value(16), "histogram bins")
    ("score-units", po::value<std::string>()->default_value("sigma"), "sigma (bin count changes in Poisson sigmas vs m + alpha) or share (Eq. 6 as a share vs T / 2^(W-1))")
    ("candidates", po::value<std::string>()->default_value("quartiles"), "replacement values: quartiles (Q1, median, Q3) or quartiles-minmax")
    ("signatures", po::value<std::string>(), "signature file to check against (default: made from the model's golden weights)")
    ("make-signatures", po::value<std::string>(), "write the model's signature file and exit")
    ("list-fault-points", "print which layer each fault point is and exit")
    ("calibration", po::value<long long>()->default_value(1000), "training images that calibrate the activation ranges")
    ("grid", "run a whole grid into --out (the lists below), resumable")
    ("out", po::value<std::string>(), "with --grid: the SQLite database")
    ("resume", "with --grid: continue the grid in --out")
    ("mults", po::value<std::string>()->default_value("exact"), "with --grid: multipliers, comma-separated")
    ("techniques", po::value<std::string>()->default_value("vanilla,mendnet,epsilon"), "with --grid: techniques")
    ("fault-points", po::value<std::string>()->default_value("FP1,FP2,FP3,FP4"), "with --grid: fault points")
    ("rates", po::value<std::string>()->default_value("0.1,0.3,0.5"), "with --grid: fault rates")
    ("stucks", po::value<std::string>()->default_value("0,1"), "with --grid: stuck-at values")
    ("seeds", po::value<std::string>()->default_value("1,2,3"), "with --grid: fault seeds")
    ("jobs", po::value<long long>()->default_value(std::max(1u, std::thread::hardware_concurrency())), "threads for --grid and tuning")
    ("json", "print one JSON object");
  add_energy_options(desc);
  po::variables_map vm;
  if (!parse_command("epsilon",
                     "Runs a multi-exit network with stuck-at faults in the accelerator's weight memory at FP1..FP4\n"
                     "under EPSILON, AxMENDNet or AxVanDNN (docs/epsilon.md): accuracy, fault flags, cycles.",
                     desc, args, vm)) {
    return 0;
  }
  setup s;
  s.cfg = array_from_options(vm);
  const epsilon::technique tech = epsilon::parse_technique(vm["technique"].as<std::string>());
  const std::string point_text = vm["fault-point"].as<std::string>();
  const bool fault_free = point_text == "none";
  const std::size_t point = fault_free ? 0 : epsilon::parse_fault_point(point_text);
  const double rate = parse_rate(vm["fault-rate"].as<std::string>());
  const int stuck = parse_stuck(vm["stuck"].as<std::string>());
  const long long stuck_bit = vm["stuck-bit"].as<long long>();
  if (stuck_bit < -1 || stuck_bit >= static_cast<long long>(s.cfg.data_bits)) {
    throw config_error("--stuck-bit must be -1 or in 0.." + std::to_string(s.cfg.data_bits - 1) + " (got " +
                       std::to_string(stuck_bit) + ")");
  }
  const auto seed = ranged(vm, "seed", 0, std::numeric_limits<long long>::max());
  const std::string mult = vm["mult"].as<std::string>();
  if (mult != "exact") (void)make_mult(mult, s.cfg.data_bits);
  const std::string engine = vm["engine"].as<std::string>();
  if (engine != "functional" && engine != "systemc") throw config_error("--engine must be functional or systemc (got '" + engine + "')");
  const double gamma = vm["gamma"].as<double>();
  if (!(gamma >= 0 && gamma <= 1)) throw config_error("--gamma must be in [0, 1] (got " + std::to_string(gamma) + ")");
  s.eps.m = vm["m"].as<double>();
  if (!(s.eps.m >= 0 && s.eps.m <= 100)) throw config_error("--m must be in 0..100");
  const std::string alpha = vm["alpha"].as<std::string>();
  if (alpha != "auto") {
    try {
      std::size_t used = 0;
      s.eps.alpha = std::stod(alpha, &used);
      if (used != alpha.size()) throw std::invalid_argument(alpha);
    } catch (const std::exception&) {
      s.eps.alpha = -1;
    }
    if (!(s.eps.alpha >= 0 && s.eps.alpha <= 10)) throw config_error("--alpha must be auto or a number in 0..10 (got '" + alpha + "')");
  }
  s.eps.beta_min = vm["beta-min"].as<double>();
  if (!(s.eps.beta_min >= 0 && s.eps.beta_min <= 1)) throw config_error("--beta-min must be in [0, 1]");
  s.eps.pattern = epsilon::parse_pattern(vm["pattern"].as<std::string>());
  s.eps.bins = static_cast<unsigned>(ranged(vm, "bins", 2, 1024));
  s.eps.units = epsilon::parse_units(vm["score-units"].as<std::string>());
  s.eps.candidates = epsilon::parse_candidates(vm["candidates"].as<std::string>());
  const std::size_t batch = ranged(vm, "batch", 1, 1 << 16);
  const auto jobs = static_cast<unsigned>(ranged(vm, "jobs", 1, 256));
  const bool grid = vm.count("grid") > 0;
  if (grid && !vm.count("out")) throw config_error("--grid needs --out DB");
  if (!grid && (vm.count("out") || vm.count("resume"))) throw config_error("--out and --resume go with --grid");
  const std::optional<energy_request> energy = energy_from_options(vm);
  if (grid && energy) throw config_error("--energy goes with a single run, not --grid");
  const double tau_given = vm["tau"].as<std::string>() == "auto" ? 0 : parse_tau(vm["tau"].as<std::string>());
  const bool tau_auto = vm["tau"].as<std::string>() == "auto";
  const auto tune_images = ranged(vm, "tune-images", 10, 20000);

  const sw::network net = sw::load_onnx(vm["model"].as<std::string>());
  s.test = sw::load_mnist(vm["data"].as<std::string>(), "t10k");
  s.train = sw::load_mnist(vm["data"].as<std::string>(), "train");
  sw::check_input(net, s.test.images);
  s.cfg.acc_bits = sw::safe_acc_bits(net, s.cfg.data_bits);
  s.cfg.validate();
  s.net = sw::quantize(net, s.cfg.data_bits, s.cfg.acc_bits, s.train.images, ranged(vm, "calibration", 1, 60000));
  const std::vector<epsilon::fault_point> points = epsilon::fault_points(s.net);
  if (vm.count("list-fault-points")) {
    for (const auto& p : points) {
      std::printf("%s  %-40s %s, %zu weights\n", p.name.c_str(), p.layer->name.c_str(), sw::to_string(p.layer->kind),
                  p.layer->weight_kn.size());
    }
    return 0;
  }
  s.signatures = vm.count("signatures") ? epsilon::read_signatures(vm["signatures"].as<std::string>(), s.net, s.eps)
                                        : epsilon::make_signatures(s.net, s.eps);
  if (s.eps.alpha >= 0)
    for (auto& l : s.signatures.layers) l.alpha = s.eps.alpha;
  if (vm.count("make-signatures")) {
    epsilon::write_signatures(vm["make-signatures"].as<std::string>(), s.signatures);
    std::printf("wrote %s (%zu layers)\n", vm["make-signatures"].as<std::string>().c_str(), s.signatures.layers.size());
    return 0;
  }
  const std::size_t first = ranged(vm, "first", 0, static_cast<long long>(s.test.images.count) - 1);
  const std::size_t count = vm.count("images") ? ranged(vm, "images", 1, static_cast<long long>(s.test.images.count - first))
                                               : s.test.images.count - first;
  if (tune_images + 1000 > s.train.images.count) throw config_error("--tune-images leaves no room beside the calibration images");

  if (!grid) {
    epsilon::run_options ro;
    ro.tech = tech;
    ro.gamma = gamma;
    ro.tau = tau_given;
    ro.batch = batch;
    ro.eps = s.eps;
    if (tech == epsilon::technique::mendnet && tau_auto) std::tie(ro.gamma, ro.tau) = tune_mendnet(s, mult, tune_images, jobs);
    const epsilon::fault_spec spec{point, rate, stuck == 1, static_cast<int>(stuck_bit), seed};
    std::size_t faulty_weights = 0;
    epsilon::run_result r;
    const auto t0 = clock_type::now();
    if (engine == "functional") {
      sw::functional_engine backend(s.cfg, make_mult(mult, s.cfg.data_bits));
      backend.set_host_model(sw::host_driver::model({}));  // bus traffic as the TLM run's, for --energy
      epsilon::deploy(s.net, backend);
      if (!fault_free) faulty_weights = epsilon::inject(s.net, backend, spec).size();
      r = epsilon::run(s.net, backend, s.test.images, first, count, ro, &s.signatures);
    } else {
      auto m = make_mult(mult, s.cfg.data_bits);
      sw::accelerated_system sys("system", s.cfg);
      sys.accelerator.array.set_multiplier(m.get());
      sys.host.set_program([&] {
        epsilon::deploy(s.net, sys.host);
        if (!fault_free) faulty_weights = epsilon::inject(s.net, sys.host, spec).size();
        r = epsilon::run(s.net, sys.host, s.test.images, first, count, ro, &s.signatures);
      });
      sc_core::sc_start();
      if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    const epsilon::cell_result c = to_cell(r, s.test.labels.labels, first, s.net.exit_count());
    const double n = static_cast<double>(c.images);
    // Energy per image of the inference and the technique's checks and reruns (the one-time
    // deployment of the weights is left out).
    std::optional<energy_report> energy_per_image;
    if (energy) {
      hw::energy_setup setup;
      setup.cfg = s.cfg;
      hw::activity total = r.inference.totals.activity;
      total += r.extra.activity;
      energy_per_image = estimate(*energy, total, setup, mult, n);
    }
    if (vm.count("json")) {
      json_object o;
      o.add("model", vm["model"].as<std::string>()).add("technique", epsilon::to_string(tech)).add("mult", mult);
      o.add("fault_point", fault_free ? std::string("none") : points[point].name);
      o.add("fault_layer", fault_free ? std::string("") : points[point].layer->name);
      o.add("fault_rate", fault_free ? 0.0 : rate).add("stuck", std::uint64_t(stuck)).add("seed", std::uint64_t{seed});
      o.add("faulty_weights", std::uint64_t{faulty_weights}).add("engine", engine).add("images", std::uint64_t{c.images});
      o.add("accuracy", static_cast<double>(c.correct) / n).add("flagged_share", static_cast<double>(c.flagged_images) / n);
      o.add("analyses", std::uint64_t{c.analyses}).add("layers_flagged", std::uint64_t{c.layers_flagged});
      o.add("weights_corrected", std::uint64_t{c.weights_corrected}).add("reruns", std::uint64_t{c.reruns});
      o.add("gamma", ro.gamma).add("tau", number(ro.tau));
      o.add("cycles_per_image", static_cast<double>(c.array_cycles) / n);
      o.add("bus_cycles_per_image", static_cast<double>(c.bus_cycles) / n);
      o.add("check_bus_cycles", r.extra.bus_cycles).add("rerun_cycles", r.extra.array_cycles);
      json_value shares = json_value::array();
      for (std::size_t e = 0; e < c.exits_taken.size(); ++e) shares.push_back(json_number(static_cast<double>(c.exits_taken[e]) / n));
      o.add("exit_shares", shares);
      o.add("wall_seconds", seconds);
      if (energy_per_image) o.add("energy_per_image", energy_json(*energy_per_image));
      std::cout << o.str() << std::endl;
    } else {
      std::printf("technique    %s, multiplier %s, INT%u, %ux%u array, engine %s\n", epsilon::to_string(tech), mult.c_str(),
                  s.cfg.data_bits, s.cfg.rows, s.cfg.cols, engine.c_str());
      if (fault_free) {
        std::printf("faults       none\n");
      } else {
        std::printf("faults       %s (%s): %zu weights stuck-at-%d, rate %g, seed %llu\n", points[point].name.c_str(),
                    points[point].layer->name.c_str(), faulty_weights, stuck, rate, static_cast<unsigned long long>(seed));
      }
      std::printf("accuracy     %.2f %% (%zu images)\n", 100.0 * static_cast<double>(c.correct) / n, c.images);
      std::printf("flagged      %.2f %% of the images; %zu checks, %zu layer flags, %zu weights corrected, %zu reruns\n",
                  100.0 * static_cast<double>(c.flagged_images) / n, c.analyses, c.layers_flagged, c.weights_corrected, c.reruns);
      std::printf("cycles       %.0f array, %.0f bus per image (checks: %llu bus cycles; reruns: %llu array cycles)\n",
                  static_cast<double>(c.array_cycles) / n, static_cast<double>(c.bus_cycles) / n,
                  static_cast<unsigned long long>(r.extra.bus_cycles), static_cast<unsigned long long>(r.extra.array_cycles));
      if (tech == epsilon::technique::mendnet) std::printf("mendnet      gamma %g, tau %s\n", ro.gamma, number(ro.tau).c_str());
      if (energy_per_image) print_energy(*energy_per_image, "image");
    }
    return 0;
  }

  // The grid: every cell once, both cores busy, each cell committed as it finishes.
  const auto mults = split_list("mults", vm["mults"].as<std::string>());
  for (const auto& m : mults)
    if (m != "exact") (void)make_mult(m, s.cfg.data_bits);
  std::vector<epsilon::technique> techs;
  for (const auto& t : split_list("techniques", vm["techniques"].as<std::string>())) techs.push_back(epsilon::parse_technique(t));
  std::vector<std::size_t> fps;
  for (const auto& p : split_list("fault-points", vm["fault-points"].as<std::string>())) fps.push_back(epsilon::parse_fault_point(p));
  std::vector<double> rates;
  for (const auto& r : split_list("rates", vm["rates"].as<std::string>())) rates.push_back(parse_rate(r));
  std::vector<int> stucks;
  for (const auto& v : split_list("stucks", vm["stucks"].as<std::string>())) stucks.push_back(parse_stuck(v));
  std::vector<std::uint64_t> seeds;
  for (const auto& v : split_list("seeds", vm["seeds"].as<std::string>())) {
    if (v.find_first_not_of("0123456789") != std::string::npos || v.size() > 18) throw config_error("--seeds: '" + v + "' is not a seed");
    seeds.push_back(std::stoull(v));
  }
  std::map<std::string, std::string> config = {
      {"model", vm["model"].as<std::string>()}, {"weights_sha256", s.signatures.weights_sha256},
      {"data", vm["data"].as<std::string>()}, {"bits", std::to_string(s.cfg.data_bits)},
      {"rows", std::to_string(s.cfg.rows)}, {"cols", std::to_string(s.cfg.cols)},
      {"first", std::to_string(first)}, {"images", std::to_string(count)}, {"batch", std::to_string(batch)},
      {"gamma", number(gamma)}, {"tau", vm["tau"].as<std::string>()}, {"m", number(s.eps.m)}, {"alpha", alpha},
      {"beta_min", number(s.eps.beta_min)}, {"pattern", epsilon::to_string(s.eps.pattern)},
      {"bins", std::to_string(s.eps.bins)}, {"score_units", epsilon::to_string(s.eps.units)},
      {"candidates", epsilon::to_string(s.eps.candidates)}, {"stuck_bit", std::to_string(stuck_bit)},
      {"calibration", std::to_string(vm["calibration"].as<long long>())}, {"tune_images", std::to_string(tune_images)},
      {"exits", std::to_string(s.net.exit_count())}};
  epsilon::grid_db db(vm["out"].as<std::string>(), config, vm.count("resume") > 0);
  std::vector<epsilon::grid_cell> cells;
  for (const auto& m : mults) {
    for (const auto t : techs) {
      cells.push_back({m, epsilon::to_string(t), "none", 0.0, 0, seeds.front()});
      for (const auto p : fps)
        for (const double r : rates)
          for (const int v : stucks)
            for (const auto sd : seeds) cells.push_back({m, epsilon::to_string(t), points[p].name, r, v, sd});
    }
  }
  std::vector<epsilon::grid_cell> todo;
  for (const auto& c : cells)
    if (!db.has(c)) todo.push_back(c);
  // MENDNet's thresholds, tuned once per multiplier and kept in the grid.
  std::map<std::string, std::pair<double, double>> mendnet;
  for (const auto& m : mults) {
    const auto stored = db.config();
    const auto g = stored.find("mendnet_gamma:" + m), t = stored.find("mendnet_tau:" + m);
    if (g != stored.end() && t != stored.end()) {
      mendnet[m] = {std::stod(g->second), parse_tau(t->second)};
    } else if (std::find(techs.begin(), techs.end(), epsilon::technique::mendnet) != techs.end()) {
      mendnet[m] = tau_auto ? tune_mendnet(s, m, tune_images, jobs) : std::make_pair(gamma, tau_given);
      db.set_config("mendnet_gamma:" + m, number(mendnet[m].first));
      db.set_config("mendnet_tau:" + m, number(mendnet[m].second));
    }
  }
  const bool progress = isatty(STDERR_FILENO) != 0;
  std::atomic<std::size_t> next{0}, done{0};
  std::vector<std::exception_ptr> errors(jobs);
  const auto t0 = clock_type::now();
  std::map<std::string, std::shared_ptr<const hw::multiplier>> mult_objects;
  for (const auto& m : mults) mult_objects[m] = make_mult(m, s.cfg.data_bits);
  // Vanilla cells start at their fault point from the fault-free activations, recorded once per
  // multiplier (epsilon::golden_prefix; the same results as running the whole network).
  std::map<std::string, epsilon::golden_prefix> prefixes;
  if (std::find(techs.begin(), techs.end(), epsilon::technique::vanilla) != techs.end()) {
    std::vector<std::thread> recorders;
    for (const auto& m : mults) prefixes[m];
    for (auto& [m, p] : prefixes) {
      recorders.emplace_back([&, name = m, target = &p] {
        sw::functional_engine golden(s.cfg, mult_objects.at(name));
        *target = epsilon::record_prefix(s.net, golden, s.test.images, first, count, batch);
      });
      if (recorders.size() == jobs) {
        for (auto& t : recorders) t.join();
        recorders.clear();
      }
    }
    for (auto& t : recorders) t.join();
  }
  std::mutex print;
  auto work = [&](unsigned j) {
    try {
      for (std::size_t i; (i = next++) < todo.size();) {
        const epsilon::grid_cell& c = todo[i];
        epsilon::run_options ro;
        ro.tech = epsilon::parse_technique(c.technique);
        ro.gamma = gamma;
        ro.batch = batch;
        ro.eps = s.eps;
        if (ro.tech == epsilon::technique::mendnet) std::tie(ro.gamma, ro.tau) = mendnet.at(c.mult);
        const auto c0 = clock_type::now();
        sw::functional_engine backend(s.cfg, mult_objects.at(c.mult));
        epsilon::deploy(s.net, backend);
        const std::size_t fp = c.point == "none" ? 3 : epsilon::parse_fault_point(c.point);  // none: from the input
        if (c.point != "none") {
          epsilon::inject(s.net, backend, {fp, c.rate, c.stuck == 1, static_cast<int>(stuck_bit), c.seed});
        }
        const auto prefix = prefixes.find(c.mult);
        const auto r = epsilon::run(s.net, backend, s.test.images, first, count, ro, &s.signatures,
                                    prefix == prefixes.end() ? nullptr : &prefix->second, fp);
        epsilon::cell_result cr = to_cell(r, s.test.labels.labels, first, s.net.exit_count());
        cr.seconds = std::chrono::duration<double>(clock_type::now() - c0).count();
        db.put(c, cr);
        const std::size_t d = ++done;
        if (progress) {
          const double el = std::chrono::duration<double>(clock_type::now() - t0).count();
          std::lock_guard<std::mutex> lock(print);
          std::cerr << "\r" << d << "/" << todo.size() << " cells (" << cells.size() - todo.size() << " done before), "
                    << static_cast<long long>(el / static_cast<double>(d) * static_cast<double>(todo.size() - d)) << " s left   " << std::flush;
        }
      }
    } catch (...) {
      errors[j] = std::current_exception();
      next = todo.size();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(work, j);
  work(0);
  for (auto& t : pool) t.join();
  if (progress) std::cerr << "\n";
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (vm.count("json")) {
    json_object o;
    o.add("out", vm["out"].as<std::string>()).add("cells", std::uint64_t{cells.size()});
    o.add("cells_run", std::uint64_t{todo.size()}).add("wall_seconds", seconds);
    std::cout << o.str() << std::endl;
  } else {
    std::printf("grid         %zu cells in %s (%zu run now, %.1f s)\n", cells.size(), vm["out"].as<std::string>().c_str(),
                todo.size(), seconds);
  }
  return 0;
}

}  // namespace axsa::cli
