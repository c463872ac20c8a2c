// axsa campaign: a statistical fault-injection campaign on a quantised CNN (docs/campaigns.md).
// One golden run, then every sampled fault over the same images, each (fault, image) pair
// classified and stored in SQLite in transactions, so a killed campaign resumes with --resume.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <limits>
#include <mutex>
#include <random>
#include <thread>

#include <unistd.h>

#include "faults/campaign.h"
#include "faults/fault_space.h"
#include "rtl/mult_registry.h"
#include "sw/sha256.h"
#include "testbench/commands.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

using clock_type = std::chrono::steady_clock;
using fault_results = std::pair<std::uint64_t, std::vector<faults::pair_result>>;

// Progress on stderr: rewritten in place on a terminal, a line every 10 s otherwise.
class progress_line {
 public:
  progress_line(std::uint64_t total, std::uint64_t already) : m_total(total), m_done(already), m_start_done(already) {}
  void update(std::uint64_t done, bool force = false) {
    m_done = done;
    const auto now = clock_type::now();
    const double since = std::chrono::duration<double>(now - m_last).count();
    if (!force && since < (m_tty ? 0.5 : 10.0)) return;
    m_last = now;
    const double elapsed = std::chrono::duration<double>(now - m_t0).count();
    const double rate = elapsed > 0 ? static_cast<double>(m_done - m_start_done) / elapsed : 0;
    const double eta = rate > 0 ? static_cast<double>(m_total - m_done) / rate : 0;
    char buf[160];
    std::snprintf(buf, sizeof buf, "campaign: %llu/%llu faults (%.1f %%), %.1f faults/s, ETA %.0f s",
                  static_cast<unsigned long long>(m_done), static_cast<unsigned long long>(m_total),
                  m_total ? 100.0 * static_cast<double>(m_done) / static_cast<double>(m_total) : 100.0, rate, eta);
    std::cerr << (m_tty ? "\r" : "") << buf << (m_tty ? "   " : "\n") << std::flush;
  }
  void finish() {
    update(m_done, true);
    if (m_tty) std::cerr << "\n";
  }

 private:
  std::uint64_t m_total, m_done, m_start_done;
  bool m_tty = isatty(STDERR_FILENO) != 0;
  clock_type::time_point m_t0 = clock_type::now(), m_last = clock_type::now() - std::chrono::hours(1);
};

// Collects finished faults from the workers and commits them in batches (about every 0.5 s).
class result_writer {
 public:
  result_writer(faults::campaign_db& db, progress_line& progress, std::uint64_t done)
      : m_db(db), m_progress(progress), m_done(done) {}
  void push(fault_results r) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_queue.push_back(std::move(r));
    m_cv.notify_one();
  }
  // Runs on the calling thread until `expected` faults have been written.
  void drain(std::uint64_t expected) {
    std::uint64_t written = 0;
    while (written < expected) {
      std::vector<fault_results> batch;
      {
        std::unique_lock<std::mutex> lock(m_mutex);
        // A full batch, the last results, or half a second: whichever comes first.
        m_cv.wait_for(lock, std::chrono::milliseconds(500),
                      [&] { return m_queue.size() >= 256 || written + m_queue.size() >= expected || m_failed; });
        if (m_failed) std::rethrow_exception(m_failure);
        batch.assign(std::make_move_iterator(m_queue.begin()), std::make_move_iterator(m_queue.end()));
        m_queue.clear();
      }
      if (batch.empty()) continue;
      m_db.store_results_batch(batch);
      written += batch.size();
      m_done += batch.size();
      m_progress.update(m_done);
    }
  }
  void fail(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!m_failed) m_failure = e;
    m_failed = true;
    m_cv.notify_one();
  }

 private:
  faults::campaign_db& m_db;
  progress_line& m_progress;
  std::uint64_t m_done;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<fault_results> m_queue;
  bool m_failed = false;
  std::exception_ptr m_failure;
};

}  // namespace

