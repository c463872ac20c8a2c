#include "hw/vcd_format.h"

namespace axsa::hw::vcd {

std::string identifier(std::size_t n) {
  std::string id;
  do {
    id.push_back(static_cast<char>(33 + n % 94));
    n /= 94;
  } while (n > 0);
  return id;
}

void write_value(std::ostream& out, std::int64_t value, unsigned bits, const std::string& id) {
  if (bits == 1) {
    out << ((value & 1) ? '1' : '0') << id << '\n';
    return;
  }
  std::string digits(bits, '0');
  const auto u = static_cast<std::uint64_t>(value);
  for (unsigned b = 0; b < bits; ++b) {
    if ((u >> b) & 1u) digits[bits - 1 - b] = '1';
  }
  out << 'b' << digits << ' ' << id << '\n';
}

}  // namespace axsa::hw::vcd
