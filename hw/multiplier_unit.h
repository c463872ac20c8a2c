// The multiplier submodule of a PE: the circuit in the slot (hw/multiplier.h; a verilated Verilog
// multiplier, an EvoApprox circuit, their product table, or exact products) as a module with an
// operand port per input. Combinational: product() is the circuit's output for the operands on a
// and b during the current cycle, both W-bit values placed into the N-bit circuit as the circuit
// object says (sign-extended in the low bits, or with --operand-align high in the top bits with the
// product shifted back: hw/aligned_multiplier.h). The circuit object is stateless, so the PEs of one
// array share it; each PE has its own instance here.
#pragma once

#include <cstdint>

#include <systemc>

#include "hw/link.h"
#include "hw/multiplier.h"

namespace axsa::hw {

class multiplier_unit : public sc_core::sc_module {
 public:
  operand_in a;  // activation operand
  operand_in b;  // weight operand

  multiplier_unit(const sc_core::sc_module_name& name, unsigned data_bits);
  const char* kind() const override { return "axsa_multiplier"; }

  // nullptr: exact products. Otherwise the circuit, through its product table when it has one for
  // the data width (the same evaluation the fast engine chooses).
  void set_circuit(const multiplier* m);
  const multiplier* circuit() const { return m_circuit; }

  std::int32_t product() const { return multiply(a->read().value, b->read().value); }
  std::int32_t multiply(std::int32_t x, std::int32_t y) const {
    if (m_table != nullptr) {
      return m_table[((static_cast<std::uint32_t>(x) & m_mask) << m_data_bits) | (static_cast<std::uint32_t>(y) & m_mask)];
    }
    return m_native ? x * y : m_circuit->multiply(x, y);
  }

 private:
  unsigned m_data_bits;
  std::uint32_t m_mask;
  const multiplier* m_circuit = nullptr;
  bool m_native = true;
  const std::int32_t* m_table = nullptr;
};

}  // namespace axsa::hw
