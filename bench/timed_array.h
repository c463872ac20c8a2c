// Shared by the benchmarks: the SystemC array with a host thread that runs one GEMM `repeat`
// times and records the wall-clock seconds of each run, and the median of such timings.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include <systemc>

#include "hw/systolic_array.h"

namespace axsa::bench {

using clock_type = std::chrono::steady_clock;

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class timed_array : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(timed_array);
  timed_array(const sc_core::sc_module_name& n, const hw::array_config& cfg, hw::gemm_job job, int repeat)
      : sc_core::sc_module(n), array("array", cfg), m_job(job), m_repeat(repeat) {
    SC_THREAD(host);
  }
  hw::systolic_array array;
  std::vector<double> seconds;
  std::uint64_t cycles = 0;

 private:
  void host() {
    for (int i = 0; i < m_repeat; ++i) {
      const auto t0 = clock_type::now();
      cycles = array.run(m_job);
      seconds.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
    }
  }
  hw::gemm_job m_job;
  int m_repeat;
};

}  // namespace axsa::bench
