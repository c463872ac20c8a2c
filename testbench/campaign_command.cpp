// axsa campaign: a statistical fault-injection campaign on a quantised CNN (docs/campaigns.md).
// One golden run, then every sampled fault over the same images, each (fault, image) pair
// classified and stored in SQLite in transactions, so a killed campaign resumes with --resume.
// --shard I/N runs one slice of the sample into its own database (axsa merge joins them); --mpi
// spreads the faults over the ranks of an MPI job (docs/scale-out.md). The command parses options
// and prints the summary; the campaign itself runs in faults/ (campaign_runner.h, campaign_mpi.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <thread>

#include "faults/campaign.h"
#include "faults/campaign_lock.h"
#include "faults/campaign_mpi.h"
#include "faults/campaign_runner.h"
#include "faults/fault_space.h"
#include "faults/stratified.h"
#include "rtl/mult_registry.h"
#include "sw/sha256.h"
#include "testbench/commands.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {
using clock_type = std::chrono::steady_clock;

// Everything a run needs, built from the options; the golden reference points into the rest, so
// it lives in one place on the heap.
struct prepared_campaign {
  sw::network net;
  sw::dataset test, train;
  sw::qnetwork qnet;
  std::unique_ptr<faults::golden_reference> golden;
  double golden_seconds = 0;
  faults::campaign_config cc;
  faults::campaign_engine engine = faults::campaign_engine::shortcut;
  // Stratified sampling: the pilot's size and time, and what uniform sampling would have drawn.
  std::uint64_t pilot_faults = 0, uniform_sample_size = 0;
  double pilot_seconds = 0;
};

// Plans a stratified sample (faults/stratified.h): runs the seeded pilot on the shortcut engine and
// allocates the faults of the target margin over the strata; returns n_h per stratum.
std::vector<std::uint64_t> plan_strata(prepared_campaign& prep, const faults::fault_space& space, std::uint64_t per_stratum,
                                       std::uint64_t seed, double margin, double confidence, unsigned jobs) {
  const auto t0 = clock_type::now();
  const faults::pilot_sample pilot = faults::draw_pilot(space, per_stratum, seed);
  const auto strata = space.strata();
  std::fprintf(stderr, "axsa: stratified sampling: pilot of %zu faults over %zu strata (site x bit)\n",
               pilot.faults.size(), strata.size());
  const auto counts = faults::run_pilot(*prep.golden, pilot.faults, jobs);
  std::vector<std::vector<std::array<std::uint64_t, faults::outcome_count>>> by_stratum(strata.size());
  for (std::size_t i = 0; i < counts.size(); ++i) by_stratum[pilot.stratum_of[i]].push_back(counts[i]);
  std::vector<std::uint64_t> populations;
  std::vector<double> spreads;
  for (std::size_t h = 0; h < strata.size(); ++h) {
    populations.push_back(strata[h].population);
    spreads.push_back(faults::pilot_spread(by_stratum[h]));
  }
  prep.pilot_faults = pilot.faults.size();
  prep.pilot_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  return faults::neyman_allocation(populations, spreads, margin, faults::stats::t_for_confidence(confidence));
}


