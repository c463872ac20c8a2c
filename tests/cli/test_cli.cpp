// The axsa executable as a user meets it: help, JSON keys, and one-line errors with exit code 2.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>
#include <functional>
#include <regex>

#include "tests/support/run_command.h"

namespace axsa::test {
namespace {

const std::string axsa = AXSA_BIN;

command_result run(const std::string& args) {
  return run_command(axsa + " " + args, testing::TempDir());
}

TEST(cli, help_lists_commands_and_options) {
  auto r = run("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("gemm"), std::string::npos);
  r = run("gemm --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--rows", "--cols", "--bits", "--m", "--k", "--n", "--acc-bits", "--seed", "--vcd", "--json"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(cli, gemm_json_has_the_promised_keys) {
  const auto r = run("gemm --rows 7 --cols 13 --bits 12 --m 20 --k 33 --n 40 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(count_lines(r.out), 1u) << r.out;
  for (const char* key : {"cycles", "utilization", "pe_cycles_per_second", "match"})
    EXPECT_NE(r.out.find("\"" + std::string(key) + "\": "), std::string::npos) << key;
  EXPECT_NE(r.out.find("\"match\": true"), std::string::npos);
  // 3 x 4 folds of 33 + 14 + 13 - 2 cycles.
  EXPECT_NE(r.out.find("\"cycles\": " + std::to_string(3 * 4 * (33 + 14 + 13 - 2)) + ","), std::string::npos) << r.out;
}

TEST(cli, impossible_options_give_one_error_line_and_exit_2) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"gemm --rows 0", "--rows"},       {"gemm --cols 129", "--cols"},  {"gemm --bits 1", "--bits"},
      {"gemm --bits 17", "--bits"},      {"gemm --k 0", "--k"},          {"gemm --m -3", "--m"},
      {"gemm --acc-bits 1", "--acc-bits"}, {"gemm --rows x", "--rows"},  {"gemm --frobnicate", "frobnicate"},
      {"gemm --fill zero", "fill"},      {"gemm --vcd-cycles 1:2", "--vcd"},
      {"gemm --rows 4 --cols 4 --vcd /dev/null --vcd-region 0:4,0:0", "outside"},
      {"gemm --vcd /nonexistent-dir/x.vcd", "/nonexistent-dir/x.vcd"}, {"nonsense", "nonsense"},
      {"gemm extra", "unexpected argument 'extra'"}, {"coverify 8", "unexpected argument '8'"},
      {"multipliers exact8", "unexpected argument 'exact8'"}, {"gemm --seed -1", "--seed"},
      {"coverify --seed -5", "--seed"}, {"gemm --clock-ns 1e-4", "clock period"},
      {"gemm --clock-ns 0.0015", "whole picoseconds"}, {"gemm --clock-ns 2e6", "clock period"},
      {"gemm --engine slow", "unknown engine 'slow'"},
      {"gemm --dataflow rs", "unknown dataflow 'rs'"},
      {"gemm --engine structural --rows 2 --cols 2 --vcd /dev/null", "fast engine only"},
      {"gemm --trace-cycles 1:2", "--trace"},
      {"gemm --rows 4 --cols 4 --trace /dev/null --trace-region 0:4,0:0", "outside"},
      {"gemm --trace /nonexistent-dir/t.json", "/nonexistent-dir/t.json"},
      {"gemm --trace /dev/null --trace-cycles 5:2", "--trace-cycles"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args << ": " << r.out;
  }
}

// Output that cannot be written is a failure, and errors from inside the simulation (here the VCD
// writer meeting a full disk) are one line like any other.
TEST(cli, unwritable_results_fail_in_one_line) {
  const std::string small = "gemm --rows 2 --cols 2 --m 3 --k 4 --n 3";
  auto r = run(small + " --json >&-");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("cannot write the results to standard output"), std::string::npos) << r.err;

  ASSERT_TRUE(std::filesystem::is_character_file("/dev/full")) << "the test needs /dev/full";
  r = run(small + " --vcd /dev/full");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("/dev/full"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("sc_except"), std::string::npos) << r.err;
}

// A name given twice is listed once; what gemm reports as the evaluation is what ran.
TEST(cli, multipliers_and_evaluation_are_reported_as_used) {
  auto r = run("multipliers --name exact8 --name exact8 --csv --no-area");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 2u) << r.out;
  r = run("gemm --rows 2 --cols 2 --m 3 --k 4 --n 3 --bits 16 --mult trunc16_k8 --mult-eval table --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"mult_eval\": \"rtl\""), std::string::npos) << r.out;  // no table above 12 bits
  r = run("gemm --rows 2 --cols 2 --m 3 --k 4 --n 3 --mult drum8_k4 --json");
  EXPECT_NE(r.out.find("\"mult_eval\": \"table\""), std::string::npos) << r.out;
  r = run("gemm --rows 2 --cols 2 --m 3 --k 4 --n 3 --mult exact8 --json");
  EXPECT_NE(r.out.find("\"mult_eval\": \"native\""), std::string::npos) << r.out;
}

std::vector<std::string> json_strings(const std::string& json, const std::string& key) {
  std::vector<std::string> out;
  const std::regex re("\"" + key + "\": \"([^\"]*)\"");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

double json_number(const std::string& object, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(object, m, std::regex("\"" + key + "\": ([-0-9.eE+]+)"))) {
    ADD_FAILURE() << "no key " << key << " in " << object;
    return NAN;
  }
  return std::stod(m[1]);
}

TEST(cli, multipliers_json_has_the_promised_keys) {
  const auto r = run("multipliers --json --no-area");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto names = json_strings(r.out, "name");
  EXPECT_GE(names.size(), 14u);
  for (const char* key : {"\"name\": ", "\"bits\": ", "\"mae\": ", "\"wce\": ", "\"mred\": ", "\"ep\": "}) {
    std::size_t count = 0;
    for (std::size_t pos = 0; (pos = r.out.find(key, pos)) != std::string::npos; ++pos) ++count;
    EXPECT_EQ(count, names.size()) << key;
  }
  const auto csv = run("multipliers --csv --no-area --name exact8 --name trunc8_k4");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(count_lines(csv.out), 3u) << csv.out;
  EXPECT_EQ(csv.out.rfind("name,bits,origin,", 0), 0u);
}

// Every registered multiplier in the PEs of an 8x8 and a 28x28 array at W = 8 gives the reference
// GEMM computed with its behavioural model (or, for circuits without one, its verilated model).
TEST(cli, gemm_matches_the_reference_for_every_registered_multiplier) {
  const auto list = run("multipliers --json --no-area");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto names = json_strings(list.out, "name");
  ASSERT_FALSE(names.empty());
  for (const auto& name : names) {
    for (const char* size : {"8", "28"}) {
      const auto r = run("gemm --mult " + name + " --rows " + size + " --cols " + size +
                         " --bits 8 --m 61 --k 77 --n 45 --json --seed 5");
      EXPECT_EQ(r.exit_code, 0) << name << " " << size << ": " << r.err << r.out;
      EXPECT_NE(r.out.find("\"match\": true"), std::string::npos) << name << " " << size << ": " << r.out;
    }
  }
  const auto rtl = run("gemm --mult drum8_k4 --mult-eval rtl --rows 8 --cols 8 --m 9 --k 20 --n 9 --json");
  EXPECT_EQ(rtl.exit_code, 0) << rtl.err;
  EXPECT_NE(rtl.out.find("\"mult_eval\": \"rtl\""), std::string::npos) << rtl.out;
}

// A stuck-at-1 on the weight link into PE (3,4) of an 8x8 array corrupts column 4 from row 3 down in
// every fold: 5 rows x 64 folds. The same fault on the multiplier operand touches row 3 alone.
TEST(cli, gemm_counts_the_outputs_a_fault_changes) {
  auto r = run("gemm --rows 8 --cols 8 --json --fault weight-link:stuck-at-1:3:4:6");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_number(r.out, "mismatches"), 5 * 64);
  EXPECT_EQ(json_number(r.out, "faults_injected"), 1);
  r = run("gemm --rows 8 --cols 8 --json --fault weight-mult:stuck-at-1:3:4:6");
  EXPECT_EQ(json_number(r.out, "mismatches"), 64);
  r = run("gemm --rows 8 --cols 8 --fault weight-link:stuck-at-1:8:0:0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("outside the 8x8 array"), std::string::npos) << r.err;
}

// The structural engine gives the same result and counts as the fast one, faults included.
TEST(cli, gemm_structural_engine_agrees_with_the_fast_engine) {
  for (const std::string extra : {"", " --fault weight-link:stuck-at-1:3:4:6 --fault weight-mult:bit-flip:7:0:2:40:900"}) {
    const std::string args = "gemm --rows 8 --cols 8 --m 40 --k 70 --n 19 --mult drum8_k4 --json" + extra;
    const auto fast = run(args), structural = run(args + " --engine structural");
    ASSERT_EQ(structural.exit_code, 0) << structural.err;
    EXPECT_NE(structural.out.find("\"engine\": \"structural\""), std::string::npos) << structural.out;
    EXPECT_NE(fast.out.find("\"engine\": \"fast\""), std::string::npos) << fast.out;
    for (const char* key : {"cycles", "mismatches", "faults_injected"})
      EXPECT_EQ(json_number(structural.out, key), json_number(fast.out, key)) << key << extra;
  }
  const auto r = run("gemm --rows 8 --cols 8 --m 40 --k 70 --n 19 --engine structural --json");
  EXPECT_NE(r.out.find("\"match\": true"), std::string::npos) << r.out;
}

// Weight-stationary on both engines: the reference result and 3 x 3 folds of 2R + C + M - 1 cycles.
TEST(cli, gemm_weight_stationary_matches_on_both_engines) {
  for (const std::string engine : {"fast", "structural"}) {
    const auto r = run("gemm --dataflow ws --engine " + engine + " --rows 5 --cols 4 --m 13 --k 11 --n 9 --mult drum8_k4 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\"match\": true"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"dataflow\": \"ws\""), std::string::npos) << r.out;
    EXPECT_EQ(json_number(r.out, "cycles"), 3 * 3 * (2 * 5 + 4 + 13 - 1)) << r.out;
    EXPECT_EQ(json_number(r.out, "cycles_formula"), json_number(r.out, "cycles"));
  }
}

