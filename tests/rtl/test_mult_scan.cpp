// The configure-time readers (rtl/mult_scan.h): multipliers.txt and the EvoApprox folder scan. The
// committed manifest and the fixture folder tests/evoapprox must read as the build uses them; every
// malformed line is one error naming its line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "rtl/mult_scan.h"
#include "tests/support/temp_dir_test.h"

namespace {

using namespace axsa::rtl::scan;

std::string manifest_error(const std::string& text) {
  try {
    parse_manifest(text);
  } catch (const scan_error& e) {
    return e.what();
  }
  return "";
}

TEST(mult_scan, committed_manifest_lists_the_in_house_designs) {
  const std::string text = axsa::test::read_text(AXSA_SOURCE_DIR "/rtl/mult/multipliers.txt");
  const auto entries = parse_manifest(text);
  ASSERT_GE(entries.size(), 10u);
  EXPECT_EQ(entries[0].name, "exact8");
  EXPECT_EQ(entries[0].module, "axsa_mul_exact");
  EXPECT_EQ(entries[0].bits, 8u);
  bool saw_bam = false;
  for (const auto& e : entries) {
    EXPECT_TRUE(std::filesystem::exists(std::string(AXSA_SOURCE_DIR "/rtl/mult/") + e.module + ".v")) << e.name;
    if (e.name == "bam8_h1_v4") {
      saw_bam = true;
      EXPECT_EQ(e.params, (std::vector<std::string>{"HBL=1", "VBL=4"}));
    }
  }
  EXPECT_TRUE(saw_bam);
}

TEST(mult_scan, manifest_skips_comments_and_blank_lines_and_counts_lines) {
  const auto entries = parse_manifest("# a comment\n\n   \t\nexact8 axsa_mul_exact 8\r\n  drum8_k4\taxsa_mul_drum 8 K=4");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].line, 4u);
  EXPECT_EQ(entries[1].line, 5u);
  EXPECT_EQ(entries[1].params, std::vector<std::string>{"K=4"});
  EXPECT_TRUE(parse_manifest("").empty());
}

TEST(mult_scan, manifest_errors_name_the_line_and_the_problem) {
  EXPECT_EQ(manifest_error("a m\n"), "line 1: 'a m' needs at least: name module N");
  EXPECT_EQ(manifest_error("\nx m 8\nx m 12\n"), "line 3: multiplier 'x' is listed twice (first on line 2)");
  EXPECT_EQ(manifest_error("9x m 8"), "line 1: registry name '9x' is not a letter followed by letters, digits and '_'");
  EXPECT_EQ(manifest_error("x m;y 8"), "line 1: module 'm;y' is not a Verilog identifier");
  EXPECT_EQ(manifest_error("x m 17"), "line 1: operand width '17' of x is not 2..16");
  EXPECT_EQ(manifest_error("x m 1"), "line 1: operand width '1' of x is not 2..16");
  EXPECT_EQ(manifest_error("x m 99999999999999999999"), "line 1: operand width '99999999999999999999' of x is not 2..16");
  EXPECT_EQ(manifest_error("x m 8 K=-1"),
            "line 1: parameter 'K=-1' of x is not KEY=value (a Verilog identifier and a decimal number)");
  EXPECT_EQ(manifest_error("x m 8 K=1 K=2"), "line 1: parameter K of x is given twice");
  EXPECT_EQ(manifest_error("x m 8 N=4"), "line 1: parameter N of x is set by column 3, not by N=");
  EXPECT_EQ(manifest_error(std::string("x m 8\0", 6)), "line 1: contains a NUL byte");
  EXPECT_EQ(manifest_error("x m 8 \x01=1"),
            "line 1: parameter '?=1' of x is not KEY=value (a Verilog identifier and a decimal number)");
}