std::unique_ptr<prepared_campaign> prepare(const po::variables_map& vm, unsigned jobs) {
  if (!vm.count("out")) throw config_error("--out FILE is required (the results database)");
  if (vm.count("resume") && vm.count("overwrite")) throw config_error("--resume and --overwrite exclude each other");
  const faults::shard_spec shard = vm.count("shard") ? faults::parse_shard(vm["shard"].as<std::string>()) : faults::shard_spec{};
  hw::array_config cfg = array_from_options(vm);
  auto prep = std::make_unique<prepared_campaign>();
  prep->engine = faults::parse_campaign_engine(vm["engine"].as<std::string>());
  const faults::campaign_engine engine = prep->engine;
  const std::vector<faults::fault_site> sites = faults::parse_sites(vm["site"].as<std::string>());
  const bool control = std::find(sites.begin(), sites.end(), faults::fault_site::control) != sites.end();
  if (control && engine == faults::campaign_engine::structural) {
    throw config_error("--site control: the structural engine has no model of the controller (use --engine systemc "
                       "or shortcut; docs/faults.md)");
  }
  if (control && vm.count("mpi")) {
    throw config_error("--site control: control faults run the full simulation, which --mpi does not; run them as "
                       "shards (--shard I/N)");
  }
  const faults::fault_set set = faults::parse_fault_set(vm["faults"].as<std::string>());
  const double confidence = vm["confidence"].as<double>(), margin = vm["margin"].as<double>(), p = vm["p"].as<double>();
  if (!(confidence > 0 && confidence < 1)) throw config_error("--confidence must lie strictly between 0 and 1");
  if (!(margin > 0 && margin < 1)) throw config_error("--margin must lie strictly between 0 and 1");
  if (!(p > 0 && p < 1)) throw config_error("--p must lie strictly between 0 and 1");
  const bool exhaustive = vm.count("exhaustive") > 0;
  const faults::sampling_kind sampling = faults::parse_sampling(vm["sampling"].as<std::string>());
  const bool stratified = sampling == faults::sampling_kind::stratified;
  if (stratified && exhaustive) throw config_error("--sampling stratified plans a sample; --exhaustive runs every fault");
  if (!stratified && !vm["pilot"].defaulted()) throw config_error("--pilot needs --sampling stratified");
  if (stratified && std::find(sites.begin(), sites.end(), faults::fault_site::control) != sites.end()) {
    throw config_error("--sampling stratified plans with a pilot on the shortcut engine, which has no model of the "
                       "controller: sample --site control uniformly");
  }
  const auto pilot = static_cast<std::uint64_t>(ranged(vm, "pilot", 2, 1 << 20));
  const std::string mult = vm["mult"].as<std::string>();
  const rtl::eval_mode mode = rtl::parse_eval_mode(vm["mult-eval"].as<std::string>());
  std::shared_ptr<const hw::multiplier> m;
  if (mult != "exact") m = rtl::make_multiplier(mult, cfg.data_bits, mode, cfg.align);
  const auto seed = ranged(vm, "seed", 0, std::numeric_limits<long long>::max());

  const std::string model_path = vm["model"].as<std::string>();
  prep->net = sw::load_onnx(model_path);
  const sw::network& net = prep->net;
  if (net.exit_count() > 1) {
    throw config_error(model_path + ": has " + std::to_string(net.exit_count()) +
                       " exits; fault campaigns run single-exit networks only");
  }
  prep->test = sw::load_mnist(vm["data"].as<std::string>(), "t10k");
  const sw::dataset& test = prep->test;
  sw::check_input(net, test.images);
  const std::size_t first = ranged(vm, "first", 0, static_cast<long long>(test.images.count) - 1);
  const std::size_t count = ranged(vm, "images", 1, static_cast<long long>(test.images.count - first));
  cfg.acc_bits = vm.count("acc-bits") ? static_cast<unsigned>(ranged(vm, "acc-bits", 2, 64))
                                      : sw::safe_acc_bits(net, cfg.data_bits);
  cfg.validate();
  const std::size_t batch = vm.count("batch") ? ranged(vm, "batch", 1, 1 << 16) : cfg.rows;
  prep->train = sw::load_mnist(vm["data"].as<std::string>(), "train");
  prep->qnet = sw::quantize(net, cfg.data_bits, cfg.acc_bits, prep->train.images, ranged(vm, "calibration", 1, 60000));
  const sw::qnetwork& qnet = prep->qnet;

  faults::campaign_setup setup;
  setup.net = &qnet;
  setup.cfg = cfg;
  setup.mult = m;
  setup.images = &test.images;
  setup.first = first;
  setup.count = count;
  setup.batch = batch;
  setup.logits = sw::parse_logits_convention(vm["logits"].as<std::string>());
  const auto t0 = clock_type::now();
  prep->golden = std::make_unique<faults::golden_reference>(setup);
  const faults::golden_reference& golden = *prep->golden;
  prep->golden_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();

  const faults::fault_space space(sites, set, cfg.rows, cfg.cols, cfg.data_bits, cfg.acc_bits, golden.cycles());
  const std::uint64_t population = space.size();
  if (exhaustive && population > 50'000'000) {
    throw config_error("--exhaustive: the fault space has " + std::to_string(population) +
                       " faults; sample it instead (--confidence, --margin)");
  }
  prep->uniform_sample_size = faults::leveugle_sample_size(population, margin, confidence, p);
  std::vector<std::uint64_t> allocation;
  if (stratified) allocation = plan_strata(*prep, space, pilot, static_cast<std::uint64_t>(seed), margin, confidence, jobs);
  std::uint64_t n = exhaustive ? population : prep->uniform_sample_size;
  if (stratified) {
    n = 0;
    for (auto v : allocation) n += v;
    std::fprintf(stderr, "axsa: stratified sampling: %llu faults planned (uniform sampling: %llu) after %.1f s of pilot\n",
                 static_cast<unsigned long long>(n), static_cast<unsigned long long>(prep->uniform_sample_size),
                 prep->pilot_seconds);
  }

  faults::campaign_config& cc = prep->cc;
  cc.model_path = model_path;
  cc.model_sha256 = sw::sha256_file(model_path);
  cc.data_dir = vm["data"].as<std::string>();
  cc.bits = cfg.data_bits;
  cc.acc_bits = cfg.acc_bits;
  cc.rows = cfg.rows;
  cc.cols = cfg.cols;
  cc.mult = mult;
  cc.mult_eval = vm["mult-eval"].as<std::string>();
  cc.operand_align = hw::to_string(cfg.align);
  cc.engine = faults::to_string(engine);
  cc.site = faults::to_string(sites);
  cc.fault_types = faults::to_string(set);
  cc.first_image = first;
  cc.images = count;
  cc.batch = batch;
  cc.confidence = confidence;
  cc.margin = margin;
  cc.p = p;
  cc.exhaustive = exhaustive;
  cc.seed = seed;
  cc.population = population;
  cc.sample_size = n;
  cc.golden_cycles = golden.cycles();
  cc.version = "axsa 0.1.0";
  cc.shard = shard;
  cc.logits = sw::to_string(setup.logits);
  if (stratified) {
    cc.sampling = faults::to_string(sampling);
    cc.pilot = pilot;
    cc.strata = faults::format_allocation(allocation);
  }
  return prep;
}

