// A verilated combinational multiplier behind a plain interface: operands in, raw product bits
// out. Each model's generated header is included by exactly one wrapper source (pimpl), so
// Verilator's headers and globals stay out of the rest of the code. Not thread-safe: one
// instance per thread.
#pragma once

#include <cstdint>
#include <memory>

namespace axsa::rtl {

class verilated_eval {
 public:
  virtual ~verilated_eval() = default;
  // A and B are the low N bits of the operands; returns the 2N-bit output O, zero-extended.
  virtual std::uint64_t eval(std::uint32_t a, std::uint32_t b) = 0;
};

using verilated_factory = std::unique_ptr<verilated_eval> (*)();

}  // namespace axsa::rtl
