#include "hw/saboteur.h"

namespace axsa::hw {

saboteur::saboteur(const sc_core::sc_module_name& name, unsigned data_bits, const std::uint64_t& cycle)
    : sc_core::sc_module(name), in("in"), out("out"), m_data_bits(data_bits), m_cycle(cycle) {
  out.bind(*this);
}

saboteur_plan plan_for(const std::vector<faults::fault>& list) {
  saboteur_plan plan;
  for (const auto& f : list) {
    switch (f.site) {
      case faults::fault_site::weight_link: plan.links.emplace_back(f.row, f.col); break;
      case faults::fault_site::weight_mult: plan.mults.emplace_back(f.row, f.col); break;
      case faults::fault_site::act_link: plan.act_links.emplace_back(f.row, f.col); break;
      case faults::fault_site::act_mult: plan.act_mults.emplace_back(f.row, f.col); break;
      case faults::fault_site::acc: plan.accs.emplace_back(f.row, f.col); break;
      case faults::fault_site::valid: plan.valids.emplace_back(f.row, f.col); break;
      case faults::fault_site::control: break;  // the controller is no PE (the fast engine models it)
    }
  }
  return plan;
}

void plan_everywhere(saboteur_plan& plan, faults::fault_site site) {
  switch (site) {
    case faults::fault_site::weight_link: plan.every_link = true; break;
    case faults::fault_site::weight_mult: plan.every_mult = true; break;
    case faults::fault_site::act_link: plan.every_act_link = true; break;
    case faults::fault_site::act_mult: plan.every_act_mult = true; break;
    case faults::fault_site::acc: plan.every_acc = true; break;
    case faults::fault_site::valid: plan.every_valid = true; break;
    case faults::fault_site::control: break;
  }
}

}  // namespace axsa::hw