int run_campaign(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("model", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/models/lenet5.onnx"), "ONNX model")
    ("data", po::value<std::string>()->default_value(AXSA_SOURCE_DIR "/data/mnist"), "MNIST IDX folder")
    ("images", po::value<long long>()->default_value(100), "test images every fault runs over")
    ("first", po::value<long long>()->default_value(0), "index of the first test image")
    ("bits", po::value<long long>()->default_value(8), "data width W (2..16)")
    ("acc-bits", po::value<long long>(), "accumulator width (default: the smallest that cannot overflow, >= 32)")
    ("mult", po::value<std::string>()->default_value("exact"), "multiplier: exact or a registered name")
    ("mult-eval", po::value<std::string>()->default_value("table"), "table or rtl")
    ("rows", po::value<long long>()->default_value(28), "PE rows R")
    ("cols", po::value<long long>()->default_value(28), "PE columns C")
    ("batch", po::value<long long>(), "images per GEMM batch (default: R)")
    ("site", po::value<std::string>()->default_value("weight-link"), "weight-link or weight-mult")
    ("faults", po::value<std::string>()->default_value("stuck-at"),
     "stuck-at (2 x W x R*C, whole run), bit-flip (W x R*C x golden cycles, one cycle) or all")
    ("confidence", po::value<double>()->default_value(0.99, "0.99"), "confidence level of the sample size")
    ("margin", po::value<double>()->default_value(0.01, "0.01"), "margin of error of the sample size")
    ("p", po::value<double>()->default_value(0.5, "0.5"), "estimated probability of a failure (0.5: conservative)")
    ("exhaustive", "run every fault of the space instead of a sample")
    ("seed", po::value<long long>()->default_value(1), "seed of the fault sample")
    ("engine", po::value<std::string>()->default_value("shortcut"),
     "shortcut (functional twin + exact fault effect), systemc (full cycle-accurate run per fault, fast engine)\n"
     "or structural (the same on the structural engine: pe modules with a saboteur on every PE of the site)")
    ("calibration", po::value<long long>()->default_value(1000), "training images for the activation ranges")
    ("out", po::value<std::string>(), "results database (SQLite), required")
    ("resume", "continue the campaign stored in --out")
    ("overwrite", "replace an existing database")
    ("jobs", po::value<long long>()->default_value(std::max(1u, std::thread::hardware_concurrency())),
     "worker threads (shortcut engine)")
    ("json", "print the summary as one JSON object");
  po::variables_map vm;
  if (!parse_command("campaign",
                     "Runs a statistical fault-injection campaign: a golden run, then every sampled fault on PE\n"
                     "weight inputs over the same images, each (fault, image) pair classified Masked, Tolerable,\n"
                     "Critical, Crash or Hang and stored in SQLite (see axsa report).",
                     desc, args, vm)) {
    return 0;
  }
  if (!vm.count("out")) throw config_error("--out FILE is required (the results database)");
  if (vm.count("resume") && vm.count("overwrite")) throw config_error("--resume and --overwrite exclude each other");
  hw::array_config cfg = array_from_options(vm);
  const std::string engine = vm["engine"].as<std::string>();
  if (engine != "shortcut" && engine != "systemc" && engine != "structural") {
    throw config_error("--engine must be shortcut, systemc or structural (got '" + engine + "')");
  }
  const faults::fault_site site = faults::parse_site(vm["site"].as<std::string>());
  const faults::fault_set set = faults::parse_fault_set(vm["faults"].as<std::string>());
  const double confidence = vm["confidence"].as<double>(), margin = vm["margin"].as<double>(), p = vm["p"].as<double>();
  if (!(confidence > 0 && confidence < 1)) throw config_error("--confidence must lie strictly between 0 and 1");
  if (!(margin > 0 && margin < 1)) throw config_error("--margin must lie strictly between 0 and 1");
  if (!(p > 0 && p < 1)) throw config_error("--p must lie strictly between 0 and 1");
  const std::string mult = vm["mult"].as<std::string>();
  const rtl::eval_mode mode = rtl::parse_eval_mode(vm["mult-eval"].as<std::string>());
  std::shared_ptr<const hw::multiplier> m;
  if (mult != "exact") m = rtl::make_multiplier(mult, cfg.data_bits, mode);
  const auto jobs = static_cast<unsigned>(ranged(vm, "jobs", 1, 256));
  const auto seed = ranged(vm, "seed", 0, std::numeric_limits<long long>::max());
  const std::string out_path = vm["out"].as<std::string>();

  const std::string model_path = vm["model"].as<std::string>();
  const sw::network net = sw::load_onnx(model_path);
  const sw::dataset test = sw::load_mnist(vm["data"].as<std::string>(), "t10k");
  sw::check_input(net, test.images);
  const std::size_t first = ranged(vm, "first", 0, static_cast<long long>(test.images.count) - 1);
  const std::size_t count = ranged(vm, "images", 1, static_cast<long long>(test.images.count - first));
  cfg.acc_bits = vm.count("acc-bits") ? static_cast<unsigned>(ranged(vm, "acc-bits", 2, 64))
                                      : sw::safe_acc_bits(net, cfg.data_bits);
  cfg.validate();
  const std::size_t batch = vm.count("batch") ? ranged(vm, "batch", 1, 1 << 16) : cfg.rows;
  const sw::dataset train = sw::load_mnist(vm["data"].as<std::string>(), "train");
  const sw::qnetwork qnet =
      sw::quantize(net, cfg.data_bits, cfg.acc_bits, train.images, ranged(vm, "calibration", 1, 60000));

  faults::campaign_setup setup;
  setup.net = &qnet;
  setup.cfg = cfg;
  setup.mult = m;
  setup.images = &test.images;
  setup.first = first;
  setup.count = count;
  setup.batch = batch;
  const auto t0 = clock_type::now();
  const faults::golden_reference golden(setup);
  const double golden_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();

  const faults::fault_space space(site, set, cfg.rows, cfg.cols, cfg.data_bits, golden.cycles());
  const std::uint64_t population = space.size();
  const bool exhaustive = vm.count("exhaustive") > 0;
  if (exhaustive && population > 50'000'000) {
    throw config_error("--exhaustive: the fault space has " + std::to_string(population) +
                       " faults; sample it instead (--confidence, --margin)");
  }
  const std::uint64_t n = exhaustive ? population
                                     : faults::leveugle_sample_size(population, margin, confidence, p);

  faults::campaign_config cc;
  cc.model_path = model_path;
  cc.model_sha256 = sw::sha256_file(model_path);
  cc.data_dir = vm["data"].as<std::string>();
  cc.bits = cfg.data_bits;
  cc.acc_bits = cfg.acc_bits;
  cc.rows = cfg.rows;
  cc.cols = cfg.cols;
  cc.mult = mult;
  cc.mult_eval = vm["mult-eval"].as<std::string>();
  cc.engine = engine;
  cc.site = faults::to_string(site);
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

  faults::campaign_db db = vm.count("resume") ? faults::campaign_db::resume(out_path, cc)
                                              : faults::campaign_db::create(out_path, cc, vm.count("overwrite") > 0);
  if (!db.has_golden()) db.store_golden(golden.labels(), golden.probabilities());
  if (db.fault_count() == 0) {
    std::vector<faults::fault> list;
    list.reserve(n);
    // Stored (and so run) in a seeded random order: any prefix of a partial campaign is itself a
    // random sample, so interim reports are unbiased.
    std::vector<std::uint64_t> order = faults::sample_indices(population, n, seed);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(seed ^ 0x9e3779b97f4a7c15ull));
    for (std::uint64_t index : order) list.push_back(space.at(index));
    db.store_faults(list);
  }
  const std::vector<faults::fault> all = db.faults();
  const std::vector<std::uint64_t> pending = db.pending_faults();
  progress_line progress(all.size(), all.size() - pending.size());
  result_writer writer(db, progress, all.size() - pending.size());
  const auto t1 = clock_type::now();

  if (engine == "shortcut") {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      try {
        faults::shortcut_engine eng(golden);
        for (std::size_t i; (i = next.fetch_add(1)) < pending.size();) {
          const std::uint64_t id = pending[i];
          writer.push({id, faults::classify_run(golden, eng.run(all[id]))});
        }
      } catch (...) {
        writer.fail(std::current_exception());
      }
    };
    std::vector<std::thread> threads;
    for (unsigned j = 0; j < std::min<std::size_t>(jobs, std::max<std::size_t>(1, pending.size())); ++j)
      threads.emplace_back(worker);
    try {
      writer.drain(pending.size());
    } catch (...) {
      next = pending.size();
      for (auto& t : threads) t.join();
      throw;
    }
    for (auto& t : threads) t.join();
  } else {
    // The reference engines: every fault on the cycle-accurate system, one after the other. The
    // structural engine places a saboteur on every PE of the site, since any of them may be faulted.
    hw::array_config sys_cfg = cfg;
    if (engine == "structural") {
      sys_cfg.engine = hw::engine_kind::structural;
      sys_cfg.saboteurs.every_link = site == faults::fault_site::weight_link;
      sys_cfg.saboteurs.every_mult = site == faults::fault_site::weight_mult;
    }
    sw::accelerated_system sys("system", sys_cfg, setup.buffers);
    sys.accelerator.array.set_multiplier(m.get());
    std::thread drainer([&] {
      try {
        writer.drain(pending.size());
      } catch (...) {
      }
    });
    sys.host.set_program([&] {
      for (std::uint64_t id : pending) writer.push({id, faults::evaluate_on_system(sys, golden, all[id])});
    });
    sc_core::sc_start();
    drainer.join();
    if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
  }
  progress.finish();
  const double seconds = std::chrono::duration<double>(clock_type::now() - t1).count();

  const auto sum = db.summarize();
  const auto frac = [&](faults::outcome o) { return sum.classes[static_cast<int>(o)].fraction; };
  if (vm.count("json")) {
    json_object o;
    o.add("database", out_path).add("faults", sum.faults_done).add("sample_size", n).add("population", population);
    o.add("pairs", sum.pairs).add("masked", frac(faults::outcome::masked)).add("tolerable", frac(faults::outcome::tolerable));
    o.add("critical", frac(faults::outcome::critical)).add("crash", frac(faults::outcome::crash));
    o.add("hang", frac(faults::outcome::hang)).add("margin", sum.margin);
    o.add("golden_seconds", golden_seconds).add("seconds", seconds);
    o.add("faults_per_second", seconds > 0 ? static_cast<double>(pending.size()) / seconds : 0.0);
    o.add("golden_cycles", golden.cycles()).add("engine", engine);
    std::cout << o.str() << std::endl;
  } else {
    std::printf("campaign     %s: %llu of %llu faults (space %llu), %llu pairs, margin %.2f %%\n", out_path.c_str(),
                static_cast<unsigned long long>(sum.faults_done), static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(population), static_cast<unsigned long long>(sum.pairs), sum.margin * 100);
    std::printf("outcomes     masked %.2f %%, tolerable %.2f %%, critical %.2f %%, crash %.2f %%, hang %.2f %%\n",
                frac(faults::outcome::masked) * 100, frac(faults::outcome::tolerable) * 100,
                frac(faults::outcome::critical) * 100, frac(faults::outcome::crash) * 100, frac(faults::outcome::hang) * 100);
    std::printf("speed        %.1f faults/s (%zu faults in %.2f s; golden run %.3f s)\n",
                seconds > 0 ? static_cast<double>(pending.size()) / seconds : 0.0, pending.size(), seconds, golden_seconds);
  }
  return 0;
}

}  // namespace axsa::cli
