// The weight-stationary dataflow (hw/dataflow.h): GEMMs on the fast and the structural engine equal
// the plain C++ reference; the two engines agree register by register on every cycle, faults
// included, on random configurations; and the cycle count equals SCALE-Sim's published
// weight-stationary formula plus the documented offset (docs/cycle-model.md) on LeNet-5's layers at
// 8x8, 16x16 and 28x28. One elaboration holds every structural array, so one process per test.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hw/array_core.h"
#include "hw/cycle_model.h"
#include "hw/systolic_array.h"
#include "rtl/array/lockstep.h"
#include "rtl/mult_registry.h"
#include "sw/gemm_workload.h"

namespace axsa::test {
namespace {

hw::array_config ws_config(unsigned rows, unsigned cols, unsigned bits, unsigned acc_bits = 32) {
  hw::array_config cfg;
  cfg.rows = rows;
  cfg.cols = cols;
  cfg.data_bits = bits;
  cfg.acc_bits = acc_bits;
  cfg.dataflow = hw::dataflow_kind::weight_stationary;
  return cfg;
}

// SCALE-Sim (Samajdar et al., "SCALE-Sim: Systolic CNN Accelerator Simulator", 2018), weight
// stationary: each fold of an R x C array takes 2R + C + T - 2 cycles for T = M rows of the input
// (the output pixels), over ceil(K/R) * ceil(N/C) folds. axsa adds one cycle per fold: the last
// partial sum leaves from the bottom row's accumulator register, one edge after its last MAC.
std::uint64_t scale_sim_ws(const hw::gemm_shape& s, unsigned r, unsigned c) {
  return ((s.k + r - 1) / r) * ((s.n + c - 1) / c) * (2 * r + c + s.m - 2);
}
std::uint64_t documented_offset(const hw::gemm_shape& s, unsigned r, unsigned c) {
  return ((s.k + r - 1) / r) * ((s.n + c - 1) / c);
}

std::string describe(const rtl::lockstep_result& r) {
  if (!r.first_mismatch) return "match";
  const auto& m = *r.first_mismatch;
  return "first mismatch at cycle " + std::to_string(m.cycle) + " PE (" + std::to_string(m.row) + "," +
         std::to_string(m.col) + ") " + m.signal + ": fast " + std::to_string(m.model) + ", structural " +
         std::to_string(m.rtl);
}

TEST(weight_stationary, engines_agree_every_cycle_and_match_the_reference) {
  struct ws_case {
    hw::array_config cfg;
    std::string mult;
    hw::gemm_shape shape;
    std::unique_ptr<hw::systolic_array> structural;
  };
  std::mt19937_64 rng(31);
  auto below = [&rng](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  std::vector<ws_case> cases;
  const std::vector<std::string> mults = {"exact", "drum8_k4", "trunc12_k6", "mitchell8", "exact16"};
  for (unsigned i = 0; i < 16; ++i) {
    ws_case c;
    const unsigned rows = i == 0 ? 1 : i == 1 ? 16 : 1 + static_cast<unsigned>(below(16));
    const unsigned cols = i == 0 ? 1 : i == 1 ? 16 : 1 + static_cast<unsigned>(below(16));
    c.mult = i == 1 ? "exact16" : mults[i % mults.size()];
    const unsigned max_bits = c.mult == "exact" || c.mult == "exact16" ? 16 : c.mult == "trunc12_k6" ? 12 : 8;
    const unsigned bits = i == 1 ? 16 : 2 + static_cast<unsigned>(below(max_bits - 1));
    c.cfg = ws_config(rows, cols, bits, i % 3 == 0 ? std::max(2u, 2 * bits - 2) : 32);
    c.shape = {1 + below(40), 1 + below(3 * rows), 1 + below(3 * cols)};
    hw::array_config scfg = c.cfg;
    scfg.engine = hw::engine_kind::structural;
    scfg.saboteurs.every_link = scfg.saboteurs.every_mult = true;
    c.structural = std::make_unique<hw::systolic_array>(("array_" + std::to_string(i)).c_str(), scfg);
    cases.push_back(std::move(c));
  }
  sc_core::sc_start(sc_core::SC_ZERO_TIME);

  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ws_case& c = cases[i];
    SCOPED_TRACE("case " + std::to_string(i) + ": " + std::to_string(c.cfg.rows) + "x" + std::to_string(c.cfg.cols) +
                 " W" + std::to_string(c.cfg.data_bits) + " " + c.mult + " M" + std::to_string(c.shape.m) + " K" +
                 std::to_string(c.shape.k) + " N" + std::to_string(c.shape.n));
    std::shared_ptr<const hw::multiplier> mult;
    if (c.mult != "exact") mult = rtl::make_multiplier(c.mult, c.cfg.data_bits, rtl::eval_mode::table);
    const auto w = sw::make_workload(c.shape, c.cfg.data_bits, i % 4 == 3 ? sw::operand_fill::min : sw::operand_fill::random,
                                     500 + i);
    // Fault-free: both engines, every register, and the reference.
    hw::array_core fast(c.cfg);
    fast.set_multiplier(mult.get());
    c.structural->set_multiplier(mult.get());
    const auto clean = rtl::compare_engines(fast, c.structural->engine(), c.shape, w.act.data(), w.weight.data(), {});
    EXPECT_TRUE(clean.match) << describe(clean);
    auto ref = c.mult == "exact" ? nullptr : rtl::make_behavioural(rtl::find_entry(c.mult));
    EXPECT_EQ(clean.model_out, sw::reference_gemm(w, c.cfg.acc_bits, ref.get()));
    EXPECT_EQ(clean.rtl_out, clean.model_out);
    EXPECT_EQ(clean.cycles, hw::gemm_cycles(c.shape, c.cfg));
    EXPECT_EQ(clean.cycles, scale_sim_ws(c.shape, c.cfg.rows, c.cfg.cols) + documented_offset(c.shape, c.cfg.rows, c.cfg.cols));

    // With faults (a second job on both: the windows count from the start of the first).
    hw::array_core fast2(c.cfg);
    fast2.set_multiplier(mult.get());
    hw::array_core warm(c.cfg);  // brings a fresh fast engine to the structural engine's cycle count
    std::vector<std::int64_t> scratch(c.shape.m * c.shape.n);
    warm.start({c.shape, w.act.data(), w.weight.data(), scratch.data()});
    warm.run();
    fast2.start({c.shape, w.act.data(), w.weight.data(), scratch.data()});
    fast2.run();
    const std::uint64_t base = fast2.total_cycles();
    auto list = rtl::random_faults(5, c.cfg.rows, c.cfg.cols, c.cfg.data_bits, clean.cycles, rng);
    for (auto& f : list) {
      f.first_cycle += base;
      if (f.last_cycle != UINT64_MAX) f.last_cycle += base;
    }
    const auto faulty = rtl::compare_engines(fast2, c.structural->engine(), c.shape, w.act.data(), w.weight.data(), list);
    EXPECT_TRUE(faulty.match) << describe(faulty);
    EXPECT_EQ(faulty.rtl_out, faulty.model_out);
  }
}

// A weight-link stuck-at in WS corrupts the weight PE (r, c) loads and every weight that passes it
// to the rows below while preloading; a weight-mult fault only PE (r, c)'s products. Checked against
// the reference with the corrupted weights written in by hand.
TEST(weight_stationary, faults_act_on_the_loaded_weights) {
  const hw::array_config cfg = ws_config(4, 3, 8);
  const hw::gemm_shape shape{7, 4, 3};  // one fold: K = R, N = C
  const auto w = sw::make_workload(shape, 8, sw::operand_fill::random, 8);
  for (const auto site : {faults::fault_site::weight_link, faults::fault_site::weight_mult}) {
    hw::array_core fast(cfg);
    const faults::fault f{site, faults::fault_kind::bit_flip, 1, 2, 5};
    fast.set_faults({f});
    std::vector<std::int64_t> out(shape.m * shape.n);
    fast.start({shape, w.act.data(), w.weight.data(), out.data()});
    fast.run();
    sw::gemm_workload bad = w;
    // PE (r, c) holds weight (r, c). A link fault at (1, 2) hits the weights loaded by rows 1..3 as
    // they pass row 1 (weights of rows 2 and 3 pass it on their way down) and row 1's own; mult: row 1.
    for (std::size_t k = 1; k < (site == faults::fault_site::weight_link ? 4u : 2u); ++k) {
      auto& v = bad.weight[k * shape.n + 2];
      v = static_cast<std::int16_t>(f.apply(v, 8));
    }
    EXPECT_EQ(out, sw::reference_gemm(bad, 32)) << faults::to_string(site);
    EXPECT_NE(out, sw::reference_gemm(w, 32));
  }
}

// LeNet-5 of models/ as GEMMs per image (conv as im2col: M output pixels, K = C_in * 5 * 5, N filters;
// the dense layers with one image): the fast engine's stepped cycle count equals SCALE-Sim's
// formula plus one cycle per fold, on 8x8, 16x16 and 28x28.
TEST(weight_stationary, lenet5_cycles_follow_scale_sim_plus_the_documented_offset) {
  const std::vector<hw::gemm_shape> lenet5 = {{576, 25, 6}, {64, 150, 16}, {1, 256, 120}, {1, 120, 84}, {1, 84, 10}};
  for (unsigned size : {8u, 16u, 28u}) {
    for (const auto& s : lenet5) {
      const hw::array_config cfg = ws_config(size, size, 8);
      const auto w = sw::make_workload(s, 8, sw::operand_fill::random, size);
      std::vector<std::int64_t> out(s.m * s.n);
      hw::array_core fast(cfg);
      fast.start({s, w.act.data(), w.weight.data(), out.data()});
      const std::uint64_t stepped = fast.run();
      EXPECT_EQ(stepped, scale_sim_ws(s, size, size) + documented_offset(s, size, size))
          << size << "x" << size << " M" << s.m << " K" << s.k << " N" << s.n;
      EXPECT_EQ(stepped, hw::gemm_cycles(s, cfg));
      EXPECT_EQ(out, sw::reference_gemm(w, 32));
    }
  }
}

}  // namespace
}  // namespace axsa::test
