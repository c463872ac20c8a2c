// Architecture exploration (docs/sweep.md): a grid of array sizes x data widths x multipliers run on
// the functional twin (standing for the TLM system), each configuration measured for cycles per
// image, utilisation, top-1 accuracy, energy per image (hw/energy.h), an array area proxy and,
// optionally, the critical share of a small seeded fault campaign (faults/campaign.h). Finished
// configurations go to a store (faults/sweep_store.h) one at a time, so a killed sweep resumes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "hw/array_config.h"
#include "hw/energy.h"
#include "sw/idx.h"
#include "sw/network.h"
#include "sw/quantized_network.h"

namespace axsa::sweep {

// One configuration of the grid; (rows, cols, bits, mult, dataflow) is its key.
struct config_point {
  unsigned rows = 0, cols = 0, bits = 0;
  std::string mult;  // "exact" (native) or a registry name
  std::string dataflow = "os";
  auto key() const { return std::tie(rows, cols, bits, mult, dataflow); }
  bool operator<(const config_point& o) const { return key() < o.key(); }
  bool operator==(const config_point& o) const { return key() == o.key(); }
  std::string label() const;  // "8x8 INT12 drum12_k6 os"
};

// What was measured for one configuration. status "done", or "skipped" with the reason in `note`
// (a multiplier narrower than the data width); the numbers of a skipped row are zero or absent.
struct config_result {
  config_point point;
  std::string status = "done";
  std::string note;
  unsigned acc_bits = 0;
  std::uint64_t images = 0, correct = 0;
  double accuracy = 0;
  double cycles_per_image = 0;
  double utilization = 0;
  double macs_per_image = 0;
  // Energy per image in pJ: the total and hw::energy_breakdown's components.
  double energy_pj = 0, energy_mult_pj = 0, energy_adder_pj = 0, energy_register_pj = 0, energy_buffer_pj = 0,
         energy_offchip_pj = 0;
  double mult_pj_per_product = 0;
  std::string mult_energy_basis;
  // Area proxy in NAND2 equivalents (absent when yosys could not give the multiplier's).
  std::optional<double> mult_area, pe_area, array_area;
  std::string area_basis;
  // --campaign quick: critical (fault, image) pairs over all pairs.
  std::optional<double> critical_share;
  std::uint64_t campaign_faults = 0, campaign_pairs = 0;
  double seconds = 0;  // wall time of this configuration (not compared on resume)
};

// The per-bit proxies of a PE's non-multiplier cells, in NAND2 equivalents (docs/sweep.md): a
// ripple-carry full adder as two XORs, two ANDs and an OR with the weights rtl/synthesis.cpp gives
// yosys' gates, and a D flip-flop at about the area ratio of a flip-flop to a NAND2 in 45 nm cell
// libraries.
constexpr double full_adder_nand2 = 2 * 2.33 + 2 * 1.33 + 1.33;
constexpr double register_bit_nand2 = 5.7;

// Area of one PE besides its multiplier: an acc_bits adder, and the activation (W), weight
// (W per weight register stage) and accumulator (A) registers.
double pe_overhead_nand2(const hw::array_config& cfg);

struct area_proxy {
  std::optional<double> mult, pe, array;
  std::string basis;
};
// The multiplier's yosys proxy (native exact: the in-house exact design of that width) plus
// pe_overhead_nand2, times R*C. Without a yosys figure every field is empty and basis says why.
area_proxy estimate_array_area(const std::string& mult, const hw::array_config& cfg);

enum class campaign_mode { none, quick };
campaign_mode parse_campaign_mode(const std::string& text);  // throws config_error naming the choices
const char* to_string(campaign_mode m);

// The grid and everything its results depend on.
struct grid {
  std::string model_path, data_dir;
  std::vector<std::pair<unsigned, unsigned>> sizes;  // (rows, cols)
  std::vector<unsigned> widths;
  std::vector<std::string> mults;
  std::string dataflow = "os";
  std::size_t first = 0, images = 0, calibration = 1000;
  std::optional<unsigned> acc_bits;  // empty: auto (the smallest that cannot overflow, at least 32)
  campaign_mode campaign = campaign_mode::none;
  std::size_t campaign_faults = 200, campaign_images = 20;
  std::uint64_t seed = 1;
  std::string energy_table_path;  // empty: the built-in table

  // Every configuration in run order: sizes, then widths, then multipliers.
  std::vector<config_point> points() const;
  // The stored definition: what must match for a resume (model and table hashed).
  std::map<std::string, std::string> definition() const;
};

// Parsers for the command line's lists; each throws config_error naming the option and the item.
std::vector<std::pair<unsigned, unsigned>> parse_sizes(const std::string& text);  // "4,8,16x8"
std::vector<unsigned> parse_widths(const std::string& text);                      // "8,12,16"
std::vector<std::string> parse_mults(const std::string& text);                    // "exact,drum8_k4"

class store;

struct run_options {
  unsigned jobs = 2;
  bool progress = true;  // the progress line on stderr
};

struct run_summary {
  std::size_t total = 0, already_done = 0, run = 0, skipped = 0;
  double seconds = 0;
};

// What every configuration reads: the model, the test and calibration images, the energy table.
// load_inputs checks them against the grid (image range, model input, a campaign's needs) and
// throws config_error naming the file or option.
struct inputs {
  sw::network net;
  sw::dataset test, train;
  hw::energy_table table;
};
inputs load_inputs(const grid& g);

// Quantises once per width, then runs every configuration `st` lacks on `jobs` threads and puts
// each result into `st` as it finishes. Rethrows the first failure.
run_summary run_grid(const grid& g, const inputs& in, store& st, const run_options& opt);

// The measurement of one configuration from prepared inputs (used by run_grid, and by tests).
struct prepared {
  const sw::qnetwork* net = nullptr;
  unsigned acc_bits = 0;
  const sw::dataset* test = nullptr;
  const hw::energy_table* table = nullptr;
};
config_result evaluate(const grid& g, const config_point& p, const prepared& in);

// The energy model's inputs for `cfg` with the TLM target's default buffers.
hw::energy_setup energy_setup_for(const hw::array_config& cfg, double mult_pj);

}  // namespace axsa::sweep
