// The multiplier registry: every Verilog multiplier verilated into this build (the in-house
// designs of rtl/mult/multipliers.txt and, with -DAXSA_EVOAPPROX_DIR, EvoApprox circuits) by
// name, and the ways to evaluate one: its verilated model per product, a product table filled
// once from that model (cached on disk), or the independent C++ behavioural model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/multiplier.h"
#include "rtl/verilated_eval.h"

namespace axsa::rtl {

struct mult_entry {
  const char* name;    // registry name, e.g. "drum8_k4" or "mul8s_1KV9"
  const char* module;  // Verilog module
  unsigned bits;       // operand width N
  const char* params;  // Verilog parameters as "K=4 HBL=1" (in-house designs), else ""
  const char* origin;  // "axsa" or "evoapprox"
  const char* source;  // the Verilog file it was verilated from
  const char* hash;    // SHA-256 of the Verilog text and parameters: keys the table cache
  verilated_factory make;
};

// Every registered multiplier, in-house first, each group sorted by name (generated at configure time).
const std::vector<mult_entry>& registered_entries();
// Throws config_error naming the unknown multiplier and listing the registered ones.
const mult_entry& find_entry(const std::string& name);

enum class eval_mode { table, rtl };
// "table" or "rtl"; throws config_error otherwise.
eval_mode parse_eval_mode(const std::string& text);

// The verilated model as a multiplier: every multiply() evaluates the circuit. Not thread-safe.
class verilated_multiplier final : public hw::multiplier {
 public:
  explicit verilated_multiplier(const mult_entry& entry);
  std::string name() const override { return m_entry.name; }
  unsigned bits() const override { return m_entry.bits; }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override;
  bool is_exact() const override { return m_exact; }
  // Declares the circuit exact (after an exhaustive check, or for a design known to be exact).
  void set_exact(bool exact) { m_exact = exact; }

 private:
  const mult_entry& m_entry;
  std::unique_ptr<verilated_eval> m_model;
  std::uint32_t m_mask;
  unsigned m_out_shift;
  bool m_exact = false;
};

// All 2^(2N) products of an N <= 12-bit entry, index (a << N) | b over the N-bit patterns, as the
// verilated model computes them. Read from the cache directory when present and valid, else
// computed and written there (atomically). Directory: $AXSA_CACHE_DIR, else $XDG_CACHE_HOME/axsa,
// else $HOME/.cache/axsa; when none is writable the table is computed every time.
std::vector<std::int32_t> full_table(const mult_entry& entry);
// Where full_table() keeps its files ("" when no directory could be chosen).
std::string cache_directory();

// True when every product of the full table is exact.
bool table_is_exact(const std::vector<std::int32_t>& full, unsigned bits);

// The multiplier the array should use for data_bits-wide operands.
// table: N <= 12 -> the product table (native products when the table is exact);
//        N > 12  -> the verilated model per product (native when the design is the exact one).
// rtl:   the verilated model for every product (for checking the table).
// align: where the data sit in the circuit's operands (hw/aligned_multiplier.h); the table then holds
// the aligned products.
std::shared_ptr<const hw::multiplier> make_multiplier(const std::string& name, unsigned data_bits, eval_mode mode,
                                                      hw::operand_align align = hw::operand_align::low);

// The independent C++ model of an in-house design (hw/mult/behavioural.h); nullptr for others.
std::shared_ptr<const hw::multiplier> make_behavioural(const mult_entry& entry);

}  // namespace axsa::rtl
