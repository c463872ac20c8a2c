// axsa coverify as a user meets it: help, JSON keys, the exit codes of a match, a mismatch and
// impossible options (one line on stderr, exit 2), and the VCD files a mismatch leaves behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include <unistd.h>

#include "tests/support/run_command.h"

namespace axsa::test {
namespace {

const std::string axsa = AXSA_BIN;

command_result run(const std::string& args) { return run_command(axsa + " " + args, testing::TempDir()); }

TEST(coverify_cli, help_names_every_option) {
  const auto r = run("coverify --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--rows", "--cols", "--bits", "--acc-bits", "--mult", "--m", "--k", "--n", "--faults", "--fault",
                          "--seed", "--inject-bug", "--vcd-prefix", "--engine", "--json"}) {
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
  }
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(run("--help").out.find("coverify"), std::string::npos);
}

TEST(coverify_cli, match_with_faults_exits_0_with_the_promised_keys) {
  const auto r = run("coverify --rows 4 --cols 4 --bits 8 --mult exact8 --m 9 --k 11 --n 6 --faults 12 --seed 4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(count_lines(r.out), 1u) << r.out;
  EXPECT_NE(r.out.find("\"match\": true"), std::string::npos) << r.out;
  // 3 x 2 folds of 11 + 8 + 4 - 2 cycles.
  EXPECT_NE(r.out.find("\"cycles\": " + std::to_string(3 * 2 * (11 + 8 + 4 - 2)) + ","), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"faults\": 12,"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("first_mismatch"), std::string::npos) << r.out;
}

// Control faults on the RTL controller: a stage stuck in compute never lets the job end (both sides
// run to the watchdog's budget, hung), one stuck in drain ends it early; the structural engine,
// which models no controller faults, refuses them in one line.
TEST(coverify_cli, control_faults_run_on_the_rtl_controller) {
  auto r = run("coverify --m 10 --k 16 --n 7 --fault control:stuck-at-0:0:0:64 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"match\": true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"hung\": true"), std::string::npos) << r.out;
  // 3 x 2 folds of 16 + 8 + 4 - 2 cycles; the budget is twice that plus 1000, then one more state.
  EXPECT_NE(r.out.find("\"compared_cycles\": " + std::to_string(2 * 3 * 2 * 26 + 1000 + 1) + ","), std::string::npos) << r.out;
  r = run("coverify --m 10 --k 16 --n 7 --fault control:stuck-at-1:0:0:64");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("result       match\n"), std::string::npos) << r.out;
  r = run("coverify --engine structural --fault control:stuck-at-0:0:0:64");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("control faults"), std::string::npos) << r.err;
}

// The structural engine against the RTL: a match with faults, and a planted bug found at its cycle and PE.
TEST(coverify_cli, structural_engine_runs_in_lockstep_with_the_rtl) {
  auto r = run("coverify --engine structural --rows 8 --cols 8 --mult drum8_k4 --m 17 --k 30 --n 9 --faults 20 --seed 3 "
               "--json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"engine\": \"structural\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"match\": true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"faults\": 20,"), std::string::npos) << r.out;
  r = run("coverify --engine structural --rows 4 --cols 4 --m 8 --k 12 --n 8 --inject-bug 17:2:1 --vcd-prefix ''");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("MISMATCH at cycle 17, PE (2,1), acc"), std::string::npos) << r.out;
}

// --operand-align high: the RTL strapped high in lockstep with both engines, with faults, and a
// fault-free run equal to the aligned reference. 8-bit data on the 12-bit drum12_k6 when the build
// has that configuration (the default list does); W == N on drum8_k4 either way.
TEST(coverify_cli, high_operand_alignment_runs_in_lockstep_and_matches_the_reference) {
  std::vector<std::string> configs = {"--rows 8 --cols 8 --mult drum8_k4"};
#ifdef AXSA_RTL_HAS_4X4X8_DRUM12
  configs.push_back("--rows 4 --cols 4 --mult drum12_k6");
#endif
  for (const auto& cfg : configs) {
    for (const std::string engine : {"fast", "structural"}) {
      auto r = run("coverify " + cfg + " --bits 8 --operand-align high --engine " + engine +
                   " --m 11 --k 21 --n 9 --fill min --json --no-rtl-build");
      ASSERT_EQ(r.exit_code, 0) << cfg << ": " << r.out << r.err;
      EXPECT_NE(r.out.find("\"operand_align\": \"high\""), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("\"reference_match\": true"), std::string::npos) << r.out;
      r = run("coverify " + cfg + " --bits 8 --operand-align high --engine " + engine +
              " --m 11 --k 21 --n 9 --faults 15 --seed 9 --json --no-rtl-build");
      ASSERT_EQ(r.exit_code, 0) << cfg << ": " << r.out << r.err;
      EXPECT_NE(r.out.find("\"match\": true"), std::string::npos) << r.out;
    }
  }
}

