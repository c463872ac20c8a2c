// W-bit data in the top bits of an N-bit multiplier ("high" operand alignment): each operand is the
// W-bit value shifted left by s = N - W (s zeros below it), and the circuit's 2N-bit product is shifted
// back right by 2s, arithmetically, so the accumulator receives a 2W-bit value on the scale of a * b.
// The shift rounds towards minus infinity (floor): the 2s low product bits are dropped, as wires left
// unconnected in hardware. An exact circuit's low 2s bits are zero, so its result is a * b, the same
// as with low alignment; an approximate circuit's error in those bits is discarded and the rest of
// its error is divided by 2^(2s). W == N means s = 0: the same as low alignment.
// This class is the one home of the rule: every engine, table and reference asks it.
#pragma once

#include <memory>

#include "hw/multiplier.h"

namespace axsa::hw {

class aligned_multiplier final : public multiplier {
 public:
  // The circuit `inner` (operands N = inner->bits() >= data_bits, given sign-extended) with W-bit data
  // in its top bits. Throws config_error if the circuit is narrower than the data.
  aligned_multiplier(std::shared_ptr<const multiplier> inner, unsigned data_bits);

  // The operand the circuit sees for W-bit value v: v * 2^s (two's complement, N bits, sign-extended).
  static std::int32_t operand(std::int32_t v, unsigned shift) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(v) << shift);
  }
  // The circuit's product p brought back to the data's scale: floor(p / 2^(2s)), an arithmetic shift.
  static std::int32_t product(std::int32_t p, unsigned shift) { return p >> (2 * shift); }

  std::string name() const override { return m_inner->name(); }
  unsigned bits() const override { return m_inner->bits(); }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override {
    return product(m_inner->multiply(operand(a, m_shift), operand(b, m_shift)), m_shift);
  }
  // (a * 2^s)(b * 2^s) / 2^(2s) == a * b: an exact circuit stays exact.
  bool is_exact() const override { return m_inner->is_exact(); }
  operand_align alignment() const override { return operand_align::high; }
  unsigned shift() const { return m_shift; }
  const multiplier& inner() const { return *m_inner; }

 private:
  std::shared_ptr<const multiplier> m_inner;
  unsigned m_shift;
};

// `circuit` for W-bit data placed as `align` says: itself for low, an aligned_multiplier for high.
std::shared_ptr<const multiplier> align_multiplier(std::shared_ptr<const multiplier> circuit, unsigned data_bits,
                                                   operand_align align);

}  // namespace axsa::hw
