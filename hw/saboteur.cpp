#include "hw/saboteur.h"

namespace axsa::hw {

saboteur::saboteur(const sc_core::sc_module_name& name, unsigned data_bits, const std::uint64_t& cycle)
    : sc_core::sc_module(name), in("in"), out("out"), m_data_bits(data_bits), m_cycle(cycle) {
  out.bind(*this);
}

saboteur_plan plan_for(const std::vector<faults::fault>& list) {
  saboteur_plan plan;
  for (const auto& f : list) {
    auto& sites = f.site == faults::fault_site::weight_link ? plan.links : plan.mults;
    sites.emplace_back(f.row, f.col);
  }
  return plan;
}

}  // namespace axsa::hw