// --print-hierarchy lists every PE module with its multiplier submodule, and a saboteur exactly
// where a fault asks for one: on the north input of the faulty PE (link) or inside it (mult).
TEST(cli, gemm_print_hierarchy_lists_pes_multipliers_and_saboteurs) {
  const auto r = run("gemm --engine structural --print-hierarchy --rows 3 --cols 2 --mult drum8_k4 "
                     "--fault weight-link:stuck-at-1:1:1:0 --fault weight-mult:bit-flip:2:0:3:5:9");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t pes = 0, mults = 0, saboteurs = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    pes += line.find("(axsa_pe)") != std::string::npos;
    mults += line.find("(axsa_multiplier) circuit drum8_k4") != std::string::npos;
    saboteurs += line.find("(axsa_saboteur)") != std::string::npos;
  }
  EXPECT_EQ(pes, 6u) << r.out;
  EXPECT_EQ(mults, 6u) << r.out;
  EXPECT_EQ(saboteurs, 2u) << r.out;
  for (unsigned row = 0; row < 3; ++row) {
    for (unsigned col = 0; col < 2; ++col) {
      const std::string pe = "top.array.pe_" + std::to_string(row) + "_" + std::to_string(col);
      EXPECT_NE(r.out.find(pe + " (axsa_pe)"), std::string::npos) << pe;
      EXPECT_NE(r.out.find(pe + ".mult (axsa_multiplier)"), std::string::npos) << pe;
    }
  }
  EXPECT_NE(r.out.find("top.array.link_saboteur_1_1 (axsa_saboteur) fault weight-link:stuck-at-1:1:1:0"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top.array.pe_2_0.mult_saboteur (axsa_saboteur) fault weight-mult:bit-flip:2:0:3:5:9"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top.array.west_feeder"), std::string::npos);
  EXPECT_NE(r.out.find("top.array.drain"), std::string::npos);
}