void print_summary(const po::variables_map& vm, const faults::campaign_db& db, const prepared_campaign& p,
                   const faults::run_report& run, unsigned ranks) {
  const faults::campaign_config& cc = p.cc;
  const std::string& out_path = db.path();
  const double seconds = run.seconds, golden_seconds = p.golden_seconds;
  const auto sum = db.summarize();
  const auto frac = [&](faults::outcome o) { return sum.classes[static_cast<int>(o)].fraction; };
  if (vm.count("json")) {
    json_object o;
    o.add("database", out_path).add("faults", sum.faults_done).add("sample_size", cc.sample_size).add("population", cc.population);
    o.add("pairs", sum.pairs).add("masked", frac(faults::outcome::masked)).add("tolerable", frac(faults::outcome::tolerable));
    o.add("critical", frac(faults::outcome::critical)).add("crash", frac(faults::outcome::crash));
    o.add("hang", frac(faults::outcome::hang)).add("margin", sum.margin).add("estimated_margin", sum.estimated_margin);
    o.add("sampling", cc.sampling).add("uniform_sample_size", p.uniform_sample_size);
    if (cc.sampling == "stratified") o.add("pilot_faults", p.pilot_faults).add("pilot_seconds", p.pilot_seconds);
    o.add("golden_seconds", golden_seconds).add("seconds", seconds);
    o.add("faults_per_second", seconds > 0 ? static_cast<double>(run.faults_run) / seconds : 0.0);
    o.add("cpu_seconds", run.cpu_seconds);
    o.add("golden_cycles", cc.golden_cycles).add("engine", cc.engine);
    // Which engine computed the faults: the shortcut's campaign runs control faults in full.
    json_object engines;
    for (const auto& [name, faults_run] : db.engine_counts()) engines.add(name, faults_run);
    o.add("engines", engines);
    if (!cc.shard.whole()) o.add("shard", cc.shard.str());
    if (ranks > 0) o.add("ranks", std::uint64_t{ranks});
    std::cout << o.str() << std::endl;
  } else {
    std::printf("campaign     %s: %llu of %llu faults (space %llu), %llu pairs, margin %.2f %%\n", out_path.c_str(),
                static_cast<unsigned long long>(sum.faults_done), static_cast<unsigned long long>(cc.sample_size),
                static_cast<unsigned long long>(cc.population), static_cast<unsigned long long>(sum.pairs), sum.margin * 100);
    std::printf("outcomes     masked %.2f %%, tolerable %.2f %%, critical %.2f %%, crash %.2f %%, hang %.2f %%\n",
                frac(faults::outcome::masked) * 100, frac(faults::outcome::tolerable) * 100,
                frac(faults::outcome::critical) * 100, frac(faults::outcome::crash) * 100, frac(faults::outcome::hang) * 100);
    std::string engines;
    for (const auto& [name, faults_run] : db.engine_counts())
      engines += (engines.empty() ? "" : ", ") + name + " " + std::to_string(faults_run);
    std::printf("engines      %s\n", engines.c_str());
    std::printf("speed        %.1f faults/s (%llu faults in %.2f s; golden run %.3f s)\n",
                seconds > 0 ? static_cast<double>(run.faults_run) / seconds : 0.0,
                static_cast<unsigned long long>(run.faults_run), seconds, golden_seconds);
  }
}

