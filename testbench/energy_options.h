// The energy options the commands share (--energy, --energy-table, --energy-operands) and the
// report they print: energy per unit of work (an image, a GEMM) by component, from a run's
// activity counts (hw/activity.h) and the energy model (hw/energy.h, docs/energy.md).
#pragma once

#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "hw/activity.h"
#include "hw/energy.h"
#include "rtl/mult_energy.h"
#include "testbench/json.h"

namespace axsa::cli {

void add_energy_options(boost::program_options::options_description& desc);

struct energy_request {
  std::string table_path;  // empty: the built-in table
  bool operand_weighting = false;
  double zero_operand_share = 0;
  std::string cost_as;  // cost the multipliers as this circuit instead of the one computing
};
// nullopt when no energy option was given; throws config_error for a bad value.
std::optional<energy_request> energy_from_options(const boost::program_options::variables_map& vm);

struct energy_report {
  hw::energy_breakdown per_unit;  // pJ per image or per GEMM
  rtl::multiplier_energy mult;
  std::string table;              // the table's origin
  bool operand_weighting = false;
  double zero_share = 0;          // zero-operand MACs over all MACs
  std::string costed_as;          // the circuit the multipliers were costed as, when not the one run
};

// `mult` as on the command line ("exact" for native products); `units` the images or GEMMs run.
energy_report estimate(const energy_request& req, const hw::activity& total, const hw::energy_setup& base,
                       const std::string& mult, double units);

// As a nested JSON object (values in pJ) and as text lines, each starting with `label`.
json_object energy_json(const energy_report& r);
void print_energy(const energy_report& r, const char* unit);

}  // namespace axsa::cli
