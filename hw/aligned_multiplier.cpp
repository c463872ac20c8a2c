#include "hw/aligned_multiplier.h"

namespace axsa::hw {

aligned_multiplier::aligned_multiplier(std::shared_ptr<const multiplier> inner, unsigned data_bits)
    : m_inner(std::move(inner)), m_shift(0) {
  if (m_inner->bits() < data_bits) {
    throw config_error("multiplier " + m_inner->name() + " has " + std::to_string(m_inner->bits()) +
                       "-bit operands, narrower than the " + std::to_string(data_bits) + "-bit data");
  }
  m_shift = m_inner->bits() - data_bits;
}

std::shared_ptr<const multiplier> align_multiplier(std::shared_ptr<const multiplier> circuit, unsigned data_bits,
                                                   operand_align align) {
  if (align == operand_align::low || circuit == nullptr) return circuit;
  return std::make_shared<aligned_multiplier>(std::move(circuit), data_bits);
}

}  // namespace axsa::hw