// campaign --engine structural runs every fault on the structural engine and classifies them as the
// shortcut does.
TEST(cli, campaign_structural_engine_agrees_with_the_shortcut) {
  std::map<std::string, std::string> summary;
  for (const std::string engine : {"shortcut", "structural"}) {
    const std::string db = testing::TempDir() + "cli_campaign_" + engine + "_" + std::to_string(getpid()) + ".db";
    const auto r = run("campaign --rows 4 --cols 4 --images 2 --margin 0.2 --confidence 0.8 --calibration 100 --site "
                       "weight-mult --engine " + engine + " --out " + db + " --overwrite --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\"engine\": \"" + engine + "\""), std::string::npos) << r.out;
    std::string classes;
    for (const char* key : {"faults", "pairs", "masked", "tolerable", "critical", "crash", "hang"})
      classes += std::string(key) + "=" + std::to_string(json_number(r.out, key)) + " ";
    summary[engine] = classes;
    std::filesystem::remove(db);
  }
  EXPECT_EQ(summary["structural"], summary["shortcut"]);
  EXPECT_NE(summary["shortcut"].find("faults=10"), std::string::npos) << summary["shortcut"];
}

// --site takes a list: the space spans every site listed (population = the sum of the sites' spaces),
// the shortcut and the full structural run agree on its sample, and bad lists are one-line errors.
TEST(cli, campaign_site_list_spans_every_site_and_engines_agree) {
  std::map<std::string, std::string> summary;
  for (const std::string engine : {"shortcut", "structural"}) {
    const std::string db = testing::TempDir() + "cli_sites_" + engine + "_" + std::to_string(getpid()) + ".db";
    const auto r = run("campaign --rows 4 --cols 4 --images 2 --margin 0.2 --confidence 0.8 --calibration 100 "
                       "--acc-bits 20 --site act-link,acc,act-mult --engine " + engine + " --out " + db + " --overwrite --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Stuck-at: 2 x 8 x 16 for each activation site, 2 x 20 x 16 for the accumulators.
    EXPECT_EQ(json_number(r.out, "population"), 2.0 * 8 * 16 * 2 + 2.0 * 20 * 16) << r.out;
    std::string classes;
    for (const char* key : {"faults", "pairs", "masked", "tolerable", "critical", "crash", "hang"})
      classes += std::string(key) + "=" + std::to_string(json_number(r.out, key)) + " ";
    summary[engine] = classes;
    std::filesystem::remove(db);
  }
  EXPECT_EQ(summary["structural"], summary["shortcut"]);
  for (const char* bad : {"acc,acc", "act-link,", "weights"}) {
    const auto r = run(std::string("campaign --rows 4 --cols 4 --images 2 --site ") + bad + " --out /tmp/never.db");
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.err.find("fault site"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// --sampling stratified: a seeded pilot per stratum (site x bit) plans where the faults go. For the
// same target margin it runs fewer faults than uniform sampling (pilot included), estimates the same
// shares within the two estimates' joint interval, lands near its target by its own estimate, and the
// report breaks the outcomes down by site and by stratum. Bad combinations are one-line errors.
TEST(cli, stratified_sampling_needs_fewer_faults_and_agrees_with_uniform) {
  const std::string tag = std::to_string(getpid());
  const std::string base = "campaign --rows 8 --cols 8 --images 8 --margin 0.05 --calibration 100 --site "
                           "weight-link,act-link --jobs 2 --overwrite --json --out " + testing::TempDir();
  const auto u = run(base + "cli_uniform_" + tag + ".db");
  ASSERT_EQ(u.exit_code, 0) << u.err;
  const auto s = run(base + "cli_stratified_" + tag + ".db --sampling stratified --pilot 6");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(json_number(u.out, "population"), 2.0 * 2 * 8 * 64) << u.out;
  EXPECT_EQ(json_number(s.out, "pilot_faults"), 16.0 * 6) << s.out;  // 2 sites x 8 bits, 6 each
  EXPECT_EQ(json_number(s.out, "uniform_sample_size"), json_number(u.out, "faults")) << s.out;
  EXPECT_LT(json_number(s.out, "faults") + json_number(s.out, "pilot_faults"), json_number(u.out, "faults")) << s.out;
  EXPECT_NE(s.err.find("stratified sampling"), std::string::npos) << s.err;

  const auto ru = run("report --json " + testing::TempDir() + "cli_uniform_" + tag + ".db");
  const auto rs = run("report --json " + testing::TempDir() + "cli_stratified_" + tag + ".db");
  ASSERT_EQ(ru.exit_code, 0) << ru.err;
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  EXPECT_NE(rs.out.find("\"sampling\": \"stratified\""), std::string::npos) << rs.out;
  // The allocation rests on the pilot's estimate of each stratum's spread, itself a sample: the
  // estimated margin lands near the target, not under a guaranteed bound.
  EXPECT_LE(json_number(rs.out, "estimated_margin"), 0.05 * 1.25) << rs.out;
  const auto errors = [](const std::string& json) { return json.substr(json.find("\"std_errors\"")); };
  const double t = json_number(ru.out, "t");
  for (const char* key : {"masked", "tolerable", "critical"}) {
    const double pu = json_number(ru.out, key), ps = json_number(rs.out, key);
    const double su = json_number(errors(ru.out), key), ss = json_number(errors(rs.out), key);
    EXPECT_LE(std::abs(pu - ps), t * std::sqrt(su * su + ss * ss)) << key << ": uniform " << pu << ", stratified " << ps;
  }
  // Per site and per stratum, in text and JSON: the sites' faults add up to the campaign's.
  for (const auto* r : {&ru, &rs}) {
    const std::string sites = r->out.substr(r->out.find("\"per_site\""));
    EXPECT_NE(sites.find("\"site\": \"weight-link\""), std::string::npos) << sites;
    EXPECT_NE(sites.find("\"site\": \"act-link\""), std::string::npos) << sites;
    const double first = json_number(sites, "faults");
    const double second = json_number(sites.substr(sites.find("act-link")), "faults");
    EXPECT_EQ(first + second, json_number(r->out, "faults")) << sites;
  }
  EXPECT_NE(rs.out.find("\"per_stratum\""), std::string::npos);
  const auto text = run("report " + testing::TempDir() + "cli_stratified_" + tag + ".db");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* row : {"weight-link ", "act-link ", "stratum", "estimated at 99 % confidence"})
    EXPECT_NE(text.out.find(row), std::string::npos) << row << "\n" << text.out;
  std::filesystem::remove(testing::TempDir() + "cli_uniform_" + tag + ".db");
  std::filesystem::remove(testing::TempDir() + "cli_stratified_" + tag + ".db");

  for (const auto& [args, what] : std::vector<std::pair<std::string, std::string>>{
           {"--sampling random", "--sampling must be uniform or stratified (got 'random')"},
           {"--pilot 5", "--pilot needs --sampling stratified"},
           {"--sampling stratified --exhaustive", "--exhaustive runs every fault"},
           {"--sampling stratified --pilot 1", "--pilot"},
           {"--sampling stratified --site acc,control", "sample --site control uniformly"}}) {
    const auto r = run("campaign --rows 4 --cols 4 --images 2 --calibration 100 --out /tmp/never.db " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  }
}

// --logits requantized reaches the campaign's classification, is stored and reported, and a resume
// with the other convention is refused; bad values are one-line errors.
TEST(cli, campaign_logits_convention_is_stored_reported_and_checked_on_resume) {
  const std::string db = testing::TempDir() + "cli_logits_" + std::to_string(getpid()) + ".db";
  const std::string base = "campaign --rows 4 --cols 4 --images 4 --margin 0.2 --confidence 0.8 --calibration 100 --out " + db;
  auto r = run(base + " --overwrite --logits requantized --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run("report " + db);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("logits requantized"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Injected Faults"), std::string::npos) << r.out;
  r = run("report --json " + db);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"logits\": \"requantized\""), std::string::npos) << r.out;
  // Injected faults in percent: faults run over the fault space (2 x W x R*C for stuck-at).
  EXPECT_NEAR(json_number(r.out, "injected_faults_percent"), 100.0 * json_number(r.out, "faults") / (2 * 8 * 16), 1e-9)
      << r.out;
  r = run(base + " --resume --logits dequantized");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("logits"), std::string::npos) << r.err;
  r = run(base + " --resume --logits requantized --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::filesystem::remove(db);
  for (const std::string cmd : {"campaign --out x.db --logits raw", "infer --logits raw"}) {
    r = run(cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd;
    EXPECT_EQ(count_lines(r.err), 1u) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("--logits must be dequantized or requantized (got 'raw')"), std::string::npos) << r.err;
  }
}

// --operand-align high on gemm (both engines, checked against the aligned reference), infer (the
// TLM run identical to the twin) and campaign (stored, reported, a resume with low refused).
TEST(cli, operand_align_high_reaches_gemm_infer_campaign_and_report) {
  for (const std::string extra : {"", " --engine structural --fill min"}) {
    const auto g = run("gemm --rows 4 --cols 3 --bits 8 --m 9 --k 30 --n 7 --mult drum12_k6 --operand-align high --json" +
                       extra);
    ASSERT_EQ(g.exit_code, 0) << extra << ": " << g.err << g.out;
    EXPECT_NE(g.out.find("\"match\": true"), std::string::npos) << g.out;
    EXPECT_NE(g.out.find("\"operand_align\": \"high\""), std::string::npos) << g.out;
  }
  const auto bad = run("gemm --operand-align middle");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(count_lines(bad.err), 1u) << bad.err;
  EXPECT_NE(bad.err.find("--operand-align: unknown operand alignment 'middle'"), std::string::npos) << bad.err;

  const auto i = run("infer --images 6 --mult drum12_k6 --operand-align high --engine systemc --compare --rows 6 --cols 5 "
                     "--calibration 100 --json");
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_NE(i.out.find("\"identical\": true"), std::string::npos) << i.out;
  EXPECT_NE(i.out.find("\"operand_align\": \"high\""), std::string::npos) << i.out;

  const std::string db = testing::TempDir() + "cli_align_" + std::to_string(getpid()) + ".db";
  const std::string common = "campaign --rows 4 --cols 4 --images 2 --margin 0.3 --confidence 0.8 --calibration 100 "
                             "--mult drum12_k6 --out " + db;
  const auto c = run(common + " --operand-align high --overwrite");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const auto rep = run("report " + db + " --json");
  EXPECT_NE(rep.out.find("\"operand_align\": \"high\""), std::string::npos) << rep.out;
  EXPECT_NE(run("report " + db).out.find("multiplier drum12_k6 (operands high)"), std::string::npos);
  const auto resumed = run(common + " --resume");
  EXPECT_EQ(resumed.exit_code, 2);
  EXPECT_NE(resumed.err.find("operand_align = 'high'"), std::string::npos) << resumed.err;
  std::filesystem::remove(db);
}

TEST(cli, multiplier_errors_are_one_line) {
  for (const auto& [args, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"gemm --mult nosuch", "unknown multiplier 'nosuch'"},
           {"gemm --mult exact8 --bits 12", "narrower than the 12-bit data"},
           {"gemm --mult drum8_k4 --mult-eval quick", "unknown multiplier evaluation"},
           {"multipliers --name nosuch", "nosuch"},
           {"multipliers --json --csv", "exclude"}}) {
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
  }
}

