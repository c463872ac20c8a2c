// The dataflow descriptor is the one place the timing lives: a test-only variant with two register
// stages per PE on the weight path (array_config::weight_hop = 2, read only by hw/dataflow.h and
// by the engines to size their weight pipelines) changes the timing of the fast engine, the
// structural engine and the cycle model alike. The expected timing is written out here from the
// variant's definition, independently of the descriptor: the west feeders skew by 2r, PE (r, c)
// first accumulates in cycle 2r + c of a fold, and a fold takes K + 2(R-1) + (C-1) + R cycles.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "hw/array_core.h"
#include "hw/cycle_model.h"
#include "hw/systolic_array.h"
#include "rtl/array/lockstep.h"
#include "sw/gemm_workload.h"

namespace axsa::test {
namespace {

std::uint64_t variant_cycles(const hw::gemm_shape& s, unsigned r, unsigned c) {
  const std::uint64_t folds = ((s.m + r - 1) / r) * ((s.n + c - 1) / c);
  return folds * (s.k + 2 * (r - 1) + (c - 1) + r);
}

TEST(dataflow_variant, two_weight_stages_retime_both_engines_and_the_cycle_model_alike) {
  struct run {
    hw::array_config cfg;
    hw::gemm_shape shape;
    std::unique_ptr<hw::systolic_array> structural;
  };
  std::vector<run> runs;
  for (const auto& [rows, cols, bits, m, k, n] : std::vector<std::tuple<unsigned, unsigned, unsigned, std::size_t, std::size_t, std::size_t>>{
           {3, 4, 8, 7, 9, 10}, {1, 1, 5, 2, 3, 2}, {5, 2, 16, 11, 1, 3}, {4, 4, 8, 4, 30, 4}}) {
    run r;
    r.cfg.rows = rows;
    r.cfg.cols = cols;
    r.cfg.data_bits = bits;
    r.cfg.weight_hop = 2;
    r.shape = {m, k, n};
    hw::array_config scfg = r.cfg;
    scfg.engine = hw::engine_kind::structural;
    scfg.saboteurs.every_link = scfg.saboteurs.every_mult = true;
    r.structural = std::make_unique<hw::systolic_array>(("array_" + std::to_string(runs.size())).c_str(), scfg);
    runs.push_back(std::move(r));
  }
  sc_core::sc_start(sc_core::SC_ZERO_TIME);

  std::mt19937_64 rng(5);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const run& r = runs[i];
    SCOPED_TRACE("run " + std::to_string(i));
    const auto w = sw::make_workload(r.shape, r.cfg.data_bits, sw::operand_fill::random, 40 + i);
    const std::uint64_t expected = variant_cycles(r.shape, r.cfg.rows, r.cfg.cols);
    // The cycle model, from the descriptor.
    EXPECT_EQ(hw::gemm_cycles(r.shape, r.cfg), expected);
    if (r.cfg.rows > 1) {
      EXPECT_NE(hw::gemm_cycles(r.shape, r.cfg.rows, r.cfg.cols), expected) << "the variant differs from the design";
    }

    // The fast engine: its cycles, its outputs, and the cycle in which each PE first accumulates.
    hw::array_core fast(r.cfg);
    std::vector<std::int64_t> out(r.shape.m * r.shape.n);
    fast.start({r.shape, w.act.data(), w.weight.data(), out.data()});
    std::vector<std::int64_t> first_mac(static_cast<std::size_t>(r.cfg.rows) * r.cfg.cols, -1);
    for (std::uint64_t t = 0; fast.busy(); ++t) {
      for (unsigned pr = 0; pr < r.cfg.rows; ++pr)
        for (unsigned pc = 0; pc < r.cfg.cols; ++pc)
          if (fast.mac_enabled(pr, pc) && first_mac[pr * r.cfg.cols + pc] < 0) first_mac[pr * r.cfg.cols + pc] = static_cast<std::int64_t>(t);
      fast.step();
    }
    EXPECT_EQ(fast.job_cycles(), expected);
    EXPECT_EQ(out, sw::reference_gemm(w, r.cfg.acc_bits));
    for (unsigned pr = 0; pr < std::min<std::size_t>(r.cfg.rows, r.shape.m); ++pr)
      for (unsigned pc = 0; pc < std::min<std::size_t>(r.cfg.cols, r.shape.n); ++pc)
        EXPECT_EQ(first_mac[pr * r.cfg.cols + pc], 2 * pr + pc) << "PE " << pr << "," << pc;

    // The structural engine, register by register against a fresh fast engine, with faults.
    hw::array_core fresh(r.cfg);
    const auto faults = rtl::random_faults(4, r.cfg.rows, r.cfg.cols, r.cfg.data_bits, expected, rng);
    const auto cmp = rtl::compare_engines(fresh, r.structural->engine(), r.shape, w.act.data(), w.weight.data(), faults);
    ASSERT_TRUE(cmp.match) << "first mismatch at cycle " << cmp.first_mismatch->cycle << " PE (" << cmp.first_mismatch->row
                           << "," << cmp.first_mismatch->col << ") " << cmp.first_mismatch->signal;
    EXPECT_EQ(cmp.cycles, expected);
    EXPECT_EQ(cmp.rtl_out, cmp.model_out);
  }
}

}  // namespace
}  // namespace axsa::test
