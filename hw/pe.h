// One processing element of the output-stationary array: a multiply-accumulate with its
// accumulator register and registered links (activation west -> east, weight north -> south).
// Timing: a value on `west`/`north` during cycle t is multiplied on that cycle's edge and shows
// on `east`/`south` during cycle t+1. The arithmetic lives in array_core (one clocked loop for all
// PEs, for speed); this module names the PE's links and registers and lets them be traced.
#pragma once

#include <vector>

#include <systemc>

#include "hw/array_core.h"
#include "hw/signal_view.h"

namespace axsa::hw {

class pe : public sc_core::sc_module {
 public:
  pe(const sc_core::sc_module_name& name, const array_core& core, unsigned row, unsigned col);

  unsigned row() const { return m_row; }
  unsigned col() const { return m_col; }

  signal_view west;     // activation arriving from the west (feeder or PE (r, c-1))
  signal_view north;    // weight arriving from the north (feeder or PE (r-1, c))
  signal_view east;     // registered activation towards PE (r, c+1)
  signal_view south;    // registered weight towards PE (r+1, c)
  signal_view acc;      // accumulator register
  signal_view mac_en;   // 1 when the PE accumulates on this cycle's edge

  // Every view of this PE, in a fixed order.
  std::vector<const signal_view*> views() const { return {&west, &north, &east, &south, &acc, &mac_en}; }

 private:
  unsigned m_row;
  unsigned m_col;
};

}  // namespace axsa::hw
