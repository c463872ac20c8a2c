// The multiplier slot of a processing element. A PE multiplies a W-bit activation by a
// W-bit weight; the circuit in the slot has N >= W operand bits and receives both operands
// sign-extended. Its 2N-bit two's-complement product goes into the accumulator unchanged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace axsa::hw {

class multiplier {
 public:
  virtual ~multiplier() = default;

  virtual std::string name() const = 0;
  // Operand width N of the circuit.
  virtual unsigned bits() const = 0;
  // Product of two N-bit two's-complement operands (given sign-extended), as the circuit computes it.
  virtual std::int32_t multiply(std::int32_t a, std::int32_t b) const = 0;
  // True when multiply() is the exact product: the array then multiplies natively.
  virtual bool is_exact() const { return false; }
  // A dense table of products for data_bits-wide operands, or nullptr. Entry
  // ((a & mask) << data_bits) | (b & mask), mask = 2^data_bits - 1, equals multiply(a, b).
  virtual const std::int32_t* product_table(unsigned /*data_bits*/) const { return nullptr; }
};

// a * b, exactly. Any width up to 16 bits.
class exact_multiplier final : public multiplier {
 public:
  explicit exact_multiplier(unsigned bits = 16) : m_bits(bits) {}
  std::string name() const override { return "exact" + std::to_string(m_bits); }
  unsigned bits() const override { return m_bits; }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override { return a * b; }
  bool is_exact() const override { return true; }

 private:
  unsigned m_bits;
};

}  // namespace axsa::hw
