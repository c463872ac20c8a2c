// Fault models of the saboteur on a PE's data path (docs/faults.md). A value type everyone needs
// (the array's saboteur, the RTL masks, the campaigns), so it sits at the bottom, in hw/, and hw never
// includes faults/ (layering runs hw <- tlm <- sw <- faults <- testbench); its namespace names the model.
//  - weight_link: corrupts the weight PE (r,c) receives from the north. The PE multiplies the
//    corrupted value and registers it towards the south, so it travels down column c as a value
//    on a real wire would, to every PE below (r,c) on the following cycles.
//  - weight_mult: corrupts only the weight operand of PE (r,c)'s multiplier; the value the PE
//    forwards south is the intact one.
//  - act_link / act_mult: the same for the activation PE (r,c) receives from the west (the link
//    fault travels east along row r).
//  - acc: corrupts the value PE (r,c)'s accumulator register takes at the clock edge (its D
//    input), in every stage of a fold: while it accumulates, while it holds, and while the drain
//    shifts the sums south through it. The register keeps the corrupted value until its next write.
// Each fault acts on bit `bit` (0 = LSB) of the W-bit two's-complement operand (A-bit accumulator)
// during array cycles first_cycle..last_cycle (inclusive), counted from the start of the run over
// every cycle the array spends on jobs (array_core::total_cycles()). One cycle is a transient; a
// window covering the whole run is the survey's permanent stuck-at model. The sites beyond the
// weight path are modelled for the output-stationary dataflow only (validate() refuses the others).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "hw/array_config.h"

namespace axsa::faults {

// Numbered as stored in campaign databases and sent between MPI ranks: new sites go at the end.
enum class fault_site { weight_link, weight_mult, act_link, act_mult, acc };
constexpr unsigned fault_site_count = 5;

// Sites on a multiplier operand (corrupt one PE's products only) and on a link (travel on).
inline bool is_mult_site(fault_site s) { return s == fault_site::weight_mult || s == fault_site::act_mult; }
inline bool is_link_site(fault_site s) { return s == fault_site::weight_link || s == fault_site::act_link; }
inline bool is_weight_site(fault_site s) { return s == fault_site::weight_link || s == fault_site::weight_mult; }
// The width of the value a site corrupts: W for the operands, A for the accumulator.
inline unsigned site_bits(fault_site s, const hw::array_config& cfg) {
  return s == fault_site::acc ? cfg.acc_bits : cfg.data_bits;
}
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
  // The corrupted form of a register word (an accumulator, kept modulo 2^32 or 2^64; bit < A).
  template <class Word>
  Word apply_word(Word u) const {
    const Word m = Word{1} << bit;
    switch (kind) {
      case fault_kind::stuck_at_0: return u & ~m;
      case fault_kind::stuck_at_1: return u | m;
      case fault_kind::bit_flip: return u ^ m;
    }
    return u;
  }
  // Throws config_error unless the PE, the bit (of the site's width) and the window make sense for cfg.
  void validate(const hw::array_config& cfg) const {
    if (row >= cfg.rows || col >= cfg.cols) {
      throw config_error("fault on PE (" + std::to_string(row) + "," + std::to_string(col) + ") outside the " +
                         std::to_string(cfg.rows) + "x" + std::to_string(cfg.cols) + " array");
    }
    const unsigned width = site_bits(site, cfg);
    if (bit >= width) {
      const char* what = site == fault_site::acc ? "accumulator" : is_weight_site(site) ? "weight" : "activation";
      throw config_error("fault on bit " + std::to_string(bit) + " of a " + std::to_string(width) + "-bit " + what +
                         " (bits 0.." + std::to_string(width - 1) + ")");
    }
    if (first_cycle > last_cycle) throw config_error("fault window starts after it ends");
    if (!is_weight_site(site) && cfg.dataflow != hw::dataflow_kind::output_stationary) {
      throw config_error("activation and accumulator faults are modelled for the output-stationary dataflow only "
                         "(--dataflow os)");
    }
  }
  bool operator==(const fault& o) const {
    return site == o.site && kind == o.kind && row == o.row && col == o.col && bit == o.bit &&
           first_cycle == o.first_cycle && last_cycle == o.last_cycle;
  }
};

const char* to_string(fault_site s);
const char* to_string(fault_kind k);
fault_site parse_site(const std::string& text);  // "weight-link" | "weight-mult" | "act-link" | "act-mult" | "acc"
// A comma-separated list of sites, each once, in the order given, e.g. "weight-link,acc".
std::vector<fault_site> parse_sites(const std::string& text);
std::string to_string(const std::vector<fault_site>& sites);  // "weight-link,acc"
fault_kind parse_kind(const std::string& text);  // "stuck-at-0" | "stuck-at-1" | "bit-flip"
// "site:kind:row:col:bit[:first[:last]]", e.g. "weight-link:stuck-at-1:3:4:6" or "weight-mult:bit-flip:0:0:2:100:100".
fault parse_fault(const std::string& text);
std::string describe(const fault& f);

}  // namespace axsa::faults
