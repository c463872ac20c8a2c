// Where the integer GEMMs of an inference run: the functional twin (plain C++) or the
// cycle-accurate array behind the TLM bus. Both compute exactly the same integers.
#pragma once

#include <cstdint>
#include <string>

#include "hw/array_config.h"

namespace axsa::sw {

struct gemm_stats {
  std::uint64_t gemms = 0;       // GEMMs issued to the array
  std::uint64_t array_cycles = 0;
  std::uint64_t bus_cycles = 0;  // bus transfer cycles (0 for the functional twin)
  std::uint64_t macs = 0;        // useful multiply-accumulates, M*K*N summed
};

class gemm_backend {
 public:
  virtual ~gemm_backend() = default;
  // out[M x N] = wrap_A(act[M x K] * weight[K x N]) with the array's multiplier. `weight_id`
  // identifies a weight matrix that does not change between calls (the TLM backend uploads it once).
  virtual gemm_stats gemm(const hw::gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight,
                          std::int64_t* out, const void* weight_id) = 0;
  virtual std::string name() const = 0;
};

}  // namespace axsa::sw
