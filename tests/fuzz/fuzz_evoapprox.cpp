// libFuzzer target: the EvoApprox folder scan's decisions (rtl/mult_scan.h) on one file: the input's
// first line is the file's base name, the rest its Verilog text. A name it takes must be a signed
// mul<N>s_<id> with N in 2..16, and a header it accepts must declare A, B and O with those widths.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rtl/mult_scan.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace axsa::rtl::scan;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = input.find('\n');
  const std::string_view base = input.substr(0, nl);
  const std::string_view text = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
  try {
    const evo_verdict v = classify_evoapprox_name(base);
    if (!v.usable) {
      if (v.why.empty() || v.why.find('\n') != std::string::npos) axsa::fuzz::finding("a skip without a one-line reason");
      return 0;
    }
    const std::string prefix = "mul" + std::to_string(v.bits) + "s_";
    if (v.bits < min_bits || v.bits > max_bits || base.size() <= prefix.size() ||
        (base.substr(0, prefix.size()) != prefix && base.find("s_") == std::string_view::npos)) {
      axsa::fuzz::finding("took the name '" + std::string(base) + "' as " + std::to_string(v.bits) + " bits");
    }
    const std::string why = check_evoapprox_header(text, base, v.bits);
    if (why.empty()) {
      const std::string out = std::to_string(2 * v.bits - 1);  // "[23:0]", "[ 23 : 00 ]", ... all mean the same
      if (text.find(std::string(base)) == std::string_view::npos || text.find(out) == std::string_view::npos) {
        axsa::fuzz::finding("accepted a header without module " + std::string(base) + " or an output MSB " + out);
      }
    } else if (why.find('\n') != std::string::npos) {
      axsa::fuzz::finding("a multi-line reason");
    }
  } catch (const std::exception& e) {
    axsa::fuzz::finding(std::string("exception from the scan: ") + e.what());
  }
  return 0;
}
