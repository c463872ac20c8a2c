// axsa scalesim as a user meets it: the committed LeNet-5 topology at every committed config (and
// generated weight-stationary ones), COMPUTE_REPORT.csv in SCALE-Sim's columns, AXSA_REPORT.csv's
// cycles against SCALE-Sim's formula (recomputed here from the topology file) plus the documented
// offset, --json, and one-line errors with exit 2 for malformed topologies, configs and options.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir_test.h"

namespace axsa::test {
namespace {

const std::string axsa = AXSA_BIN;
const std::string models = std::string(AXSA_SOURCE_DIR) + "/models/";
const std::string lenet5 = models + "lenet5_scalesim.csv";

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream l(line);
    for (std::string f; std::getline(l, f, ',');) {
      const auto a = f.find_first_not_of(' ');
      fields.push_back(a == std::string::npos ? "" : f.substr(a, f.find_last_not_of(' ') - a + 1));
    }
    rows.push_back(fields);
  }
  return rows;
}

// The layers of a topology file, lowered here on their own: {M, K, N} per data line.
std::vector<std::array<std::uint64_t, 3>> lowered(const std::string& path) {
  std::vector<std::array<std::uint64_t, 3>> out;
  const auto rows = csv_rows(read_text(path));
  for (std::size_t i = 1; i < rows.size(); ++i) {
    std::vector<std::uint64_t> v;
    for (std::size_t j = 1; j < 8; ++j) v.push_back(std::stoull(rows[i][j]));
    const std::uint64_t eh = (v[0] - v[2]) / v[6] + 1, ew = (v[1] - v[3]) / v[6] + 1;
    out.push_back({eh * ew, v[2] * v[3] * v[4], v[5]});
  }
  return out;
}

std::string config_text(unsigned rows, unsigned cols, const std::string& df) {
  return "[general]\nrun_name = t\n[architecture_presets]\nArrayHeight: " + std::to_string(rows) +
         "\nArrayWidth: " + std::to_string(cols) + "\nDataflow: " + df + "\n";
}

class scalesim_cli : public temp_dir_test {
 protected:
  void write(const std::string& name, const std::string& text) const { std::ofstream(file(name)) << text; }
  command_result scalesim(const std::string& args) const { return run(axsa + " scalesim " + args); }
};

// Acceptance 4 through the command line: every layer's stepped cycles are SCALE-Sim's formula plus
// the documented offset (0 for os, one per fold for ws), the reports have one row per layer.
TEST_F(scalesim_cli, lenet5_cycles_are_scale_sims_formula_plus_the_documented_offset) {
  struct run_case {
    std::string config;
    unsigned size;
    bool os;
  };
  write("ws8.cfg", config_text(8, 8, "ws"));
  write("ws16.cfg", config_text(16, 16, "ws"));
  const std::vector<run_case> cases = {{models + "scalesim_8x8_os.cfg", 8, true},   {models + "scalesim_16x16_os.cfg", 16, true},
                                       {models + "scalesim_28x28_os.cfg", 28, true}, {models + "scalesim_28x28_ws.cfg", 28, false},
                                       {file("ws8.cfg"), 8, false},                   {file("ws16.cfg"), 16, false}};
  const auto layers = lowered(lenet5);
  ASSERT_EQ(layers.size(), 5u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.config);
    const std::string out = file("out_" + std::to_string(c.size) + (c.os ? "os" : "ws"));
    const auto r = scalesim("--topology " + lenet5 + " --config " + c.config + " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
    const auto compute = csv_rows(read_text(out + "/COMPUTE_REPORT.csv"));
    const auto report = csv_rows(read_text(out + "/AXSA_REPORT.csv"));
    ASSERT_EQ(compute.size(), layers.size() + 1);
    ASSERT_EQ(report.size(), layers.size() + 1);
    const std::string header = "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n";
    EXPECT_EQ(read_text(out + "/COMPUTE_REPORT.csv").substr(0, header.size()), header);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const auto [m, k, n] = layers[i];
      const std::uint64_t r_ = c.size, t = c.os ? k : m;
      const std::uint64_t folds = ((c.os ? m : k) + r_ - 1) / r_ * ((n + r_ - 1) / r_);
      const std::uint64_t formula = folds * (2 * r_ + r_ + t - 2);
      const auto& row = report[i + 1];
      ASSERT_GE(row.size(), 14u);
      EXPECT_EQ(std::stoull(row[2]), m);
      EXPECT_EQ(std::stoull(row[3]), k);
      EXPECT_EQ(std::stoull(row[4]), n);
      EXPECT_EQ(row[5], c.os ? "os" : "ws");
      EXPECT_EQ(std::stoull(row[8]), folds);
      EXPECT_EQ(std::stoull(row[9]), formula + (c.os ? 0 : folds)) << row[1];
      EXPECT_EQ(std::stoull(row[10]), formula);
      EXPECT_EQ(std::stoll(row[11]), static_cast<long long>(c.os ? 0 : folds));
      EXPECT_EQ(row[13], "match");
      EXPECT_EQ(std::stoull(compute[i + 1][0]), i);
      EXPECT_EQ(compute[i + 1][1], row[9]);  // Total Cycles = axsa's stepped cycles
      EXPECT_EQ(compute[i + 1][2], "0");
      const double util = 100.0 * static_cast<double>(m * k * n) / static_cast<double>(r_ * r_ * std::stoull(row[9]));
      EXPECT_NEAR(std::stod(compute[i + 1][3]), util, 1e-9);
    }
  }
}

