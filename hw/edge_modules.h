// The modules around the structural array's PEs: the skewing feeders at the west and north edges
// and the drain ports at the bottom (gemmini's skew/deskew around the mesh).
//  - feeder: one register per row (west) or column (north) holding what enters the array during
//    the current cycle; the controller loads them from the dataflow descriptor's feeder schedule
//    (hw/dataflow.h), and they change on the clock edge like every other register.
//  - drain_bank: one port per column on the bottom PE's accumulator; the controller reads the
//    outputs there when the descriptor says they leave.
// Reset (construction): every feeder register zero and invalid.
#pragma once

#include <cstdint>
#include <memory>

#include <systemc>

#include "hw/link.h"

namespace axsa::hw {

class feeder : public sc_core::sc_module {
 public:
  sc_core::sc_vector<operand_out> out;  // named <prefix><i>: row_<i> (west) or col_<i> (north)

  feeder(const sc_core::sc_module_name& name, const char* prefix, unsigned count);
  const char* kind() const override { return "axsa_feeder"; }

  // The value register i shows from the next cycle on.
  void load(unsigned i, const operand& v) { m_regs[i].write(v); }
  void commit() {
    for (unsigned i = 0; i < out.size(); ++i) m_regs[i].commit();
  }
  operand value(unsigned i) const { return m_regs[i].read(); }

 private:
  std::unique_ptr<clocked_reg<operand>[]> m_regs;
};

class drain_bank : public sc_core::sc_module {
 public:
  sc_core::sc_vector<acc_in> col;  // col_<j>: the bottom PE's accumulator

  drain_bank(const sc_core::sc_module_name& name, unsigned cols) : sc_core::sc_module(name), col("col", cols) {}
  const char* kind() const override { return "axsa_drain"; }
};

}  // namespace axsa::hw