// axsa infer on bad inputs: one line naming the problem, exit 2, never a crash.
TEST(cli, infer_bad_inputs_are_one_line_errors) {
  namespace fs = std::filesystem;
  const std::string src = AXSA_SOURCE_DIR;
  const fs::path dir = fs::path(testing::TempDir()) / ("axsa_bad_data_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "truncated");
  fs::create_directories(dir / "magic");
  for (const char* f : {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"}) {
    fs::copy_file(src + "/data/mnist/" + f, dir / "truncated" / f);
    fs::copy_file(src + "/data/mnist/" + f, dir / "magic" / f);
  }
  fs::resize_file(dir / "truncated" / "t10k-images-idx3-ubyte", 7840016 - 100);
  {
    std::fstream f(dir / "magic" / "t10k-labels-idx1-ubyte", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put(static_cast<char>(0x03));  // 2049 -> 2051
  }
  const std::string fx = src + "/tests/fixtures/";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"infer --data " + (dir / "truncated").string(), "t10k-images-idx3-ubyte"},
      {"infer --data " + (dir / "magic").string(), "magic"},
      {"infer --data /nonexistent/mnist", "/nonexistent/mnist"},
      {"infer --model " + fx + "sigmoid_act1.onnx", "Sigmoid"},
      {"infer --model " + fx + "truncated.onnx", "truncated.onnx"},
      {"infer --model " + fx + "random_bytes.onnx", "random_bytes.onnx"},
      {"infer --model " + fx + "input_3x32x32.onnx", "32"},
      {"infer --model /nonexistent/model.onnx", "/nonexistent/model.onnx"},
      {"infer --engine verilog", "--engine"},
      {"infer --compare", "--compare"},
      {"infer --bits 17", "--bits"},
      {"infer --acc-bits 99", "--acc-bits"},
      {"infer --images 0", "--images"},
      {"infer --first 10000", "--first"},
      {"infer --mult exact8 --bits 16", "narrower"},
      {"infer --model " + fx + "exits_cycle.onnx", "the ONNX checker rejects the model: Nodes in a graph must be topologically sorted"},
      {"infer --model " + fx + "exits_dangling.onnx", "dangling exit head"},
      {"infer --model " + fx + "exits_unsupported_op.onnx", "Sigmoid"},
      {"infer --model " + fx + "exits_not_classes.onnx", "class vector"},
      {"infer --exit-policy first", "--exit-policy"},
      {"infer --gamma 1.5", "--gamma"},
      {"infer --gamma -0.1", "--gamma"},
      {"campaign --model " + fx + "multiexit_tiny.onnx --out " + (dir / "c.db").string(), "single-exit"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err << r.out;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
  }
  fs::remove_all(dir);
}

TEST(cli, infer_json_has_the_promised_keys_and_engines_agree) {
  const auto f = run("infer --images 60 --json");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  for (const char* key : {"accuracy", "images", "cycles_per_image", "images_per_second"})
    EXPECT_NE(f.out.find("\"" + std::string(key) + "\": "), std::string::npos) << key;
  const auto s = run("infer --images 60 --engine systemc --compare --rows 7 --cols 9 --json");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("\"identical\": true"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\"gemms_off_formula\": 0,"), std::string::npos) << s.out;
  EXPECT_EQ(json_number(f.out, "accuracy"), json_number(run("infer --images 60 --engine systemc --json").out, "accuracy"));
}

// axsa epsilon on bad inputs: one line naming the problem, exit 2.
TEST(cli, epsilon_bad_inputs_are_one_line_errors) {
  const std::string src = AXSA_SOURCE_DIR;
  const std::string sig = testing::TempDir() + "axsa_int16_" + std::to_string(::getpid()) + ".sig";
  const auto made = run("epsilon --bits 16 --calibration 100 --make-signatures " + sig);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"epsilon --fault-point FP7", "unknown fault point 'FP7'"},
      {"epsilon --fault-rate 1.5", "--fault-rate must be a number in (0, 1)"},
      {"epsilon --fault-rate 0", "--fault-rate"},
      {"epsilon --fault-rate abc", "--fault-rate"},
      {"epsilon --stuck 2", "--stuck must be 0 or 1"},
      {"epsilon --technique tmr", "--technique"},
      {"epsilon --stuck-bit 8", "--stuck-bit"},
      {"epsilon --gamma 2", "--gamma"},
      {"epsilon --grid", "--out"},
      {"epsilon --signatures " + sig + " --calibration 100", "signatures of another model"},
      {"epsilon --signatures /nonexistent/x.sig", "/nonexistent/x.sig"},
      {"epsilon --model " + src + "/models/lenet5.onnx --calibration 100", "FP2 and FP3 need two internal exits"},
      {"epsilon --score-units bits", "--score-units"},
      {"epsilon --alpha -1", "--alpha"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
  }
  std::remove(sig.c_str());
}

