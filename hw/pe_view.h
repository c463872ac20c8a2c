// The fast engine's face of one processing element: named, read-only views of PE (r, c)'s links and
// registers in array_core, so that the fast engine's PEs have a place in the SystemC hierarchy and
// can be traced. It has no behaviour: the PE's behaviour is written in hw/pe.h (the structural
// engine), and array_core computes the same registers for all PEs at once.
#pragma once

#include <vector>

#include <systemc>

#include "hw/array_core.h"
#include "hw/signal_view.h"

namespace axsa::hw {

class pe_view : public sc_core::sc_module {
 public:
  pe_view(const sc_core::sc_module_name& name, const array_core& core, unsigned row, unsigned col);

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
