// Co-verification of the SystemC model against the verilated RTL array (rtl/array/lockstep.h), on
// every configuration built (AXSA_RTL_CONFIGS): random GEMMs with ragged tiles, K = 1, long K and
// extreme operands; random and hand-placed faults on both sites; a planted model bug found at
// its exact cycle, PE and signal; the VCD window around a mismatch. Kernel-free (array_core is
// stepped directly), so many tests share a process.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <tuple>

#include <unistd.h>

#include "hw/cycle_model.h"
#include "rtl/array/fault_masks.h"
#include "rtl/array/feed_schedule.h"
#include "rtl/array/lockstep.h"
#include "rtl/mult_registry.h"
#include "sw/gemm_workload.h"
#include "tests/support/aligned_reference.h"
#include "tests/support/vcd_reader.h"

namespace axsa::rtl {
// Names the configuration in test names and messages (GoogleTest finds it by argument-dependent lookup).
void PrintTo(const array_entry* e, std::ostream* os) { *os << e->name; }
}  // namespace axsa::rtl

namespace axsa::test {
namespace {

using faults::fault;
using faults::fault_kind;
using faults::fault_site;

struct run_output {
  rtl::lockstep_result result;
  sw::gemm_workload work;
};

run_output lockstep(const rtl::array_entry& e, const hw::gemm_shape& shape, sw::operand_fill fill, std::uint64_t seed,
                    const rtl::lockstep_options& opt = {}) {
  run_output out{{}, sw::make_workload(shape, e.data_bits, fill, seed)};
  const auto mult = rtl::model_multiplier(e);
  out.result = rtl::run_lockstep(e, mult.get(), shape, out.work.act.data(), out.work.weight.data(), opt);
  return out;
}

std::string describe(const rtl::lockstep_result& r) {
  if (!r.first_mismatch) return "match";
  const auto& m = *r.first_mismatch;
  return "first mismatch at cycle " + std::to_string(m.cycle) + " PE (" + std::to_string(m.row) + "," +
         std::to_string(m.col) + ") " + m.signal + ": model " + std::to_string(m.model) + ", rtl " + std::to_string(m.rtl);
}

// The reference of a fault-free run: the behavioural C++ model of the design (independent of both sides).
std::vector<std::int64_t> reference(const rtl::array_entry& e, const sw::gemm_workload& w) {
  auto ref = rtl::make_behavioural(rtl::find_entry(e.mult));
  if (!ref) ref = rtl::make_multiplier(e.mult, e.data_bits, rtl::eval_mode::rtl);
  return sw::reference_gemm(w, e.acc_bits, ref.get());
}

class lockstep_config : public testing::TestWithParam<const rtl::array_entry*> {
 protected:
  const rtl::array_entry& entry() const { return *GetParam(); }
  // A shape with ragged last tiles in both M and N (unless the array is 1 wide).
  hw::gemm_shape ragged(std::size_t k, unsigned tiles_m = 2, unsigned tiles_n = 2) const {
    const auto& e = entry();
    return {e.rows * (tiles_m - 1) + (e.rows > 1 ? e.rows / 2 + 1 : 1), k,
            e.cols * (tiles_n - 1) + (e.cols > 1 ? (e.cols + 1) / 2 : 1)};
  }
};

std::vector<const rtl::array_entry*> all_built() {
  std::vector<const rtl::array_entry*> out;
  for (const auto& e : rtl::built_arrays()) out.push_back(&e);
  return out;
}

std::string config_name(const testing::TestParamInfo<const rtl::array_entry*>& info) {
  std::string s = info.param->name;
  std::replace(s.begin(), s.end(), ':', '_');
  return s;
}

TEST_P(lockstep_config, random_ragged_gemms_agree_and_match_the_reference) {
  const auto& e = entry();
  const std::vector<std::tuple<hw::gemm_shape, sw::operand_fill, std::uint64_t>> runs = {
      {ragged(1), sw::operand_fill::random, 1},                          // K = 1
      {ragged(2 * e.rows + 3, 3, 2), sw::operand_fill::random, 2},       // ragged, several folds
      {ragged(e.rows * e.cols > 100 ? 700 : 300), sw::operand_fill::random, 3},  // long K
      {{1, 5, 1}, sw::operand_fill::random, 4},                          // one output
      {ragged(37), sw::operand_fill::min, 5},                            // -2^(W-1) everywhere: wraps for W = 16
      {ragged(29), sw::operand_fill::max, 6},
  };
  for (const auto& [shape, fill, seed] : runs) {
    SCOPED_TRACE("M=" + std::to_string(shape.m) + " K=" + std::to_string(shape.k) + " N=" + std::to_string(shape.n) +
                 " seed " + std::to_string(seed));
    const auto run = lockstep(e, shape, fill, seed);
    EXPECT_TRUE(run.result.match) << describe(run.result);
    EXPECT_EQ(run.result.cycles, hw::gemm_cycles(shape, e.rows, e.cols));
    EXPECT_EQ(run.result.compared_cycles, run.result.cycles + 1);
    EXPECT_EQ(run.result.rtl_out, run.result.model_out);
    EXPECT_EQ(run.result.rtl_out, reference(e, run.work));
    EXPECT_TRUE(run.result.vcd_files.empty());
  }
}

// Every row of extreme operands: most negative, most positive, zero and -1 mixed.
TEST_P(lockstep_config, mixed_extreme_operands_agree) {
  const auto& e = entry();
  hw::gemm_shape shape = ragged(23);
  sw::gemm_workload w = sw::make_workload(shape, e.data_bits, sw::operand_fill::random, 11);
  const std::int16_t lo = static_cast<std::int16_t>(-(1 << (e.data_bits - 1)));
  const std::int16_t hi = static_cast<std::int16_t>((1 << (e.data_bits - 1)) - 1);
  const std::int16_t pick[4] = {lo, hi, 0, -1};
  for (std::size_t i = 0; i < w.act.size(); ++i) w.act[i] = pick[(i * 7 + i / 3) % 4];
  for (std::size_t i = 0; i < w.weight.size(); ++i) w.weight[i] = pick[(i * 5 + i / 2) % 4];
  const auto mult = rtl::model_multiplier(e);
  const auto r = rtl::run_lockstep(e, mult.get(), shape, w.act.data(), w.weight.data(), {});
  EXPECT_TRUE(r.match) << describe(r);
  EXPECT_EQ(r.rtl_out, reference(e, w));
}

// One run per (kind, window) pair, each with a link and a mult fault of that kind and window
// placed by hand, plus random faults of every kind: about 50 faults per configuration.
TEST_P(lockstep_config, faults_on_both_sites_agree) {
  const auto& e = entry();
  const hw::gemm_shape shape = ragged(e.rows + 5);
  const std::uint64_t cycles = hw::gemm_cycles(shape, e.rows, e.cols);
  std::mt19937_64 rng(e.rows * 131 + e.cols * 7 + e.data_bits);
  auto below = [&rng](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  std::set<std::tuple<int, int, int>> covered;  // site, kind, window class
  std::size_t injected = 0;
  bool some_output_changed = false;
  for (int kind = 0; kind < 3; ++kind) {
    for (int window = 0; window < 3; ++window) {
      std::vector<fault> list;
      for (auto site : {fault_site::weight_link, fault_site::weight_mult}) {
        fault f;
        f.site = site;
        f.kind = static_cast<fault_kind>(kind);
        f.row = static_cast<unsigned>(below(e.rows));
        f.col = static_cast<unsigned>(below(e.cols));
        f.bit = static_cast<unsigned>(below(e.data_bits));
        if (window == 0) {  // transient
          f.first_cycle = f.last_cycle = below(cycles);
        } else if (window == 1) {  // a span of two or more cycles
          f.first_cycle = below(cycles);
          f.last_cycle = f.first_cycle + 1 + below(cycles / 3 + 1);
        }  // window == 2: the whole run (the default window)
        list.push_back(f);
      }
      for (const fault& f : rtl::random_faults(4, e.rows, e.cols, e.data_bits, cycles, rng)) {
        list.push_back(f);
      }
      for (const fault& f : list) {
        const int wclass = f.first_cycle == f.last_cycle ? 0 : (f.first_cycle == 0 && f.last_cycle == UINT64_MAX ? 2 : 1);
        covered.insert({static_cast<int>(f.site), static_cast<int>(f.kind), wclass});
      }
      injected += list.size();
      rtl::lockstep_options opt;
      opt.faults = list;
      const auto run = lockstep(e, shape, sw::operand_fill::random, 100 + static_cast<std::uint64_t>(kind * 3 + window), opt);
      std::string names;
      for (const fault& f : list) names += faults::describe(f) + " ";
      EXPECT_TRUE(run.result.match) << describe(run.result) << " with faults " << names;
      EXPECT_EQ(run.result.rtl_out, run.result.model_out);
      some_output_changed |= run.result.rtl_out != reference(e, run.work);
    }
  }
  EXPECT_GE(injected, 40u);
  EXPECT_EQ(covered.size(), 18u) << "every site x kind x {transient, span, whole run} is exercised";
  EXPECT_TRUE(some_output_changed) << "the faults must reach the outputs of at least one run";
}

// Several faults on one PE at once, in list order: links compose, a link fault feeds the mult fault.
TEST_P(lockstep_config, stacked_faults_on_one_pe_compose_in_list_order) {
  const auto& e = entry();
  const unsigned r = e.rows / 2, c = e.cols / 2, top = e.data_bits - 1;
  rtl::lockstep_options opt;
  opt.faults = {
      {fault_site::weight_link, fault_kind::bit_flip, r, c, 0},
      {fault_site::weight_link, fault_kind::stuck_at_1, r, c, top},
      {fault_site::weight_link, fault_kind::bit_flip, r, c, 0, 3, 40},  // undoes the first flip for a while
      {fault_site::weight_link, fault_kind::stuck_at_0, r, c, 1 % e.data_bits},
      {fault_site::weight_mult, fault_kind::stuck_at_1, r, c, 1 % e.data_bits},
      {fault_site::weight_link, fault_kind::stuck_at_1, 0, e.cols - 1, top, 2, 2},  // the north edge, one cycle
      {fault_site::weight_link, fault_kind::stuck_at_0, e.rows - 1, 0, 0},          // the south edge
  };
  const auto run = lockstep(e, ragged(19), sw::operand_fill::random, 21, opt);
  EXPECT_TRUE(run.result.match) << describe(run.result);
}

// A planted model bug: the comparison must name exactly its cycle, PE and signal.
TEST_P(lockstep_config, injected_model_bug_is_found_at_its_cycle_and_pe) {
  const auto& e = entry();
  const hw::gemm_shape shape = ragged(9);
  const std::uint64_t cycles = hw::gemm_cycles(shape, e.rows, e.cols);
  for (const auto& [cycle, row, col] : std::vector<std::tuple<std::uint64_t, unsigned, unsigned>>{
           {cycles / 2, e.rows - 1, e.cols - 1}, {1, 0, 0}, {cycles - 1, e.rows / 2, e.cols / 3}, {cycles, 0, e.cols - 1}}) {
    SCOPED_TRACE("bug at cycle " + std::to_string(cycle) + " PE (" + std::to_string(row) + "," + std::to_string(col) + ")");
    rtl::lockstep_options opt;
    opt.bug = rtl::model_bug{cycle, row, col};
    const auto run = lockstep(e, shape, sw::operand_fill::random, 31, opt);
    ASSERT_FALSE(run.result.match);
    const auto& m = *run.result.first_mismatch;
    EXPECT_EQ(m.cycle, cycle);
    EXPECT_EQ(m.row, row);
    EXPECT_EQ(m.col, col);
    EXPECT_EQ(m.signal, "acc");
    EXPECT_EQ(m.model, hw::wrap_signed(static_cast<std::uint64_t>(m.rtl) + 1, e.acc_bits));
    EXPECT_EQ(run.result.compared_cycles, cycle + 1);
  }
}

// A link fault the model does not see shows up in the south register one cycle later.
TEST_P(lockstep_config, rtl_only_link_fault_is_found_in_the_south_register) {
  const auto& e = entry();
  const hw::gemm_shape shape = ragged(6);
  const std::uint64_t drain_cycle = shape.k + e.rows + e.cols - 2;  // first drain cycle: no MAC anywhere
  rtl::lockstep_options opt;
  opt.rtl_only_faults = {{fault_site::weight_link, fault_kind::bit_flip, e.rows - 1, e.cols - 1, 0, drain_cycle, drain_cycle}};
  const auto run = lockstep(e, shape, sw::operand_fill::random, 41, opt);
  ASSERT_FALSE(run.result.match);
  const auto& m = *run.result.first_mismatch;
  EXPECT_EQ(m.cycle, drain_cycle + 1);
  EXPECT_EQ(m.row, e.rows - 1);
  EXPECT_EQ(m.col, e.cols - 1);
  EXPECT_EQ(m.signal, "south");
  EXPECT_EQ(m.rtl ^ m.model, 1);
}

// --operand-align high: the RTL strapped high against the model with the aligned multiplier, on
// random ragged shapes, the extremes and faults; fault-free outputs equal the reference that runs
// the circuit on the shifted operands. Where W == N, high equals low.
TEST_P(lockstep_config, high_operand_alignment_agrees_and_matches_the_shifted_reference) {
  const auto& e = entry();
  const auto mult = rtl::model_multiplier(e, hw::operand_align::high);
  auto circuit = rtl::make_behavioural(rtl::find_entry(e.mult));
  if (!circuit) circuit = rtl::make_multiplier(e.mult, e.mult_bits, rtl::eval_mode::rtl);
  const std::vector<std::tuple<hw::gemm_shape, sw::operand_fill, std::uint64_t>> runs = {
      {ragged(2 * e.rows + 3, 3, 2), sw::operand_fill::random, 21},
      {ragged(1), sw::operand_fill::random, 22},
      {ragged(19), sw::operand_fill::min, 23},
      {ragged(17), sw::operand_fill::max, 24},
  };
  // Whether high products differ from low ones at all for this circuit and width (they do not for an
  // exact circuit, for W == N, and for some approximate ones, e.g. bam8_h1_v4 with 6-bit data, whose
  // broken-off partial products see only the zeros below the data).
  bool products_differ = false;
  if (e.data_bits <= 12) {
    const auto low = rtl::model_multiplier(e);
    const std::int32_t lo = -(1 << (e.data_bits - 1)), hi = (1 << (e.data_bits - 1)) - 1;
    for (std::int32_t a = lo; a <= hi && !products_differ; ++a)
      for (std::int32_t b = lo; b <= hi && !products_differ; ++b) products_differ = mult->multiply(a, b) != low->multiply(a, b);
  }
  bool outputs_differ = false;
  for (const auto& [shape, fill, seed] : runs) {
    SCOPED_TRACE("M=" + std::to_string(shape.m) + " K=" + std::to_string(shape.k) + " N=" + std::to_string(shape.n));
    const sw::gemm_workload w = sw::make_workload(shape, e.data_bits, fill, seed);
    const auto r = rtl::run_lockstep(e, mult.get(), shape, w.act.data(), w.weight.data(), {});
    EXPECT_TRUE(r.match) << describe(r);
    EXPECT_EQ(r.rtl_out, r.model_out);
    EXPECT_EQ(r.rtl_out, high_reference_gemm(w, e.acc_bits, *circuit, e.data_bits));
    if (e.data_bits == e.mult_bits) {
      EXPECT_EQ(r.rtl_out, reference(e, w));
    }
    outputs_differ |= r.rtl_out != reference(e, w);
  }
  if (products_differ) {
    EXPECT_TRUE(outputs_differ) << "the strap must change what the RTL computes";
  }
  const hw::gemm_shape shape = ragged(e.rows + 5);
  const sw::gemm_workload w = sw::make_workload(shape, e.data_bits, sw::operand_fill::random, 25);
  std::mt19937_64 rng(e.rows * 17 + e.data_bits);
  rtl::lockstep_options opt;
  opt.faults = rtl::random_faults(12, e.rows, e.cols, e.data_bits, hw::gemm_cycles(shape, e.rows, e.cols), rng);
  const auto r = rtl::run_lockstep(e, mult.get(), shape, w.act.data(), w.weight.data(), opt);
  EXPECT_TRUE(r.match) << describe(r);
  EXPECT_EQ(r.rtl_out, r.model_out);
}

// The sites beyond the weight path (act-link, act-mult, acc), each alone and all five mixed: runs of
// random faults (every kind, transient, span and whole-run windows, acc faults on any of the A
// bits) agree register by register with the RTL's masks, and each site changes some output.
TEST_P(lockstep_config, activation_and_accumulator_faults_agree) {
  const auto& e = entry();
  const hw::gemm_shape shape = ragged(e.rows + 7);
  const std::uint64_t cycles = hw::gemm_cycles(shape, e.rows, e.cols);
  std::mt19937_64 rng(e.rows * 977 + e.cols * 13 + e.data_bits + e.acc_bits);
  const std::vector<std::vector<fault_site>> site_sets = {
      {fault_site::act_link},
      {fault_site::act_mult},
      {fault_site::acc},
      {fault_site::weight_link, fault_site::weight_mult, fault_site::act_link, fault_site::act_mult, fault_site::acc}};
  std::size_t injected = 0;
  for (std::size_t set = 0; set < site_sets.size(); ++set) {
    bool changed = false;
    for (int run_index = 0; run_index < 6; ++run_index) {
      rtl::lockstep_options opt;
      opt.faults = rtl::random_faults(1 + run_index % 3, e.rows, e.cols, e.data_bits, e.acc_bits, cycles, rng, site_sets[set]);
      injected += opt.faults.size();
      const auto run = lockstep(e, shape, sw::operand_fill::random, 500 + set * 10 + static_cast<std::uint64_t>(run_index), opt);
      std::string names;
      for (const fault& f : opt.faults) names += faults::describe(f) + " ";
      EXPECT_TRUE(run.result.match) << describe(run.result) << " with faults " << names;
      EXPECT_EQ(run.result.rtl_out, run.result.model_out) << names;
      changed |= run.result.rtl_out != reference(e, run.work);
    }
    EXPECT_TRUE(changed) << "the faults of site set " << set << " must reach some output";
  }
  EXPECT_GE(injected, 48u);
}

// Hand-placed: an act-link stuck-at on the west edge travels east along its row; an act-mult fault
// on the same PE only touches that PE; an accumulator bit stuck at 1 on the top row, flips of the
// top accumulator bit during the drain (the sums passing through a PE) and after it.
TEST_P(lockstep_config, hand_placed_activation_and_accumulator_faults_agree) {
  const auto& e = entry();
  const hw::gemm_shape shape = ragged(13);
  const std::uint64_t drain0 = shape.k + e.rows + e.cols - 2;  // the first fold's first drain cycle
  const unsigned top = e.data_bits - 1, acc_top = e.acc_bits - 1;
  const std::vector<std::vector<fault>> cases = {
      {{fault_site::act_link, fault_kind::stuck_at_1, e.rows / 2, 0, top}},
      {{fault_site::act_mult, fault_kind::stuck_at_0, e.rows / 2, e.cols - 1, 0},
       {fault_site::act_mult, fault_kind::bit_flip, e.rows / 2, e.cols - 1, 1 % e.data_bits}},
      {{fault_site::acc, fault_kind::stuck_at_1, 0, e.cols / 2, acc_top}},
      {{fault_site::acc, fault_kind::bit_flip, e.rows / 2, 0, acc_top, drain0, drain0 + e.rows - 1}},
      {{fault_site::acc, fault_kind::bit_flip, 0, e.cols - 1, 3 % e.acc_bits, drain0 + e.rows - 1, drain0 + e.rows - 1}},
  };
  for (const auto& list : cases) {
    rtl::lockstep_options opt;
    opt.faults = list;
    const auto run = lockstep(e, shape, sw::operand_fill::random, 61, opt);
    EXPECT_TRUE(run.result.match) << describe(run.result) << " with " << faults::describe(list.front());
    EXPECT_EQ(run.result.rtl_out, run.result.model_out);
  }
}

// Valid faults (the MAC-enable gate's two inputs, hw/fault.h) against the RTL's valid masks: random
// ones alone and beside data faults, and by hand: a valid bit stuck at 0 for the whole run (the PE
// skips its products: the outputs change), both valid bits of a PE stuck at 1 (it accumulates while
// the operands are not valid; the drain must still not accumulate), a single-cycle flip.
TEST_P(lockstep_config, valid_faults_agree) {
  const auto& e = entry();
  const hw::gemm_shape shape = ragged(e.rows + 4);
  const std::uint64_t cycles = hw::gemm_cycles(shape, e.rows, e.cols);
  std::mt19937_64 rng(e.rows * 613 + e.cols * 17 + e.data_bits);
  std::size_t injected = 0;
  for (int run_index = 0; run_index < 10; ++run_index) {
    rtl::lockstep_options opt;
    const std::vector<fault_site> sites = run_index < 7 ? std::vector<fault_site>{fault_site::valid}
                                                        : std::vector<fault_site>{fault_site::valid, fault_site::act_mult,
                                                                                  fault_site::weight_link, fault_site::acc};
    opt.faults = rtl::random_faults(1 + run_index % 4, e.rows, e.cols, e.data_bits, e.acc_bits, cycles, rng, sites);
    injected += opt.faults.size();
    const auto run = lockstep(e, shape, sw::operand_fill::random, 700 + static_cast<std::uint64_t>(run_index), opt);
    std::string names;
    for (const fault& f : opt.faults) names += faults::describe(f) + " ";
    EXPECT_TRUE(run.result.match) << describe(run.result) << " with faults " << names;
    EXPECT_EQ(run.result.rtl_out, run.result.model_out) << names;
  }
  EXPECT_GE(injected, 20u);
  const unsigned r = e.rows - 1, c = e.cols - 1;
  const std::uint64_t mid = cycles / 3;
  const std::vector<std::vector<fault>> cases = {
      {{fault_site::valid, fault_kind::stuck_at_0, 0, 0, faults::valid_act_bit}},
      {{fault_site::valid, fault_kind::stuck_at_1, r, c, faults::valid_act_bit},
       {fault_site::valid, fault_kind::stuck_at_1, r, c, faults::valid_weight_bit}},
      {{fault_site::valid, fault_kind::bit_flip, e.rows / 2, e.cols / 2, faults::valid_weight_bit, mid, mid}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    rtl::lockstep_options opt;
    opt.faults = cases[i];
    const auto run = lockstep(e, shape, sw::operand_fill::max, 81, opt);
    EXPECT_TRUE(run.result.match) << describe(run.result) << " with " << faults::describe(cases[i].front());
    EXPECT_EQ(run.result.rtl_out, run.result.model_out);
    // Operands all at the maximum: every product is non-zero, so a skipped one shows.
    if (i == 0) {
      EXPECT_NE(run.result.rtl_out, reference(e, run.work)) << "a valid bit stuck at 0 must drop products";
    }
  }
}

// Control faults (the controller's counters, fold, stage and done, hw/fault.h) against the RTL
// controller's masks (rtl/array/axsa_ctrl.v): random ones alone and beside data faults, and one of
// each effect docs/faults.md names, each shown to have it. The comparison covers the controller's
// registers and done signal as well as the array, up to the watchdog's budget when a job never ends.
TEST_P(lockstep_config, control_faults_agree) {
  const auto& e = entry();
  const hw::gemm_shape shape = ragged(e.rows + 5);
  const std::uint64_t cycles = hw::gemm_cycles(shape, e.rows, e.cols);
  std::mt19937_64 rng(e.rows * 389 + e.cols * 23 + e.data_bits);
  std::size_t longer = 0, shorter = 0, hung = 0, differ = 0;
  constexpr int runs = 100;
  for (int run_index = 0; run_index < runs; ++run_index) {
    rtl::lockstep_options opt;
    opt.faults = rtl::random_faults(1, e.rows, e.cols, e.data_bits, e.acc_bits, cycles, rng, {fault_site::control});
    if (run_index % 4 == 3) {  // beside data faults
      for (const fault& f : rtl::random_faults(2, e.rows, e.cols, e.data_bits, e.acc_bits, cycles, rng,
                                               {fault_site::weight_link, fault_site::act_mult, fault_site::valid, fault_site::acc}))
        opt.faults.push_back(f);
    }
    const auto run = lockstep(e, shape, sw::operand_fill::random, 900 + static_cast<std::uint64_t>(run_index), opt);
    std::string names;
    for (const fault& f : opt.faults) names += faults::describe(f) + " ";
    EXPECT_TRUE(run.result.match) << describe(run.result) << " with faults " << names;
    EXPECT_EQ(run.result.rtl_out, run.result.model_out) << names;
    hung += run.result.hung;
    longer += !run.result.hung && run.result.compared_cycles > cycles + 1;
    shorter += run.result.compared_cycles < cycles + 1;
    differ += run.result.model_out != reference(e, run.work);
  }
  // The sample reaches the kinds of effect, so the comparison saw them (not only masked faults).
  EXPECT_GT(hung, 0u);
  EXPECT_GT(shorter, 0u);
  EXPECT_GT(differ, 0u);
  EXPECT_GE(hung + longer + shorter, static_cast<std::size_t>(runs) / 4);

  namespace field = faults::control_field;
  // In cycle c of the first fold the K counter holds c. Cycle 2: bit 1 flipped back to 0 repeats two
  // cycles. Cycle 1: the highest bit b with 1 + 2^b inside the compute stage skips 2^b cycles (a
  // jump past its end would never meet it: a hang).
  const std::uint64_t compute = hw::dataflow(e.rows, e.cols, shape).compute_cycles();
  unsigned skip_bit = 1;
  while (1 + (std::uint64_t{2} << skip_bit) < compute) ++skip_bit;
  struct hand_case {
    fault f;
    const char* effect;
  };
  const std::vector<hand_case> cases = {
      {{fault_site::control, fault_kind::bit_flip, 0, 0, field::stage_counter + 1, 2, 2}, "longer"},
      {{fault_site::control, fault_kind::stuck_at_1, 0, 0, field::stage_counter + skip_bit, 1, 1}, "shorter"},
      {{fault_site::control, fault_kind::stuck_at_1, 0, 0, field::stage}, "shorter"},
      {{fault_site::control, fault_kind::stuck_at_1, 0, 0, field::stage_counter + 31}, "hang"},
      {{fault_site::control, fault_kind::stuck_at_0, 0, 0, field::stage}, "hang"},
      {{fault_site::control, fault_kind::stuck_at_1, 0, 0, field::fold_counter + 8, 3, 3}, "error"},
      {{fault_site::control, fault_kind::bit_flip, 0, 0, field::fold_counter + 0, 1, 1}, "outputs"},
      {{fault_site::control, fault_kind::stuck_at_0, 0, 0, field::done}, "outputs-intact"},
      {{fault_site::control, fault_kind::stuck_at_1, 0, 0, field::done}, "outputs-intact"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(faults::describe(c.f));
    rtl::lockstep_options opt;
    opt.faults = {c.f};
    const auto run = lockstep(e, shape, sw::operand_fill::max, 83, opt);
    EXPECT_TRUE(run.result.match) << describe(run.result);
    EXPECT_EQ(run.result.rtl_out, run.result.model_out);
    const std::string effect = c.effect;
    const std::uint64_t compared = run.result.compared_cycles;
    if (effect == "longer") {
      EXPECT_GT(compared, cycles + 1);
    } else if (effect == "shorter" || effect == "error") {
      EXPECT_LT(compared, cycles + 1);
    }
    EXPECT_EQ(run.result.hung, effect == "hang");
    // Operands at the maximum: a repeated, skipped or misplaced product shows in the outputs.
    if (effect == "outputs-intact") {
      EXPECT_EQ(run.result.model_out, reference(e, run.work));
    } else if (effect != "hang") {
      EXPECT_NE(run.result.model_out, reference(e, run.work));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(built, lockstep_config, testing::ValuesIn(all_built()), config_name);

TEST(lockstep, vcd_window_shows_both_sides_around_the_mismatch) {
  const auto& e = rtl::built_arrays().front();
  const std::string prefix = testing::TempDir() + "lockstep_vcd_" + std::to_string(getpid());
  const hw::gemm_shape shape{e.rows, 40, e.cols};
  rtl::lockstep_options opt;
  opt.bug = rtl::model_bug{25, e.rows - 1, 0};
  opt.vcd_prefix = prefix;
  const auto run = lockstep(e, shape, sw::operand_fill::random, 5, opt);
  ASSERT_FALSE(run.result.match);
  ASSERT_EQ(run.result.vcd_files.size(), 2u);
  const vcd_reader model(run.result.vcd_files[0]), dut(run.result.vcd_files[1]);
  const std::string acc = "top.array.pe_" + std::to_string(e.rows - 1) + "_0.acc";
  const std::uint64_t ps = 1000;
  EXPECT_EQ(model.value(acc, 25 * ps), run.result.first_mismatch->model);
  EXPECT_EQ(dut.value(acc, 25 * ps), run.result.first_mismatch->rtl);
  EXPECT_EQ(model.value(acc, 24 * ps), dut.value(acc, 24 * ps));
  EXPECT_EQ(model.value("top.lockstep.mismatch", 25 * ps), 1);
  EXPECT_EQ(model.value("top.lockstep.mismatch", 24 * ps), 0);
  // The window: cycles 15..35, nothing before.
  EXPECT_THROW(model.value(acc, 14 * ps), std::runtime_error);
  EXPECT_EQ(dut.value("top.lockstep.mismatch", 35 * ps), 0);
  EXPECT_LE(dut.at(acc).changes.back().first, 35 * ps);
  EXPECT_TRUE(dut.has("top.array.pe_0_0.east_valid"));
  EXPECT_FALSE(model.has("top.array.pe_0_0.east_valid"));
  EXPECT_TRUE(model.has("top.array.drain.col_0") && dut.has("top.array.north_feeder.col_0"));
  for (const auto& f : run.result.vcd_files) std::filesystem::remove(f);
}

TEST(lockstep, bugs_outside_the_run_or_array_are_config_errors) {
  const auto& e = rtl::built_arrays().front();
  rtl::lockstep_options opt;
  opt.bug = rtl::model_bug{0, e.rows, 0};
  EXPECT_THROW(lockstep(e, {3, 3, 3}, sw::operand_fill::random, 1, opt), config_error);
  opt.bug = rtl::model_bug{hw::gemm_cycles({3, 3, 3}, e.rows, e.cols) + 1, 0, 0};
  EXPECT_THROW(lockstep(e, {3, 3, 3}, sw::operand_fill::random, 1, opt), config_error);
  opt.bug.reset();
  opt.faults = {{fault_site::weight_link, fault_kind::bit_flip, 0, e.cols, 0}};
  EXPECT_THROW(lockstep(e, {3, 3, 3}, sw::operand_fill::random, 1, opt), config_error);
}

// Two weight-mult faults on one PE in the same cycle compose in list order, as link faults do and
// as the RTL's single operand must (the model once summed their effects instead).
TEST(lockstep, two_mult_faults_on_one_pe_compose_like_link_faults) {
  const auto& e = rtl::built_arrays().front();
  rtl::lockstep_options opt;
  opt.faults = {{fault_site::weight_mult, fault_kind::bit_flip, 0, 0, 0}, {fault_site::weight_mult, fault_kind::bit_flip, 0, 0, 0}};
  const auto run = lockstep(e, {e.rows, 8, e.cols}, sw::operand_fill::random, 1, opt);
  EXPECT_TRUE(run.result.match) << describe(run.result);
}

// The mask triple of a list of faults does what applying them one after another does.
TEST(fault_masks, composition_equals_applying_the_faults_in_order) {
  std::mt19937_64 rng(7);
  for (unsigned bits : {2u, 6u, 8u, 16u}) {
    for (int trial = 0; trial < 2000; ++trial) {
      std::vector<fault> list(1 + rng() % 5);
      rtl::bit_masks m;
      for (auto& f : list) {
        f.kind = static_cast<fault_kind>(rng() % 3);
        f.bit = static_cast<unsigned>(rng() % bits);
        rtl::compose(m, f);
      }
      const std::int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
      for (std::int32_t v : {lo, hi, 0, -1, static_cast<std::int32_t>(lo + static_cast<std::int32_t>(rng() % (1u << bits)))}) {
        std::int32_t expect = v;
        for (const auto& f : list) expect = f.apply(expect, bits);
        ASSERT_EQ(m.apply(v, bits), expect) << "bits " << bits << " value " << v;
      }
    }
  }
  EXPECT_TRUE(rtl::bit_masks{}.identity());
}

TEST(fault_masks, plan_follows_the_windows) {
  rtl::fault_mask_plan plan({{fault_site::weight_link, fault_kind::stuck_at_1, 1, 2, 3, 5, 6},
                             {fault_site::weight_mult, fault_kind::bit_flip, 1, 2, 0},
                             {fault_site::weight_link, fault_kind::stuck_at_0, 0, 0, 1, 6, 6},
                             {fault_site::acc, fault_kind::stuck_at_1, 1, 2, 40, 6, 6},
                             {fault_site::act_mult, fault_kind::bit_flip, 0, 0, 7, 4, 4}},
                            2, 3);
  const auto link = fault_site::weight_link, mult = fault_site::weight_mult;
  auto at4 = plan.at(4);
  ASSERT_EQ(at4.size(), 2u);
  EXPECT_TRUE(at4[0].of(link).identity());
  EXPECT_EQ(at4[0].of(mult).flip, 1u);
  EXPECT_TRUE(at4[0].of(fault_site::acc).identity());
  EXPECT_TRUE(at4[1].of(link).identity());
  EXPECT_EQ(at4[1].of(fault_site::act_mult).flip, 128u);
  auto at6 = plan.at(6);
  EXPECT_EQ(at6[0].of(link).set, 8u);
  EXPECT_EQ(at6[0].of(fault_site::acc).set, std::uint64_t{1} << 40);  // accumulator masks are 64 bits wide
  EXPECT_EQ(at6[0].of(fault_site::acc).clear, std::uint64_t{1} << 40);
  EXPECT_EQ(at6[1].of(link).clear, 2u);
  EXPECT_TRUE(at6[1].of(fault_site::act_mult).identity());
  EXPECT_TRUE(plan.at(7)[0].of(link).identity());
  EXPECT_TRUE(plan.at(7)[0].of(fault_site::acc).identity());
}

// The schedule on its own: the documented cycle count, every input once, every output drained once.
TEST(feed_schedule, feeds_every_operand_once_and_drains_every_output_once) {
  for (const auto& [rows, cols, m, k, n] : std::vector<std::tuple<unsigned, unsigned, std::size_t, std::size_t, std::size_t>>{
           {1, 1, 3, 4, 2}, {4, 3, 9, 1, 7}, {5, 7, 5, 13, 7}, {3, 8, 10, 6, 2}}) {
    const hw::gemm_shape shape{m, k, n};
    std::vector<std::int16_t> act(m * k), wgt(k * n);
    for (std::size_t i = 0; i < act.size(); ++i) act[i] = static_cast<std::int16_t>(i + 1);
    for (std::size_t i = 0; i < wgt.size(); ++i) wgt[i] = static_cast<std::int16_t>(-static_cast<int>(i) - 1);
    const rtl::feed_schedule s(rows, cols, shape, act.data(), wgt.data());
    ASSERT_EQ(s.cycles(), hw::gemm_cycles(shape, rows, cols));
    std::vector<int> act_seen(act.size()), drained(m * n);
    std::size_t wgt_fed = 0;
    rtl::feed_schedule::edges ed;
    for (std::uint64_t c = 0; c <= s.cycles(); ++c) {
      s.inputs(c, ed);
      for (unsigned r = 0; r < rows; ++r) {
        if (ed.west_valid[r]) {
          ++act_seen[static_cast<std::size_t>(ed.west[r] - 1)];
        } else {
          EXPECT_EQ(ed.west[r], 0);
        }
      }
      for (unsigned j = 0; j < cols; ++j) wgt_fed += ed.north_valid[j];
      if (auto d = s.drained(c)) {
        EXPECT_TRUE(ed.drain);
        for (unsigned j = 0; j < d->count; ++j) ++drained[d->m * n + d->n0 + j];
      }
      if (c == s.cycles()) {
        EXPECT_FALSE(ed.drain);
      }
    }
    const std::size_t folds_m = (m + rows - 1) / rows, folds_n = (n + cols - 1) / cols;
    for (int seen : act_seen) EXPECT_EQ(seen, static_cast<int>(folds_n));  // each activation once per column tile
    EXPECT_EQ(wgt_fed, k * n * folds_m);
    for (int d : drained) EXPECT_EQ(d, 1);
  }
}

TEST(rtl_array, registry_lists_what_was_built) {
  ASSERT_FALSE(rtl::built_arrays().empty());
  for (const auto& e : rtl::built_arrays()) {
    EXPECT_EQ(rtl::find_array(e.rows, e.cols, e.data_bits, e.acc_bits, e.mult), &e);
    EXPECT_GE(e.mult_bits, e.data_bits);
    EXPECT_NE(rtl::built_array_list().find(e.name), std::string::npos);
  }
  EXPECT_EQ(rtl::find_array(129, 1, 8, 32, "exact8"), nullptr);
}

}  // namespace
}  // namespace axsa::test