unsigned jobs_option(const po::variables_map& vm, unsigned ranks_on_node) {
  if (vm.count("jobs")) return static_cast<unsigned>(ranged(vm, "jobs", 1, 256));
  return std::max(1u, std::thread::hardware_concurrency() / std::max(1u, ranks_on_node));
}

// The MPI run: every rank prepares the same campaign (checked), rank 0 opens the database, all of
// them run the faults. A failure on any rank before the run is one line from rank 0.
int run_campaign_mpi(const po::variables_map& vm) {
  faults::mpi::session mpi;
  try {
    std::unique_ptr<prepared_campaign> p;
    auto attempt = [&](auto&& step) {
      std::string error;
      int code = 0;
      try {
        step();
      } catch (const config_error& e) {
        error = e.what();
        code = 2;
      } catch (const std::exception& e) {
        error = e.what();
        code = 1;
      }
      mpi.agree(error, code);
    };
    faults::mpi::run_options options;
    // Rank 0 writes the database, so it alone holds the lock; taken before any rank prepares.
    faults::campaign_lock lock;
    attempt([&] {
      if (mpi.rank() == 0 && vm.count("out")) lock = faults::campaign_lock::acquire(vm["out"].as<std::string>());
    });
    attempt([&] {
      if (vm["engine"].as<std::string>() != "shortcut") {
        throw config_error("--mpi runs the shortcut engine; run the reference engines as shards (--shard I/N)");
      }
      options.batch = ranged(vm, "mpi-batch", 1, 1 << 20);
      options.jobs = jobs_option(vm, static_cast<unsigned>(mpi.local_size()));
      p = prepare(vm, options.jobs);
    });
    mpi.check_same_config(p->cc);
    std::optional<faults::campaign_db> db;
    if (mpi.rank() == 0) {
      attempt([&] {
        db.emplace(faults::open_campaign(vm["out"].as<std::string>(), p->cc, *p->golden, vm.count("resume") > 0,
                                         vm.count("overwrite") > 0));
      });
    } else {
      attempt([] {});
    }
    const faults::run_report run = faults::mpi::run_pending_faults(mpi, db ? &*db : nullptr, *p->golden, options);
    if (mpi.rank() == 0) print_summary(vm, *db, *p, run, static_cast<unsigned>(mpi.size()));
  } catch (const faults::mpi::quiet_failure& e) {
    return e.code;  // rank 0 prints the error
  }
  return 0;
}

}  // namespace

