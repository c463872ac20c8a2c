// The structural engine (hw/pe_array.h: pe modules, multiplier and saboteur submodules) against the
// fast engine (hw/array_core.h) cycle by cycle, every PE register and link compared before every
// edge by the lockstep machinery of the RTL twin (rtl/array/lockstep.h), with faults of every site,
// kind and window, on random configurations (1x1 to 16x16, W 2..16, exact, in-house and EvoApprox
// multipliers); and against the verilated RTL array on every configuration built. Each case
// elaborates its own structural array, so each runs in its own process.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "hw/array_core.h"
#include "hw/cycle_model.h"
#include "hw/saboteur.h"
#include "hw/systolic_array.h"
#include "rtl/array/lockstep.h"
#include "rtl/mult_registry.h"
#include "sw/gemm_workload.h"

namespace axsa::test {
namespace {

using faults::fault;
using faults::fault_site;

struct lockstep_case {
  unsigned index = 0;
  unsigned rows = 1, cols = 1, bits = 8, acc_bits = 32;
  std::string mult = "exact";
  rtl::eval_mode eval = rtl::eval_mode::table;
  bool saboteurs_everywhere = false;  // else only where the case's faults act
  hw::gemm_shape shape;
  std::vector<fault> faults;
};

void PrintTo(const lockstep_case& c, std::ostream* os) {
  *os << c.rows << "x" << c.cols << " W" << c.bits << " A" << c.acc_bits << " " << c.mult << " M" << c.shape.m << " K"
      << c.shape.k << " N" << c.shape.n << ", " << c.faults.size() << " faults";
}

bool is_evoapprox(const rtl::mult_entry& e) { return std::string(e.origin) == "evoapprox"; }

// 36 cases from one seed: the same list whenever the binary runs (ctest lists, then runs each).
// Fixed extremes first (1x1 at W = 2, 16x16 at W = 16, one row, one column), then random ones;
// every third random case takes an EvoApprox circuit when the build has one.
std::vector<lockstep_case> make_cases() {
  std::mt19937_64 rng(12);
  auto below = [&rng](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  const auto& entries = rtl::registered_entries();
  std::vector<lockstep_case> out;
  const std::vector<std::tuple<unsigned, unsigned, unsigned>> fixed = {{1, 1, 2}, {16, 16, 16}, {1, 16, 8}, {16, 1, 5}};
  for (unsigned i = 0; i < 36; ++i) {
    lockstep_case c;
    c.index = i;
    if (i < fixed.size()) {
      std::tie(c.rows, c.cols, c.bits) = fixed[i];
    } else {
      c.rows = 1 + static_cast<unsigned>(below(16));
      c.cols = 1 + static_cast<unsigned>(below(16));
      c.bits = 2 + static_cast<unsigned>(below(15));
    }
    const unsigned accs[] = {std::max(2u, 2 * c.bits - 3), 32, 20, 64};
    c.acc_bits = accs[below(4)];
    // A multiplier at least as wide as the data: exact, in-house or EvoApprox.
    std::vector<const rtl::mult_entry*> fits, evo;
    for (const auto& e : entries) {
      if (e.bits < c.bits) continue;
      (is_evoapprox(e) ? evo : fits).push_back(&e);
    }
    if (i % 3 == 2 && !evo.empty()) {
      c.mult = evo[below(evo.size())]->name;
    } else if (i % 5 != 0 && !fits.empty()) {
      c.mult = fits[below(fits.size())]->name;
    }
    c.eval = below(4) == 0 ? rtl::eval_mode::rtl : rtl::eval_mode::table;
    c.saboteurs_everywhere = i % 2 == 0;
    c.shape = {1 + below(3 * c.rows), 1 + below(40), 1 + below(3 * c.cols)};
    const std::uint64_t cycles = hw::gemm_cycles(c.shape, c.rows, c.cols);
    c.faults = rtl::random_faults(i % 4 == 3 ? 0 : 2 + below(5), c.rows, c.cols, c.bits, cycles, rng);
    out.push_back(c);
  }
  // Then cases with faults on all five sites (activation links and operands, accumulators), drawn
  // from a seed of their own so the weight-site cases above stay what they were.
  std::mt19937_64 rng2(20);
  auto below2 = [&rng2](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng2); };
  const std::vector<fault_site> every_site = {fault_site::weight_link, fault_site::weight_mult, fault_site::act_link,
                                              fault_site::act_mult, fault_site::acc};
  for (unsigned i = 36; i < 52; ++i) {
    lockstep_case c;
    c.index = i;
    c.rows = 1 + static_cast<unsigned>(below2(12));
    c.cols = 1 + static_cast<unsigned>(below2(12));
    c.bits = 2 + static_cast<unsigned>(below2(15));
    const unsigned accs[] = {std::max(2u, 2 * c.bits - 3), 32, 20, 64};
    c.acc_bits = accs[below2(4)];
    std::vector<const rtl::mult_entry*> fits;
    for (const auto& e : entries)
      if (e.bits >= c.bits) fits.push_back(&e);
    if (i % 3 != 0 && !fits.empty()) c.mult = fits[below2(fits.size())]->name;
    c.saboteurs_everywhere = i % 2 == 0;
    c.shape = {1 + below2(3 * c.rows), 1 + below2(40), 1 + below2(3 * c.cols)};
    const std::uint64_t cycles = hw::gemm_cycles(c.shape, c.rows, c.cols);
    c.faults = rtl::random_faults(6 + below2(6), c.rows, c.cols, c.bits, c.acc_bits, cycles, rng2, every_site);
    out.push_back(c);
  }
  // Then valid faults (the PE's MAC-enable gate), mostly alone, some with the data sites on the
  // same PEs' operands: several on one PE force both valid bits, which the drain must still gate.
  std::mt19937_64 rng3(21);
  auto below3 = [&rng3](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng3); };
  const std::vector<fault_site> valid_heavy = {fault_site::valid, fault_site::valid, fault_site::valid,
                                               fault_site::weight_mult, fault_site::act_mult, fault_site::acc};
  for (unsigned i = 52; i < 68; ++i) {
    lockstep_case c;
    c.index = i;
    c.rows = 1 + static_cast<unsigned>(below3(6));
    c.cols = 1 + static_cast<unsigned>(below3(6));
    c.bits = 2 + static_cast<unsigned>(below3(15));
    c.acc_bits = i % 2 ? 32 : std::max(2u, 2 * c.bits - 3);
    std::vector<const rtl::mult_entry*> fits;
    for (const auto& e : entries)
      if (e.bits >= c.bits) fits.push_back(&e);
    if (i % 3 == 1 && !fits.empty()) c.mult = fits[below3(fits.size())]->name;
    c.saboteurs_everywhere = i % 2 == 0;
    c.shape = {1 + below3(3 * c.rows), 1 + below3(30), 1 + below3(3 * c.cols)};
    const std::uint64_t cycles = hw::gemm_cycles(c.shape, c.rows, c.cols);
    const bool alone = i % 4 != 3;
    c.faults = rtl::random_faults(alone ? 1 + below3(3) : 8 + below3(6), c.rows, c.cols, c.bits, c.acc_bits, cycles,
                                  rng3, alone ? std::vector<fault_site>{fault_site::valid} : valid_heavy);
    out.push_back(c);
  }
  return out;
}

const std::vector<lockstep_case>& cases() {
  static const std::vector<lockstep_case> list = make_cases();
  return list;
}

std::string case_name(const testing::TestParamInfo<lockstep_case>& info) {
  const auto& c = info.param;
  std::ostringstream s;
  s << c.index << "_" << c.rows << "x" << c.cols << "_W" << c.bits << "_" << c.mult;
  return s.str();
}

std::string describe(const rtl::lockstep_result& r) {
  if (!r.first_mismatch) return "match";
  const auto& m = *r.first_mismatch;
  return "first mismatch at cycle " + std::to_string(m.cycle) + " PE (" + std::to_string(m.row) + "," +
         std::to_string(m.col) + ") " + m.signal + ": fast " + std::to_string(m.model) + ", structural " +
         std::to_string(m.rtl);
}

class structural_vs_fast : public testing::TestWithParam<lockstep_case> {};

TEST_P(structural_vs_fast, every_register_agrees_every_cycle) {
  const lockstep_case& c = GetParam();
  hw::array_config cfg;
  cfg.rows = c.rows;
  cfg.cols = c.cols;
  cfg.data_bits = c.bits;
  cfg.acc_bits = c.acc_bits;
  hw::array_config scfg = cfg;
  scfg.engine = hw::engine_kind::structural;
  if (c.saboteurs_everywhere) {
    for (unsigned s = 0; s < faults::fault_site_count; ++s) hw::plan_everywhere(scfg.saboteurs, static_cast<fault_site>(s));
  } else {
    scfg.saboteurs = hw::plan_for(c.faults);
  }
  std::shared_ptr<const hw::multiplier> mult;
  if (c.mult != "exact") mult = rtl::make_multiplier(c.mult, c.bits, c.eval);
  hw::systolic_array structural("array", scfg);
  hw::array_core fast(cfg);
  structural.set_multiplier(mult.get());
  fast.set_multiplier(mult.get());
  EXPECT_STREQ(structural.engine().evaluation(), fast.evaluation());
  sc_core::sc_start(sc_core::SC_ZERO_TIME);  // elaboration binds the structural array's ports

  const sw::gemm_workload w = sw::make_workload(c.shape, c.bits, sw::operand_fill::random, 1000 + c.index);
  const auto r = rtl::compare_engines(fast, structural.engine(), c.shape, w.act.data(), w.weight.data(), c.faults);
  std::string names;
  for (const fault& f : c.faults) names += faults::describe(f) + " ";
  EXPECT_TRUE(r.match) << describe(r) << " with faults " << names;
  EXPECT_EQ(r.cycles, hw::gemm_cycles(c.shape, c.rows, c.cols));
  EXPECT_EQ(r.compared_cycles, r.cycles + 1);
  EXPECT_EQ(r.rtl_out, r.model_out);
  if (c.faults.empty()) {
    auto ref = c.mult == "exact" ? nullptr : rtl::make_multiplier(c.mult, c.bits, rtl::eval_mode::rtl);
    EXPECT_EQ(r.rtl_out, sw::reference_gemm(w, c.acc_bits, ref.get()));
  }
}

INSTANTIATE_TEST_SUITE_P(random, structural_vs_fast, testing::ValuesIn(cases()), case_name);

// The case list covers what the acceptance asks for (this does not simulate).
TEST(structural_cases, cover_sizes_widths_multipliers_and_every_fault_site_kind_and_window) {
  std::set<std::tuple<int, int, int>> covered;  // site, kind, window class
  bool one_by_one = false, sixteen = false, w2 = false, w16 = false, evo = false, in_house = false;
  for (const auto& c : cases()) {
    one_by_one |= c.rows == 1 && c.cols == 1;
    sixteen |= c.rows == 16 && c.cols == 16;
    w2 |= c.bits == 2;
    w16 |= c.bits == 16;
    if (c.mult != "exact") (is_evoapprox(rtl::find_entry(c.mult)) ? evo : in_house) = true;
    for (const auto& f : c.faults) {
      const int window = f.first_cycle == f.last_cycle ? 0 : (f.first_cycle == 0 && f.last_cycle == UINT64_MAX ? 2 : 1);
      covered.insert({static_cast<int>(f.site), static_cast<int>(f.kind), window});
    }
  }
  EXPECT_GE(cases().size(), 50u);
  EXPECT_TRUE(one_by_one && sixteen && w2 && w16 && in_house);
  const bool evo_built = std::any_of(rtl::registered_entries().begin(), rtl::registered_entries().end(),
                                     [](const rtl::mult_entry& e) { return is_evoapprox(e); });
  EXPECT_EQ(evo, evo_built) << "EvoApprox circuits are in the list exactly when the build has them";
  // Every PE site (all but control, which only the fast engine models) x kind x window.
  EXPECT_EQ(covered.size(), 54u) << "every site x kind x {transient, span, whole run}";
}

// The structural engine against the verilated RTL array, on every configuration built up to 16x16.
std::vector<const rtl::array_entry*> small_built() {
  std::vector<const rtl::array_entry*> out;
  for (const auto& e : rtl::built_arrays())
    if (e.rows <= 16 && e.cols <= 16) out.push_back(&e);
  return out;
}

class structural_vs_rtl : public testing::TestWithParam<const rtl::array_entry*> {};

TEST_P(structural_vs_rtl, every_register_agrees_every_cycle_with_faults) {
  const rtl::array_entry& e = *GetParam();
  hw::array_config cfg;
  cfg.rows = e.rows;
  cfg.cols = e.cols;
  cfg.data_bits = e.data_bits;
  cfg.acc_bits = e.acc_bits;
  cfg.engine = hw::engine_kind::structural;
  for (unsigned s = 0; s < faults::fault_site_count; ++s) hw::plan_everywhere(cfg.saboteurs, static_cast<fault_site>(s));
  hw::systolic_array plain("plain", cfg), faulty("faulty", cfg), mixed("mixed", cfg), valid("valid", cfg);
  const auto mult = rtl::model_multiplier(e);
  plain.set_multiplier(mult.get());
  faulty.set_multiplier(mult.get());
  mixed.set_multiplier(mult.get());
  valid.set_multiplier(mult.get());
  sc_core::sc_start(sc_core::SC_ZERO_TIME);

  const hw::gemm_shape shape{2 * e.rows + 1, 2 * e.rows + 5, e.cols + (e.cols + 1) / 2};
  const sw::gemm_workload w = sw::make_workload(shape, e.data_bits, sw::operand_fill::random, 77);
  const auto clean = rtl::run_lockstep(e, plain.engine(), shape, w.act.data(), w.weight.data(), {});
  EXPECT_TRUE(clean.match) << describe(clean);
  EXPECT_EQ(clean.rtl_out, clean.model_out);

  std::mt19937_64 rng(e.rows * 31 + e.cols);
  rtl::lockstep_options opt;
  opt.faults = rtl::random_faults(8, e.rows, e.cols, e.data_bits, hw::gemm_cycles(shape, e.rows, e.cols), rng);
  const auto r = rtl::run_lockstep(e, faulty.engine(), shape, w.act.data(), w.weight.data(), opt);
  EXPECT_TRUE(r.match) << describe(r);
  EXPECT_EQ(r.rtl_out, r.model_out);
  // All five sites at once.
  opt.faults = rtl::random_faults(12, e.rows, e.cols, e.data_bits, e.acc_bits, hw::gemm_cycles(shape, e.rows, e.cols), rng,
                                  {fault_site::weight_link, fault_site::weight_mult, fault_site::act_link,
                                   fault_site::act_mult, fault_site::acc});
  const auto all = rtl::run_lockstep(e, mixed.engine(), shape, w.act.data(), w.weight.data(), opt);
  EXPECT_TRUE(all.match) << describe(all);
  EXPECT_EQ(all.rtl_out, all.model_out);
  // Valid faults against the RTL's valid masks, with data faults beside them.
  opt.faults = rtl::random_faults(10, e.rows, e.cols, e.data_bits, e.acc_bits, hw::gemm_cycles(shape, e.rows, e.cols), rng,
                                  {fault_site::valid, fault_site::valid, fault_site::act_link, fault_site::acc});
  const auto v = rtl::run_lockstep(e, valid.engine(), shape, w.act.data(), w.weight.data(), opt);
  EXPECT_TRUE(v.match) << describe(v);
  EXPECT_EQ(v.rtl_out, v.model_out);
}

std::string entry_name(const testing::TestParamInfo<const rtl::array_entry*>& info) {
  std::string s = info.param->name;
  std::replace(s.begin(), s.end(), ':', '_');
  return s;
}

INSTANTIATE_TEST_SUITE_P(built, structural_vs_rtl, testing::ValuesIn(small_built()), entry_name);

}  // namespace
}  // namespace axsa::test
