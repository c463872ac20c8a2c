// The cycle engine without a kernel: the skew/timing contract PE by PE and cycle by cycle, the
// multiplier slot path, and the errors it raises.
#include <gtest/gtest.h>

#include <cmath>

#include "hw/array_core.h"
#include "hw/mac_kernels.h"
#include "hw/tabled_multiplier.h"
#include "sw/gemm_workload.h"

namespace axsa::hw {
namespace {

array_config small_config(unsigned r, unsigned c, unsigned w = 8) {
  array_config cfg;
  cfg.rows = r;
  cfg.cols = c;
  cfg.data_bits = w;
  return cfg;
}

// During cycle t of a fold, PE (i,j) sees act[m0+i][t-i-j] from the west and weight[t-i-j][n0+j]
// from the north (0 outside the reduction), and accumulates exactly when the pair is real.
TEST(array_core, links_follow_the_documented_skew) {
  const unsigned R = 3, C = 4;
  const auto w = sw::make_workload({5, 6, 7}, 8, sw::operand_fill::random, 3);
  std::vector<std::int64_t> out(5 * 7);
  array_core core(small_config(R, C));
  core.start({w.shape, w.act.data(), w.weight.data(), out.data()});
  const std::uint64_t per_fold = 6 + 2 * R + C - 2;
  std::uint64_t checked_macs = 0;
  for (std::uint64_t cycle = 0; core.busy(); ++cycle) {
    const std::uint64_t fold = cycle / per_fold, t = cycle % per_fold;
    const std::size_t m0 = (fold / 2) * R, n0 = (fold % 2) * C;
    ASSERT_EQ(core.fold_index(), fold);
    for (unsigned i = 0; i < R; ++i) {
      for (unsigned j = 0; j < C; ++j) {
        const long long k = static_cast<long long>(t) - i - j;
        const bool row_ok = m0 + i < 5, col_ok = n0 + j < 7;
        const bool in_k = k >= 0 && k < 6 && t < 6 + R + C - 2;
        const std::int32_t a = (in_k && row_ok) ? w.act[(m0 + i) * 6 + k] : 0;
        const std::int32_t b = (in_k && col_ok) ? w.weight[k * 7 + n0 + j] : 0;
        ASSERT_EQ(core.west_in(i, j), a) << "cycle " << cycle << " PE " << i << "," << j;
        ASSERT_EQ(core.north_in(i, j), b) << "cycle " << cycle << " PE " << i << "," << j;
        ASSERT_EQ(core.mac_enabled(i, j), in_k && row_ok && col_ok) << "cycle " << cycle;
        checked_macs += core.mac_enabled(i, j);
      }
    }
    core.step();
  }
  EXPECT_EQ(checked_macs, 5u * 6 * 7);
  EXPECT_EQ(out, sw::reference_gemm(w, 32));
}

// Drain: during drain cycle d of a fold, column c's drain port carries row R-1-d of the tile.
TEST(array_core, drain_emits_bottom_row_first) {
  const auto w = sw::make_workload({4, 3, 2}, 8, sw::operand_fill::random, 5);
  std::vector<std::int64_t> out(4 * 2);
  array_core core(small_config(4, 2));
  core.start({w.shape, w.act.data(), w.weight.data(), out.data()});
  const auto expected = sw::reference_gemm(w, 32);
  unsigned d = 0;
  while (core.busy()) {
    if (core.current_phase() == array_core::phase::drain) {
      for (unsigned c = 0; c < 2; ++c) EXPECT_EQ(core.drain_out(c), expected[(3 - d) * 2 + c]) << "drain " << d;
      ++d;
    } else {
      EXPECT_EQ(core.drain_out(0), 0);
    }
    core.step();
  }
  EXPECT_EQ(d, 4u);
  for (unsigned r = 0; r < 4; ++r)
    for (unsigned c = 0; c < 2; ++c) EXPECT_EQ(core.acc(r, c), 0) << "drain leaves the accumulators cleared";
}

// An inexact multiplier in the slot: every product must go through it.
class odd_multiplier final : public multiplier {
 public:
  std::string name() const override { return "odd8"; }
  unsigned bits() const override { return 8; }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override { return (a * b) | 1; }
};

// The same, 16 bits wide, for tables of any data width.
class odd_multiplier_any final : public multiplier {
 public:
  std::string name() const override { return "odd16"; }
  unsigned bits() const override { return 16; }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override { return (a * b) | 1; }
};

TEST(array_core, slot_multiplier_is_used_for_every_product) {
  const auto w = sw::make_workload({9, 17, 6}, 8, sw::operand_fill::random, 11);
  std::vector<std::int64_t> out(9 * 6);
  array_core core(small_config(4, 4));
  odd_multiplier odd;
  core.set_multiplier(&odd);
  core.start({w.shape, w.act.data(), w.weight.data(), out.data()});
  core.run();
  EXPECT_EQ(out, sw::reference_gemm(w, 32, &odd));
  EXPECT_NE(out, sw::reference_gemm(w, 32));
}

// The table path (AVX2 gathers where available, scalar remainders and per-row runs) must give
// what the multiplier gives: full tiles (the flat loop), ragged tiles and short K (row runs),
// 8- and 12-bit data, 32- and 64-bit accumulators.
TEST(array_core, table_path_equals_the_multiplier_it_tabulates) {
  struct shape_case {
    unsigned r, c, w, acc;
    gemm_shape s;
  };
  const std::vector<shape_case> cases = {{28, 28, 8, 32, {56, 300, 56}}, {28, 28, 8, 32, {30, 7, 29}},
                                         {7, 13, 8, 32, {15, 90, 27}},   {5, 9, 12, 32, {11, 40, 10}},
                                         {8, 8, 8, 48, {17, 60, 9}},     {4, 4, 2, 16, {9, 33, 5}}};
  auto odd = std::make_shared<odd_multiplier_any>();
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.r) + "x" + std::to_string(c.c) + " W" + std::to_string(c.w));
    const auto w = sw::make_workload(c.s, c.w, sw::operand_fill::random, 17);
    std::vector<std::int64_t> out(c.s.m * c.s.n);
    array_config cfg = small_config(c.r, c.c, c.w);
    cfg.acc_bits = c.acc;
    array_core core(cfg);
    tabled_multiplier table(odd, c.w);
    core.set_multiplier(&table);
    core.start({w.shape, w.act.data(), w.weight.data(), out.data()});
    core.run();
    EXPECT_EQ(out, sw::reference_gemm(w, c.acc, odd.get()));
  }
  EXPECT_TRUE(std::string(kernels::table_kernel_name()) == "avx2" ||
              std::string(kernels::table_kernel_name()) == "scalar");
}

