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
//  - valid: the two valid bits PE (r,c) receives with its operands, where they meet at its MAC-enable
//    gate (mac_en = act_valid & weight_valid & ~drain): bit 0 is the activation's valid bit from the
//    west, bit 1 the weight's from the north. Local, like the *_mult sites: the valid bits the PE
//    registers and forwards east and south are the intact ones. A valid bit forced to 0 makes the PE
//    skip a product; one forced to 1 makes it accumulate whatever its operand registers hold.
//  - control: the array controller's registers (no PE: row = col = 0); `bit` indexes the fields of
//    control_field below: the stage-cycle counter (the K counter of the compute stage, the drain
//    counter while draining), the fold counter, the stage register and the done signal. These can
//    make a job run too long, stop early or never finish (docs/faults.md).
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
enum class fault_site { weight_link, weight_mult, act_link, act_mult, acc, valid, control };
constexpr unsigned fault_site_count = 7;

// The bits of the control site: the controller's registers as one word. The counters are 32-bit
// registers; the done signal is the array's one-cycle done pulse to the accelerator.
namespace control_field {
constexpr unsigned stage_counter = 0;  // bits 0..31: cycle within the current stage (compute: the K counter)
constexpr unsigned fold_counter = 32;  // bits 32..63: the fold being run
constexpr unsigned counter_bits = 32;
constexpr unsigned stage = 64;         // the stage register: 0 compute, 1 drain
constexpr unsigned done = 65;          // the done signal
constexpr unsigned width = 66;
}  // namespace control_field
// The valid site's bits.
constexpr unsigned valid_act_bit = 0, valid_weight_bit = 1, valid_bits = 2;

// Sites on a multiplier operand (corrupt one PE's products only) and on a link (travel on).
inline bool is_mult_site(fault_site s) { return s == fault_site::weight_mult || s == fault_site::act_mult; }
inline bool is_link_site(fault_site s) { return s == fault_site::weight_link || s == fault_site::act_link; }
inline bool is_weight_site(fault_site s) { return s == fault_site::weight_link || s == fault_site::weight_mult; }
// The width of the value a site corrupts: W for the operands, A for the accumulator, 2 valid bits,
// the controller's fields.
inline unsigned site_bits(fault_site s, unsigned data_bits, unsigned acc_bits) {
  switch (s) {
    case fault_site::acc: return acc_bits;
    case fault_site::valid: return valid_bits;
    case fault_site::control: return control_field::width;
    default: return data_bits;
  }
}
inline unsigned site_bits(fault_site s, const hw::array_config& cfg) { return site_bits(s, cfg.data_bits, cfg.acc_bits); }
// How many units a site has: one per PE, or the one controller.
inline std::uint64_t site_units(fault_site s, unsigned rows, unsigned cols) {
  return s == fault_site::control ? 1 : std::uint64_t{rows} * cols;
}
// Sites the campaign shortcut computes exactly; the others always run the full simulation.
inline bool shortcut_site(fault_site s) { return s != fault_site::control; }
enum class fault_kind { stuck_at_0, stuck_at_1, bit_flip };
const char* to_string(fault_site s);

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
  // The corrupted form of one bit (valid and control sites).
  bool apply_bit(bool v) const {
    switch (kind) {
      case fault_kind::stuck_at_0: return false;
      case fault_kind::stuck_at_1: return true;
      case fault_kind::bit_flip: return !v;
    }
    return v;
  }
  // Throws config_error unless the PE, the bit (of the site's width) and the window make sense for cfg.
  void validate(const hw::array_config& cfg) const {
    if (site == fault_site::control && (row != 0 || col != 0)) {
      throw config_error("a control fault names no PE: its row and column must be 0");
    }
    if (row >= cfg.rows || col >= cfg.cols) {
      throw config_error("fault on PE (" + std::to_string(row) + "," + std::to_string(col) + ") outside the " +
                         std::to_string(cfg.rows) + "x" + std::to_string(cfg.cols) + " array");
    }
    const unsigned width = site_bits(site, cfg);
    if (bit >= width) {
      const char* what = site == fault_site::acc       ? "accumulator"
                         : site == fault_site::valid   ? "valid pair (0 activation, 1 weight)"
                         : site == fault_site::control ? "controller word (docs/faults.md)"
                         : is_weight_site(site)        ? "weight"
                                                       : "activation";
      throw config_error("fault on bit " + std::to_string(bit) + " of a " + std::to_string(width) + "-bit " + what +
                         " (bits 0.." + std::to_string(width - 1) + ")");
    }
    if (first_cycle > last_cycle) throw config_error("fault window starts after it ends");
    if (!is_weight_site(site) && cfg.dataflow != hw::dataflow_kind::output_stationary) {
      throw config_error(std::string("faults on site ") + to_string(site) +
                         " are modelled for the output-stationary dataflow only (--dataflow os)");
    }
  }
  bool operator==(const fault& o) const {
    return site == o.site && kind == o.kind && row == o.row && col == o.col && bit == o.bit &&
           first_cycle == o.first_cycle && last_cycle == o.last_cycle;
  }
};

// The array's done signal in cycle `cycle` as the accelerator samples it (hw::systolic_array, and the
// RTL twin's controller in lockstep): its fault-free value through the done faults of `list` active
// then, in list order.
inline bool done_signal(const std::vector<fault>& list, std::uint64_t cycle, bool fault_free) {
  bool v = fault_free;
  for (const auto& f : list) {
    if (f.site == fault_site::control && f.bit == control_field::done && f.active(cycle)) v = f.apply_bit(v);
  }
  return v;
}

const char* to_string(fault_kind k);
// "weight-link" | "weight-mult" | "act-link" | "act-mult" | "acc" | "valid" | "control"
fault_site parse_site(const std::string& text);
// A comma-separated list of sites, each once, in the order given, e.g. "weight-link,acc".
std::vector<fault_site> parse_sites(const std::string& text);
std::string to_string(const std::vector<fault_site>& sites);  // "weight-link,acc"
fault_kind parse_kind(const std::string& text);  // "stuck-at-0" | "stuck-at-1" | "bit-flip"
// "site:kind:row:col:bit[:first[:last]]", e.g. "weight-link:stuck-at-1:3:4:6" or "weight-mult:bit-flip:0:0:2:100:100".
fault parse_fault(const std::string& text);
std::string describe(const fault& f);

}  // namespace axsa::faults
