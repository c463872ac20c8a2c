// Test harness: an array plus a host thread that runs a list of GEMMs back to back and records
// each job's cycle count, with the results left in the caller's buffers.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>

#include "hw/systolic_array.h"

namespace axsa::test {

class array_harness : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(array_harness);
  array_harness(const sc_core::sc_module_name& name, const hw::array_config& cfg)
      : sc_core::sc_module(name), array("array", cfg) {
    SC_THREAD(host);
  }

  hw::systolic_array array;
  std::vector<hw::gemm_job> jobs;
  std::vector<std::uint64_t> cycles;
  std::vector<sc_core::sc_time> durations;

 private:
  void host() {
    for (const auto& job : jobs) {
      const sc_core::sc_time t0 = sc_core::sc_time_stamp();
      cycles.push_back(array.run(job));
      durations.push_back(sc_core::sc_time_stamp() - t0);
    }
  }
};

}  // namespace axsa::test
