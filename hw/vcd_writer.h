// Writes a Value Change Dump of a chosen set of signal views, one sample per clock cycle,
// restricted to a window of cycles so that long runs on large arrays stay readable.
// Time stamps are cycle * clock period (timescale 1 ps); the value at time t is the state
// during that cycle, before its clock edge. Scopes follow the SystemC hierarchy of the views.
#pragma once

#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "hw/signal_view.h"
#include "hw/vcd_format.h"

namespace axsa::hw {

class vcd_writer {
 public:
  // Throws config_error when the file cannot be created.
  vcd_writer(const std::string& path, std::vector<const signal_view*> views, double clock_period_ns,
             std::uint64_t first_cycle = 0, std::uint64_t last_cycle = std::numeric_limits<std::uint64_t>::max());
  ~vcd_writer();

  // Records the views' values at `cycle`; cycles outside the window are ignored. A second
  // sample of the same cycle updates that time stamp's values.
  // Throws std::runtime_error when the file cannot take the data (a full disk, say).
  void sample(std::uint64_t cycle);
  // Flushes and closes; throws std::runtime_error if the file is incomplete.
  void close();

 private:
  void write_header();

  std::ofstream m_out;
  std::string m_path;
  std::vector<const signal_view*> m_views;
  std::vector<std::string> m_ids;
  std::vector<std::int64_t> m_last;
  std::uint64_t m_period_ps;
  std::uint64_t m_first;
  std::uint64_t m_last_cycle;
  bool m_dumped = false;
  std::uint64_t m_last_time_cycle = 0;
};

}  // namespace axsa::hw