// EPSILON over the TLM bus (weights read back and written back by the host driver, stuck bits in the
// accelerator's weight buffer) decides and corrects exactly as on the functional twin.
TEST(cli, epsilon_over_tlm_equals_the_twin) {
  const std::string base = "epsilon --images 84 --calibration 200 --fault-point FP2 --fault-rate 0.3 --stuck 1 --gamma 1 "
                           "--rows 8 --cols 8 --json --engine ";
  const auto twin = run(base + "functional");
  const auto tlm = run(base + "systemc");
  ASSERT_EQ(twin.exit_code, 0) << twin.err;
  ASSERT_EQ(tlm.exit_code, 0) << tlm.err;
  for (const char* key : {"accuracy", "flagged_share", "analyses", "layers_flagged", "weights_corrected", "reruns",
                          "cycles_per_image", "faulty_weights"}) {
    EXPECT_EQ(json_number(twin.out, key), json_number(tlm.out, key)) << key;
  }
  EXPECT_GT(json_number(twin.out, "layers_flagged"), 0) << twin.out;
  EXPECT_GT(json_number(tlm.out, "check_bus_cycles"), 0) << tlm.out;  // read-back and write-back cross the bus
}

// A multi-exit model: the exits block of --json, and the cycle-accurate run over TLM identical to
// the twin at every exit under every policy.
TEST(cli, infer_multi_exit_json_and_engines_agree) {
  const std::string model = std::string(AXSA_SOURCE_DIR) + "/tests/fixtures/multiexit_tiny.onnx";
  const auto all = run("infer --model " + model + " --images 40 --exit-policy all --gamma 0.6 --float --json");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  for (const char* key : {"exits", "exit_policy", "gamma", "cycles_per_image_full", "bus_cycles_per_image", "share",
                          "branch_after", "float_accuracy"})
    EXPECT_NE(all.out.find("\"" + std::string(key) + "\": "), std::string::npos) << key;
  EXPECT_NE(all.out.find("\"name\": \"exit1\", \"branch_after\": \"pool1\""), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("\"name\": \"final\", \"branch_after\": \"(trunk)\""), std::string::npos) << all.out;
  const auto conf = run("infer --model " + model + " --images 40 --gamma 0.6 --json");
  ASSERT_EQ(conf.exit_code, 0) << conf.err;
  // The same decisions and accuracy, for fewer cycles than running every exit; the full trunk's
  // cost is the same whichever run reports it.
  EXPECT_EQ(json_number(conf.out, "accuracy"), json_number(all.out, "accuracy"));
  EXPECT_LT(json_number(conf.out, "cycles_per_image"), json_number(all.out, "cycles_per_image"));
  EXPECT_EQ(json_number(conf.out, "cycles_per_image_full"), json_number(all.out, "cycles_per_image_full"));
  const auto fin = run("infer --model " + model + " --images 40 --exit-policy final --json");
  ASSERT_EQ(fin.exit_code, 0) << fin.err;
  EXPECT_EQ(json_number(fin.out, "cycles_per_image"), json_number(fin.out, "cycles_per_image_full"));
  EXPECT_EQ(json_number(fin.out, "cycles_per_image_full"), json_number(all.out, "cycles_per_image_full"));
  for (const char* policy : {"all", "confidence"}) {
    const auto s = run("infer --model " + model + " --images 30 --engine systemc --compare --rows 6 --cols 5 --gamma 0.6 "
                       "--exit-policy " + std::string(policy) + " --json");
    ASSERT_EQ(s.exit_code, 0) << policy << ": " << s.err;
    EXPECT_NE(s.out.find("\"identical\": true"), std::string::npos) << s.out;
    EXPECT_NE(s.out.find("\"gemms_off_formula\": 0,"), std::string::npos) << s.out;
  }
}

