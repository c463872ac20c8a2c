// RTL array configurations verilated on demand: a configuration that AXSA_RTL_CONFIGS did not build
// into the binary is verilated and compiled on first use into a shared object under the cache
// directory ($AXSA_CACHE_DIR, as the multipliers' product tables, rtl/mult_registry.h), then loaded
// with dlopen. Later uses load the cached object. Why a shared object rather than a helper process:
// the lockstep reads every register of the RTL on every cycle through rtl_array; in-process calls
// keep that interface unchanged and as fast as for the built-in configurations.
//
// A cache entry is a directory named by a key: a hash of the Verilog of the array, its PE and the
// multiplier, the wrapper and interface sources, the parameters, and the Verilator and compiler
// versions. It is built in a temporary directory, its manifest (the object's size and hash) written
// last, and renamed into place; a missing, unreadable or mismatching manifest marks a corrupt or
// half-written entry, which is removed and rebuilt. An exclusive lock file per key serialises
// concurrent first uses: the second waits and then loads what the first built.
#pragma once

#include <ostream>
#include <string>

#include "rtl/array/rtl_array.h"

namespace axsa::rtl {

struct array_request {
  unsigned rows = 4, cols = 4, data_bits = 8, acc_bits = 32;
  std::string mult;  // registered multiplier name (N >= data_bits)
};

// What array_on_demand did to find the configuration.
enum class array_origin { built_in, cache_hit, built_now };

struct array_lookup {
  const array_entry* entry = nullptr;
  array_origin origin = array_origin::built_in;
  std::string directory;  // the cache entry ("" for a built-in configuration)
};

// The built-in configuration when there is one; otherwise the cached one, verilating and compiling it
// first when the cache lacks it or holds a damaged copy (one progress line to `progress` before and
// after). Throws config_error for a request no configuration can satisfy (an unknown multiplier, one
// narrower than the data, sizes out of range) and std::runtime_error when the build fails (the
// message names the log) or no cache directory can be used.
array_lookup array_on_demand(const array_request& req, std::ostream& progress);

// The cache entry's directory for a request ("" when there is no cache directory).
std::string array_cache_entry(const array_request& req);

}  // namespace axsa::rtl
