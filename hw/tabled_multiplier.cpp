#include "hw/tabled_multiplier.h"

namespace axsa::hw {

namespace {
void check(const multiplier& inner, unsigned data_bits) {
  if (data_bits < 2 || data_bits > tabled_multiplier::max_table_bits) {
    throw config_error("a product table needs 2..12-bit data (got " + std::to_string(data_bits) + ")");
  }
  if (inner.bits() < data_bits) {
    throw config_error("multiplier " + inner.name() + " has " + std::to_string(inner.bits()) +
                       "-bit operands, narrower than the " + std::to_string(data_bits) + "-bit data");
  }
}
}  // namespace

tabled_multiplier::tabled_multiplier(std::shared_ptr<const multiplier> inner, unsigned data_bits)
    : m_inner(std::move(inner)), m_data_bits(data_bits), m_mask((1u << data_bits) - 1) {
  check(*m_inner, data_bits);
  const std::size_t side = std::size_t{1} << data_bits;
  m_table.resize(side * side);
  const unsigned shift = 32 - data_bits;
  for (std::size_t ua = 0; ua < side; ++ua) {
    const std::int32_t a = static_cast<std::int32_t>(static_cast<std::uint32_t>(ua) << shift) >> shift;
    for (std::size_t ub = 0; ub < side; ++ub) {
      const std::int32_t b = static_cast<std::int32_t>(static_cast<std::uint32_t>(ub) << shift) >> shift;
      m_table[(ua << data_bits) | ub] = m_inner->multiply(a, b);
    }
  }
}

tabled_multiplier::tabled_multiplier(std::shared_ptr<const multiplier> inner, unsigned data_bits,
                                     std::vector<std::int32_t> table)
    : m_inner(std::move(inner)), m_data_bits(data_bits), m_mask((1u << data_bits) - 1), m_table(std::move(table)) {
  check(*m_inner, data_bits);
  if (m_table.size() != (std::size_t{1} << (2 * data_bits))) {
    throw config_error("product table of " + m_inner->name() + " has " + std::to_string(m_table.size()) +
                       " entries, expected 2^" + std::to_string(2 * data_bits));
  }
}

}  // namespace axsa::hw
