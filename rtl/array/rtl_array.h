// The verilated RTL array (rtl/array/axsa_array.v) behind a plain interface, and the registry of
// the configurations verilated into this build (AXSA_RTL_CONFIGS, rtl/array/array.cmake). Each
// configuration's generated header is included by exactly one wrapper source (pimpl).
//
// Timing contract: the set_*() inputs hold for the current cycle. settle() evaluates the design
// with the clock low, so mac_en() and drain_out() follow the inputs; clock() then gives the
// rising edge, after which the registers (acc, east, south, valid bits) hold the next cycle's
// state. reset() is one edge with rst high: every register zero. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace axsa::rtl {

// Everything the lockstep compares, for one cycle, from either side: per PE (row-major) the
// accumulator (sign-extended from A bits), the east and south link registers (sign-extended from
// W bits) and whether the PE accumulates on this edge; per row/column the edge inputs and the
// drain outputs. east_valid/south_valid exist only on the RTL side (the model keeps no such bits).
struct array_snapshot {
  std::uint64_t cycle = 0;
  std::vector<std::int32_t> west_in;   // R: activation entering row r (the west feeder)
  std::vector<std::int32_t> north_in;  // C: weight entering column c (the north feeder)
  std::vector<std::int64_t> acc;       // R*C
  std::vector<std::int32_t> east;      // R*C
  std::vector<std::int32_t> south;     // R*C
  std::vector<std::uint8_t> mac_en;    // R*C
  std::vector<std::int64_t> drain_out; // C
  std::vector<std::uint8_t> east_valid;   // R*C, RTL only
  std::vector<std::uint8_t> south_valid;  // R*C, RTL only
};

class rtl_array {
 public:
  virtual ~rtl_array() = default;

  // Operand alignment of every PE's multiplier (false: low, the state after construction; true:
  // high). A strap: set it before reset() and hold it for the run.
  virtual void set_align_high(bool on) = 0;
  // Edge inputs; values are W-bit two's complement (given sign-extended).
  virtual void set_west(unsigned row, std::int32_t act, bool valid) = 0;
  virtual void set_north(unsigned col, std::int32_t wgt, bool valid) = 0;
  virtual void set_drain(bool on) = 0;
  // Whether a job runs (the controller's busy; true after construction): false holds every
  // register and keeps every PE from accumulating.
  virtual void set_enable(bool on) = 0;
  // Fault masks of PE (row, col), W bits each: v' = ((v & ~clear) | set) ^ flip on the weight
  // arriving from the north; link: used and forwarded south, mult: the multiplier operand only.
  virtual void set_link_masks(unsigned row, unsigned col, std::uint32_t clear, std::uint32_t set,
                              std::uint32_t flip) = 0;
  virtual void set_mult_masks(unsigned row, unsigned col, std::uint32_t clear, std::uint32_t set,
                              std::uint32_t flip) = 0;
  // The same on the activation arriving from the west (act-link: used and forwarded east; act-mult:
  // the multiplier operand only), and A bits on the value the accumulator register takes (acc).
  virtual void set_act_link_masks(unsigned row, unsigned col, std::uint32_t clear, std::uint32_t set,
                                  std::uint32_t flip) = 0;
  virtual void set_act_mult_masks(unsigned row, unsigned col, std::uint32_t clear, std::uint32_t set,
                                  std::uint32_t flip) = 0;
  virtual void set_acc_masks(unsigned row, unsigned col, std::uint64_t clear, std::uint64_t set, std::uint64_t flip) = 0;
  // Two bits on the valid bits where they enter the MAC-enable gate (bit 0 activation, bit 1 weight).
  virtual void set_valid_masks(unsigned row, unsigned col, std::uint32_t clear, std::uint32_t set,
                               std::uint32_t flip) = 0;

  virtual void reset() = 0;
  virtual void settle() = 0;
  virtual void clock() = 0;

  virtual std::int64_t acc(unsigned row, unsigned col) const = 0;
  virtual std::int32_t east(unsigned row, unsigned col) const = 0;
  virtual std::int32_t south(unsigned row, unsigned col) const = 0;
  virtual bool east_valid(unsigned row, unsigned col) const = 0;
  virtual bool south_valid(unsigned row, unsigned col) const = 0;
  virtual bool mac_en(unsigned row, unsigned col) const = 0;
  virtual std::int64_t drain_out(unsigned col) const = 0;
  // Every signal above plus the edge inputs, in one call (valid after settle()).
  virtual void read(array_snapshot& out) const = 0;
};

using rtl_array_factory = std::unique_ptr<rtl_array> (*)();

// One verilated configuration.
struct array_entry {
  const char* name;  // "RxCxWxA:multiplier", e.g. "4x4x8x32:exact8"
  unsigned rows, cols, data_bits, acc_bits;
  const char* mult;         // registry name of the multiplier in the PEs
  const char* mult_module;  // its Verilog module
  unsigned mult_bits;       // its operand width N
  rtl_array_factory make;
};

// Every configuration of this build, in AXSA_RTL_CONFIGS order (generated at configure time).
const std::vector<array_entry>& built_arrays();
// The configuration with exactly these parameters, or nullptr.
const array_entry* find_array(unsigned rows, unsigned cols, unsigned data_bits, unsigned acc_bits,
                              const std::string& mult);
// "4x4x8x32:exact8, 8x8x8x32:drum8_k4, ..." ("none" when the build has none).
std::string built_array_list();

}  // namespace axsa::rtl
