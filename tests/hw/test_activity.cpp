// Activity counts (hw/activity.h): on GEMMs of many shapes, both dataflows and random arrays, the fast
// engine's and the structural engine's counts are identical, equal the closed forms of
// hw::gemm_activity, and equal formulas written out here from the design (docs/energy.md): MACs =
// M*K*N, the feeders read every activation once per block of N and every weight once per block of M
// (os) or once (ws), every activation register is clocked each cycle. Zero operands are counted as
// the multiplier sees them, faults included.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "hw/activity.h"
#include "hw/array_core.h"
#include "hw/cycle_model.h"
#include "hw/systolic_array.h"
#include "sw/gemm_workload.h"

namespace axsa::test {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

struct count_case {
  hw::array_config cfg;
  hw::gemm_shape shape;
  std::vector<std::int16_t> act, weight;
};

// Operands with about a third zeros, so that zero_macs is neither 0 nor all.
std::vector<std::int16_t> operands(std::size_t n, unsigned bits, std::mt19937_64& rng) {
  const auto lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
  std::uniform_int_distribution<int> value(lo, hi), zero(0, 2);
  std::vector<std::int16_t> v(n);
  for (auto& x : v) x = static_cast<std::int16_t>(zero(rng) == 0 ? 0 : value(rng));
  return v;
}

std::vector<count_case> make_cases() {
  std::mt19937_64 rng(2026);
  auto in = [&rng](unsigned lo, unsigned hi) { return std::uniform_int_distribution<unsigned>(lo, hi)(rng); };
  std::vector<count_case> out;
  for (unsigned i = 0; i < 40; ++i) {
    count_case c;
    c.cfg.rows = i == 0 ? 1 : in(1, 12);
    c.cfg.cols = i == 1 ? 1 : in(1, 12);
    c.cfg.data_bits = in(2, 16);
    c.cfg.acc_bits = in(0, 1) ? 32 : 64;
    c.cfg.dataflow = i % 3 == 2 ? hw::dataflow_kind::weight_stationary : hw::dataflow_kind::output_stationary;
    c.cfg.engine = hw::engine_kind::structural;
    c.shape = {in(1, 40), in(1, 40), in(1, 40)};
    c.act = operands(c.shape.m * c.shape.k, c.cfg.data_bits, rng);
    c.weight = operands(c.shape.k * c.shape.n, c.cfg.data_bits, rng);
    out.push_back(std::move(c));
  }
  return out;
}

hw::activity run(hw::array_engine& engine, const count_case& c, std::vector<std::int64_t>& out) {
  out.assign(c.shape.m * c.shape.n, 0);
  const hw::activity before = engine.counts();
  engine.start({c.shape, c.act.data(), c.weight.data(), out.data()});
  engine.run();
  return engine.counts().since(before);
}

TEST(activity, engines_count_alike_and_match_the_closed_forms) {
  auto cases = make_cases();
  // Every structural array is elaborated before the simulation starts.
  std::vector<std::unique_ptr<hw::systolic_array>> structural;
  for (std::size_t i = 0; i < cases.size(); ++i)
    structural.push_back(std::make_unique<hw::systolic_array>(("s" + std::to_string(i)).c_str(), cases[i].cfg));
  sc_core::sc_start(sc_core::SC_ZERO_TIME);

  for (std::size_t i = 0; i < cases.size(); ++i) {
    const count_case& c = cases[i];
    SCOPED_TRACE("case " + std::to_string(i) + ": " + std::to_string(c.cfg.rows) + "x" + std::to_string(c.cfg.cols) +
                 (c.cfg.dataflow == hw::dataflow_kind::output_stationary ? " os" : " ws") + " M" +
                 std::to_string(c.shape.m) + " K" + std::to_string(c.shape.k) + " N" + std::to_string(c.shape.n));
    hw::array_config fast_cfg = c.cfg;
    fast_cfg.engine = hw::engine_kind::fast;
    hw::array_core fast(fast_cfg);
    std::vector<std::int64_t> out_fast, out_struct;
    const hw::activity f = run(fast, c, out_fast);
    const hw::activity s = run(structural[i]->engine(), c, out_struct);
    EXPECT_EQ(out_fast, out_struct);
    EXPECT_TRUE(f == s) << "fast and structural engines count differently";

    hw::activity closed = hw::gemm_activity(c.cfg, c.shape);
    closed.zero_macs = hw::zero_operand_macs(c.shape, c.act.data(), c.weight.data());
    EXPECT_TRUE(f == closed) << "the engines differ from hw::gemm_activity";

    // The design, written out.
    const std::uint64_t R = c.cfg.rows, C = c.cfg.cols, M = c.shape.m, K = c.shape.k, N = c.shape.n;
    const bool os = c.cfg.dataflow == hw::dataflow_kind::output_stationary;
    const std::uint64_t cycles = os ? ceil_div(M, R) * ceil_div(N, C) * (K + 2 * R + C - 2)
                                    : ceil_div(K, R) * ceil_div(N, C) * (2 * R + C + M - 1);
    EXPECT_EQ(f.cycles, cycles);
    EXPECT_EQ(f.macs, M * K * N);
    std::uint64_t zeros = 0;
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t k = 0; k < K; ++k)
        for (std::size_t n = 0; n < N; ++n) zeros += c.act[m * K + k] == 0 || c.weight[k * N + n] == 0;
    EXPECT_EQ(f.zero_macs, zeros);
    EXPECT_EQ(f.act_reg_writes, R * C * cycles);
    EXPECT_EQ(f.act_buffer_reads, M * K * ceil_div(N, C));
    if (os) {
      EXPECT_EQ(f.weight_reg_writes, R * C * cycles);
      EXPECT_EQ(f.weight_buffer_reads, K * N * ceil_div(M, R));
      EXPECT_EQ(f.acc_writes, M * K * N + ceil_div(M, R) * ceil_div(N, C) * R * R * C);
      EXPECT_EQ(f.drain_moves, M * N);
      EXPECT_EQ(f.out_buffer_reads, 0u);
    } else {
      const std::uint64_t folds = ceil_div(K, R) * ceil_div(N, C);
      EXPECT_EQ(f.weight_reg_writes, folds * R * R * C);
      EXPECT_EQ(f.weight_buffer_reads, K * N);
      EXPECT_EQ(f.acc_writes, R * C * cycles);
      EXPECT_EQ(f.drain_moves, M * N * ceil_div(K, R));
      EXPECT_EQ(f.out_buffer_reads, M * N * (ceil_div(K, R) - 1));
    }
    EXPECT_EQ(f.out_buffer_writes, f.drain_moves);
    EXPECT_EQ(f.bus_beats, 0u);
  }
}

