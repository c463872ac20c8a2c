// The structural engine: the array as SystemC modules a reader can find and a student can change.
// R x C `pe` modules (hw/pe.h) named pe_<r>_<c>, each with its multiplier submodule; the west and
// north feeders and the drain ports (hw/edge_modules.h); saboteur modules on the PEs' north inputs
// (link_saboteur_<r>_<c>, between PE (r-1, c).south and PE (r, c).north) and west inputs
// (act_link_saboteur_<r>_<c>, between PE (r, c-1).east and PE (r, c).west), and inside PEs on the
// multiplier's operands and the accumulator (pe_<r>_<c>.mult_saboteur, .act_mult_saboteur,
// .acc_saboteur) where cfg.saboteurs plans them; and the
// controller, step(), which sequences folds and their stages by the dataflow descriptor
// (hw/dataflow.h): it loads the feeders from its schedule, drives the PEs' `load_weight` and
// `pass_sum` and takes the outputs from the drain ports. The modules are created as children of the module under construction (the
// systolic_array), so the hierarchy reads top.array.pe_2_3.mult.
//
// Timing contract: the descriptor's, and equal to the fast engine's (array_core) register by
// register every cycle. One step() is one rising edge: every PE evaluates, then every register
// (PEs, feeders, the drain flag) commits. Reset (construction): every register zero.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "hw/array_engine.h"
#include "hw/dataflow.h"
#include "hw/edge_modules.h"
#include "hw/link.h"
#include "hw/pe.h"
#include "hw/saboteur.h"

namespace axsa::hw {

class pe_array final : public array_engine {
 public:
  // Must run inside the constructor of the module that contains the array (or before any, for
  // top-level modules); the ports are bound here and usable once elaboration is done.
  explicit pe_array(const array_config& cfg);

  const array_config& config() const override { return m_cfg; }
  void set_multiplier(const multiplier* m) override;
  const char* evaluation() const override;
  void set_faults(std::vector<faults::fault> list) override;
  const std::vector<faults::fault>& active_faults() const override { return m_faults; }

  void start(const gemm_job& job) override;
  bool busy() const override { return m_busy; }
  void step() override;
  void abort() override;
  std::uint64_t job_cycles() const override { return m_job_cycles; }
  std::uint64_t total_cycles() const override { return m_cycle; }

  std::int32_t west_in(unsigned r, unsigned c) const override;
  std::int32_t north_in(unsigned r, unsigned c) const override;
  std::int32_t east_out(unsigned r, unsigned c) const override { return at(r, c).east_value().value; }
  std::int32_t south_out(unsigned r, unsigned c) const override { return at(r, c).south_value().value; }
  std::int64_t acc(unsigned r, unsigned c) const override { return at(r, c).acc(); }
  bool mac_enabled(unsigned r, unsigned c) const override { return at(r, c).mac_en(); }
  std::int64_t drain_out(unsigned c) const override;
  void poke_acc(unsigned r, unsigned c, std::int64_t value) override { at(r, c).poke_acc(value); }

  // The controller's counts (cycles, feeder reads, drain moves) plus every PE's own.
  const activity& counts() const override;
  void set_counting(bool on) override;

  pe& at(unsigned r, unsigned c) { return *m_pes[static_cast<std::size_t>(r) * m_cols + c]; }
  const pe& at(unsigned r, unsigned c) const { return *m_pes[static_cast<std::size_t>(r) * m_cols + c]; }
  // The saboteur on PE (r, c)'s north input, or nullptr where none is planned.
  saboteur* link_saboteur(unsigned r, unsigned c) { return m_link_saboteurs[static_cast<std::size_t>(r) * m_cols + c].get(); }
  // The saboteur on PE (r, c)'s west input, or nullptr where none is planned.
  saboteur* act_link_saboteur(unsigned r, unsigned c) { return m_act_link_saboteurs[static_cast<std::size_t>(r) * m_cols + c].get(); }

 private:
  void begin_fold();
  void load_feeders();

  array_config m_cfg;
  unsigned m_rows, m_cols;
  std::uint64_t m_cycle = 0;  // the current cycle: every cycle spent on jobs so far (saboteurs read it)

  constant_source<std::uint64_t> m_zero;  // enters the top of each column's accumulator chain
  clocked_reg<bool> m_load_weight;        // the controller's outputs to every PE
  clocked_reg<bool> m_pass_sum;
  feeder m_west_feeder;
  feeder m_north_feeder;
  drain_bank m_drain;
  std::vector<std::unique_ptr<saboteur>> m_link_saboteurs;  // R*C, nullptr where none
  std::vector<std::unique_ptr<saboteur>> m_act_link_saboteurs;  // R*C, nullptr where none
  std::vector<std::unique_ptr<pe>> m_pes;                   // R*C, row-major

  const multiplier* m_mult = nullptr;
  std::vector<faults::fault> m_faults;
  gemm_job m_job{};
  std::optional<dataflow> m_flow;
  dataflow::tile m_tile;
  bool m_busy = false;
  stage m_stage = stage::compute;
  std::uint64_t m_fold = 0, m_t = 0, m_job_cycles = 0;
  bool m_counting = true;
  activity m_own;                // the controller's part of the counts
  mutable activity m_counts;     // m_own plus the PEs', summed when asked
};

}  // namespace axsa::hw
