// SCALE-Sim interchange (sw/scalesim.h), kernel-free: the topology and config readers on files in
// SCALE-Sim's own conventions and on malformed ones (one config_error naming file, line and field),
// the lowering against the committed ONNX LeNet-5, SCALE-Sim's formulas plus the documented offset
// against the array's stepped cycles (hw::array_core, os and ws at 8x8, 16x16 and 28x28), the
// utilisation definitions against a fold-by-fold count, and the reports' header and rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "hw/array_core.h"
#include "hw/cycle_model.h"
#include "hw/dataflow.h"
#include "sw/gemm_workload.h"
#include "sw/network.h"
#include "sw/scalesim.h"

namespace axsa::test {
namespace {

namespace ss = sw::scalesim;

const std::string source_dir = AXSA_SOURCE_DIR;
const std::string lenet5_topology = source_dir + "/models/lenet5_scalesim.csv";
const std::string header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";

ss::topology topo(const std::string& text) {
  std::istringstream in(text);
  return ss::parse_topology(in, "net.csv");
}
ss::config cfg(const std::string& text) {
  std::istringstream in(text);
  return ss::parse_config(in, "arch.cfg");
}

// SCALE-Sim's paper formula, written out here again from its definition: folds of the spatially
// mapped dimension (os: output pixels M, ws: the window K) by N, each 2R + C + T - 2 cycles long with
// T the streamed dimension (os: K, ws: M).
std::uint64_t paper_cycles(const hw::gemm_shape& s, unsigned r, unsigned c, bool os) {
  const std::uint64_t rows_dim = os ? s.m : s.k, t = os ? s.k : s.m;
  return ((rows_dim + r - 1) / r) * ((s.n + c - 1) / c) * (2 * r + c + t - 2);
}

TEST(scalesim_topology, reads_scale_sims_conventions) {
  // Padded columns, a trailing comma, CRLF, a blank line, a line without the trailing comma, and
  // SCALE-Sim's nine-column form with separate strides.
  const auto t = topo(header + "Conv1     ,224   ,224  ,11 ,11  ,3   ,96  ,4   ,\r\n\n"
                      "FC6, 6, 6, 6, 6, 256, 4096, 1\n"
                      "FC7, 1, 1, 1, 1, 4096, 1000, 1, \n"
                      "Rect, 20, 30, 3, 5, 2, 7, 2, 3,\n");
  ASSERT_EQ(t.layers.size(), 4u);
  const auto& c1 = t.layers[0];
  EXPECT_EQ(c1.name, "Conv1");
  EXPECT_EQ(c1.line, 2u);
  EXPECT_EQ(c1.stride_h, 4u);
  EXPECT_EQ(c1.stride_w, 4u);
  // (224 - 11) / 4 + 1 output rows and columns, rounded down as SCALE-Sim does.
  const std::uint64_t e = (224 - 11) / 4 + 1;
  EXPECT_EQ(c1.gemm().m, e * e);
  EXPECT_EQ(c1.gemm().k, 11u * 11 * 3);
  EXPECT_EQ(c1.gemm().n, 96u);
  // Both ways SCALE-Sim's files write a dense layer give one output pixel and the whole input as K.
  EXPECT_EQ(t.layers[1].line, 4u);
  EXPECT_EQ(t.layers[1].gemm().m, 1u);
  EXPECT_EQ(t.layers[1].gemm().k, 6u * 6 * 256);
  EXPECT_EQ(t.layers[2].gemm().m, 1u);
  EXPECT_EQ(t.layers[2].gemm().k, 4096u);
  EXPECT_EQ(t.layers[2].gemm().n, 1000u);
  const auto& rect = t.layers[3];
  EXPECT_EQ(rect.stride_h, 2u);
  EXPECT_EQ(rect.stride_w, 3u);
  EXPECT_EQ(rect.ofmap_h(), (20u - 3) / 2 + 1);
  EXPECT_EQ(rect.ofmap_w(), (30u - 5) / 3 + 1);
  EXPECT_EQ(rect.gemm().k, 3u * 5 * 2);
}

TEST(scalesim_topology, depthwise_layers_split_per_channel) {
  const auto t = topo(header + "Conv_DP1, 10, 10, 3, 3, 4, 1, 1,\nPlain, 10, 10, 3, 3, 4, 2, 1,\n");
  ASSERT_EQ(t.layers.size(), 5u);
  for (unsigned c = 0; c < 4; ++c) {
    EXPECT_EQ(t.layers[c].name, "Conv_DP1Channel_" + std::to_string(c));
    EXPECT_EQ(t.layers[c].gemm().k, 9u);
  }
  EXPECT_EQ(t.layers[4].gemm().k, 36u);
}

// The committed topology is the committed ONNX LeNet-5: every conv and dense layer lowers to the GEMM
// (per image) the import computes from the model, padding included.
TEST(scalesim_topology, lenet5_topology_is_the_committed_model) {
  const auto t = ss::read_topology(lenet5_topology);
  const sw::network net = sw::load_onnx(source_dir + "/models/lenet5.onnx");
  std::vector<hw::gemm_shape> model;
  for (const auto& l : net.layers) {
    if (l.kind == sw::layer_kind::conv) model.push_back({std::size_t{l.out.h} * l.out.w, std::size_t{l.in.c} * l.kh * l.kw, l.out.c});
    if (l.kind == sw::layer_kind::dense) model.push_back({1, l.in.size(), l.out.size()});
  }
  ASSERT_EQ(t.layers.size(), model.size());
  for (std::size_t i = 0; i < model.size(); ++i) {
    EXPECT_EQ(t.layers[i].gemm().m, model[i].m) << t.layers[i].name;
    EXPECT_EQ(t.layers[i].gemm().k, model[i].k) << t.layers[i].name;
    EXPECT_EQ(t.layers[i].gemm().n, model[i].n) << t.layers[i].name;
  }
}

// Each malformed file: a config_error whose one-line message names the file, the line and the field.
void expect_error(const std::function<void()>& parse, const std::vector<std::string>& fragments) {
  try {
    parse();
    ADD_FAILURE() << "accepted; expected an error with '" << fragments.front() << "'";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  }
}

TEST(scalesim_topology, malformed_files_name_file_line_and_field) {
  const std::string ok = "Conv1, 28, 28, 5, 5, 1, 6, 1,\n";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {header + ok + "Conv2, 14, 14, 5, 5, 6, 16,\n", {"net.csv", "line 3", "Conv2", "missing field 'Strides'"}},
      {header + "Conv1, 28, 28, 5\n", {"net.csv", "line 2", "missing field 'Filter Width'"}},
      {"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,\n" + ok,
       {"net.csv", "line 1", "header", "missing column 'Strides'"}},
      {header + ok + "Conv2, 14, 14, 5, 5, 0, 16, 1,\n", {"net.csv", "line 3", "Conv2", "'Channels'", "positive", "got 0"}},
      {header + "Conv1, 0, 28, 5, 5, 1, 6, 1,\n", {"line 2", "'IFMAP Height'", "got 0"}},
      {header + "Conv1, 28, -28, 5, 5, 1, 6, 1,\n", {"line 2", "'IFMAP Width'", "positive", "got -28"}},
      {header + "Conv1, 28, 28, 5, 5, 1, six, 1,\n", {"line 2", "'Num Filter'", "not an integer", "'six'"}},
      {header + "Conv1, 28, 28, 5.5, 5, 1, 6, 1,\n", {"line 2", "'Filter Height'", "not an integer"}},
      {header + "Conv1, 28, 28, 5, 5, 1, 6, 0,\n", {"line 2", "'Strides'", "got 0"}},
      {header + "Conv1, 28, 28, 5, 5, 1, 6, 1, 0,\n", {"line 2", "'Stride Width'", "got 0"}},
      {header + "Conv1, 4, 28, 5, 5, 1, 6, 1,\n", {"line 2", "Conv1", "'Filter Height' (5)", "larger than 'IFMAP Height' (4)"}},
      {header + ok + ok + "Conv3, 28, 3, 3, 5, 1, 6, 1,\n", {"line 4", "'Filter Width' (5)", "'IFMAP Width' (3)"}},
      {header + "Conv1, 28, 28, , 5, 1, 6, 1,\n", {"line 2", "'Filter Height' is empty"}},
      {header + ", 28, 28, 5, 5, 1, 6, 1,\n", {"line 2", "'Layer name' is empty"}},
      {header + "Conv1, 28, 28, 5, 5, 1, 6, 1, 1, 1,\n", {"line 2", "10 fields"}},
      {header + "Conv1, 28, 28, 5, 5, 1, 99999999999999999999, 1,\n", {"line 2", "'Num Filter'", "not an integer"}},
      {header + "Conv1, 28, 28, 5, 5, 1, 16777217, 1,\n", {"line 2", "'Num Filter'", "too large"}},
      {header + "Big, 16777216, 16777216, 1, 1, 1, 1, 1,\n", {"line 2", "Big", "GEMM"}},
      {ok + ok, {"net.csv", "line 1", "must be the header"}},
      {"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Num Filter, Channels, Strides,\n" + ok,
       {"line 1", "'Num Filter'", "position 6", "expects it at 7"}},
      {"", {"net.csv", "empty topology"}},
      {header + "\n\n", {"net.csv", "no layers"}},
  };
  for (const auto& [text, fragments] : cases) {
    SCOPED_TRACE(text);
    const std::string& t = text;  // C++17 lambdas cannot capture a structured binding (clang)
    expect_error([&] { topo(t); }, fragments);
  }
  expect_error([] { ss::read_topology("/nonexistent/net.csv"); }, {"/nonexistent/net.csv", "no such file"});
  expect_error([] { ss::read_topology(source_dir + "/models"); }, {"models", "not a regular file"});
}

const std::string good_cfg =
    "[general]\nrun_name = trial\n\n[architecture_presets]\nArrayHeight:    12\nArrayWidth:     14\n"
    "IfmapSramSzkB:    36\nDataflow : ws\nBandwidth : 10\n\n[run_presets]\nInterfaceBandwidth: CALC\n";

TEST(scalesim_config, reads_scale_sims_conventions) {
  const auto c = cfg(good_cfg);
  EXPECT_EQ(c.rows, 12u);
  EXPECT_EQ(c.cols, 14u);
  EXPECT_EQ(c.dataflow, hw::dataflow_kind::weight_stationary);
  EXPECT_EQ(c.run_name, "trial");
  // Keys in any case, '=' or ':', comments, unknown keys and sections; run_name defaults to the stem.
  const auto d = cfg("# a comment\n; another\n[architecture_presets]\narrayheight = 3\nARRAYWIDTH: 5\n"
                     "DATAFLOW = OS\nSomethingNew = 1\n[sparsity]\nSparsitySupport = false\n");
  EXPECT_EQ(d.rows, 3u);
  EXPECT_EQ(d.cols, 5u);
  EXPECT_EQ(d.dataflow, hw::dataflow_kind::output_stationary);
  EXPECT_EQ(d.run_name, "arch");
  for (const char* name : {"scalesim_8x8_os.cfg", "scalesim_16x16_os.cfg", "scalesim_28x28_os.cfg", "scalesim_28x28_ws.cfg"}) {
    const auto f = ss::read_config(source_dir + "/models/" + name);
    const std::string n = name;
    const unsigned size = static_cast<unsigned>(std::stoul(n.substr(9)));
    EXPECT_EQ(f.rows, size) << name;
    EXPECT_EQ(f.cols, size) << name;
    EXPECT_EQ(hw::to_string(f.dataflow), n.substr(n.size() - 6, 2)) << name;
  }
}

TEST(scalesim_config, malformed_files_name_file_line_and_field) {
  const std::string arch = "[architecture_presets]\n";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"[general]\n" + arch + "ArrayWidth: 8\nDataflow: os\n", {"arch.cfg", "line 2", "no ArrayHeight"}},
      {arch + "ArrayHeight: 8\nDataflow: os\n", {"arch.cfg", "line 1", "no ArrayWidth"}},
      {arch + "ArrayHeight: 8\nArrayWidth: 8\n", {"arch.cfg", "no Dataflow"}},
      {arch + "ArrayHeight: eight\nArrayWidth: 8\nDataflow: os\n", {"arch.cfg", "line 2", "ArrayHeight", "not an integer", "'eight'"}},
      {arch + "ArrayHeight: 8\nArrayWidth: 0\nDataflow: os\n", {"line 3", "ArrayWidth", "1..128", "got 0"}},
      {arch + "ArrayHeight: -8\nArrayWidth: 8\nDataflow: os\n", {"line 2", "ArrayHeight", "got -8"}},
      {arch + "ArrayHeight: 256\nArrayWidth: 8\nDataflow: os\n", {"line 2", "ArrayHeight", "got 256"}},
      {arch + "ArrayHeight: 8\nArrayWidth: 8\nDataflow: is\n", {"line 4", "Dataflow 'is'", "input-stationary", "os or ws"}},
      {arch + "ArrayHeight: 8\nArrayWidth: 8\nDataflow: rs\n", {"line 4", "Dataflow 'rs'"}},
      {arch + "ArrayHeight: 8\nArrayHeight: 9\nArrayWidth: 8\nDataflow: os\n", {"line 3", "'ArrayHeight' appears twice", "line 2"}},
      {"ArrayHeight: 8\n" + arch, {"line 1", "before any [section]"}},
      {arch + "ArrayHeight 8\n", {"line 2", "expected 'key = value'"}},
      {"[architecture_presets\n", {"line 1", "closing ']'"}},
      {"[general]\nrun_name = x\n", {"arch.cfg", "no [architecture_presets]"}},
      {arch + "ArrayHeight: 8\n" + arch, {"line 3", "appears twice"}},
  };
  for (const auto& [text, fragments] : cases) {
    SCOPED_TRACE(text);
    const std::string& t = text;  // C++17 lambdas cannot capture a structured binding (clang)
    expect_error([&] { cfg(t); }, fragments);
  }
  expect_error([] { ss::read_config("/nonexistent/arch.cfg"); }, {"/nonexistent/arch.cfg", "no such file"});
}

