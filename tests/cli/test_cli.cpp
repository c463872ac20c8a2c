// The axsa executable as a user meets it: help, JSON keys, and one-line errors with exit code 2.
#include <gtest/gtest.h>

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
