// SCALE-Sim interchange (docs/scalesim.md): reads SCALE-Sim's convolution topology CSV and its
// architecture .cfg, lowers each layer to the GEMM SCALE-Sim computes, holds SCALE-Sim's published
// cycle formulas and axsa's documented offset from them (docs/cycle-model.md), and writes the
// per-layer reports (COMPUTE_REPORT.csv in SCALE-Sim's columns, AXSA_REPORT.csv with the comparison).
// Kernel-free. Every error in a file is a config_error naming the file, the line and the field.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "hw/array_config.h"

namespace axsa::sw::scalesim {

// One convolution of the topology. SCALE-Sim has no padding: a padded layer is written with its
// padded input size. A dense layer is a convolution whose filter covers the whole ifmap.
struct layer {
  std::string name;
  std::size_t line = 0;  // 1-based line of the topology file it came from
  std::uint64_t ifmap_h = 0, ifmap_w = 0, filter_h = 0, filter_w = 0, channels = 0, filters = 0;
  std::uint64_t stride_h = 1, stride_w = 1;

  // Output size as SCALE-Sim computes it: (H - Fh) / stride + 1, rounded down.
  std::uint64_t ofmap_h() const { return (ifmap_h - filter_h) / stride_h + 1; }
  std::uint64_t ofmap_w() const { return (ifmap_w - filter_w) / stride_w + 1; }
  // The GEMM of its compute: M = output pixels, K = Fh * Fw * C (one filter window), N = filters.
  hw::gemm_shape gemm() const { return {ofmap_h() * ofmap_w(), filter_h * filter_w * channels, filters}; }
};

struct topology {
  std::string file;
  std::vector<layer> layers;
};

// The column names of SCALE-Sim's topology files, in order (8 columns; a ninth splits Strides into
// stride height and stride width).
extern const std::vector<std::string> topology_columns;

// Columns are read by position, as SCALE-Sim does; the first non-blank line is the header. A layer
// whose name contains "DP" is depthwise and becomes one single-channel layer per channel
// ("<name>Channel_<i>"), as SCALE-Sim expands it. `file` names the source in error messages.
topology parse_topology(std::istream& in, const std::string& file);
topology read_topology(const std::string& path);

// What axsa takes from a SCALE-Sim .cfg: [architecture_presets] ArrayHeight (rows), ArrayWidth
// (cols) and Dataflow (os or ws), and [general] run_name (default: the file's stem). Other keys and
// sections are accepted unread.
struct config {
  std::string file;
  std::string run_name;
  unsigned rows = 0, cols = 0;
  hw::dataflow_kind dataflow = hw::dataflow_kind::output_stationary;
};
config parse_config(std::istream& in, const std::string& file);
config read_config(const std::string& path);

// ---- SCALE-Sim's formulas (its paper), per dataflow. os maps output pixels x filters onto the array
// and streams the window (T = K); ws maps window x filters and streams the output pixels (T = M).
std::uint64_t folds(const hw::gemm_shape& s, unsigned rows, unsigned cols, hw::dataflow_kind df);
// folds * (2R + C + T - 2).
std::uint64_t formula_cycles(const hw::gemm_shape& s, unsigned rows, unsigned cols, hw::dataflow_kind df);
// axsa's cycles minus the formula's, as docs/cycle-model.md derives it: 0 for os, one per fold for ws.
std::uint64_t documented_offset(const hw::gemm_shape& s, unsigned rows, unsigned cols, hw::dataflow_kind df);

// ---- One layer's result and the reports.
struct layer_result {
  std::string name;
  hw::gemm_shape shape;
  std::uint64_t folds = 0;
  std::uint64_t cycles = 0;          // stepped by the array
  std::uint64_t formula = 0;         // formula_cycles
  std::uint64_t documented = 0;      // documented_offset
  double overall_util = 0;           // %, useful MACs over R * C * cycles
  double mapping_efficiency = 0;     // %, mean over folds of the PEs a fold maps over R * C
  double compute_util = 0;           // %, mean over folds of the fold's MACs over R * C * its cycles
  bool match = false;                // the array's result equals the reference GEMM
  std::uint64_t mismatches = 0;
  std::int64_t offset() const { return static_cast<std::int64_t>(cycles) - static_cast<std::int64_t>(formula); }
};
// Fills everything but match and mismatches from the layer, the array and the stepped cycle count.
layer_result make_result(const layer& l, const config& cfg, std::uint64_t stepped_cycles);

// SCALE-Sim's compute-report header, exactly as SCALE-Sim writes it (", " between columns, a
// trailing comma).
extern const char* const compute_report_header;
extern const char* const axsa_report_header;
// Write the reports; a config_error names the file if it cannot be written.
void write_compute_report(const std::string& path, const std::vector<layer_result>& results);
void write_axsa_report(const std::string& path, const config& cfg, const std::vector<layer_result>& results);

}  // namespace axsa::sw::scalesim