// The formula, the offset and axsa's closed form (hw::gemm_cycles, from the dataflow descriptor) agree
// on every shape of a sweep, ragged tiles included.
TEST(scalesim_formula, formula_plus_offset_is_axsas_closed_form) {
  for (const bool os : {true, false}) {
    for (unsigned r : {1u, 3u, 8u, 28u}) {
      for (unsigned c : {1u, 5u, 16u}) {
        for (const hw::gemm_shape s : {hw::gemm_shape{1, 1, 1}, hw::gemm_shape{7, 30, 2}, hw::gemm_shape{100, 9, 33},
                                       hw::gemm_shape{64, 64, 64}}) {
          hw::array_config a;
          a.rows = r;
          a.cols = c;
          a.dataflow = os ? hw::dataflow_kind::output_stationary : hw::dataflow_kind::weight_stationary;
          EXPECT_EQ(ss::formula_cycles(s, r, c, a.dataflow), paper_cycles(s, r, c, os));
          EXPECT_EQ(ss::formula_cycles(s, r, c, a.dataflow) + ss::documented_offset(s, r, c, a.dataflow),
                    hw::gemm_cycles(s, a))
              << (os ? "os " : "ws ") << r << "x" << c << " M" << s.m << " K" << s.k << " N" << s.n;
          EXPECT_EQ(ss::folds(s, r, c, a.dataflow), hw::dataflow(a, s).folds());
        }
      }
    }
  }
}