TEST_F(scalesim_cli, json_and_table_describe_the_run) {
  const std::string args = "--topology " + lenet5 + " --config " + models + "scalesim_16x16_os.cfg --out " + file("o");
  auto r = scalesim(args + " --json --data zeros --bits 4 --acc-bits 20");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 1u) << r.out;
  for (const char* key : {"\"rows\": 16", "\"dataflow\": \"os\"", "\"bits\": 4", "\"acc_bits\": 20", "\"data\": \"zeros\"",
                          "\"match\": true", "\"on_formula\": true", "\"layers\": [", "\"scalesim_cycles\": ",
                          "\"documented_offset\": 0", "\"run_name\": \"lenet5_16x16_os\""})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " in " << r.out;
  std::size_t names = 0;
  for (auto p = r.out.find("\"name\": "); p != std::string::npos; p = r.out.find("\"name\": ", p + 1)) ++names;
  EXPECT_EQ(names, 5u);
  r = scalesim(args + " --seed 7");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* word : {"Conv1", "Conv2", "FC1", "FC2", "FC3", "match", "COMPUTE_REPORT.csv", "16x16, os"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word << " in " << r.out;
  r = run(axsa + " scalesim --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--topology", "--config", "--out", "--data", "--seed", "--bits", "--acc-bits", "--mult", "--engine", "--json"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}

// The structural engine and an approximate multiplier run the same path (checked against the
// design's behavioural model).
TEST_F(scalesim_cli, structural_engine_and_approximate_multiplier) {
  write("small.csv", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                     "A, 7, 6, 3, 2, 2, 5, 2,\nB_DP, 5, 5, 3, 3, 2, 3, 1,\n");
  write("a.cfg", config_text(3, 4, "ws"));
  auto r = scalesim("--topology " + file("small.csv") + " --config " + file("a.cfg") + " --out " + file("o") +
                    " --engine structural --mult drum8_k4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"name\": \"B_DPChannel_1\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"match\": true"), std::string::npos) << r.out;
  EXPECT_EQ(csv_rows(read_text(file("o/COMPUTE_REPORT.csv"))).size(), 4u);  // header, A, B_DP's two channels
}