TEST(mult_scan, evoapprox_names) {
  EXPECT_TRUE(classify_evoapprox_name("mul8s_1KV6").usable);
  EXPECT_EQ(classify_evoapprox_name("mul12s_2PT").bits, 12u);
  EXPECT_EQ(classify_evoapprox_name("mul8s_1KV6_pdk45").why, "gate netlist: needs the PDK45 cell library, which is not shipped");
  EXPECT_EQ(classify_evoapprox_name("mul8u_1JFF").why, "unsigned circuit: the PEs multiply signed operands");
  EXPECT_EQ(classify_evoapprox_name("add8s_1").why, "not a signed multiplier named mul<N>s_<id>");
  EXPECT_EQ(classify_evoapprox_name("mul8s_").why, "not a signed multiplier named mul<N>s_<id>");
  EXPECT_EQ(classify_evoapprox_name("mul8s_a-b").why, "not a signed multiplier named mul<N>s_<id>");
  EXPECT_EQ(classify_evoapprox_name("mul32s_X").why, "32-bit operands: the PEs take 2..16");
  EXPECT_EQ(classify_evoapprox_name("mul1s_X").why, "1-bit operands: the PEs take 2..16");
}

TEST(mult_scan, evoapprox_headers) {
  const std::string good = "// c\nmodule mul8s_X ( A, B, O );\n /* x */ input [7:0] A;\n input [7:0] B;\n output [15:0] O;\nendmodule\n";
  EXPECT_EQ(check_evoapprox_header(good, "mul8s_X", 8), "");
  EXPECT_EQ(check_evoapprox_header(good, "mul8s_Y", 8), "no module mul8s_Y(A, B, O) in the file");
  EXPECT_EQ(check_evoapprox_header(good, "mul8s_X", 12), "ports are not input [11:0] A, B and output [23:0] O");
  EXPECT_EQ(check_evoapprox_header("module mul8s_X(A, O, B); endmodule", "mul8s_X", 8),
            "module mul8s_X does not have the ports (A, B, O)");
  // A module of the same name only in a comment does not count.
  EXPECT_EQ(check_evoapprox_header("// module mul8s_X(A, B, O);", "mul8s_X", 8), "no module mul8s_X(A, B, O) in the file");
}

class mult_scan_folder : public axsa::test::temp_dir_test {};

TEST_F(mult_scan_folder, fixture_folder_reads_as_documented) {
  const auto files = scan_evoapprox_folder(AXSA_SOURCE_DIR "/tests/evoapprox/multiplers");
  int taken = 0, duplicates = 0, skipped = 0;
  for (const auto& f : files) {
    if (f.what == evo_file::action::take) {
      ++taken;
      EXPECT_TRUE(f.base == "mul8s_T01" || f.base == "mul8s_T02" || f.base == "mul8s_T05") << f.base;
      EXPECT_EQ(f.bits, 8u);
    }
    duplicates += f.what == evo_file::action::duplicate;
    skipped += f.what == evo_file::action::skip;
  }
  // T05's header is fine; Verilator refuses its body later (rtl/evoapprox.cmake).
  EXPECT_EQ(taken, 3);
  EXPECT_EQ(duplicates, 1);
  EXPECT_EQ(skipped, 3);  // 32-bit, _pdk45, unsigned
}

TEST_F(mult_scan_folder, same_name_different_text_keeps_the_first) {
  std::filesystem::create_directories(file("a"));
  std::filesystem::create_directories(file("b"));
  const std::string text = "module mul4s_Q(A, B, O);\ninput [3:0] A;\ninput [3:0] B;\noutput [7:0] O;\nendmodule\n";
  std::ofstream(file("a/mul4s_Q.v")) << text;
  std::ofstream(file("b/mul4s_Q.v")) << text << "// changed\n";
  const auto files = scan_evoapprox_folder(m_dir);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].what, evo_file::action::take);
  EXPECT_EQ(files[0].relative, "a/mul4s_Q.v");
  EXPECT_EQ(files[1].what, evo_file::action::skip);
  EXPECT_EQ(files[1].why, "differs from the mul4s_Q already taken from a/mul4s_Q.v; keeping that one");
  try {
    scan_evoapprox_folder(file("missing"));
    ADD_FAILURE() << "a missing folder was scanned";
  } catch (const scan_error& e) {
    EXPECT_EQ(std::string(e.what()), "'" + file("missing") + "' is not a directory");
  }
}

}  // namespace
