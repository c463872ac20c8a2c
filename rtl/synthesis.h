// Area proxy of a multiplier: synthesis with yosys onto a generic gate library (2-input gates and
// 2:1 muxes), reporting the cell count and a weighted area in NAND2 equivalents. Results are cached
// beside the product tables, keyed by the Verilog's hash.
#pragma once

#include <optional>
#include <string>

#include "rtl/mult_registry.h"

namespace axsa::rtl {

struct area_estimate {
  unsigned cells = 0;
  double nand2_equivalents = 0;
};

// True when a yosys executable is on PATH.
bool yosys_available();
// Synthesises the entry; nullopt when yosys is missing or fails (the reason goes to *why).
std::optional<area_estimate> estimate_area(const mult_entry& entry, std::string* why = nullptr);

}  // namespace axsa::rtl
