// The two readers that decide, at configure time, which Verilog multipliers are verilated into the build:
// rtl/mult/multipliers.txt (the in-house designs) and the EvoApprox folder scan (-DAXSA_EVOAPPROX_DIR).
// rtl/CMakeLists.txt compiles them into a small host tool (rtl/mult_scan_main.cpp) and runs it before
// any target exists; the same code is fuzzed (tests/fuzz). They only read text and file names: whether
// Verilator accepts a circuit is still asked of Verilator, by CMake.
// Nothing here throws anything but scan_error, whose message is one line naming what was wrong.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace axsa::rtl::scan {

struct scan_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Operand widths the PEs take (hw/array_config.h allows data of 2..16 bits).
constexpr unsigned min_bits = 2;
constexpr unsigned max_bits = 16;

// One line of multipliers.txt: "registry_name verilog_module N [PARAM=value ...]".
struct manifest_entry {
  std::string name;    // [A-Za-z][A-Za-z0-9_]*: it names a C++ function and a build folder
  std::string module;  // a Verilog identifier; the design is rtl/mult/<module>.v
  unsigned bits = 0;   // min_bits..max_bits
  std::vector<std::string> params;  // "KEY=value", KEY a Verilog identifier, value a decimal integer
  std::size_t line = 0;             // 1-based, for messages
};

// Parses the whole manifest. Blank lines and lines starting with '#' are skipped. Throws scan_error
// "line L: ..." for a short line, a bad name, module, width or parameter, or a name listed twice.
std::vector<manifest_entry> parse_manifest(std::string_view text);

// The verdict on one file of an EvoApprox folder.
struct evo_verdict {
  bool usable = false;
  unsigned bits = 0;  // N of mul<N>s_<id> when usable
  std::string why;    // why not, when not usable
};

// From the file's base name (no folder, no ".v") alone: gate netlists (_pdk45), unsigned circuits,
// names that are not mul<N>s_<id>, and widths outside min_bits..max_bits are not usable.
evo_verdict classify_evoapprox_name(std::string_view base);

// The module header of a usable name's file: "module <base>(A, B, O)" with "input [N-1:0] A;",
// "input [N-1:0] B;" and "output [2N-1:0] O;". Returns "" when it is there, else why not.
std::string check_evoapprox_header(std::string_view text, std::string_view base, unsigned bits);

// What the scan of a whole folder decided for one file (paths relative to the folder).
struct evo_file {
  enum class action { take, duplicate, skip } what = action::skip;
  std::string path;      // absolute
  std::string relative;  // to the folder
  std::string base;
  unsigned bits = 0;
  std::string why;  // skip: the reason
};

// Every *.v below `folder` (sorted by path, so the first copy of a circuit wins): the name check, then
// identical copies of a circuit already taken are duplicates, a different file of the same name is
// skipped, then the header check. Throws scan_error if `folder` is not a readable directory.
std::vector<evo_file> scan_evoapprox_folder(const std::string& folder);

}  // namespace axsa::rtl::scan