// Acceptance 4: the LeNet-5 topology runs on the array, and each layer's stepped cycles equal
// SCALE-Sim's formula plus the documented offset, at 8x8, 16x16 and 28x28, os and ws; the results
// equal the reference GEMM.
TEST(scalesim_formula, lenet5_stepped_cycles_are_the_formula_plus_the_offset) {
  const auto t = ss::read_topology(lenet5_topology);
  for (const bool os : {true, false}) {
    for (unsigned size : {8u, 16u, 28u}) {
      hw::array_config a;
      a.rows = a.cols = size;
      a.dataflow = os ? hw::dataflow_kind::output_stationary : hw::dataflow_kind::weight_stationary;
      for (std::size_t i = 0; i < t.layers.size(); ++i) {
        const hw::gemm_shape s = t.layers[i].gemm();
        const auto w = sw::make_workload(s, 8, sw::operand_fill::random, 100 * size + i);
        std::vector<std::int64_t> out(s.m * s.n);
        hw::array_core core(a);
        core.start({s, w.act.data(), w.weight.data(), out.data()});
        const std::uint64_t stepped = core.run();
        const std::uint64_t folds = ((os ? s.m : s.k) + size - 1) / size * ((s.n + size - 1) / size);
        EXPECT_EQ(stepped, paper_cycles(s, size, size, os) + (os ? 0 : folds))
            << (os ? "os " : "ws ") << size << " " << t.layers[i].name;
        EXPECT_EQ(stepped, ss::formula_cycles(s, size, size, a.dataflow) + ss::documented_offset(s, size, size, a.dataflow));
        EXPECT_EQ(out, sw::reference_gemm(w, 32)) << t.layers[i].name;
      }
    }
  }
}

