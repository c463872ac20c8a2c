// The sources an on-demand RTL array build needs (rtl/array/array_cache.h), embedded into the
// binary at configure time by rtl/array/array.cmake so that a build at run time uses the very text
// this binary was built from: the array and PE Verilog, the wrapper template and the rtl_array
// interface it implements.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace axsa::rtl {

// (file name, text): axsa_array.v, axsa_pe.v, array_wrapper.cpp.in, rtl_array.h.
const std::vector<std::pair<std::string, std::string>>& embedded_array_sources();
// SHA-256 over the names and hashes of those files (computed by CMake).
const char* embedded_array_sources_hash();

}  // namespace axsa::rtl