// Off, the fast engine counts nothing and computes the same results; on again, it carries on.
TEST(activity, counting_can_be_switched_off) {
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 5;
  const auto w = sw::make_workload({9, 13, 11}, 8, sw::operand_fill::random, 3);
  hw::array_core core(cfg);
  std::vector<std::int64_t> on(9 * 11), off(9 * 11);
  core.start({w.shape, w.act.data(), w.weight.data(), on.data()});
  core.run();
  const hw::activity first = core.counts();
  EXPECT_EQ(first.macs, 9u * 13 * 11);
  core.set_counting(false);
  core.start({w.shape, w.act.data(), w.weight.data(), off.data()});
  core.run();
  EXPECT_TRUE(core.counts() == first);
  EXPECT_EQ(on, off);
  core.set_counting(true);
  core.start({w.shape, w.act.data(), w.weight.data(), off.data()});
  core.run();
  EXPECT_EQ(core.counts().macs, 2 * first.macs);
}

// A stuck-at-0 on a multiplier's weight operand: the PE multiplies zeros it would not have, and both
// engines count those zero operands as the multiplier sees them.
TEST(activity, zero_operands_are_counted_as_the_faulty_multiplier_sees_them) {
  hw::array_config cfg;
  cfg.rows = 3;
  cfg.cols = 3;
  cfg.data_bits = 2;  // weights in -2..1: sticking bit 1 at 0 and bit 0 at 0 makes every weight 0
  cfg.engine = hw::engine_kind::structural;
  cfg.saboteurs.every_mult = true;
  hw::systolic_array structural("faulty", cfg);
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  hw::array_config fast_cfg = cfg;
  fast_cfg.engine = hw::engine_kind::fast;
  hw::array_core fast(fast_cfg);
  std::vector<faults::fault> list;
  for (unsigned bit = 0; bit < 2; ++bit) {
    faults::fault f;
    f.site = faults::fault_site::weight_mult;
    f.kind = faults::fault_kind::stuck_at_0;
    f.row = 1;
    f.col = 2;
    f.bit = bit;
    list.push_back(f);
  }
  fast.set_faults(list);
  structural.engine().set_faults(list);
  std::mt19937_64 rng(5);
  count_case c;
  c.cfg = cfg;
  c.shape = {3, 20, 3};
  c.act.assign(60, 1);  // no zero activations
  c.weight = operands(60, 2, rng);
  std::vector<std::int64_t> a, b;
  const hw::activity f = run(fast, c, a);
  const hw::activity s = run(structural.engine(), c, b);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(f == s);
  // Output row 1 meets the faulty PE (1, 2) in column 2, whose multiplier sees only zero weights.
  std::uint64_t want = 0;
  for (std::size_t m = 0; m < 3; ++m)
    for (std::size_t k = 0; k < 20; ++k)
      for (std::size_t n = 0; n < 3; ++n) want += (m == 1 && n == 2) ? 1 : c.weight[k * 3 + n] == 0;
  EXPECT_EQ(f.zero_macs, want);
}

}  // namespace
}  // namespace axsa::test