// Every committed multi-exit model on 500 images: the cycle-accurate run over TLM gives the twin's
// integers at every exit (policy all) and the twin's exit choices (policy confidence).
class committed_multi_exit : public testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(committed_multi_exit, systemc_equals_the_twin_at_every_exit) {
  const std::string src = AXSA_SOURCE_DIR;
  const std::string base = "infer --model " + src + "/models/" + GetParam().first + ".onnx --data " + src + "/" +
                           GetParam().second + " --images 500 --engine systemc --compare --json --exit-policy ";
  for (const char* policy : {"all", "confidence"}) {
    const auto r = run(base + policy);
    ASSERT_EQ(r.exit_code, 0) << policy << ": " << r.err;
    EXPECT_NE(r.out.find("\"identical\": true"), std::string::npos) << policy << ": " << r.out;
    EXPECT_NE(r.out.find("\"gemms_off_formula\": 0,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"images\": 500,"), std::string::npos) << r.out;
  }
}

INSTANTIATE_TEST_SUITE_P(models, committed_multi_exit,
                         testing::Values(std::pair{"lenet5_exits_mnist", "data/mnist"}, std::pair{"vgg_exits_mnist", "data/mnist"},
                                         std::pair{"lenet5_exits_fashion", "data/fashion-mnist"},
                                         std::pair{"vgg_exits_fashion", "data/fashion-mnist"}),
                         [](const auto& p) { return std::string(p.param.first); });

