// The multiplier slot of a processing element. A PE multiplies a W-bit activation by a
// W-bit weight; the circuit in the slot has N >= W operand bits. With the default (low) alignment it
// receives both operands sign-extended and its 2N-bit two's-complement product goes into the
// accumulator unchanged; hw/aligned_multiplier.h places the data in the top bits instead.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hw/array_config.h"

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
  // Where multiply() places W-bit data in the circuit's operands: low (sign-extended, multiply() is the
  // circuit itself) unless this is an aligned_multiplier or a table of one.
  virtual operand_align alignment() const { return operand_align::low; }
};

// What every engine checks before it puts m in its PEs (nullptr: exact products, any alignment):
// the circuit is at least as wide as the data and aligned as the configuration says. Throws config_error.
inline void check_multiplier_slot(const multiplier* m, const array_config& cfg) {
  if (m == nullptr) return;
  if (m->bits() < cfg.data_bits) {
    throw config_error("multiplier " + m->name() + " has " + std::to_string(m->bits()) +
                       "-bit operands, narrower than the " + std::to_string(cfg.data_bits) + "-bit data");
  }
  if (m->alignment() != cfg.align) {
    throw config_error("multiplier " + m->name() + " places the data " + to_string(m->alignment()) +
                       " in its operands but the array is configured for operand alignment " + to_string(cfg.align));
  }
}

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