TEST(tabled_multiplier, rejects_impossible_tables) {
  auto odd = std::make_shared<odd_multiplier_any>();
  EXPECT_THROW(tabled_multiplier(odd, 13), config_error);
  EXPECT_THROW(tabled_multiplier(odd, 1), config_error);
  EXPECT_THROW(tabled_multiplier(odd, 8, std::vector<std::int32_t>(100)), config_error);
  const tabled_multiplier t(odd, 4);
  EXPECT_EQ(t.multiply(-8, 7), (-8 * 7) | 1);
  EXPECT_EQ(t.product_table(4)[(0x8u << 4) | 0x7u], (-8 * 7) | 1);
  EXPECT_EQ(t.product_table(8), nullptr);
}

TEST(array_core, rejects_misuse_with_clear_errors) {
  array_core core(small_config(2, 2, 12));
  odd_multiplier narrow;
  EXPECT_THROW(core.set_multiplier(&narrow), config_error);
  const auto w = sw::make_workload({2, 2, 2}, 8, sw::operand_fill::random, 1);
  std::vector<std::int64_t> out(4);
  core.start({w.shape, w.act.data(), w.weight.data(), out.data()});
  EXPECT_THROW(core.start({w.shape, w.act.data(), w.weight.data(), out.data()}), config_error);
  EXPECT_THROW(core.set_multiplier(nullptr), config_error);
  core.run();
  EXPECT_THROW(core.start({{2, 0, 2}, w.act.data(), w.weight.data(), out.data()}), config_error);
  EXPECT_THROW(core.start({{2, 2, 2}, nullptr, w.weight.data(), out.data()}), config_error);
}

TEST(array_config, validate_names_the_parameter) {
  auto expect_error = [](array_config cfg, const std::string& fragment) {
    try {
      cfg.validate();
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  array_config c;
  c.rows = 0;
  expect_error(c, "rows must be in 1..128 (got 0)");
  c = {};
  c.cols = 129;
  expect_error(c, "cols must be in 1..128 (got 129)");
  c = {};
  c.data_bits = 1;
  expect_error(c, "data bits must be in 2..16 (got 1)");
  c = {};
  c.data_bits = 17;
  expect_error(c, "data bits");
  c = {};
  c.acc_bits = 65;
  expect_error(c, "accumulator bits");
  c = {};
  c.clock_period_ns = -1;
  expect_error(c, "clock period");
  for (double bad : {0.0, 1e-4, 0.0015, 2e6, std::nan(""), HUGE_VAL}) {
    c = {};
    c.clock_period_ns = bad;
    expect_error(c, "clock period must be 0.001..1000000 ns");
  }
  for (double good : {0.001, 0.25, 1.0, 2.5, 1e6}) {
    c = {};
    c.clock_period_ns = good;
    EXPECT_NO_THROW(c.validate()) << good;
  }
}

TEST(wrap_signed, twos_complement_wrap) {
  EXPECT_EQ(wrap_signed(0x7FF, 12), 2047);
  EXPECT_EQ(wrap_signed(0x800, 12), -2048);
  EXPECT_EQ(wrap_signed(0xFFF, 12), -1);
  EXPECT_EQ(wrap_signed(0x1000, 12), 0);
  EXPECT_EQ(wrap_signed(static_cast<std::uint64_t>(-5), 64), -5);
  EXPECT_EQ(wrap_signed(3, 2), -1);
}

}  // namespace
}  // namespace axsa::hw
