// The saboteur: a module on a wire that corrupts the value passing through it while one of its
// faults is active (hw/fault.h). Placed between PE (r-1, c).south and PE (r, c).north it is a
// weight-link fault: the PE multiplies the corrupted weight and forwards it south. Placed between a
// PE's north input and its multiplier's weight operand it is a weight-mult fault: only the product
// sees it. The same on the activation path: between PE (r, c-1).east and PE (r, c).west (act-link)
// or between the PE's west input and its multiplier's activation operand (act-mult). Several
// faults on one saboteur apply in list order. Combinational: read() is the input of the current
// cycle, corrupted by the faults whose window holds the array's current cycle (the clock it is
// given). The valid bit passes unchanged.
//
// acc_saboteur sits inside a PE on its accumulator register's input (an acc fault): the value the
// register takes at the edge is corrupted, in every stage (accumulate, hold, drain).
//
// valid_saboteur sits inside a PE on the two valid bits where they enter its MAC-enable gate (a
// valid fault; bit 0 the activation's, bit 1 the weight's). The valid bits the PE registers and
// forwards are not affected.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>

#include "hw/fault.h"
#include "hw/array_config.h"
#include "hw/link.h"

namespace axsa::hw {

class saboteur : public sc_core::sc_module, public read_if<operand> {
 public:
  operand_in in;
  operand_out out;

  // `cycle`: the array's current cycle (counted over every cycle spent on jobs), owned by the array.
  saboteur(const sc_core::sc_module_name& name, unsigned data_bits, const std::uint64_t& cycle);
  const char* kind() const override { return "axsa_saboteur"; }

  void set_faults(std::vector<faults::fault> list) { m_faults = std::move(list); }
  const std::vector<faults::fault>& fault_list() const { return m_faults; }

  operand read() const override {
    operand v = in->read();
    for (const faults::fault& f : m_faults)
      if (f.active(m_cycle)) v.value = f.apply(v.value, m_data_bits);
    return v;
  }

 private:
  unsigned m_data_bits;
  const std::uint64_t& m_cycle;
  std::vector<faults::fault> m_faults;
};

class acc_saboteur : public sc_core::sc_module {
 public:
  acc_saboteur(const sc_core::sc_module_name& name, const std::uint64_t& cycle)
      : sc_core::sc_module(name), m_cycle(cycle) {}
  const char* kind() const override { return "axsa_acc_saboteur"; }

  void set_faults(std::vector<faults::fault> list) { m_faults = std::move(list); }
  const std::vector<faults::fault>& fault_list() const { return m_faults; }

  // The register's next value (modulo 2^64) as the faulty D input delivers it.
  std::uint64_t pass(std::uint64_t d) const {
    for (const faults::fault& f : m_faults)
      if (f.active(m_cycle)) d = f.apply_word(d);
    return d;
  }

 private:
  const std::uint64_t& m_cycle;
  std::vector<faults::fault> m_faults;
};

class valid_saboteur : public sc_core::sc_module {
 public:
  valid_saboteur(const sc_core::sc_module_name& name, const std::uint64_t& cycle)
      : sc_core::sc_module(name), m_cycle(cycle) {}
  const char* kind() const override { return "axsa_valid_saboteur"; }

  void set_faults(std::vector<faults::fault> list) { m_faults = std::move(list); }
  const std::vector<faults::fault>& fault_list() const { return m_faults; }

  // Both valid bits as the gate sees them.
  bool both(bool act_valid, bool weight_valid) const {
    for (const faults::fault& f : m_faults) {
      if (!f.active(m_cycle)) continue;
      bool& v = f.bit == faults::valid_act_bit ? act_valid : weight_valid;
      v = f.apply_bit(v);
    }
    return act_valid && weight_valid;
  }

 private:
  const std::uint64_t& m_cycle;
  std::vector<faults::fault> m_faults;
};

// The saboteurs the structural engine needs for these faults: one wherever one of them acts.
saboteur_plan plan_for(const std::vector<faults::fault>& list);
// A saboteur of `site` on every PE (a campaign may fault any of them).
void plan_everywhere(saboteur_plan& plan, faults::fault_site site);

}  // namespace axsa::hw