// infer on the structural engine: the same output integers as the twin, and the same cycles as systemc.
TEST(cli, infer_structural_engine_is_identical_to_the_twin) {
  const auto s = run("infer --images 4 --engine structural --compare --rows 6 --cols 5 --json");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("\"engine\": \"structural\""), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\"identical\": true"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\"gemms_off_formula\": 0,"), std::string::npos) << s.out;
  const auto c = run("infer --images 4 --engine systemc --rows 6 --cols 5 --json");
  EXPECT_EQ(json_number(s.out, "cycles_per_image"), json_number(c.out, "cycles_per_image"));
}

#ifdef AXSA_EVOAPPROX_FIXTURE
// tests/evoapprox: two circuits in the library's conventions, one of them present twice; both
// must be registered once each, and their metrics must be those of the functions they implement.
TEST(evoapprox_slot, fixture_circuits_registered_once_with_correct_metrics) {
  const auto r = run("multipliers --json --no-area");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> evo;
  for (const auto& n : json_strings(r.out, "name"))
    if (n.rfind("mul", 0) == 0) evo.push_back(n);
  EXPECT_EQ(evo, (std::vector<std::string>{"mul8s_T01", "mul8s_T02"}));
  // The functions the fixture files implement, computed here independently.
  auto t01 = [](int a, int b) {
    const int p = a * b;
    const int low = ((p ^ (p >> 1)) & 1) | ((p & (p >> 1) & 1) << 1);
    return (p & ~3) | low;
  };
  auto t02 = [](int a, int b) {
    const int p = a * b;
    const int b0 = p & 1, b1 = (p >> 1) & 1, b2 = (p >> 2) & 1;
    return (p & ~7) | (b0 ^ b1 ^ b2) | (((b0 & b1) | (b1 & b2) | (b0 & b2)) << 1);
  };
  for (const auto& [name, fn] : std::vector<std::pair<std::string, std::function<int(int, int)>>>{{"mul8s_T01", t01},
                                                                                                  {"mul8s_T02", t02}}) {
    double sum_abs = 0, wce = 0, wrong = 0, red = 0, nonzero = 0;
    for (int a = -128; a < 128; ++a) {
      for (int b = -128; b < 128; ++b) {
        const double e = std::fabs(double(fn(a, b) - a * b));
        sum_abs += e;
        wce = std::max(wce, e);
        wrong += e != 0;
        if (a * b != 0) {
          red += e / std::fabs(double(a * b));
          ++nonzero;
        }
      }
    }
    const auto one = run("multipliers --json --no-area --name " + name);
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_NEAR(json_number(one.out, "mae"), sum_abs / 65536, 1e-9) << name;
    EXPECT_EQ(json_number(one.out, "wce"), wce) << name;
    EXPECT_NEAR(json_number(one.out, "ep"), wrong / 65536 * 100, 1e-7) << name;
    EXPECT_NEAR(json_number(one.out, "mred"), red / nonzero * 100, 1e-7) << name;
    EXPECT_NE(one.out.find("\"origin\": \"evoapprox\""), std::string::npos);
    const auto g = run("gemm --mult " + name + " --rows 8 --cols 8 --m 20 --k 30 --n 20 --json");
    EXPECT_NE(g.out.find("\"match\": true"), std::string::npos) << g.out << g.err;
    EXPECT_NE(g.out.find("\"reference\": \"rtl\""), std::string::npos) << g.out;
  }
}
#endif

// --energy: the activity a GEMM causes and its energy by component; the JSON numbers follow the
// documented counts (MACs = M*K*N, one accumulator write per MAC plus R*C per drain cycle).
TEST(cli, gemm_energy_reports_activity_and_components) {
  const auto r = run("gemm --rows 4 --cols 5 --m 9 --k 13 --n 11 --energy --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"macs\": " + std::to_string(9 * 13 * 11) + ","), std::string::npos) << r.out;
  const unsigned folds = 3 * 3, drain = 4;
  EXPECT_NE(r.out.find("\"acc_writes\": " + std::to_string(9 * 13 * 11 + folds * drain * 4 * 5) + ","), std::string::npos)
      << r.out;
  for (const char* key : {"total_pj", "multipliers_pj", "adders_pj", "registers_pj", "buffers_pj", "offchip_pj",
                          "mult_pj_per_product", "mult_basis"})
    EXPECT_NE(r.out.find("\"" + std::string(key) + "\": "), std::string::npos) << key;
  EXPECT_NE(r.out.find("\"offchip_pj\": 0,"), std::string::npos) << "the array alone has no bus: " << r.out;
  const auto text = run("gemm --rows 4 --cols 5 --m 9 --k 13 --n 11 --energy");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("nJ per GEMM"), std::string::npos) << text.out;
}

// The twin's energy per image equals the cycle-accurate TLM run's, with either engine: same array
// counts, same bus traffic.
TEST(cli, infer_energy_is_the_same_on_the_twin_and_over_tlm) {
  const std::string common = "infer --images 8 --rows 8 --cols 8 --energy --json --calibration 100";
  const auto twin = run(common);
  const auto tlm = run(common + " --engine systemc");
  ASSERT_EQ(twin.exit_code, 0) << twin.err;
  ASSERT_EQ(tlm.exit_code, 0) << tlm.err;
  const std::regex energy("\"energy_per_image\": (\\{[^}]*\\})");
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(twin.out, a, energy)) << twin.out;
  ASSERT_TRUE(std::regex_search(tlm.out, b, energy)) << tlm.out;
  EXPECT_EQ(a[1].str(), b[1].str());
  EXPECT_EQ(a[1].str().find("\"total_pj\": 0,"), std::string::npos);
  // The structural engine behind the bus counts the same (fewer images: it is the slow one).
  const std::string few = "infer --images 2 --rows 4 --cols 4 --energy --json --calibration 100";
  const auto fast2 = run(few + " --engine systemc"), structural2 = run(few + " --engine structural");
  ASSERT_EQ(fast2.exit_code, 0) << fast2.err;
  ASSERT_EQ(structural2.exit_code, 0) << structural2.err;
  ASSERT_TRUE(std::regex_search(fast2.out, a, energy)) << fast2.out;
  ASSERT_TRUE(std::regex_search(structural2.out, b, energy)) << structural2.out;
  EXPECT_EQ(a[1].str(), b[1].str());
  const auto as = run(common + " --energy-as mul12s_2TE");
  ASSERT_EQ(as.exit_code, 0) << as.err;
  EXPECT_NE(as.out.find("\"mult_costed_as\": \"mul12s_2TE\""), std::string::npos) << as.out;
}

