// Writes the array's state cycle by cycle as JSON, for pictures (scripts/draw_array.py) and for
// readers who would rather not parse a VCD. One object per cycle, one line each, inside a header
// object that names the array, the GEMM and the faults: per PE of a region, row-major, the
// operands arriving from the west and the north, the registers driving east and south, the
// accumulator and whether the PE accumulates on this cycle's edge; per column, the drain output.
// As in hw::vcd_writer, a sample is the state during that cycle, before its clock edge, and the
// sample after a job's last edge is the state the job leaves behind (stage "done").
#pragma once

#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "hw/array_engine.h"
#include "hw/dataflow.h"
#include "hw/fault.h"

namespace axsa::hw {

class trace_writer {
 public:
  struct region {
    unsigned r0 = 0, r1 = 0, c0 = 0, c1 = 0;  // inclusive
  };
  // Throws config_error when the file cannot be created. `flow` times the job whose cycles are
  // sampled (fold and stage of each cycle); `faults` are listed in the header.
  trace_writer(const std::string& path, const array_config& cfg, const dataflow& flow, region reg,
               const std::vector<faults::fault>& faults, std::uint64_t first_cycle = 0,
               std::uint64_t last_cycle = std::numeric_limits<std::uint64_t>::max());

  // Records the engine's state during its current cycle when it falls in the window; a cycle
  // already written is not written again. Throws std::runtime_error when the file cannot take it.
  void sample(const array_engine& engine);
  // Closes the JSON; throws std::runtime_error if the file is incomplete.
  void close();
  ~trace_writer();

 private:
  std::ofstream m_out;
  std::string m_path;
  dataflow m_flow;
  region m_reg;
  std::uint64_t m_first, m_last;
  bool m_any = false;
  bool m_closed = false;
  std::uint64_t m_last_written = 0;
};

}  // namespace axsa::hw
