// What the array's controller clocks and what checkers read: the common face of the two cycle
// engines. array_core is the fast engine (flat arrays, vectorised MAC); pe_array is the structural
// engine (one pe module per PE with its multiplier and saboteur submodules). Both step one rising
// clock edge per step() under the timing of the dataflow descriptor (hw/dataflow.h) and are held
// equal cycle by cycle (tests/hw/test_structural_lockstep.cpp). Reads give the state during the
// current cycle, before its edge.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/activity.h"
#include "hw/fault.h"
#include "hw/array_config.h"
#include "hw/multiplier.h"

namespace axsa::hw {

// Operands of one GEMM, row-major, values already in the signed W-bit range. The engine
// reads act and weight while it runs and writes out[m][n] (sign-extended accumulator) as
// each row drains; all three must stay valid until the job is done.
struct gemm_job {
  gemm_shape shape;
  const std::int16_t* act = nullptr;     // M x K
  const std::int16_t* weight = nullptr;  // K x N
  std::int64_t* out = nullptr;           // M x N

  // Throws config_error for an invalid shape or a missing buffer (both engines check a job so).
  void validate() const {
    shape.validate();
    if (act == nullptr || weight == nullptr || out == nullptr) {
      throw config_error("GEMM job without operand or result buffers");
    }
  }
};

class array_engine {
 public:
  virtual ~array_engine() = default;

  virtual const array_config& config() const = 0;
  // nullptr or an exact multiplier: native products; otherwise the slot's circuit.
  virtual void set_multiplier(const multiplier* m) = 0;
  // How products are evaluated with the current multiplier: "native", "table" or "slot" (its multiply()).
  virtual const char* evaluation() const = 0;
  // The saboteur's faults (hw/fault.h), applied on every cycle of their window, several at
  // once in list order. Throws config_error for a fault the engine cannot place.
  virtual void set_faults(std::vector<faults::fault> list) = 0;
  virtual const std::vector<faults::fault>& active_faults() const = 0;

  // Loads a job: the next cycle is cycle 0 of its first fold. Throws config_error if the shape is
  // invalid or a job is still running.
  virtual void start(const gemm_job& job) = 0;
  virtual bool busy() const = 0;
  // One rising clock edge.
  virtual void step() = 0;
  // Reset by the controller: a running job stops at once (its outputs so far stay where they were
  // written) and every register of the array is cleared; the array is idle. Nothing while idle.
  virtual void abort() = 0;
  // Whether the last job ended on an error of the controller rather than by finishing (only a
  // control fault causes one: hw/array_core.h). Cleared by start().
  virtual bool failed() const { return false; }
  std::uint64_t run() {
    while (busy()) step();
    return job_cycles();
  }
  virtual std::uint64_t job_cycles() const = 0;
  virtual std::uint64_t total_cycles() const = 0;

  // The array's activity since construction (hw/activity.h; the bus fields stay 0). Counting is on
  // from construction; off, the counts stop where they are (the fast engine then saves its cost).
  virtual const activity& counts() const = 0;
  virtual void set_counting(bool on) = 0;

  // State during the current cycle: the links into and out of PE (r, c), its accumulator (wrapped
  // to A bits), whether it accumulates on this cycle's edge, and column c's drain output (the
  // bottom accumulator while draining, else 0). west_in/north_in are the values on the wires from
  // the neighbour (or feeder), before any saboteur.
  virtual std::int32_t west_in(unsigned r, unsigned c) const = 0;
  virtual std::int32_t north_in(unsigned r, unsigned c) const = 0;
  virtual std::int32_t east_out(unsigned r, unsigned c) const = 0;
  virtual std::int32_t south_out(unsigned r, unsigned c) const = 0;
  virtual std::int64_t acc(unsigned r, unsigned c) const = 0;
  virtual bool mac_enabled(unsigned r, unsigned c) const = 0;
  virtual std::int64_t drain_out(unsigned c) const = 0;

  // Test hook for co-verification: overwrite one accumulator (models a corrupted register).
  virtual void poke_acc(unsigned r, unsigned c, std::int64_t value) = 0;
};

}  // namespace axsa::hw
