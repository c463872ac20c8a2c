// A multiplier evaluated through a dense product table for one data width W: every product
// multiply(a, b) of the inner multiplier for W-bit operands, computed once. The array uses the
// table directly in its inner loop; 2^(2W) entries, so W <= 12 (64 MiB at W = 12).
#pragma once

#include <memory>
#include <vector>

#include "hw/array_config.h"
#include "hw/multiplier.h"

namespace axsa::hw {

class tabled_multiplier final : public multiplier {
 public:
  static constexpr unsigned max_table_bits = 12;

  // Fills the table from inner->multiply(). Throws config_error if data_bits is above 12 or the
  // inner multiplier is narrower than the data.
  tabled_multiplier(std::shared_ptr<const multiplier> inner, unsigned data_bits);
  // Adopts a table computed elsewhere (e.g. loaded from a cache); it must have 2^(2*data_bits) entries.
  tabled_multiplier(std::shared_ptr<const multiplier> inner, unsigned data_bits, std::vector<std::int32_t> table);

  std::string name() const override { return m_inner->name(); }
  unsigned bits() const override { return m_inner->bits(); }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override {
    return m_table[((static_cast<std::uint32_t>(a) & m_mask) << m_data_bits) | (static_cast<std::uint32_t>(b) & m_mask)];
  }
  bool is_exact() const override { return m_inner->is_exact(); }
  operand_align alignment() const override { return m_inner->alignment(); }
  const std::int32_t* product_table(unsigned data_bits) const override {
    return data_bits == m_data_bits ? m_table.data() : nullptr;
  }
  const multiplier& inner() const { return *m_inner; }

 private:
  std::shared_ptr<const multiplier> m_inner;
  unsigned m_data_bits;
  std::uint32_t m_mask;
  std::vector<std::int32_t> m_table;
};

}  // namespace axsa::hw
