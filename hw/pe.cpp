#include "hw/pe.h"

namespace axsa::hw {

pe::pe(const sc_core::sc_module_name& name, const array_config& cfg, bool mult_saboteur, const std::uint64_t& cycle)
    : sc_core::sc_module(name),
      west("west"),
      north("north"),
      east("east"),
      south("south"),
      drain_in("drain_in"),
      drain_out("drain_out"),
      drain("drain"),
      m_acc_bits(cfg.acc_bits),
      m_hop(cfg.weight_hop),
      m_mult("mult", cfg.data_bits),
      m_weight(new clocked_reg<operand>[cfg.weight_hop]) {
  east.bind(m_east);
  south.bind(m_weight[m_hop - 1]);
  drain_out.bind(m_acc);
  // The multiplier's operands: the activation as it arrives, the weight through the saboteur if any.
  m_mult.a.bind(west);
  if (mult_saboteur) {
    m_mult_saboteur = std::make_unique<saboteur>("mult_saboteur", cfg.data_bits, cycle);
    m_mult_saboteur->in.bind(north);
    m_mult.b.bind(m_mult_saboteur->out);
  } else {
    m_mult.b.bind(north);
  }
}

void pe::evaluate() {
  const operand a = west->read();
  const operand w = north->read();
  m_east.write(a);
  m_weight[0].write(w);
  for (unsigned s = 1; s < m_hop; ++s) m_weight[s].write(m_weight[s - 1].read());
  if (drain->read()) {
    m_acc.write(drain_in->read());
  } else if (a.valid && w.valid) {
    // The product comes from the multiplier submodule, which reads its own operand ports.
    m_acc.write(m_acc.read() + static_cast<std::uint64_t>(static_cast<std::int64_t>(m_mult.product())));
  }
}

void pe::commit() {
  m_east.commit();
  for (unsigned s = 0; s < m_hop; ++s) m_weight[s].commit();
  m_acc.commit();
}

}  // namespace axsa::hw