int run_campaign(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("model", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/models/lenet5.onnx"), "ONNX model")
    ("data", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/data/mnist"), "MNIST IDX folder")
    ("images", po::value<long long>()->default_value(100), "test images every fault runs over")
    ("first", po::value<long long>()->default_value(0), "index of the first test image")
    ("batch", po::value<long long>(), "images per GEMM batch (default: R)")
    ("site", po::value<std::string>()->default_value("weight-link"),
     "weight-link, weight-mult, act-link, act-mult, acc, valid or control, or a comma-separated list of them "
     "(the fault space spans every site listed; docs/faults.md). Control faults always run the full simulation")
    ("faults", po::value<std::string>()->default_value("stuck-at"),
     "stuck-at (2 x B x U per site, whole run), bit-flip (B x U x golden cycles, one cycle) or all; "
     "B = W bits, A for acc, 2 for valid, 66 for control; U = R*C PEs, 1 for control")
    ("confidence", po::value<double>()->default_value(0.99, "0.99"), "confidence level of the sample size")
    ("margin", po::value<double>()->default_value(0.01, "0.01"), "margin of error of the sample size")
    ("p", po::value<double>()->default_value(0.5, "0.5"), "estimated probability of a failure (0.5: conservative)")
    ("exhaustive", "run every fault of the space instead of a sample")
    ("sampling", po::value<std::string>()->default_value("uniform"),
     "uniform (Leveugle's n over the whole space) or stratified (strata per site and bit: a seeded pilot measures\n"
     "each stratum's spread and the faults of --margin go where outcomes vary; docs/campaigns.md)")
    ("pilot", po::value<long long>()->default_value(static_cast<long long>(faults::default_pilot_per_stratum)),
     "with --sampling stratified: pilot faults per stratum")
    ("seed", po::value<long long>()->default_value(1), "seed of the fault sample")
    ("engine", po::value<std::string>()->default_value("shortcut"),
     "shortcut (functional twin + exact fault effect; control faults run in full), systemc (full cycle-accurate\n"
     "run per fault, fast engine) or structural (the same on the structural engine: pe modules with a saboteur on\n"
     "every PE of the site; no control faults)")
    ("calibration", po::value<long long>()->default_value(1000), "training images for the activation ranges")
    ("logits", po::value<std::string>()->default_value("dequantized"),
     "how outputs are read before the softmax that classifies a pair: dequantized (the logits layer's sums times\n"
     "its scale) or requantized (the sums requantised to W bits in [-1, 1] like every other layer's outputs)")
    ("out", po::value<std::string>(), "results database (SQLite), required; one campaign writes it at a time (OUT.lock)")
    ("resume", "continue the campaign stored in --out")
    ("overwrite", "replace an existing database")
    ("jobs", po::value<long long>(),
     "worker threads (shortcut engine; default: all cores, with --mpi the cores per rank on the node)")
    ("shard", po::value<std::string>(),
     "I/N: run only the I-th of N slices of the sample (faults I-1, I-1+N, ...) into --out;\n"
     "axsa merge joins the N databases")
    ("mpi", "run over the ranks of an MPI job (mpirun -np P axsa campaign --mpi ...): rank 0 writes --out")
    ("mpi-batch", po::value<long long>()->default_value(16), "with --mpi: faults per batch a rank asks for")
    ("json", "print the summary as one JSON object");
  array_options array;
  array.acc_bits_auto = true;
  add_array_options(desc, array);
  po::variables_map vm;
  if (!parse_command("campaign",
                     "Runs a statistical fault-injection campaign: a golden run, then every sampled fault of the\n"
                     "chosen sites over the same images, each (fault, image) pair classified Masked, Tolerable,\n"
                     "Critical, Crash or Hang and stored in SQLite with the engine that ran it (see axsa report).",
                     desc, args, vm)) {
    return 0;
  }
  if (vm.count("mpi")) return run_campaign_mpi(vm);
  const unsigned jobs = jobs_option(vm, 1);
  // Before the minutes of preparation, so a second campaign on the same database stops at once.
  const faults::campaign_lock lock =
      vm.count("out") ? faults::campaign_lock::acquire(vm["out"].as<std::string>()) : faults::campaign_lock{};
  const std::unique_ptr<prepared_campaign> p = prepare(vm, jobs);
  faults::campaign_db db = faults::open_campaign(vm["out"].as<std::string>(), p->cc, *p->golden, vm.count("resume") > 0,
                                                 vm.count("overwrite") > 0);
  const faults::run_report run = faults::run_pending_faults(db, *p->golden, p->engine, jobs);
  print_summary(vm, db, *p, run, 0);
  return 0;
}

}  // namespace axsa::cli