TEST(coverify_cli, fault_free_run_also_matches_the_reference) {
  const auto r = run("coverify --rows 8 --cols 8 --mult drum8_k4 --m 13 --k 20 --n 9 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"reference_match\": true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"outputs_equal\": true"), std::string::npos) << r.out;
}

TEST(coverify_cli, injected_bug_exits_1_and_names_cycle_pe_signal) {
  const std::string prefix = testing::TempDir() + "coverify_cli_" + std::to_string(getpid());
  const auto r = run("coverify --rows 4 --cols 4 --m 8 --k 12 --n 8 --inject-bug 17:2:1 --json --vcd-prefix " + prefix);
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("\"match\": false"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex("\"first_mismatch\": \\{\"cycle\": 17, \"row\": 2, \"col\": 1, \"signal\": "
                                           "\"acc\", \"model\": (-?[0-9]+), \"rtl\": (-?[0-9]+)\\}")))
      << r.out;
  EXPECT_EQ(std::stoll(m[1]), std::stoll(m[2]) + 1);
  for (const char* side : {".model.vcd", ".rtl.vcd"}) {
    EXPECT_TRUE(std::filesystem::exists(prefix + side)) << prefix + side;
    EXPECT_NE(r.out.find(prefix + side), std::string::npos);
    std::filesystem::remove(prefix + side);
  }
  // The text form says the same on its "result" line.
  const auto t = run("coverify --rows 4 --cols 4 --m 8 --k 12 --n 8 --inject-bug 17:2:1 --vcd-prefix ''");
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.out.find("MISMATCH at cycle 17, PE (2,1), acc"), std::string::npos) << t.out;
}

TEST(coverify_cli, impossible_options_give_one_error_line_and_exit_2) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"coverify --rows 0", "--rows"},
      {"coverify --bits 17", "--bits"},
      {"coverify --k 0", "--k"},
      {"coverify --faults -1", "--faults"},
      // Not built, and building on demand refused: the message lists what is built.
      {"coverify --rows 5 --cols 5 --no-rtl-build", "4x4x8x32:exact8"},
      {"coverify --rows 5 --cols 5 --no-rtl-build", "AXSA_RTL_CONFIGS"},
      {"coverify --mult nosuch", "nosuch"},
      {"coverify --mult drum8_k4 --no-rtl-build", "no RTL array built"},
      {"coverify --bits 12 --no-rtl-build", "no RTL array built"},
      // No configuration can exist: checked before anything is built.
      {"coverify --bits 12 --mult exact8", "narrower than the 12-bit data"},
      {"coverify --inject-bug 3:1", "CYCLE:ROW:COL"},
      {"coverify --inject-bug a:1:1", "CYCLE:ROW:COL"},
      {"coverify --inject-bug 3:4:0", "outside"},
      {"coverify --inject-bug 100000:0:0", "last cycle"},
      {"coverify --fault weight-link:stuck-at-1:4:0:0", "outside"},
      {"coverify --fault weight-link:stuck-at-2:0:0:0", "stuck-at-2"},
      {"coverify --fill zero", "fill"},
      {"coverify --vcd-prefix /nonexistent-dir/run", "/nonexistent-dir"},
      {"coverify --frobnicate", "frobnicate"},
      {"coverify --engine slow", "unknown engine 'slow'"},
      {"coverify --engine structural --fault weight-link:stuck-at-1:4:0:0", "outside"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args << ": " << r.out;
  }
}

}  // namespace
}  // namespace axsa::test
