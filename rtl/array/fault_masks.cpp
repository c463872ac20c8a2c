#include "rtl/array/fault_masks.h"

#include <map>
#include <utility>

namespace axsa::rtl {

std::int32_t bit_masks::apply(std::int32_t value, unsigned data_bits) const {
  const auto u = static_cast<std::uint32_t>(((static_cast<std::uint64_t>(static_cast<std::uint32_t>(value)) & ~clear) | set) ^ flip);
  const unsigned shift = 32 - data_bits;
  return static_cast<std::int32_t>(u << shift) >> shift;
}

void compose(bit_masks& m, const faults::fault& f) {
  const std::uint64_t b = std::uint64_t{1} << f.bit;
  switch (f.kind) {
    case faults::fault_kind::stuck_at_0:
      m.clear |= b;
      m.set &= ~b;
      m.flip &= ~b;
      break;
    case faults::fault_kind::stuck_at_1:
      m.clear |= b;
      m.set |= b;
      m.flip &= ~b;
      break;
    case faults::fault_kind::bit_flip:
      m.flip ^= b;
      break;
  }
}

fault_mask_plan::fault_mask_plan(std::vector<faults::fault> list, unsigned rows, unsigned cols)
    : m_faults(std::move(list)) {
  std::map<std::pair<unsigned, unsigned>, std::size_t> slot;
  for (std::size_t i = 0; i < m_faults.size(); ++i) {
    const auto& f = m_faults[i];
    if (f.row >= rows || f.col >= cols) continue;  // validated by the model; never reaches the RTL
    const auto key = std::make_pair(f.row, f.col);
    auto it = slot.find(key);
    if (it == slot.end()) {
      it = slot.emplace(key, m_pes.size()).first;
      m_pes.push_back({f.row, f.col, {}});
      m_faults_of_pe.emplace_back();
    }
    m_faults_of_pe[it->second].push_back(i);
  }
}

const std::vector<fault_mask_plan::pe_masks>& fault_mask_plan::at(std::uint64_t cycle) {
  for (std::size_t p = 0; p < m_pes.size(); ++p) {
    for (bit_masks& m : m_pes[p].site) m = bit_masks{};
    for (std::size_t i : m_faults_of_pe[p]) {
      const auto& f = m_faults[i];
      if (f.active(cycle)) compose(m_pes[p].site[static_cast<unsigned>(f.site)], f);
    }
  }
  return m_pes;
}

}  // namespace axsa::rtl
