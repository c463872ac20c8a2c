// libFuzzer target: the multipliers.txt reader (rtl/mult_scan.h) that decides at configure time which
// in-house designs are verilated. An accepted manifest must hold only entries that are safe to paste into
// CMake and C++ (identifiers, widths 2..16, KEY=number parameters), each name once.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "rtl/mult_scan.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace axsa::rtl::scan;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    std::set<std::string> names;
    for (const manifest_entry& e : parse_manifest(text)) {
      if (!identifier(e.name) || !identifier(e.module)) axsa::fuzz::finding("accepted name '" + e.name + "' / module '" + e.module + "'");
      if (e.bits < min_bits || e.bits > max_bits) axsa::fuzz::finding("accepted width " + std::to_string(e.bits));
      if (!names.insert(e.name).second) axsa::fuzz::finding("accepted '" + e.name + "' twice");
      for (const auto& p : e.params) {
        const auto eq = p.find('=');
        if (eq == std::string::npos || !identifier(p.substr(0, eq)) || p.size() == eq + 1 ||
            p.find_first_not_of("0123456789", eq + 1) != std::string::npos) {
          axsa::fuzz::finding("accepted parameter '" + p + "'");
        }
      }
    }
  } catch (const scan_error& e) {
    axsa::fuzz::check_message(e);
  }
  return 0;
}
