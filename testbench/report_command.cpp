// axsa report: the survey's Table-I summary of one fault-injection campaign database: the
// configuration, how much of the fault space was sampled, the share of (fault, image) pairs per
// outcome with confidence intervals, and the achieved margin of error (docs/campaigns.md).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "faults/campaign_db.h"
#include "testbench/commands.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

using faults::campaign_db;
using faults::outcome;
using faults::outcome_count;

const char* const class_names[outcome_count] = {"Masked", "Tolerable", "Critical", "Crash", "Hang"};

std::string number(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string percent(double fraction, int decimals = 2) {
  if (!std::isfinite(fraction)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, fraction * 100);
  return buf;
}

std::string status_text(const campaign_db::summary& s) {
  if (!s.config.shard.whole()) {  // a shard's own slice; axsa merge makes the campaign
    const std::string prefix = "shard " + s.config.shard.str() + " of the sample, ";
    if (s.complete) return prefix + "complete";
    return prefix + "partial: " + std::to_string(s.faults_done) + " of " +
           std::to_string(s.config.shard.size(s.config.sample_size)) + " faults of its slice done";
  }
  if (s.complete) return "complete";
  if (s.faults_stored == 0) return "partial: no fault list stored yet";
  return "partial: " + std::to_string(s.faults_done) + " of " + std::to_string(s.faults_stored) +
         " faults of the sample done (" + percent(static_cast<double>(s.faults_done) / static_cast<double>(s.faults_stored), 1) +
         " %)";
}

json_object group_json(const char* key, std::uint64_t value, const campaign_db::group_counts& g) {
  json_object o;
  o.add(key, value).add("faults", g.faults).add("pairs", g.pairs);
  for (std::size_t c = 0; c < outcome_count; ++c) o.add(faults::to_string(static_cast<outcome>(c)), g.by_outcome[c]);
  return o;
}

void add_estimate(json_object& o, const faults::share_estimate& e) {
  o.add("population", e.population).add("faults", e.faults).add("pairs", e.pairs);
  json_object intervals;
  for (std::size_t c = 0; c < outcome_count; ++c) {
    const char* name = faults::to_string(static_cast<outcome>(c));
    o.add(name, e.classes[c].fraction);
    intervals.add(name, json_value::array({json_number(e.classes[c].ci.low), json_number(e.classes[c].ci.high)}));
  }
  o.add("margin", e.margin).add("intervals", intervals);
}

void print_json(const std::string& file, const campaign_db::summary& s, const std::map<std::string, std::uint64_t>& engines) {
  const auto& cfg = s.config;
  json_object o;
  json_object by_engine;
  for (const auto& [name, n] : engines) by_engine.add(name, n);
  o.add("engines", by_engine);
  o.add("file", file).add("complete", s.complete).add("status", status_text(s));
  o.add("faults", s.faults_done).add("faults_stored", s.faults_stored).add("sample_size", cfg.sample_size);
  o.add("population", cfg.population).add("fault_space_share", s.fault_space_share).add("pairs", s.pairs);
  o.add("injected_faults_percent", 100 * s.fault_space_share);
  for (std::size_t c = 0; c < outcome_count; ++c) o.add(faults::to_string(static_cast<outcome>(c)), s.classes[c].fraction);
  o.add("margin", s.margin).add("planned_margin", s.planned_margin).add("target_margin", cfg.margin);
  o.add("confidence", cfg.confidence).add("t", s.t);
  json_object intervals, errors, counts;
  for (std::size_t c = 0; c < outcome_count; ++c) {
    const auto& cs = s.classes[c];
    const char* name = faults::to_string(static_cast<outcome>(c));
    intervals.add(name, json_value::array({json_number(cs.ci.low), json_number(cs.ci.high)}));
    errors.add(name, cs.std_error);
    counts.add(name, cs.pairs);
  }
  o.add("intervals", intervals).add("std_errors", errors).add("pair_counts", counts);
  o.add("bits", cfg.bits).add("acc_bits", cfg.acc_bits).add("mult", cfg.mult).add("mult_eval", cfg.mult_eval);
  o.add("operand_align", cfg.operand_align);
  o.add("rows", cfg.rows).add("cols", cfg.cols).add("site", cfg.site).add("fault_types", cfg.fault_types);
  o.add("engine", cfg.engine).add("images", std::uint64_t{cfg.images}).add("first_image", std::uint64_t{cfg.first_image});
  o.add("batch", std::uint64_t{cfg.batch}).add("seed", cfg.seed).add("exhaustive", cfg.exhaustive);
  o.add("p", cfg.p).add("golden_cycles", cfg.golden_cycles).add("model", cfg.model_path);
  o.add("model_sha256", cfg.model_sha256).add("data", cfg.data_dir).add("version", cfg.version);
  o.add("shard", cfg.shard.str()).add("logits", cfg.logits);
  json_value bits = json_value::array(), kinds = json_value::array();
  for (std::size_t b = 0; b < s.per_bit.size(); ++b) {
    bits.push_back(group_json("bit", std::uint64_t{b}, s.per_bit[b]).value());
  }
  for (std::size_t k = 0; k < s.per_kind.size(); ++k) {
    if (s.per_kind[k].faults == 0) continue;
    json_object g;
    g.add("kind", faults::to_string(static_cast<faults::fault_kind>(k))).add("faults", s.per_kind[k].faults);
    g.add("pairs", s.per_kind[k].pairs);
    for (std::size_t c = 0; c < outcome_count; ++c)
      g.add(faults::to_string(static_cast<outcome>(c)), s.per_kind[k].by_outcome[c]);
    kinds.push_back(g.value());
  }
  o.add("per_bit", bits).add("per_kind", kinds);
  o.add("estimated_margin", s.estimated_margin).add("sampling", cfg.sampling);
  json_value sites = json_value::array();
  for (const auto& ss : s.per_site) {
    json_object g;
    g.add("site", faults::to_string(ss.site));
    add_estimate(g, ss.estimate);
    sites.push_back(g.value());
  }
  o.add("per_site", sites);
  if (cfg.sampling == "stratified") {
    json_value strata = json_value::array();
    for (const auto& st : s.per_stratum) {
      json_object g;
      g.add("site", faults::to_string(st.site)).add("bit", std::uint64_t{st.bit}).add("planned", st.planned);
      add_estimate(g, st.estimate);
      strata.push_back(g.value());
    }
    o.add("pilot_per_stratum", cfg.pilot).add("per_stratum", strata);
  }
  std::cout << o.str() << std::endl;
}

void print_text(const std::string& file, const campaign_db::summary& s, const std::map<std::string, std::uint64_t>& engines) {
  const auto& cfg = s.config;
  std::printf("campaign   %s (%s)\n", file.c_str(), status_text(s).c_str());
  std::printf("config     INT%u (accumulator %u bits), multiplier %s%s, %ux%u array, engine %s\n", cfg.bits,
              cfg.acc_bits, cfg.mult.c_str(), cfg.operand_align == "low" ? "" : " (operands high)", cfg.rows, cfg.cols,
              cfg.engine.c_str());
  std::string ran;
  for (const auto& [name, n] : engines) ran += (ran.empty() ? "" : ", ") + name + " " + std::to_string(n);
  std::printf("ran on     %s\n", ran.empty() ? "(no faults yet)" : ran.c_str());
  std::printf("faults     %s, %s: %llu of %llu in the fault space (%s %%)%s, seed %llu\n", cfg.site.c_str(),
              cfg.fault_types.c_str(), static_cast<unsigned long long>(s.faults_done),
              static_cast<unsigned long long>(cfg.population), percent(s.fault_space_share).c_str(),
              cfg.exhaustive ? ", exhaustive" : "", static_cast<unsigned long long>(cfg.seed));
  std::printf("injected   %s %% of the fault space (the survey's \"Injected Faults [%%]\": faults run / space)\n",
              percent(s.fault_space_share).c_str());
  std::printf("images     %zu from image %zu: %llu (fault, image) pairs; logits %s\n", cfg.images, cfg.first_image,
              static_cast<unsigned long long>(s.pairs), cfg.logits.c_str());
  const std::string level = percent(cfg.confidence, 0) + " %";
  std::printf("\n%-10s %9s   %s interval\n", "outcome", "share", level.c_str());
  for (std::size_t c = 0; c < outcome_count; ++c) {
    const auto& cs = s.classes[c];
    const std::string interval =
        std::isnan(cs.ci.low) ? "-" : "[" + percent(cs.ci.low) + ", " + percent(cs.ci.high) + "] %";
    std::printf("%-10s %7s %%   %s\n", class_names[c], percent(cs.fraction).c_str(), interval.c_str());
  }
  if (cfg.sampling == "stratified") {
    std::printf("\nmargin     +/-%s %% estimated at %s confidence from the strata's spreads (target +/-%s %%;\n"
                "           stratified sample, %llu pilot faults per stratum planned it)\n",
                percent(s.margin).c_str(), level.c_str(), percent(cfg.margin).c_str(),
                static_cast<unsigned long long>(cfg.pilot));
  } else {
    std::printf("\nmargin     +/-%s %% achieved at %s confidence (target +/-%s %%, whole sample +/-%s %%;\n"
                "           estimated from the outcomes' spread +/-%s %%)\n",
                percent(s.margin).c_str(), level.c_str(), percent(cfg.margin).c_str(), percent(s.planned_margin).c_str(),
                percent(s.estimated_margin).c_str());
  }
  // Per site: each site's shares (stratified: combined over its bits) and their margin.
  std::printf("\n%-12s %8s %9s %9s %9s %9s %9s %9s\n", "site", "faults", "masked", "tolerable", "critical", "crash",
              "hang", "margin");
  for (const auto& ss : s.per_site) {
    const auto& e = ss.estimate;
    std::printf("%-12s %8llu", faults::to_string(ss.site), static_cast<unsigned long long>(e.faults));
    for (std::size_t c = 0; c < outcome_count; ++c) std::printf(" %7s %%", percent(e.classes[c].fraction).c_str());
    std::printf(" %7s %%\n", percent(e.margin).c_str());
  }
  if (cfg.sampling == "stratified") {
    std::printf("\n%-12s %4s %8s %8s %9s %9s %9s %9s %9s %9s\n", "stratum", "bit", "planned", "faults", "masked",
                "tolerable", "critical", "crash", "hang", "margin");
    for (const auto& st : s.per_stratum) {
      const auto& e = st.estimate;
      std::printf("%-12s %4u %8llu %8llu", faults::to_string(st.site), st.bit, static_cast<unsigned long long>(st.planned),
                  static_cast<unsigned long long>(e.faults));
      for (std::size_t c = 0; c < outcome_count; ++c) std::printf(" %7s %%", percent(e.classes[c].fraction).c_str());
      std::printf(" %7s %%\n", percent(e.margin).c_str());
    }
  }
}

// `--csv results.db` would replace the campaign by its own summary, and a CSV written over the
// -wal log would lose its last commits: the database and SQLite's files next to it are refused,
// by identity where they exist (links, other spellings) and by name where they do not yet.
void refuse_database_as_csv(const std::string& csv, const std::string& database) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target = fs::absolute(csv, ec).lexically_normal();  // empty if there is no such path
  // SQLite follows a symbolic link to the database and keeps its -wal next to the target.
  std::vector<fs::path> bases{fs::path(database)};
  const fs::path resolved = fs::canonical(database, ec);
  if (!resolved.empty()) bases.push_back(resolved);
  for (const fs::path& base : bases) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      const fs::path sibling = base.string() + suffix;
      std::error_code ignored;  // a file that does not exist is compared by name
      bool same = fs::equivalent(csv, sibling, ignored);
      if (!same && !target.empty()) same = fs::absolute(sibling, ignored).lexically_normal() == target;
      if (same) {
        throw config_error("--csv " + csv + " would overwrite " +
                           (*suffix ? sibling.string() + ", a file of the campaign database " + database
                                    : "the campaign database " + database));
      }
    }
  }
}

