#include "hw/pe.h"

namespace axsa::hw {

pe::pe(const sc_core::sc_module_name& name, const array_config& cfg, saboteurs planned, const std::uint64_t& cycle)
    : sc_core::sc_module(name),
      west("west"),
      north("north"),
      east("east"),
      south("south"),
      sum_in("sum_in"),
      sum_out("sum_out"),
      load_weight("load_weight"),
      pass_sum("pass_sum"),
      m_acc_bits(cfg.acc_bits),
      m_hop(cfg.weight_hop),
      m_os(cfg.dataflow == dataflow_kind::output_stationary),
      m_mult("mult", cfg.data_bits),
      m_weight(new clocked_reg<operand>[cfg.weight_hop]) {
  east.bind(m_east);
  south.bind(m_weight[m_hop - 1]);
  sum_out.bind(m_acc);
  // The multiplier's operands: the activation as it arrives; the weight as it arrives (output-
  // stationary) or as this PE holds it (weight-stationary), through the saboteur if one is planned.
  if (planned.act_mult) {
    m_act_mult_saboteur = std::make_unique<saboteur>("act_mult_saboteur", cfg.data_bits, cycle);
    m_act_mult_saboteur->in.bind(west);
    m_mult.a.bind(m_act_mult_saboteur->out);
  } else {
    m_mult.a.bind(west);
  }
  if (planned.acc) m_acc_saboteur = std::make_unique<hw::acc_saboteur>("acc_saboteur", cycle);
  if (planned.valid) m_valid_saboteur = std::make_unique<hw::valid_saboteur>("valid_saboteur", cycle);
  const bool holds_weight = cfg.dataflow == dataflow_kind::weight_stationary;
  if (planned.weight_mult) {
    m_mult_saboteur = std::make_unique<saboteur>("mult_saboteur", cfg.data_bits, cycle);
    if (holds_weight) m_mult_saboteur->in.bind(m_weight[0]);
    else m_mult_saboteur->in.bind(north);
    m_mult.b.bind(m_mult_saboteur->out);
  } else if (holds_weight) {
    m_mult.b.bind(m_weight[0]);
  } else {
    m_mult.b.bind(north);
  }
}

void pe::evaluate() {
  m_east.write(west->read());
  const bool load = load_weight->read();
  if (load) {
    m_weight[0].write(north->read());
    for (unsigned s = 1; s < m_hop; ++s) m_weight[s].write(m_weight[s - 1].read());
  }
  const bool pass = pass_sum->read();
  std::uint64_t sum = pass ? sum_in->read() : m_acc.read();
  // The product comes from the multiplier submodule, which reads its own operand ports (through a
  // saboteur where one is planned; the valid bits pass unchanged).
  const operand a = m_mult.a->read();
  const operand b = m_mult.b->read();
  const bool mac = mac_enable(pass);
  if (mac) sum += static_cast<std::uint64_t>(static_cast<std::int64_t>(m_mult.product()));
  m_acc.write(m_acc_saboteur ? m_acc_saboteur->pass(sum) : sum);
  if (m_counting) {
    m_counts.act_writes += 1;
    if (load) m_counts.weight_writes += m_hop;
    if (pass || mac) m_counts.acc_writes += 1;
    if (mac) {
      m_counts.macs += 1;
      m_counts.zero_macs += a.value == 0 || b.value == 0;
    }
  }
}

void pe::reset() {
  m_east.reset();
  for (unsigned s = 0; s < m_hop; ++s) m_weight[s].reset();
  m_acc.reset(0);
}

void pe::commit() {
  m_east.commit();
  for (unsigned s = 0; s < m_hop; ++s) m_weight[s].commit();
  m_acc.commit();
}

}  // namespace axsa::hw
