// Parameters of the systolic array, in one place, with their defaults and limits.
// Every module takes this struct in its constructor; validate() turns an impossible
// configuration into a config_error whose message names the parameter and the range.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace axsa {

// Error from user input (options, files, models): the command line prints what() on one line.
class config_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace hw {

// Which cycle engine models the array (hw/array_engine.h): the fast engine (array_core: flat arrays,
// vectorised) or the structural engine (pe_array: a pe module per PE). Both give the same registers
// every cycle.
enum class engine_kind { fast, structural };

// How the GEMM maps onto the array (hw/dataflow.h): output-stationary (each PE accumulates one output,
// the design) or weight-stationary (each PE holds one weight, partial sums flow down the columns).
enum class dataflow_kind { output_stationary, weight_stationary };

// Where W-bit data sit in the N >= W operand bits of the multiplier circuit (hw/aligned_multiplier.h,
// docs/quantization.md "Operand alignment"): sign-extended in the low bits (the design), or in the top
// bits with N-W zeros below, the product shifted back right by 2(N-W).
enum class operand_align { low, high };

// Where the structural engine places saboteur modules. Modules exist from elaboration on, so a
// fault set later must fall on a planned saboteur; the fast engine needs no plan.
struct saboteur_plan {
  bool every_link = false;  // on every PE's north input
  bool every_mult = false;  // on every PE's multiplier weight operand
  bool every_act_link = false;  // on every PE's west input
  bool every_act_mult = false;  // on every PE's multiplier activation operand
  bool every_acc = false;       // on every PE's accumulator register input
  bool every_valid = false;     // on every PE's MAC-enable gate (its two valid inputs)
  std::vector<std::pair<unsigned, unsigned>> links, mults;  // (row, col) of single PEs
  std::vector<std::pair<unsigned, unsigned>> act_links, act_mults, accs, valids;

  bool link_at(unsigned r, unsigned c) const { return every_link || has(links, r, c); }
  bool mult_at(unsigned r, unsigned c) const { return every_mult || has(mults, r, c); }
  bool act_link_at(unsigned r, unsigned c) const { return every_act_link || has(act_links, r, c); }
  bool act_mult_at(unsigned r, unsigned c) const { return every_act_mult || has(act_mults, r, c); }
  bool acc_at(unsigned r, unsigned c) const { return every_acc || has(accs, r, c); }
  bool valid_at(unsigned r, unsigned c) const { return every_valid || has(valids, r, c); }

 private:
  static bool has(const std::vector<std::pair<unsigned, unsigned>>& v, unsigned r, unsigned c) {
    for (const auto& p : v)
      if (p.first == r && p.second == c) return true;
    return false;
  }
};

struct array_config {
  unsigned rows = 28;          // R: PE rows (outputs of M per fold), 1..128
  unsigned cols = 28;          // C: PE columns (outputs of N per fold), 1..128
  unsigned data_bits = 8;      // W: weight and activation width, two's complement, 2..16
  unsigned acc_bits = 32;      // A: accumulator width, two's complement, wraps on overflow, 2..64
  double clock_period_ns = 1;  // one array clock; only used to turn cycles into SystemC time
  // Register stages a weight passes in each PE (hw/dataflow.h). 1 is the design; a test-only variant
  // with 2 shows that the dataflow descriptor alone sets the timing of every engine. 1..4.
  unsigned weight_hop = 1;
  engine_kind engine = engine_kind::fast;
  dataflow_kind dataflow = dataflow_kind::output_stationary;
  saboteur_plan saboteurs;  // structural engine only
  // Where the data sit in the multiplier's operands. The multiplier object applies it (hw/aligned_multiplier.h);
  // every engine refuses a multiplier whose alignment() differs, so the two cannot drift apart.
  operand_align align = operand_align::low;

  static constexpr unsigned max_dim = 128;

  void validate() const;

  std::int32_t data_min() const { return -(std::int32_t{1} << (data_bits - 1)); }
  std::int32_t data_max() const { return (std::int32_t{1} << (data_bits - 1)) - 1; }
};

const char* to_string(engine_kind e);           // "fast" | "structural"
engine_kind parse_engine(const std::string& text);  // throws config_error naming the choices
const char* to_string(dataflow_kind d);                // "os" | "ws"
dataflow_kind parse_dataflow(const std::string& text);  // "os" | "ws"; throws config_error
const char* to_string(operand_align a);                     // "low" | "high"
operand_align parse_operand_align(const std::string& text);  // "low" | "high"; throws config_error

// Shape of one GEMM: out[M x N] = act[M x K] * weight[K x N].
struct gemm_shape {
  std::size_t m = 0;
  std::size_t k = 0;
  std::size_t n = 0;

  void validate() const;
};

// Two's-complement wrap of v to `bits` bits (2..64), sign-extended back to int64.
inline std::int64_t wrap_signed(std::uint64_t v, unsigned bits) {
  if (bits >= 64) return static_cast<std::int64_t>(v);
  const unsigned shift = 64 - bits;
  return static_cast<std::int64_t>(v << shift) >> shift;
}

}  // namespace hw
}  // namespace axsa
