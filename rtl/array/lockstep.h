// Co-verification: the SystemC model's register engine (hw::array_core, stepped exactly as
// hw::systolic_array's controller thread steps it) and the verilated RTL array run the same GEMM
// cycle by cycle. The RTL's edge inputs come from feed_schedule (docs/cycle-model.md), not from
// the model. Before every clock edge, and once after the last, every PE's accumulator (wrapped to
// A bits), east and south link registers and MAC enable, the edge inputs and the drain outputs are
// compared; the first difference is reported with a VCD of both sides around it (docs/rtl.md).
//
// Faults are given to the model with array_core::set_faults and to the RTL as per-PE masks on
// every cycle their window covers; a model bug can be planted with array_core::poke_acc.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "faults/fault.h"
#include "hw/multiplier.h"
#include "rtl/array/rtl_array.h"

namespace axsa::rtl {

// A deliberate corruption of the model: at `cycle` (before its comparison) the accumulator of
// PE (row, col) is overwritten with its value plus one.
struct model_bug {
  std::uint64_t cycle = 0;
  unsigned row = 0, col = 0;
};

struct lockstep_options {
  std::vector<faults::fault> faults;
  std::optional<model_bug> bug;
  // Test hook: faults given to the RTL only (after `faults`), to show the comparison catches them.
  std::vector<faults::fault> rtl_only_faults;
  // Files <prefix>.model.vcd and <prefix>.rtl.vcd are written on a mismatch; "" writes none.
  std::string vcd_prefix;
  unsigned vcd_radius = 10;  // cycles before and after the mismatch
};

struct mismatch {
  std::uint64_t cycle = 0;
  unsigned row = 0, col = 0;  // the PE (edge inputs: the PE they enter; drain: the bottom PE)
  std::string signal;         // acc, east, south, mac_en, west_in, north_in, drain_out, busy
  std::int64_t model = 0, rtl = 0;
};

struct lockstep_result {
  bool match = false;
  std::uint64_t cycles = 0;           // the job's cycles by the schedule
  std::uint64_t compared_cycles = 0;  // cycles compared (up to the first mismatch)
  std::uint64_t compared_values = 0;
  std::optional<mismatch> first_mismatch;
  std::vector<std::int64_t> model_out;  // M x N, as the model wrote them
  std::vector<std::int64_t> rtl_out;    // M x N, read from the RTL's drain outputs
  std::vector<std::string> vcd_files;
};

// Runs the GEMM act (M x K) * weight (K x N) on a fresh model and a fresh instance of `rtl`.
// model_mult is the multiplier the model uses (nullptr: native exact products); it must compute
// what rtl.mult computes. Throws config_error for invalid faults, bugs outside the run or array.
lockstep_result run_lockstep(const array_entry& rtl, const hw::multiplier* model_mult, const hw::gemm_shape& shape,
                             const std::int16_t* act, const std::int16_t* weight, const lockstep_options& options);

// `count` random faults for an array of rows x cols and data_bits, in a run of `cycles` cycles:
// uniform site, kind, PE and bit; windows a third each one cycle, a random span, the whole run.
// Two weight-mult faults never share a PE in overlapping windows (docs/rtl.md: the model sums
// their effects instead of composing them).
std::vector<faults::fault> random_faults(std::size_t count, unsigned rows, unsigned cols, unsigned data_bits,
                                         std::uint64_t cycles, std::mt19937_64& rng);

// True when f is a weight-mult fault on a PE where `list` already has one with an overlapping window.
bool stacks_mult_fault(const std::vector<faults::fault>& list, const faults::fault& f);

// The multiplier the model should use for a configuration (rtl::make_multiplier, table mode: native
// products when the design is exact).
std::shared_ptr<const hw::multiplier> model_multiplier(const array_entry& rtl);

}  // namespace axsa::rtl
