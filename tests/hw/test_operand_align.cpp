// --operand-align high on every engine: the fast engine and the structural engine (compared with
// each other every cycle, then with the reference), the functional twin and the TLM accelerator
// driven by the host driver, each against a plain C++ GEMM that evaluates the circuit on the shifted
// operands (tests/support/aligned_reference.h). Cases: W < N (8-bit data on 12-bit circuits,
// 6-bit data on 12-bit and 8-bit circuits), W == N (high equals low), an exact circuit (high equals
// a * b), a 16-bit circuit evaluated per product (no table), random shapes and extreme operands.
// Each case elaborates, so each runs in its own process.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "hw/array_core.h"
#include "hw/systolic_array.h"
#include "rtl/array/lockstep.h"
#include "rtl/mult_registry.h"
#include "sw/accelerated_system.h"
#include "sw/functional_engine.h"
#include "tests/support/aligned_reference.h"

namespace axsa::test {
namespace {

struct align_case {
  std::string mult;
  unsigned bits = 8, rows = 4, cols = 4, acc_bits = 32;
  sw::operand_fill fill = sw::operand_fill::random;
  std::uint64_t seed = 1;
};

void PrintTo(const align_case& c, std::ostream* os) {
  *os << c.mult << " W" << c.bits << " " << c.rows << "x" << c.cols << " A" << c.acc_bits << " seed " << c.seed;
}

std::string case_name(const testing::TestParamInfo<align_case>& info) {
  const align_case& c = info.param;
  const char* fill = c.fill == sw::operand_fill::random ? "random" : c.fill == sw::operand_fill::min ? "min" : "max";
  return c.mult + "_W" + std::to_string(c.bits) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_" +
         fill + "_" + std::to_string(c.seed);
}

std::vector<align_case> cases() {
  std::vector<align_case> out = {
      {"drum12_k6", 8, 4, 4, 32, sw::operand_fill::random, 1},   // the survey's shape: 8-bit data, 12-bit circuit
      {"drum12_k6", 8, 3, 5, 32, sw::operand_fill::min, 2},      // most negative operands
      {"mitchell12", 6, 5, 3, 24, sw::operand_fill::random, 3},  // s = 6, narrow accumulator
      {"trunc12_k6", 8, 2, 7, 32, sw::operand_fill::max, 4},
      {"kulkarni12", 8, 1, 1, 32, sw::operand_fill::random, 5},  // 1x1 array
      {"bam8_h1_v4", 6, 4, 4, 14, sw::operand_fill::min, 6},     // W < N = 8, wrapping accumulator
      {"drum8_k4", 8, 4, 4, 32, sw::operand_fill::random, 7},    // W == N: high is low
      {"exact12", 8, 4, 4, 32, sw::operand_fill::min, 8},        // exact: high is a * b
      {"trunc16_k8", 10, 3, 3, 40, sw::operand_fill::random, 9}, // N = 16: per product, no table
  };
  return out;
}

std::shared_ptr<const hw::multiplier> circuit_of(const align_case& c) {
  return rtl::make_multiplier(c.mult, c.bits, rtl::eval_mode::rtl);  // the circuit itself, low alignment
}

hw::array_config config_of(const align_case& c) {
  hw::array_config cfg;
  cfg.rows = c.rows;
  cfg.cols = c.cols;
  cfg.data_bits = c.bits;
  cfg.acc_bits = c.acc_bits;
  cfg.align = hw::operand_align::high;
  return cfg;
}

// A random shape with ragged tiles, drawn from the case's seed; rows of mixed extremes when random.
sw::gemm_workload workload_of(const align_case& c) {
  std::mt19937_64 rng(c.seed * 977);
  auto in = [&rng](std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(rng); };
  const hw::gemm_shape shape{in(1, 3 * c.rows + 1), in(1, 40), in(1, 3 * c.cols + 1)};
  sw::gemm_workload w = sw::make_workload(shape, c.bits, c.fill, c.seed);
  if (c.fill == sw::operand_fill::random) {
    const auto lo = static_cast<std::int16_t>(-(1 << (c.bits - 1))), hi = static_cast<std::int16_t>((1 << (c.bits - 1)) - 1);
    for (std::size_t i = 0; i < w.act.size(); i += 3) w.act[i] = (i / 3) % 2 ? lo : hi;
    for (std::size_t i = 1; i < w.weight.size(); i += 4) w.weight[i] = lo;
  }
  return w;
}

std::string describe(const rtl::lockstep_result& r) {
  if (!r.first_mismatch) return "match";
  const auto& m = *r.first_mismatch;
  return "first mismatch at cycle " + std::to_string(m.cycle) + " PE (" + std::to_string(m.row) + "," +
         std::to_string(m.col) + ") " + m.signal + ": fast " + std::to_string(m.model) + ", structural " +
         std::to_string(m.rtl);
}

class operand_align_high : public testing::TestWithParam<align_case> {};

// The fast and the structural engine agree on every register every cycle and give the reference.
TEST_P(operand_align_high, fast_and_structural_engines_match_the_shifted_reference) {
  const align_case& c = GetParam();
  const hw::array_config cfg = config_of(c);
  hw::array_config scfg = cfg;
  scfg.engine = hw::engine_kind::structural;
  const auto mult = rtl::make_multiplier(c.mult, c.bits, rtl::eval_mode::table, hw::operand_align::high);
  ASSERT_EQ(mult->alignment(), hw::operand_align::high);
  hw::systolic_array structural("array", scfg);
  hw::array_core fast(cfg);
  structural.set_multiplier(mult.get());
  fast.set_multiplier(mult.get());
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  const sw::gemm_workload w = workload_of(c);
  const auto r = rtl::compare_engines(fast, structural.engine(), w.shape, w.act.data(), w.weight.data(), {});
  EXPECT_TRUE(r.match) << describe(r);
  const auto expected = high_reference_gemm(w, c.acc_bits, *circuit_of(c), c.bits);
  EXPECT_EQ(r.model_out, expected);
  EXPECT_EQ(r.rtl_out, expected);
  // W == N or an exact circuit: the same as low alignment.
  const auto low = sw::reference_gemm(w, c.acc_bits, circuit_of(c).get());
  if (c.bits == mult->bits() || mult->is_exact()) {
    EXPECT_EQ(expected, low);
  }
  // DRUM's error depends on where the leading one falls: on random data high differs from low (on
  // -2^(W-1) everywhere it is the same relative error either way). Mitchell's error is invariant
  // under scaling by 2^s, so there high equals low.
  if (c.mult == "drum12_k6" && c.fill == sw::operand_fill::random) {
    EXPECT_NE(expected, low);
  }
  if (c.mult == "mitchell12") {
    EXPECT_EQ(expected, low);
  }
}

TEST_P(operand_align_high, functional_twin_matches_the_shifted_reference) {
  const align_case& c = GetParam();
  const auto mult = rtl::make_multiplier(c.mult, c.bits, rtl::eval_mode::table, hw::operand_align::high);
  sw::functional_engine twin(config_of(c), mult);
  const sw::gemm_workload w = workload_of(c);
  std::vector<std::int64_t> out(w.shape.m * w.shape.n);
  twin.gemm(w.shape, w.act.data(), w.weight.data(), out.data(), nullptr);
  EXPECT_EQ(out, high_reference_gemm(w, c.acc_bits, *circuit_of(c), c.bits));
  // The campaign shortcut's single products come from product().
  const auto circuit = circuit_of(c);
  for (std::size_t i = 0; i < std::min(w.act.size(), w.weight.size()); ++i) {
    EXPECT_EQ(twin.product(w.act[i], w.weight[i]), high_product(*circuit, c.bits, w.act[i], w.weight[i]));
  }
}

TEST_P(operand_align_high, tlm_accelerator_matches_the_shifted_reference) {
  const align_case& c = GetParam();
  const auto mult = rtl::make_multiplier(c.mult, c.bits, rtl::eval_mode::table, hw::operand_align::high);
  sw::accelerated_system sys("system", config_of(c));
  sys.accelerator.array.set_multiplier(mult.get());
  const sw::gemm_workload w = workload_of(c);
  std::vector<std::int64_t> out(w.shape.m * w.shape.n);
  sys.host.set_program([&] { sys.host.gemm(w.shape, w.act.data(), w.weight.data(), out.data(), nullptr); });
  sc_core::sc_start();
  ASSERT_FALSE(sys.host.failure());
  EXPECT_EQ(out, high_reference_gemm(w, c.acc_bits, *circuit_of(c), c.bits));
}

INSTANTIATE_TEST_SUITE_P(circuits, operand_align_high, testing::ValuesIn(cases()), case_name);

// A multiplier aligned otherwise than the configuration says is refused by every engine.
TEST(operand_align, engines_refuse_a_multiplier_aligned_otherwise) {
  hw::array_config cfg;
  cfg.rows = cfg.cols = 2;
  cfg.align = hw::operand_align::high;
  const auto low = rtl::make_multiplier("drum12_k6", 8, rtl::eval_mode::table);
  hw::array_core fast(cfg);
  EXPECT_THROW(fast.set_multiplier(low.get()), config_error);
  EXPECT_THROW(sw::functional_engine(cfg, low), config_error);
  cfg.align = hw::operand_align::low;
  const auto high = rtl::make_multiplier("drum12_k6", 8, rtl::eval_mode::table, hw::operand_align::high);
  hw::array_core fast_low(cfg);
  EXPECT_THROW(fast_low.set_multiplier(high.get()), config_error);
  fast_low.set_multiplier(nullptr);  // exact products need no alignment
}

}  // namespace
}  // namespace axsa::test
