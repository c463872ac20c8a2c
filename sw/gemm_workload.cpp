#include "sw/gemm_workload.h"

#include <random>

namespace axsa::sw {

operand_fill parse_fill(const std::string& text) {
  if (text == "random") return operand_fill::random;
  if (text == "min") return operand_fill::min;
  if (text == "max") return operand_fill::max;
  throw config_error("unknown operand fill '" + text + "' (expected random, min or max)");
}

gemm_workload make_workload(const hw::gemm_shape& shape, unsigned data_bits, operand_fill fill, std::uint64_t seed) {
  shape.validate();
  hw::array_config range;
  range.data_bits = data_bits;
  range.validate();
  gemm_workload w;
  w.shape = shape;
  w.act.resize(shape.m * shape.k);
  w.weight.resize(shape.k * shape.n);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> dist(range.data_min(), range.data_max());
  auto value = [&]() -> std::int16_t {
    switch (fill) {
      case operand_fill::min: return static_cast<std::int16_t>(range.data_min());
      case operand_fill::max: return static_cast<std::int16_t>(range.data_max());
      case operand_fill::random: break;
    }
    return static_cast<std::int16_t>(dist(rng));
  };
  for (auto& v : w.act) v = value();
  for (auto& v : w.weight) v = value();
  return w;
}

std::vector<std::int64_t> reference_gemm(const gemm_workload& w, unsigned acc_bits, const hw::multiplier* mul) {
  const auto [m_dim, k_dim, n_dim] = w.shape;
  std::vector<std::uint64_t> sums(m_dim * n_dim, 0);
  for (std::size_t m = 0; m < m_dim; ++m) {
    for (std::size_t k = 0; k < k_dim; ++k) {
      const std::int32_t a = w.act[m * k_dim + k];
      std::uint64_t* row = &sums[m * n_dim];
      for (std::size_t n = 0; n < n_dim; ++n) {
        const std::int32_t b = w.weight[k * n_dim + n];
        const std::int64_t p = mul ? mul->multiply(a, b) : std::int64_t{a} * b;
        row[n] += static_cast<std::uint64_t>(p);
      }
    }
  }
  std::vector<std::int64_t> out(sums.size());
  for (std::size_t i = 0; i < sums.size(); ++i) out[i] = hw::wrap_signed(sums[i], acc_bits);
  return out;
}

}  // namespace axsa::sw
