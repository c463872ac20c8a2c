// The verilated controller of the RTL twin (rtl/array/axsa_ctrl.v) behind a plain interface. One
// design for every array configuration (32-bit counters), verilated once into axsa_rtl_models; its
// generated header is included by exactly one source (rtl/array/controller_wrapper.cpp).
//
// Timing contract as rtl_array's: the set_*() inputs hold for the current cycle, settle()
// evaluates with the clock low (the *_now values, drain, error and done follow the inputs and the
// registers), clock() gives the rising edge. reset() is one edge with rst high. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>

namespace axsa::rtl {

class rtl_controller {
 public:
  virtual ~rtl_controller() = default;

  // The job's fold count and stage lengths (the dataflow descriptor's), held while it runs.
  virtual void set_job(std::uint32_t folds, std::uint32_t compute_len, std::uint32_t drain_len) = 0;
  virtual void set_start(bool on) = 0;
  // Fault masks, v' = ((v & ~clear) | set) ^ flip, on the stage register, the counter the stage
  // selects, the fold register and the done signal (axsa_ctrl.v).
  virtual void set_stage_masks(bool clear, bool set, bool flip) = 0;
  virtual void set_counter_masks(std::uint32_t clear, std::uint32_t set, std::uint32_t flip) = 0;
  virtual void set_fold_masks(std::uint32_t clear, std::uint32_t set, std::uint32_t flip) = 0;
  virtual void set_done_masks(bool clear, bool set, bool flip) = 0;

  virtual void reset() = 0;
  virtual void settle() = 0;
  virtual void clock() = 0;

  // Everything it shows in the current cycle (valid after settle()).
  struct state {
    bool busy = false, stage = false, done_q = false;
    std::uint32_t k_count = 0, d_count = 0, fold = 0;
    bool stage_now = false;
    std::uint32_t counter_now = 0, fold_now = 0;
    bool drain = false, error = false, done = false;
  };
  virtual state read() const = 0;
};

std::unique_ptr<rtl_controller> make_controller();

}  // namespace axsa::rtl