void write_csv(const std::string& path, const std::string& file, const campaign_db::summary& s) {
  const auto& cfg = s.config;
  std::ofstream out(path);
  if (!out) throw config_error("--csv: cannot write " + path);
  out << "file,status,bits,acc_bits,mult,mult_eval,rows,cols,site,fault_types,engine,images,first_image,seed,"
         "population,sample_size,faults,fault_space_share,pairs,confidence";
  for (std::size_t c = 0; c < outcome_count; ++c) {
    const std::string n = faults::to_string(static_cast<outcome>(c));
    out << ',' << n << ',' << n << "_low," << n << "_high";
  }
  out << ",margin,planned_margin,target_margin\n";
  out << csv_field(file) << ',' << (s.complete ? "complete" : "partial") << ',' << cfg.bits << ',' << cfg.acc_bits
      << ',' << csv_field(cfg.mult) << ',' << csv_field(cfg.mult_eval) << ',' << cfg.rows << ',' << cfg.cols << ','
      << csv_field(cfg.site) << ',' << csv_field(cfg.fault_types) << ',' << csv_field(cfg.engine) << ',' << cfg.images
      << ',' << cfg.first_image << ',' << cfg.seed << ',' << cfg.population << ',' << cfg.sample_size << ','
      << s.faults_done << ',' << number(s.fault_space_share) << ',' << s.pairs << ',' << number(cfg.confidence);
  for (const auto& cs : s.classes) out << ',' << number(cs.fraction) << ',' << number(cs.ci.low) << ',' << number(cs.ci.high);
  out << ',' << number(s.margin) << ',' << number(s.planned_margin) << ',' << number(cfg.margin) << '\n';
  if (!out.flush()) throw config_error("--csv: cannot write " + path);
}

}  // namespace

