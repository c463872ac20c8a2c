// Test fixture: writes a campaign database with SYNTHETIC outcomes through campaign_db, taking the
// same options as `axsa campaign` (unknown ones are ignored). It stands in for the engine in the
// tests of the report, the plot script and scripts/reproduce_survey_table.sh: nothing is simulated;
// outcomes come from a seeded hash in which higher bits, stuck-at-1 and PEs near the top of a
// column (whose corrupted weight travels down the column) are more often critical.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <numeric>
#include <random>

#include <boost/program_options.hpp>

#include "faults/campaign_db.h"

namespace po = boost::program_options;
using namespace axsa::faults;

namespace {

// splitmix64: a fixed, portable hash, so the fixture's outcomes never depend on the library.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
double unit(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return static_cast<double>(mix(mix(mix(a) ^ b) ^ c) >> 11) / 9007199254740992.0;
}

outcome synthetic_outcome(const campaign_config& cfg, const fault& f, std::uint64_t id, std::uint32_t image) {
  const double s = cfg.bits > 1 ? static_cast<double>(f.bit) / (cfg.bits - 1) : 1.0;
  const double severity = 2 * unit(cfg.seed, id, 0xfau);  // per-fault spread: the cluster effect
  const double top = 1.0 - 0.6 * f.row / std::max(1u, cfg.rows);
  const double approx = cfg.mult == "exact" ? 0.0 : 0.01;
  const double p_crit = std::min(0.95, (0.002 + 0.45 * std::pow(s, 3) *
                                                     (f.kind == fault_kind::stuck_at_1 ? 1.0 : 0.35)) * severity * top);
  const double p_tol = (0.03 * s + approx) * severity;
  const double p_crash = f.bit + 1 == cfg.bits ? 0.002 : 0.0;
  const double u = unit(cfg.seed, id, image);
  if (u < p_crash) return outcome::crash;
  if (u < p_crash + p_crit) return outcome::critical;
  if (u < p_crash + p_crit + p_tol) return outcome::tolerable;
  return outcome::masked;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc("campaign fixture (synthetic outcomes)");
  desc.add_options()
    ("help", "")
    ("out", po::value<std::string>()->required(), "")
    ("model", po::value<std::string>()->default_value("models/lenet5.onnx"), "")
    ("data", po::value<std::string>()->default_value("data/mnist"), "")
    ("images", po::value<std::size_t>()->default_value(20), "")
    ("first", po::value<std::size_t>()->default_value(0), "")
    ("bits", po::value<unsigned>()->default_value(8), "")
    ("mult", po::value<std::string>()->default_value("exact"), "")
    ("rows", po::value<unsigned>()->default_value(28), "")
    ("cols", po::value<unsigned>()->default_value(28), "")
    ("batch", po::value<unsigned>(), "")
    ("site", po::value<std::string>()->default_value("weight-link"), "")
    ("faults", po::value<std::string>()->default_value("stuck-at"), "")
    ("confidence", po::value<double>()->default_value(0.99), "")
    ("margin", po::value<double>()->default_value(0.01), "")
    ("exhaustive", "")
    ("seed", po::value<std::uint64_t>()->default_value(1), "")
    ("resume", "")
    ("stop-after", po::value<std::uint64_t>(), "store results of at most this many faults, then exit 3");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).allow_unregistered().run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "campaign_fixture: " << e.what() << '\n';
    return 2;
  }
  try {
    campaign_config cfg;
    cfg.model_path = vm["model"].as<std::string>();
    cfg.model_sha256 = "synthetic";
    cfg.data_dir = vm["data"].as<std::string>();
    cfg.bits = vm["bits"].as<unsigned>();
    cfg.acc_bits = 32;
    cfg.rows = vm["rows"].as<unsigned>();
    cfg.cols = vm["cols"].as<unsigned>();
    cfg.mult = vm["mult"].as<std::string>();
    cfg.engine = "synthetic";
    cfg.site = vm["site"].as<std::string>();
    cfg.fault_types = vm["faults"].as<std::string>();
    cfg.first_image = vm["first"].as<std::size_t>();
    cfg.images = vm["images"].as<std::size_t>();
    cfg.batch = vm.count("batch") ? vm["batch"].as<unsigned>() : cfg.rows;
    cfg.confidence = vm["confidence"].as<double>();
    cfg.margin = vm["margin"].as<double>();
    cfg.exhaustive = vm.count("exhaustive") > 0;
    cfg.seed = vm["seed"].as<std::uint64_t>();
    cfg.population = 2ull * cfg.bits * cfg.rows * cfg.cols;
    const double t = stats::t_for_confidence(cfg.confidence);
    const double big_n = static_cast<double>(cfg.population);
    cfg.sample_size = cfg.exhaustive ? cfg.population
                                     : std::min<std::uint64_t>(cfg.population,
                                                               static_cast<std::uint64_t>(std::ceil(
                                                                   big_n / (1 + cfg.margin * cfg.margin * (big_n - 1) /
                                                                                    (t * t * 0.25)))));
    cfg.golden_cycles = 1000 * cfg.images;
    cfg.version = "fixture";

    const std::string out = vm["out"].as<std::string>();
    campaign_db db = vm.count("resume") ? campaign_db::resume(out, cfg) : campaign_db::create(out, cfg, false);
    if (!db.has_golden()) {
      std::vector<int> labels;
      std::vector<std::vector<double>> probs;
      for (std::size_t i = 0; i < cfg.images; ++i) {
        labels.push_back(static_cast<int>((cfg.first_image + i) % 10));
        std::vector<double> p(10, 0.01);
        p[static_cast<std::size_t>(labels.back())] = 0.91;
        probs.push_back(p);
      }
      db.store_golden(labels, probs);
    }
    // The sample: a seeded partial shuffle of the stuck-at space (PE-major, then bit, then polarity).
    std::vector<std::uint64_t> index(cfg.population);
    std::iota(index.begin(), index.end(), 0);
    std::mt19937_64 rng(cfg.seed);
    for (std::uint64_t i = 0; i < cfg.sample_size; ++i) {
      std::uniform_int_distribution<std::uint64_t> pick(i, cfg.population - 1);
      std::swap(index[i], index[pick(rng)]);
    }
    std::vector<fault> list;
    for (std::uint64_t i = 0; i < cfg.sample_size; ++i) {
      const std::uint64_t k = index[i];
      fault f;
      f.site = parse_site(cfg.site);
      f.kind = k % 2 ? fault_kind::stuck_at_1 : fault_kind::stuck_at_0;
      f.bit = static_cast<unsigned>(k / 2 % cfg.bits);
      const auto pe = k / 2 / cfg.bits;
      f.row = static_cast<unsigned>(pe / cfg.cols);
      f.col = static_cast<unsigned>(pe % cfg.cols);
      list.push_back(f);
    }
    db.store_faults(list);

    std::uint64_t budget = vm.count("stop-after") ? vm["stop-after"].as<std::uint64_t>() : ~0ull;
    std::vector<std::pair<std::uint64_t, std::vector<pair_result>>> batch;
    for (std::uint64_t id : db.pending_faults()) {
      if (budget == 0) break;
      --budget;
      std::vector<pair_result> results;
      for (std::size_t i = 0; i < cfg.images; ++i) {
        pair_result r;
        r.image = static_cast<std::uint32_t>(cfg.first_image + i);
        r.golden_label = static_cast<int>(r.image % 10);
        r.result = synthetic_outcome(cfg, list[id], id, r.image);
        r.faulty_label = r.result == outcome::critical ? (r.golden_label + 1) % 10
                         : r.result == outcome::crash  ? -1
                                                       : r.golden_label;
        r.ratio = r.result == outcome::crash ? std::nan("") : r.result == outcome::masked ? 1.0 : 0.8;
        results.push_back(r);
      }
      batch.emplace_back(id, std::move(results));
      if (batch.size() == 64) {
        db.store_results_batch(batch);
        batch.clear();
      }
    }
    if (!batch.empty()) db.store_results_batch(batch);
    return db.pending_faults().empty() ? 0 : 3;
  } catch (const std::exception& e) {
    std::cerr << "campaign_fixture: error: " << e.what() << '\n';
    return 2;
  }
}
