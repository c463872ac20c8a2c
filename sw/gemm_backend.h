// Where the integer GEMMs of an inference run: the functional twin (plain C++) or the
// cycle-accurate array behind the TLM bus. Both compute exactly the same integers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hw/activity.h"
#include "hw/array_config.h"

namespace axsa::sw {

struct gemm_stats {
  std::uint64_t gemms = 0;       // GEMMs issued to the array
  std::uint64_t array_cycles = 0;
  std::uint64_t bus_cycles = 0;  // bus transfer cycles (0 for the functional twin)
  std::uint64_t macs = 0;        // useful multiply-accumulates, M*K*N summed
  hw::activity activity;         // the events an energy model charges (hw/activity.h)

  gemm_stats& operator+=(const gemm_stats& o) {
    gemms += o.gemms;
    array_cycles += o.array_cycles;
    bus_cycles += o.bus_cycles;
    macs += o.macs;
    activity += o.activity;
    return *this;
  }
};

// What the functional twin needs to stand for a TLM run (host_driver::model() fills it): how the
// host driver splits a GEMM into accelerator jobs, the weight buffer's size (where the driver keeps
// layers resident) and the bytes per bus beat.
struct host_model {
  std::function<std::size_t(const hw::gemm_shape&)> rows_per_job;
  std::uint64_t weight_bytes = 0;
  std::uint64_t beat_bytes = 8;
};

// A permanent fault of the accelerator's weight memory: bit `bit` (0 = the LSB of the W-bit weight,
// W - 1 its sign) of weight `index` of a layer's K x N matrix (row-major) reads `value` whatever is
// written there.
struct stuck_weight_bit {
  std::size_t index = 0;
  unsigned bit = 0;
  bool value = false;
};

// The W-bit two's-complement weight `w` (an int16 holding a sign-extended W-bit value) as a memory
// word with `bit` stuck at `value` reads it.
std::int16_t stick_bit(std::int16_t w, unsigned bit, bool value, unsigned data_bits);

class gemm_backend {
 public:
  virtual ~gemm_backend() = default;
  // out[M x N] = wrap_A(act[M x K] * weight[K x N]) with the array's multiplier. `weight_id`
  // identifies a weight matrix that does not change between calls (the TLM backend uploads it once).
  virtual gemm_stats gemm(const hw::gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight,
                          std::int64_t* out, const void* weight_id) = 0;
  virtual std::string name() const = 0;

  // The weight memory (docs/epsilon.md). write_weights makes a layer's weights resident: from then
  // on every GEMM with that weight_id reads the memory, not the host's copy, so what was written
  // (through any stuck bits) is what the array multiplies. read_weights reads them back.
  // stick_weight_bits installs permanent faults in a resident layer's words; writes never clear
  // them. Costs (bus cycles) are added to `cost`. Throws config_error when the memory cannot hold
  // the layer, and when bits are stuck in a layer that is not resident.
  // Backends without a weight memory (the campaign engines' recorders) refuse all three.
  virtual void write_weights(const void* weight_id, const std::int16_t* w, std::size_t count, gemm_stats& cost);
  virtual void read_weights(const void* weight_id, std::int16_t* out, std::size_t count, gemm_stats& cost);
  virtual void stick_weight_bits(const void* weight_id, const std::vector<stuck_weight_bit>& bits);
};

}  // namespace axsa::sw
