#include "sw/gemm_backend.h"

namespace axsa::sw {

std::int16_t stick_bit(std::int16_t w, unsigned bit, bool value, unsigned data_bits) {
  const std::uint32_t field = (1u << data_bits) - 1;
  std::uint32_t pattern = static_cast<std::uint32_t>(static_cast<std::uint16_t>(w)) & field;
  pattern = value ? pattern | (1u << bit) : pattern & ~(1u << bit);
  // Back to a sign-extended W-bit value.
  const std::uint32_t sign = 1u << (data_bits - 1);
  return static_cast<std::int16_t>(static_cast<std::int32_t>(pattern ^ sign) - static_cast<std::int32_t>(sign));
}

void gemm_backend::write_weights(const void*, const std::int16_t*, std::size_t, gemm_stats&) {
  throw config_error("the " + name() + " backend has no weight memory");
}

void gemm_backend::read_weights(const void*, std::int16_t*, std::size_t, gemm_stats&) {
  throw config_error("the " + name() + " backend has no weight memory");
}

void gemm_backend::stick_weight_bits(const void*, const std::vector<stuck_weight_bit>&) {
  throw config_error("the " + name() + " backend has no weight memory");
}

}  // namespace axsa::sw
