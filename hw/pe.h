// One processing element of the systolic array: the module a student edits.
//
// Ports, by role: `west` (activation in) and `north` (weight in), each a value with a valid bit;
// `east` and `south` (the same, registered, out towards the neighbours); `sum_in` (the accumulator
// of the PE to the north) and `sum_out` (this PE's accumulator); and two controls from the
// controller, `load_weight` (the weight registers take what arrives from the north) and `pass_sum`
// (the accumulator takes the sum arriving from the north). Registers: the accumulator (A bits, two's
// complement, wraps), the activation register with its valid bit, and `weight_hop` weight registers
// with their valid bits (1 in the design, hw/dataflow.h). Submodules: `mult`, the multiplier
// (hw/multiplier_unit.h), and, where faults are planned (hw/saboteur.h), `mult_saboteur` in front
// of the multiplier's weight operand, `act_mult_saboteur` in front of its activation operand,
// `acc_saboteur` on the accumulator register's input and `valid_saboteur` on the two valid bits
// where they meet at the MAC-enable gate.
//
// The multiplier's weight operand is the weight arriving from the north in the output-stationary
// dataflow and the weight held in the PE in the weight-stationary one. Timing contract, on each
// rising clock edge:
//   east   <= west;
//   weight <= north                  when load_weight (the last weight register drives south);
//   acc    <= (pass_sum ? sum_in : acc) + (mac_en ? mult(west, weight operand) : 0),
//   mac_en  = west.valid && weight operand.valid (through the valid_saboteur, if planned), and not
//             while the sums pass south in the output-stationary dataflow (the drain);
// an acc_saboteur, when planned, corrupts the accumulator's new value on its way into the register.
// Output-stationary: load_weight always, pass_sum while draining. Weight-stationary: load_weight
// while preloading, pass_sum always (the partial sums flow south). A value on west/north during
// cycle t shows on east/south during cycle t + 1. The edge is two phases: evaluate() reads the
// inputs and sets every register's next value, commit() makes them current; the array's clocked
// controller calls evaluate() on every PE and then commit() on every PE, so the order of PEs never
// matters and a PE costs no kernel process of its own (STYLE.md: costs). Reset (construction):
// every register zero and invalid.
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
  operand_in west;     // activation from the west feeder or PE (r, c-1)
  operand_in north;    // weight from the north feeder or PE (r-1, c), through a saboteur if one sits there
  operand_out east;    // registered activation towards PE (r, c+1)
  operand_out south;   // registered weight towards PE (r+1, c)
  acc_in sum_in;       // accumulator of PE (r-1, c); zero for row 0
  acc_out sum_out;     // this PE's accumulator, towards PE (r+1, c) or the drain port
  flag_in load_weight;  // controller: the weight registers take the weight arriving from the north
  flag_in pass_sum;     // controller: the accumulator takes sum_in (plus any product)

  // Which saboteur submodules this PE has.
  struct saboteurs {
    bool weight_mult = false, act_mult = false, acc = false, valid = false;
  };
  // `cycle`: the array's current cycle, for the saboteurs' fault windows.
  pe(const sc_core::sc_module_name& name, const array_config& cfg, saboteurs planned, const std::uint64_t& cycle);
  const char* kind() const override { return "axsa_pe"; }

  // The two phases of a rising clock edge.
  void evaluate();
  void commit();

  // State during the current cycle.
  bool mac_en() const { return mac_enable(pass_sum->read()); }
  std::int64_t acc() const { return wrap_signed(m_acc.read(), m_acc_bits); }
  operand east_value() const { return m_east.read(); }
  operand south_value() const { return m_weight[m_hop - 1].read(); }

  multiplier_unit& mult() { return m_mult; }
  const multiplier_unit& mult() const { return m_mult; }
  saboteur* mult_saboteur() { return m_mult_saboteur.get(); }
  saboteur* act_mult_saboteur() { return m_act_mult_saboteur.get(); }
  hw::acc_saboteur* acc_saboteur() { return m_acc_saboteur.get(); }
  hw::valid_saboteur* valid_saboteur() { return m_valid_saboteur.get(); }
  // What this PE did since construction (hw/activity.h): MACs (and those with a zero operand), and
  // writes of its activation, weight and accumulator registers. Counting can be switched off.
  struct counts {
    std::uint64_t macs = 0, zero_macs = 0, act_writes = 0, weight_writes = 0, acc_writes = 0;
  };
  const counts& activity() const { return m_counts; }
  void set_counting(bool on) { m_counting = on; }

  // Reset: every register zero and invalid (the controller aborting a job).
  void reset();
  // Test hook for co-verification: overwrite the accumulator.
  void poke_acc(std::int64_t value) { m_acc.reset(static_cast<std::uint64_t>(value)); }

 private:
  // The MAC-enable gate, given the controller's pass_sum.
  bool mac_enable(bool pass) const {
    const bool a = west->read().valid, b = m_mult.b->read().valid;
    if (m_os && pass) return false;  // the drain: the RTL's ~drain
    return m_valid_saboteur ? m_valid_saboteur->both(a, b) : a && b;
  }

  unsigned m_acc_bits;
  unsigned m_hop;
  bool m_os;
  multiplier_unit m_mult;
  std::unique_ptr<saboteur> m_mult_saboteur;
  std::unique_ptr<saboteur> m_act_mult_saboteur;
  std::unique_ptr<hw::acc_saboteur> m_acc_saboteur;
  std::unique_ptr<hw::valid_saboteur> m_valid_saboteur;
  clocked_reg<operand> m_east;
  std::unique_ptr<clocked_reg<operand>[]> m_weight;  // weight registers; the last one drives south
  clocked_reg<std::uint64_t> m_acc;                  // modulo 2^64, read wrapped to A bits
  bool m_counting = true;
  counts m_counts;
};

}  // namespace axsa::hw
