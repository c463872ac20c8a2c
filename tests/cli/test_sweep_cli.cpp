// axsa sweep as a user meets it: its accuracy and cycles equal axsa infer's on the same images and
// configuration, --json holds every configuration, --help states the skipping rule, and bad
// options give one error line and exit 2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "tests/support/temp_dir_test.h"

namespace axsa::test {
namespace {

const std::string axsa = AXSA_BIN;

// The first number after "key": in a JSON text (from `from` on).
double json_number(const std::string& text, const std::string& key, std::size_t from = 0) {
  const auto at = text.find("\"" + key + "\": ", from);
  if (at == std::string::npos) return NAN;
  return std::strtod(text.c_str() + at + key.size() + 4, nullptr);
}

using sweep_cli = temp_dir_test;

TEST_F(sweep_cli, accuracy_and_cycles_equal_axsa_infer_on_the_same_configuration) {
  const std::string images = " --images 60 --first 100 --calibration 300";
  const auto s = run(axsa + " sweep --rows 4,6x10 --bits 8,12 --mults exact,drum8_k4 --quiet --json" + images +
                     " --out " + file("s.sqlite"));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(s.err.empty()) << s.err;
  EXPECT_EQ(count_lines(s.out), 1u);
  EXPECT_EQ(json_number(s.out, "configs"), 8.0);
  // Rows come ordered by (rows, cols, bits, mult); drum8_k4 at 12 bits is skipped.
  const std::regex object("\\{\"rows\": (\\d+), \"cols\": (\\d+), \"bits\": (\\d+), \"mult\": \"([a-z0-9_]+)\", "
                          "\"dataflow\": \"os\", \"status\": \"(\\w+)\"");
  int compared = 0, skipped = 0;
  for (auto it = std::sregex_iterator(s.out.begin(), s.out.end(), object); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    const std::string rows = m[1], cols = m[2], bits = m[3], mult = m[4], status = m[5];
    SCOPED_TRACE(rows + "x" + cols + " INT" + bits + " " + mult);
    if (status == "skipped") {
      EXPECT_EQ(mult + bits, "drum8_k412");
      ++skipped;
      continue;
    }
    const auto pos = static_cast<std::size_t>(m.position(0));
    const auto i = run(axsa + " infer --json --rows " + rows + " --cols " + cols + " --bits " + bits + " --mult " + mult +
                       " --jobs 1" + images);
    ASSERT_EQ(i.exit_code, 0) << i.err;
    EXPECT_NEAR(json_number(s.out, "accuracy", pos), json_number(i.out, "accuracy"), 1e-9);
    EXPECT_NEAR(json_number(s.out, "cycles_per_image", pos), json_number(i.out, "cycles_per_image"), 1e-6);
    EXPECT_NEAR(json_number(s.out, "utilization", pos), json_number(i.out, "utilization"), 1e-9);
    EXPECT_EQ(json_number(s.out, "acc_bits", pos), json_number(i.out, "acc_bits"));
    ++compared;
  }
  EXPECT_EQ(compared, 6);
  EXPECT_EQ(skipped, 2);
  // The same command again resumes: nothing left to run, the same results.
  const auto again = run(axsa + " sweep --rows 4,6x10 --bits 8,12 --mults exact,drum8_k4 --quiet --json" + images +
                         " --out " + file("s.sqlite"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json_number(again.out, "run"), 0.0);
  EXPECT_EQ(json_number(again.out, "resumed"), 8.0);
  const auto results = [](const std::string& text) { return text.substr(text.find("\"results\"")); };
  const std::regex seconds("\"seconds\": [0-9.e+-]+");
  EXPECT_EQ(std::regex_replace(results(again.out), seconds, ""), std::regex_replace(results(s.out), seconds, ""));
}

TEST_F(sweep_cli, help_describes_the_options_and_the_skipping_rule) {
  const auto r = run(axsa + " sweep --help");
  ASSERT_EQ(r.exit_code, 0);
  for (const char* opt : {"--rows", "--bits", "--mults", "--dataflow", "--images", "--first", "--jobs", "--campaign",
                          "--out", "--csv", "--energy-table", "--acc-bits", "--json", "skipped"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
  EXPECT_NE(run(axsa + " --help").out.find("sweep"), std::string::npos);
}

TEST_F(sweep_cli, bad_options_give_one_error_line_and_exit_2) {
  const std::string base = axsa + " sweep --quiet --calibration 50 ";
  // --rows 2, --bits 8 and --images 5 unless the case gives its own.
  const auto with_defaults = [](std::string args) {
    for (const char* d : {"--rows 2", "--bits 8", "--images 5"})
      if (args.find(std::string(d).substr(0, std::string(d).find(' ') + 1)) == std::string::npos) args += std::string(" ") + d;
    return args;
  };
  std::ofstream(file("negative.csv")) << "event,size,pj,note\nmult,8,-1,x\n";
  // A grid stored under one definition, resumed with another.
  ASSERT_EQ(run(base + with_defaults("--mults exact --out " + file("g.sqlite"))).exit_code, 0);
  ASSERT_EQ(run(base + with_defaults("--mults exact --csv " + file("g.csv"))).exit_code, 0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--mults exact,nosuch9 --out " + file("a.sqlite"), "nosuch9"},
      {"--bits 8,17 --out " + file("a.sqlite"), "'17' is not a width in 2..16"},
      {"--bits 1 --out " + file("a.sqlite"), "--bits"},
      {"--rows 0 --out " + file("a.sqlite"), "--rows"},
      {"--rows 4x200 --out " + file("a.sqlite"), "4x200"},
      {"--campaign full --out " + file("a.sqlite"), "--campaign"},
      {"--campaign quick --dataflow ws --out " + file("a.sqlite"), "--dataflow os"},
      {"--acc-bits 70 --out " + file("a.sqlite"), "--acc-bits"},
      {"--out " + file("a.sqlite") + " --csv " + file("a.csv"), "exclude"},
      {"--energy-table " + file("missing.csv") + " --out " + file("a.sqlite"), file("missing.csv")},
      {"--energy-table " + file("negative.csv") + " --out " + file("a.sqlite"), "negative energy"},
      {"--mults exact,drum8_k4 --out " + file("g.sqlite"), "mults = 'exact'"},
      {"--mults exact --images 6 --csv " + file("g.csv"), "images = '5'"},
      {"--mults exact --data " + file("nodata") + " --out " + file("a.sqlite"), "nodata"},
      {"--mults exact --first 9999 --out " + file("a.sqlite"), "--first"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run(base + with_defaults(args));
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
  }
  // Errors before the grid starts leave no results file behind.
  EXPECT_FALSE(std::filesystem::exists(file("a.sqlite")));
  EXPECT_FALSE(std::filesystem::exists(file("a.csv")));
}

}  // namespace
}  // namespace axsa::test
