// Co-verification: a cycle engine of the SystemC model (hw::array_engine: the fast engine
// hw::array_core or the structural engine hw::pe_array, stepped exactly as hw::systolic_array's
// controller thread steps it) and the verilated RTL array with its controller (axsa_ctrl.v) run the
// same GEMM cycle by cycle. The RTL's edge inputs are what feed_schedule (docs/cycle-model.md) reads
// at the RTL controller's fold, stage and counter, never the model's feeders. Before every clock
// edge, and once after the last, every PE's accumulator (wrapped to A bits), east and south link
// registers and MAC enable, the edge inputs, the drain outputs and the controllers' registers and
// done signal are compared; the first difference is reported with a VCD of both sides around it
// (docs/rtl.md).
//
// Faults are given to the model with array_engine::set_faults and to the RTL as per-PE and
// controller masks on every cycle their window covers; a model bug can be planted with
// array_engine::poke_acc. The same snapshot comparison holds the two engines equal to each other
// (compare_engines).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hw/fault.h"
#include "hw/array_engine.h"
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
  std::string signal;         // acc, east, south, mac_en, west_in, north_in, drain_out; the controller's
                              // busy, stage, fold, counter, done
  std::int64_t model = 0, rtl = 0;
};

struct lockstep_result {
  bool match = false;
  std::uint64_t cycles = 0;           // the job's cycles by the schedule
  // Both sides still ran the job when the watchdog's budget (2 x cycles + 1000) was spent: a control
  // fault that keeps it from finishing (compared equal up to there).
  bool hung = false;
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
// The same with a model engine the caller built (idle, no job run yet, the multiplier set; a
// structural engine after elaboration). Its configuration must be rtl's.
lockstep_result run_lockstep(const array_entry& rtl, hw::array_engine& model, const hw::gemm_shape& shape,
                             const std::int16_t* act, const std::int16_t* weight, const lockstep_options& options);

// Two engines of the model on the same GEMM and faults, compared like the model and the RTL before
// every edge and after the last: the result's model_* fields are engine a's, its rtl_* fields
// engine b's. Both must be idle, with no job run yet, of one configuration, their multipliers set.
lockstep_result compare_engines(hw::array_engine& a, hw::array_engine& b, const hw::gemm_shape& shape,
                                const std::int16_t* act, const std::int16_t* weight,
                                const std::vector<faults::fault>& faults);

// One side's state during the current cycle, and the first difference between two such states in a
// fixed order: edge inputs, then PEs row-major (acc, east, south, mac_en), then drain outputs.
void read_engine(const hw::array_engine& engine, array_snapshot& s);
std::optional<mismatch> compare_snapshots(const array_snapshot& model, const array_snapshot& rtl, unsigned rows,
                                          unsigned cols, std::uint64_t& compared);

// `count` random faults for an array of rows x cols and data_bits, in a run of `cycles` cycles:
// uniform weight site (link or mult), kind, PE and bit; windows a third each one cycle, a random span, the whole run.
// Faults may share a PE and site; they compose in list order on both sides (docs/rtl.md).
std::vector<faults::fault> random_faults(std::size_t count, unsigned rows, unsigned cols, unsigned data_bits,
                                         std::uint64_t cycles, std::mt19937_64& rng);
// The same over the given sites (acc faults on bits 0..acc_bits-1), the site uniform among them.
std::vector<faults::fault> random_faults(std::size_t count, unsigned rows, unsigned cols, unsigned data_bits,
                                         unsigned acc_bits, std::uint64_t cycles, std::mt19937_64& rng,
                                         const std::vector<faults::fault_site>& sites);

// The multiplier the model should use for a configuration (rtl::make_multiplier, table mode: native
// products when the design is exact) with the data placed as `align` says; the RTL is strapped to the
// model's alignment (its configuration's align, which the first run_lockstep takes from model_mult).
std::shared_ptr<const hw::multiplier> model_multiplier(const array_entry& rtl,
                                                       hw::operand_align align = hw::operand_align::low);

}  // namespace axsa::rtl
