// The energy model (docs/energy.md): picojoules per event from a table, charged to the activity
// counts (hw/activity.h) of a run. The table is a small CSV a user edits (the default, built from
// published 45 nm figures, is hw/energy_45nm.csv, embedded in the binary). The multiplier's energy
// per product comes from the circuit (rtl/mult_energy.h) and is handed in as a number, so this file
// knows nothing of circuits.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hw/activity.h"
#include "hw/array_config.h"

namespace axsa::hw {

// pJ per event. Figures by width (or buffer size) are interpolated log-log between the two nearest
// entries and extrapolated from the last two beyond them (a single entry scales linearly).
class energy_table {
 public:
  // The table from CSV text: header `event,size,pj,note`, then one row per figure. Events: mult
  // (size: operand bits), add (size: bits), reg_bit (size 1: one register bit written), sram_64b
  // (size: buffer bytes; one 64-bit access), offchip_64b (size 0: one 64-bit beat off chip). Throws
  // config_error "<origin>: row <n>: field '<f>': <why>" for a missing column, an unknown event, a
  // size or energy that is not a positive number (reg_bit and offchip_64b may be 0), a duplicate
  // row or a missing event.
  static energy_table parse(const std::string& csv_text, const std::string& origin);
  static energy_table load(const std::string& path);  // throws config_error naming the file
  static const energy_table& builtin();               // hw/energy_45nm.csv
  static const char* builtin_text();

  const std::string& origin() const { return m_origin; }
  double mult_pj(unsigned bits) const { return lookup(m_mult, bits); }  // an exact integer multiply
  double add_pj(unsigned bits) const { return lookup(m_add, bits); }
  double reg_bit_pj() const { return m_reg_bit; }
  double sram_pj(std::uint64_t bytes, unsigned bits) const;  // one access of `bits` to a buffer of `bytes`
  double offchip_beat_pj() const { return m_offchip; }

 private:
  static double lookup(const std::vector<std::pair<double, double>>& points, double x);
  std::string m_origin;
  std::vector<std::pair<double, double>> m_mult, m_add, m_sram;  // (size, pJ), sorted by size
  double m_reg_bit = 0, m_offchip = 0;
};

// What a run's energy depends on besides its activity.
struct energy_setup {
  array_config cfg;
  double mult_pj = 0;              // one product of the array's multiplier (rtl::multiplier_energy)
  std::uint64_t act_buffer_bytes = 4u << 20;
  std::uint64_t weight_buffer_bytes = 4u << 20;
  std::uint64_t out_buffer_bytes = 8u << 20;
  // Weight the multiplier by the run's operand activity: a product with a zero operand costs
  // zero_operand_share of one with two non-zero operands (operand isolation; 0 = free).
  bool operand_weighting = false;
  double zero_operand_share = 0;
};

// Energy in pJ by component.
struct energy_breakdown {
  double multipliers = 0;  // the PEs' multipliers
  double adders = 0;       // the accumulators' adders (A bits)
  double registers = 0;    // link and accumulator registers
  double buffers = 0;      // on-chip buffers: the array's operand reads and result writes, the bus side's
  double offchip = 0;      // bus beats, charged as off-chip accesses
  double array() const { return multipliers + adders + registers; }
  double total() const { return array() + buffers + offchip; }
  // (name, pJ) in the order above, for reports.
  std::vector<std::pair<const char*, double>> components() const;
};

energy_breakdown estimate_energy(const activity& a, const energy_setup& setup, const energy_table& table);

}  // namespace axsa::hw