// Utilisation as SCALE-Sim defines it, counted fold by fold from the dataflow descriptor's tiles.
TEST(scalesim_report, utilisation_follows_scale_sims_definitions) {
  for (const bool os : {true, false}) {
    ss::config c;
    c.rows = 5;
    c.cols = 3;
    c.dataflow = os ? hw::dataflow_kind::output_stationary : hw::dataflow_kind::weight_stationary;
    ss::layer l;
    l.name = "L";
    l.ifmap_h = 9;
    l.ifmap_w = 4;
    l.filter_h = 2;
    l.filter_w = 3;
    l.channels = 2;
    l.filters = 7;  // M = 8 * 2, K = 12, N = 7: ragged in every direction
    const hw::gemm_shape s = l.gemm();
    hw::array_config a;
    a.rows = c.rows;
    a.cols = c.cols;
    a.dataflow = c.dataflow;
    const hw::dataflow flow(a, s);
    const std::uint64_t cycles = flow.cycles();
    const auto r = ss::make_result(l, c, cycles);
    double mapping = 0, compute = 0;
    for (std::uint64_t f = 0; f < flow.folds(); ++f) {
      const auto tile = flow.fold_tile(f);
      const double used = static_cast<double>(tile.rows_used) * tile.cols_used;
      mapping += used / (c.rows * c.cols);
      compute += used * static_cast<double>(os ? s.k : s.m) / (c.rows * c.cols * static_cast<double>(flow.fold_cycles()));
    }
    const double folds = static_cast<double>(flow.folds());
    const double macs = static_cast<double>(s.m * s.k * s.n);
    EXPECT_NEAR(r.mapping_efficiency, 100 * mapping / folds, 1e-9);
    EXPECT_NEAR(r.compute_util, 100 * compute / folds, 1e-9);
    EXPECT_NEAR(r.overall_util, 100.0 * macs / (c.rows * c.cols * static_cast<double>(cycles)), 1e-9);
    EXPECT_LT(r.mapping_efficiency, 100.0);
    EXPECT_EQ(r.cycles, cycles);
    EXPECT_EQ(r.offset(), static_cast<std::int64_t>(r.documented));
  }
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(scalesim_report, reports_have_scale_sims_header_and_one_row_per_layer) {
  const auto t = ss::read_topology(lenet5_topology);
  ss::config c;
  c.rows = c.cols = 8;
  std::vector<ss::layer_result> results;
  for (const auto& l : t.layers) results.push_back(ss::make_result(l, c, hw::gemm_cycles(l.gemm(), 8, 8)));
  const std::string dir = testing::TempDir();
  const std::string compute = dir + "scalesim_compute_report.csv", axsa = dir + "scalesim_axsa_report.csv";
  ss::write_compute_report(compute, results);
  ss::write_axsa_report(axsa, c, results);
  const auto cl = lines_of(compute), al = lines_of(axsa);
  ASSERT_EQ(cl.size(), t.layers.size() + 1);
  ASSERT_EQ(al.size(), t.layers.size() + 1);
  EXPECT_EQ(cl[0], "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,");
  for (std::size_t i = 1; i < cl.size(); ++i) {
    std::istringstream row(cl[i]);
    std::vector<std::string> fields;
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    ASSERT_EQ(fields.size(), 6u) << cl[i];
    EXPECT_EQ(cl[i].back(), ',');
    EXPECT_EQ(std::stoul(fields[0]), i - 1);
    EXPECT_EQ(std::stoull(fields[1]), results[i - 1].cycles);
    EXPECT_EQ(std::stoull(fields[2]), 0u);
    EXPECT_DOUBLE_EQ(std::stod(fields[3]), results[i - 1].overall_util);  // shortest text that reads back exactly
    EXPECT_NE(al[i].find(", " + t.layers[i - 1].name + ", "), std::string::npos) << al[i];
  }
  std::filesystem::remove(compute);
  std::filesystem::remove(axsa);
  expect_error([&] { ss::write_compute_report("/nonexistent/dir/COMPUTE_REPORT.csv", results); },
               {"/nonexistent/dir/COMPUTE_REPORT.csv"});
}

}  // namespace
}  // namespace axsa::test
