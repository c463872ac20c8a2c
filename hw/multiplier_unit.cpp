#include "hw/multiplier_unit.h"

namespace axsa::hw {

multiplier_unit::multiplier_unit(const sc_core::sc_module_name& name, unsigned data_bits)
    : sc_core::sc_module(name), a("a"), b("b"), m_data_bits(data_bits), m_mask((1u << data_bits) - 1) {}

void multiplier_unit::set_circuit(const multiplier* m) {
  m_circuit = m;
  m_native = m == nullptr || m->is_exact();
  m_table = m_native ? nullptr : m->product_table(m_data_bits);
}

}  // namespace axsa::hw