// Acceptance 5, topology and config: one line naming the file, the line and the field; exit 2.
TEST_F(scalesim_cli, malformed_input_gives_one_line_and_exit_2) {
  const std::string head = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";
  const std::string ok = "Conv1, 28, 28, 5, 5, 1, 6, 1,\n";
  write("missing.csv", head + ok + "Conv2, 14, 14, 5, 5, 6, 16,\n");
  write("zero.csv", head + ok + "Conv2, 14, 14, 5, 5, 0, 16, 1,\n");
  write("negative.csv", head + "Conv1, 28, 28, -5, 5, 1, 6, 1,\n");
  write("word.csv", head + "Conv1, 28, 28, 5, 5, one, 6, 1,\n");
  write("big.csv", head + "Conv1, 28, 28, 5, 29, 1, 6, 1,\n");
  write("stride.csv", head + "Conv1, 28, 28, 5, 5, 1, 6, 0,\n");
  write("good.cfg", config_text(8, 8, "os"));
  write("is.cfg", config_text(8, 8, "is"));
  write("noheight.cfg", "[architecture_presets]\nArrayWidth: 8\nDataflow: os\n");
  write("badwidth.cfg", "[architecture_presets]\nArrayHeight: 8\nArrayWidth: wide\nDataflow: os\n");
  write("huge.cfg", config_text(200, 8, "os"));
  write("a_file", "x");
  const std::string good = " --config " + file("good.cfg") + " --out " + file("o");
  const std::string topo = " --topology " + lenet5 + " --out " + file("o");
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"--topology " + file("missing.csv") + good, {"missing.csv", "line 3", "Conv2", "'Strides'"}},
      {"--topology " + file("zero.csv") + good, {"zero.csv", "line 3", "'Channels'", "got 0"}},
      {"--topology " + file("negative.csv") + good, {"negative.csv", "line 2", "'Filter Height'", "got -5"}},
      {"--topology " + file("word.csv") + good, {"word.csv", "line 2", "'Channels'", "not an integer"}},
      {"--topology " + file("big.csv") + good, {"big.csv", "line 2", "'Filter Width' (29)", "'IFMAP Width' (28)"}},
      {"--topology " + file("stride.csv") + good, {"stride.csv", "line 2", "'Strides'"}},
      {"--topology " + file("nope.csv") + good, {"nope.csv", "no such file"}},
      {"--config " + file("is.cfg") + topo, {"is.cfg", "line 6", "Dataflow 'is'"}},
      {"--config " + file("noheight.cfg") + topo, {"noheight.cfg", "line 1", "ArrayHeight"}},
      {"--config " + file("badwidth.cfg") + topo, {"badwidth.cfg", "line 3", "ArrayWidth", "'wide'"}},
      {"--config " + file("huge.cfg") + topo, {"huge.cfg", "line 4", "ArrayHeight", "got 200"}},
      {"--topology " + lenet5 + " --config " + file("good.cfg") + " --out " + file("a_file/sub"), {"--out", "a_file/sub"}},
      {"--topology " + lenet5 + " --config " + file("good.cfg") + " --out " + file("a_file"), {"--out", "a_file"}},
      {"--config " + file("good.cfg") + " --out " + file("o"), {"--topology is required"}},
      {"--topology " + lenet5 + " --config " + file("good.cfg") + " --out ''", {"--out", "empty"}},
      {"--topology " + lenet5 + good + " --data ones", {"--data", "ones"}},
      {"--topology " + lenet5 + good + " --bits 17", {"--bits"}},
      {"--topology " + lenet5 + good + " --engine slow", {"engine 'slow'"}},
      {"--topology " + lenet5 + good + " --mult nosuchmult", {"nosuchmult"}},
  };
  for (const auto& [args, fragments] : cases) {
    const auto r = scalesim(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args << ": " << r.out;
    for (const auto& f : fragments) EXPECT_NE(r.err.find(f), std::string::npos) << args << ": '" << f << "' not in " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(file("o/COMPUTE_REPORT.csv")));
}

}  // namespace
}  // namespace axsa::test
