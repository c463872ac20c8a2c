// GEMM workloads for the array: operands over the full signed W-bit range and an independent
// reference product (plain loops, 64-bit sums, then the accumulator's two's-complement wrap,
// which equals wrapping after every addition).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/array_config.h"
#include "hw/multiplier.h"

namespace axsa::sw {

enum class operand_fill { random, min, max };

// Parses "random", "min" or "max"; throws config_error otherwise.
operand_fill parse_fill(const std::string& text);

struct gemm_workload {
  hw::gemm_shape shape;
  std::vector<std::int16_t> act;     // M x K
  std::vector<std::int16_t> weight;  // K x N
};

// Operands drawn uniformly from [-2^(W-1), 2^(W-1)-1] (random), or all at one extreme.
gemm_workload make_workload(const hw::gemm_shape& shape, unsigned data_bits, operand_fill fill, std::uint64_t seed);

// out[m][n] = wrap_A(sum_k mul(act[m][k], weight[k][n])); mul is exact when m == nullptr.
std::vector<std::int64_t> reference_gemm(const gemm_workload& w, unsigned acc_bits,
                                         const hw::multiplier* mul = nullptr);

}  // namespace axsa::sw
