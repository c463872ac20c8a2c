// Fault models of the saboteur on a PE's weight path (docs/faults.md). A value type everyone needs
// (the array's saboteur, the RTL masks, the campaigns), so it sits at the bottom, in hw/, and hw never
// includes faults/ (layering runs hw <- tlm <- sw <- faults <- testbench); its namespace names the model.
//  - weight_link: corrupts the weight PE (r,c) receives from the north. The PE multiplies the
//    corrupted value and registers it towards the south, so it travels down column c as a value
//    on a real wire would, to every PE below (r,c) on the following cycles.
//  - weight_mult: corrupts only the weight operand of PE (r,c)'s multiplier; the value the PE
//    forwards south is the intact one.
// Each fault acts on bit `bit` (0 = LSB) of the W-bit two's-complement weight during array cycles
// first_cycle..last_cycle (inclusive), counted from the start of the run over every cycle the
// array spends on jobs (array_core::total_cycles()). One cycle is a transient; a window covering
// the whole run is the survey's permanent stuck-at model.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "hw/array_config.h"

namespace axsa::faults {

enum class fault_site { weight_link, weight_mult };
enum class fault_kind { stuck_at_0, stuck_at_1, bit_flip };

struct fault {
  fault_site site = fault_site::weight_link;
  fault_kind kind = fault_kind::stuck_at_0;
  unsigned row = 0, col = 0, bit = 0;
  std::uint64_t first_cycle = 0;
  std::uint64_t last_cycle = std::numeric_limits<std::uint64_t>::max();

  bool active(std::uint64_t cycle) const { return cycle >= first_cycle && cycle <= last_cycle; }
  // The corrupted form of a W-bit value (given sign-extended), sign-extended again.
  std::int32_t apply(std::int32_t value, unsigned data_bits) const {
    const std::uint32_t m = 1u << bit;
    std::uint32_t u = static_cast<std::uint32_t>(value);
    switch (kind) {
      case fault_kind::stuck_at_0: u &= ~m; break;
      case fault_kind::stuck_at_1: u |= m; break;
      case fault_kind::bit_flip: u ^= m; break;
    }
    const unsigned shift = 32 - data_bits;
    return static_cast<std::int32_t>(u << shift) >> shift;
  }
  // Throws config_error unless the PE, the bit and the window make sense for cfg.
  void validate(const hw::array_config& cfg) const {
    if (row >= cfg.rows || col >= cfg.cols) {
      throw config_error("fault on PE (" + std::to_string(row) + "," + std::to_string(col) + ") outside the " +
                         std::to_string(cfg.rows) + "x" + std::to_string(cfg.cols) + " array");
    }
    if (bit >= cfg.data_bits) {
      throw config_error("fault on bit " + std::to_string(bit) + " of a " + std::to_string(cfg.data_bits) +
                         "-bit weight (bits 0.." + std::to_string(cfg.data_bits - 1) + ")");
    }
    if (first_cycle > last_cycle) throw config_error("fault window starts after it ends");
  }
  bool operator==(const fault& o) const {
    return site == o.site && kind == o.kind && row == o.row && col == o.col && bit == o.bit &&
           first_cycle == o.first_cycle && last_cycle == o.last_cycle;
  }
};

const char* to_string(fault_site s);
const char* to_string(fault_kind k);
fault_site parse_site(const std::string& text);  // "weight-link" | "weight-mult"
fault_kind parse_kind(const std::string& text);  // "stuck-at-0" | "stuck-at-1" | "bit-flip"
// "site:kind:row:col:bit[:first[:last]]", e.g. "weight-link:stuck-at-1:3:4:6" or "weight-mult:bit-flip:0:0:2:100:100".
fault parse_fault(const std::string& text);
std::string describe(const fault& f);

}  // namespace axsa::faults
