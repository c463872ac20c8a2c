// The independent reference for --operand-align high (tests only): W-bit data placed in the top
// bits of the N-bit circuit by plain arithmetic (a * 2^s, s = N - W) and the circuit's product
// brought back by floor division by 2^(2s), with the circuit's own multiply() evaluated on the wide
// operands. Deliberately written without hw::aligned_multiplier, which it checks.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/multiplier.h"
#include "sw/gemm_workload.h"

namespace axsa::test {

inline std::int64_t floor_div(std::int64_t p, std::int64_t d) {
  const std::int64_t q = p / d;
  return (p % d != 0 && p < 0) ? q - 1 : q;
}

// circuit: the N-bit circuit at low alignment (multiply() takes N-bit operands sign-extended).
inline std::int64_t high_product(const hw::multiplier& circuit, unsigned data_bits, std::int32_t a, std::int32_t b) {
  const unsigned s = circuit.bits() - data_bits;
  const std::int64_t scale = std::int64_t{1} << s;
  const auto wide_a = static_cast<std::int32_t>(a * scale);
  const auto wide_b = static_cast<std::int32_t>(b * scale);
  return floor_div(circuit.multiply(wide_a, wide_b), scale * scale);
}

// out[M x N] = wrap_A(sum_k high_product(act, weight)).
inline std::vector<std::int64_t> high_reference_gemm(const sw::gemm_workload& w, unsigned acc_bits,
                                                     const hw::multiplier& circuit, unsigned data_bits) {
  const auto [m_dim, k_dim, n_dim] = w.shape;
  std::vector<std::int64_t> out(m_dim * n_dim);
  for (std::size_t m = 0; m < m_dim; ++m) {
    for (std::size_t n = 0; n < n_dim; ++n) {
      std::uint64_t sum = 0;
      for (std::size_t k = 0; k < k_dim; ++k) {
        sum += static_cast<std::uint64_t>(high_product(circuit, data_bits, w.act[m * k_dim + k], w.weight[k * n_dim + n]));
      }
      out[m * n_dim + n] = hw::wrap_signed(sum, acc_bits);
    }
  }
  return out;
}

}  // namespace axsa::test
