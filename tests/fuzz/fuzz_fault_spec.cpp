// libFuzzer target: fault specifications as `axsa gemm --fault`, `coverify --fault` and the campaign
// options take them (hw/fault.h, faults/fault_space.h). A spec that parses must mean exactly the numbers
// written in it, survive describe() and parse again unchanged, and validate() against an array must
// agree with an independent check of its PE, bit and window.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "faults/fault_space.h"
#include "hw/array_config.h"
#include "hw/fault.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using axsa::fuzz::finding;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// The decimal text without leading zeros ("0" for zeros only).
std::string canonical(const std::string& digits) {
  const std::size_t nz = digits.find_first_not_of('0');
  return nz == std::string::npos ? "0" : digits.substr(nz);
}

void check_spec(const std::string& text) {
  axsa::fuzz::expect_clean([&] {
    const axsa::faults::fault f = axsa::faults::parse_fault(text);
    const auto parts = split(text, ':');
    if (canonical(parts.at(2)) != std::to_string(f.row) || canonical(parts.at(3)) != std::to_string(f.col) ||
        canonical(parts.at(4)) != std::to_string(f.bit)) {
      finding("'" + text + "' parsed as PE (" + std::to_string(f.row) + "," + std::to_string(f.col) + ") bit " +
              std::to_string(f.bit));
    }
    if (parts.size() > 5 && canonical(parts[5]) != std::to_string(f.first_cycle)) finding("'" + text + "': first cycle changed");
    if (parts.size() > 6 && canonical(parts[6]) != std::to_string(f.last_cycle)) finding("'" + text + "': last cycle changed");
    const std::string again = axsa::faults::describe(f);
    if (!(axsa::faults::parse_fault(again) == f)) finding("'" + text + "' described as '" + again + "' parses differently");
    for (const unsigned size : {1u, 4u, 16u}) {
      axsa::hw::array_config cfg;
      cfg.rows = cfg.cols = size;
      cfg.data_bits = 8;
      // W = 8 for the operand sites, A (the default accumulator width) for acc, 2 for valid, the
      // controller's word for control (which names no PE: row = col = 0).
      const unsigned width = axsa::faults::site_bits(f.site, cfg);
      const bool pe_fits = f.site == axsa::faults::fault_site::control ? f.row == 0 && f.col == 0 : f.row < size && f.col < size;
      const bool fits = pe_fits && f.bit < width && f.first_cycle <= f.last_cycle;
      bool accepted = true;
      try {
        f.validate(cfg);
      } catch (const axsa::config_error& e) {
        axsa::fuzz::check_message(e);
        accepted = false;
      }
      if (accepted != fits) finding("'" + text + "' validate() on a " + std::to_string(size) + "-array disagrees");
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // One spec per line, as a user's list of --fault options; the first line also as the other option values.
  const auto lines = split(input, '\n');
  for (const auto& line : lines) check_spec(line);
  axsa::fuzz::expect_clean([&] { (void)axsa::faults::parse_fault_set(lines[0]); });
  axsa::fuzz::expect_clean([&] { (void)axsa::faults::parse_site(lines[0]); });
  axsa::fuzz::expect_clean([&] { (void)axsa::faults::parse_sites(lines[0]); });
  axsa::fuzz::expect_clean([&] { (void)axsa::faults::parse_kind(lines[0]); });
  return 0;
}
