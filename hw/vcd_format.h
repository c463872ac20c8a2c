// VCD building blocks with no SystemC in them, shared by hw::vcd_writer and the RTL lockstep's
// trace window (which must link without the kernel).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace axsa::hw::vcd {

// The n-th short identifier: printable ASCII 33..126, shortest first.
std::string identifier(std::size_t n);
// A value change line: "0id"/"1id" for one bit, "b0101 id" (two's complement, `bits` wide) otherwise.
void write_value(std::ostream& out, std::int64_t value, unsigned bits, const std::string& id);

}  // namespace axsa::hw::vcd