TEST(cli, energy_options_errors_are_one_line) {
  const std::string dir = testing::TempDir();
  {
    std::ofstream f(dir + "/neg_energy.csv");
    f << "event,size,pj,note\nmult,8,-1,oops\n";
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"gemm --energy-table " + dir + "/neg_energy.csv", "neg_energy.csv: row 2: field 'pj': negative energy"},
      {"infer --energy-table " + dir + "/neg_energy.csv", "neg_energy.csv: row 2: field 'pj'"},
      {"gemm --energy-table /nonexistent/e.csv", "/nonexistent/e.csv"},
      {"gemm --energy-operands 1.5", "--energy-operands"},
      {"gemm --energy-as no_such_circuit", "no_such_circuit"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
  }
}

// The JSON trace (hw/trace_writer.h): one line per cycle plus the state after the last edge, the
// same on both engines (faults included), and a PE multiplies exactly when the skew brings it a
// pair, k = t - r - c in 0..K-1, for a one-fold GEMM.
TEST(cli, gemm_trace_follows_the_skew_and_is_the_same_on_both_engines) {
  const std::string dir = testing::TempDir();
  const std::string gemm = "gemm --rows 3 --cols 4 --bits 6 --m 3 --k 5 --n 4 --seed 11 --fault weight-link:stuck-at-1:1:2:3";
  ASSERT_EQ(run(gemm + " --trace " + dir + "/fast.json").exit_code, 0);
  ASSERT_EQ(run(gemm + " --engine structural --trace " + dir + "/structural.json").exit_code, 0);
  auto lines = [](const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  };
  const auto fast = lines(dir + "/fast.json"), structural = lines(dir + "/structural.json");
  const unsigned cycles = 5 + 2 * 3 + 4 - 2;
  ASSERT_EQ(fast.size(), cycles + 1 + 4u);  // header, faults, "cycles":[, one per cycle and the end state, ]}
  EXPECT_NE(fast[0].find("\"engine\":\"fast\""), std::string::npos) << fast[0];
  EXPECT_NE(fast[1].find("\"spec\":\"weight-link:stuck-at-1:1:2:3\""), std::string::npos) << fast[1];
  ASSERT_EQ(structural.size(), fast.size());
  for (std::size_t i = 1; i < fast.size(); ++i) EXPECT_EQ(fast[i], structural[i]) << "line " << i;
  const std::regex mac_re("\"mac_en\":\\[([0-9,]*)\\]");
  for (unsigned t = 0; t <= cycles; ++t) {
    const std::string& line = fast[3 + t];
    ASSERT_EQ(line.rfind("{\"cycle\":" + std::to_string(t) + ",", 0), 0u) << line;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, mac_re)) << line;
    std::string expected;
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 4; ++c) {
        const int k = static_cast<int>(t) - r - c;
        expected += std::string(expected.empty() ? "" : ",") + (t < cycles && k >= 0 && k < 5 ? "1" : "0");
      }
    }
    EXPECT_EQ(m[1].str(), expected) << "cycle " << t;
  }
  EXPECT_NE(fast[3 + cycles].find("\"stage\":\"done\""), std::string::npos);
  EXPECT_NE(fast[3 + cycles].find("\"acc\":[0,0,0,0,0,0,0,0,0,0,0,0]"), std::string::npos) << "drained";
  // A window and a region.
  ASSERT_EQ(run(gemm + " --trace " + dir + "/w.json --trace-cycles 2:4 --trace-region 1:2,2:2").exit_code, 0);
  const auto window = lines(dir + "/w.json");
  ASSERT_EQ(window.size(), 3 + 3 + 1u);
  EXPECT_EQ(window[3].rfind("{\"cycle\":2,", 0), 0u);
  EXPECT_NE(window[4].find("\"mac_en\":[1,0]"), std::string::npos) << window[4];  // cycle 3: PE (1,2) k = 0, PE (2,2) k = -1
}

TEST(cli, gemm_reports_the_error_against_exact_products) {
  auto r = run("gemm --rows 4 --cols 4 --m 8 --k 16 --n 8 --mult drum8_k4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::regex re("\"exact_error\": \\{\"differ\": ([0-9]+), \"mean_abs\": ([0-9.e+-]+), \"max_abs\": ([0-9.e+-]+)\\}");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, re)) << r.out;
  EXPECT_GT(std::stoul(m[1].str()), 0u);  // DRUM with k = 4 is not exact on random 8-bit operands
  EXPECT_LE(std::stod(m[2].str()), std::stod(m[3].str()));
  r = run("gemm --rows 4 --cols 4 --m 8 --k 16 --n 8 --json");
  EXPECT_EQ(r.out.find("exact_error"), std::string::npos) << "exact multiplier: no error block";
}

}  // namespace
}  // namespace axsa::test
