// One processing element of the output-stationary systolic array: the module a student edits.
//
// Ports, by role: `west` (activation in) and `north` (weight in), each a value with a valid bit;
// `east` and `south` (the same, registered, out towards the neighbours); `drain_in` (the
// accumulator of the PE to the north) and `drain_out` (this PE's accumulator); `drain` (from the
// controller: shift the accumulators south this cycle). Registers: the accumulator `acc` (A bits,
// two's complement, wraps) and the link registers with their valid bits; `weight_hop` register
// stages on the weight path (1 in the design, hw/dataflow.h). Submodules: `mult`, the multiplier
// (hw/multiplier_unit.h), and, when a weight-mult fault is planned, `mult_saboteur` between the
// north input and the multiplier's weight operand (hw/saboteur.h).
//
// Timing contract, on each rising clock edge:
//   east <= west;  south <= north (after weight_hop stages);
//   acc  <= drain ? drain_in : (mac_en ? acc + mult(west, north) : acc),
//   mac_en = west.valid && north.valid && !drain.
// A value on west/north during cycle t shows on east/south during cycle t + 1. The edge is two
// phases: evaluate() reads the inputs and sets every register's next value, commit() makes them
// current; the array's clocked controller calls evaluate() on every PE and then commit() on every
// PE, so the order of PEs never matters and a PE costs no kernel process of its own (STYLE.md:
// costs). Reset (construction): every register zero and invalid.
#pragma once

#include <cstdint>
#include <memory>

#include <systemc>

#include "hw/array_config.h"
#include "hw/link.h"
#include "hw/multiplier_unit.h"
#include "hw/saboteur.h"

namespace axsa::hw {

class pe : public sc_core::sc_module {
 public:
  operand_in west;    // activation from the west feeder or PE (r, c-1)
  operand_in north;   // weight from the north feeder or PE (r-1, c), through a saboteur if one sits there
  operand_out east;   // registered activation towards PE (r, c+1)
  operand_out south;  // registered weight towards PE (r+1, c)
  acc_in drain_in;    // accumulator of PE (r-1, c); zero for row 0
  acc_out drain_out;  // this PE's accumulator, towards PE (r+1, c) or the drain port
  flag_in drain;      // the controller's drain phase

  // `cycle`: the array's current cycle, for a multiplier saboteur's fault windows.
  pe(const sc_core::sc_module_name& name, const array_config& cfg, bool mult_saboteur, const std::uint64_t& cycle);
  const char* kind() const override { return "axsa_pe"; }

  // The two phases of a rising clock edge.
  void evaluate();
  void commit();

  // State during the current cycle.
  bool mac_en() const { return !drain->read() && west->read().valid && north->read().valid; }
  std::int64_t acc() const { return wrap_signed(m_acc.read(), m_acc_bits); }
  operand east_value() const { return m_east.read(); }
  operand south_value() const { return m_weight[m_hop - 1].read(); }

  multiplier_unit& mult() { return m_mult; }
  const multiplier_unit& mult() const { return m_mult; }
  saboteur* mult_saboteur() { return m_mult_saboteur.get(); }
  // Test hook for co-verification: overwrite the accumulator.
  void poke_acc(std::int64_t value) { m_acc.reset(static_cast<std::uint64_t>(value)); }

 private:
  unsigned m_acc_bits;
  unsigned m_hop;
  multiplier_unit m_mult;
  std::unique_ptr<saboteur> m_mult_saboteur;
  clocked_reg<operand> m_east;
  std::unique_ptr<clocked_reg<operand>[]> m_weight;  // weight stages; the last one drives south
  clocked_reg<std::uint64_t> m_acc;                  // modulo 2^64, read wrapped to A bits
};

}  // namespace axsa::hw
