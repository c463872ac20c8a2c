// Energy per product of a multiplier circuit (docs/energy.md), for the energy model (hw/energy.h):
//  - exact (native products, or a circuit the registry knows to be exact): the table's integer
//    multiply of the circuit's operand width;
//  - EvoApprox circuits: their published PDK45 power x delay (energy per operation), relative to
//    the library's exact circuit of the same width, times the table's exact figure; absolute
//    (power x delay) when the library has no exact circuit of that width;
//  - in-house approximate designs: their yosys area proxy (rtl/synthesis.h) relative to the
//    in-house exact design of the same width, times the table's exact figure. Area stands in for
//    switched capacitance: a proxy, said so in `basis`. Without yosys the exact figure is used
//    and `basis` says that too.
#pragma once

#include <string>

#include "hw/energy.h"

namespace axsa::rtl {

struct multiplier_energy {
  double pj = 0;      // one product
  unsigned bits = 0;  // the circuit's operand width
  std::string basis;  // where the figure comes from, one line
};

// `name` empty: native exact products on data_bits-wide operands. Throws config_error for an
// unknown name (as find_entry does).
multiplier_energy energy_per_product(const std::string& name, unsigned data_bits, const hw::energy_table& table);

}  // namespace axsa::rtl