int run_report(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("csv", po::value<std::string>()->value_name("FILE"), "also write the summary as CSV to FILE: one header line and one row")
    ("json", "print one JSON object instead of text");
  po::options_description hidden;
  hidden.add_options()("database", po::value<std::vector<std::string>>(), "campaign database");
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("database", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: axsa report results.db [options]\n"
                   "Summarises a fault-injection campaign database (axsa campaign --out): configuration, share of\n"
                   "the fault space sampled, Masked/Tolerable/Critical/Crash/Hang as shares of the (fault, image)\n"
                   "pairs with confidence intervals, and the achieved margin of error. A campaign still running or\n"
                   "interrupted is reported as partial.\n\n"
                << desc << '\n';
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw config_error(e.what());
  }
  if (!vm.count("database")) throw config_error("expects the campaign database: axsa report results.db");
  const auto files = vm["database"].as<std::vector<std::string>>();
  if (files.size() != 1) throw config_error("expects one campaign database (got " + std::to_string(files.size()) + ")");
  const std::string& file = files.front();

  if (vm.count("csv")) refuse_database_as_csv(vm["csv"].as<std::string>(), file);
  const auto db = campaign_db::open_read_only(file);
  const auto summary = db.summarize();
  if (vm.count("csv")) write_csv(vm["csv"].as<std::string>(), file, summary);
  if (vm.count("json")) {
    print_json(file, summary, db.engine_counts());
  } else {
    print_text(file, summary, db.engine_counts());
  }
  return 0;
}

}  // namespace axsa::cli
