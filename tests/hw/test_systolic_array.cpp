// Bit- and cycle-exactness of the SystemC array against a plain C++ GEMM and the documented
// cycle formula, over array shapes, data widths, ragged tiles, K = 1 and long K, extreme operands
// and accumulator wrap-around. Each parameter set is one elaboration, so one process.
#include <gtest/gtest.h>

#include <sstream>
#include <tuple>

#include "sw/gemm_workload.h"
#include "tests/support/array_harness.h"

namespace axsa::test {
namespace {

struct array_case {
  unsigned rows, cols, bits, acc_bits;
};

void PrintTo(const array_case& c, std::ostream* os) {
  *os << c.rows << "x" << c.cols << " W" << c.bits << " A" << c.acc_bits;
}

std::string case_name(const testing::TestParamInfo<array_case>& info) {
  const auto& c = info.param;
  std::ostringstream s;
  s << c.rows << "x" << c.cols << "_W" << c.bits << "_A" << c.acc_bits;
  return s.str();
}

// Written out here from docs/cycle-model.md, independently of hw/cycle_model.h.
std::uint64_t documented_cycles(const hw::gemm_shape& s, unsigned r, unsigned c) {
  const std::uint64_t folds = ((s.m + r - 1) / r) * ((s.n + c - 1) / c);
  return folds * (s.k + 2 * r + c - 2);
}

struct job_spec {
  hw::gemm_shape shape;
  sw::operand_fill fill;
};

class systolic_array_test : public testing::TestWithParam<array_case> {};

TEST_P(systolic_array_test, matches_reference_and_cycle_formula) {
  const array_case p = GetParam();
  hw::array_config cfg;
  cfg.rows = p.rows;
  cfg.cols = p.cols;
  cfg.data_bits = p.bits;
  cfg.acc_bits = p.acc_bits;

  const std::size_t r = p.rows, c = p.cols;
  // Ragged tiles (M, N not multiples of R, C), K = 1, a long K, a single partial fold, both extremes,
  // and a K multiple of 1024 (the feeders then read a transposed copy of each fold's rows).
  const std::vector<job_spec> specs = {
      {{2 * r + 1, 37, c + 3}, sw::operand_fill::random},
      {{r + 2, 1, 2 * c - 1 + (c == 1 ? 1 : 0)}, sw::operand_fill::random},
      {{r, 700, c}, sw::operand_fill::random},
      {{(r + 1) / 2, 5, (c + 1) / 2}, sw::operand_fill::random},
      {{r + 1, 19, c + 1}, sw::operand_fill::min},
      {{3, 23, 2}, sw::operand_fill::max},
      {{r + 3, 1024, c}, sw::operand_fill::random},
  };
  std::vector<sw::gemm_workload> work;
  std::vector<std::vector<std::int64_t>> outs;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    work.push_back(sw::make_workload(specs[i].shape, p.bits, specs[i].fill, 1000 + i));
    outs.emplace_back(specs[i].shape.m * specs[i].shape.n, INT64_MIN);
  }
  array_harness h("h", cfg);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    h.jobs.push_back({specs[i].shape, work[i].act.data(), work[i].weight.data(), outs[i].data()});
  }
  sc_core::sc_start();

  ASSERT_EQ(h.cycles.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i].shape;
    SCOPED_TRACE("job " + std::to_string(i) + ": M=" + std::to_string(s.m) + " K=" + std::to_string(s.k) +
                 " N=" + std::to_string(s.n));
    const auto expected = sw::reference_gemm(work[i], p.acc_bits);
    std::size_t bad = 0;
    for (std::size_t e = 0; e < expected.size(); ++e) bad += outs[i][e] != expected[e];
    EXPECT_EQ(bad, 0u) << "first output: got " << outs[i][0] << ", expected " << expected[0];
    EXPECT_EQ(h.cycles[i], documented_cycles(s, p.rows, p.cols));
    EXPECT_EQ(h.durations[i], h.array.clock_period() * static_cast<double>(h.cycles[i]));
  }
}

// Every array shape the issue names, at every main data width.
std::vector<array_case> shape_cases() {
  const std::vector<std::pair<unsigned, unsigned>> shapes = {{1, 1}, {1, 9}, {11, 1}, {4, 4},
                                                             {8, 8}, {16, 16}, {28, 28}, {7, 13}};
  std::vector<array_case> out;
  for (const auto& [r, c] : shapes) {
    for (unsigned w : {2u, 4u, 8u, 12u, 16u}) out.push_back({r, c, w, 32});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(shapes, systolic_array_test, testing::ValuesIn(shape_cases()), case_name);
// Narrow accumulators wrap (the min/max jobs overflow them); wide ones take the 64-bit path.
INSTANTIATE_TEST_SUITE_P(accumulators, systolic_array_test,
                         testing::Values(array_case{4, 4, 8, 12}, array_case{7, 13, 8, 16}, array_case{8, 8, 16, 24},
                                         array_case{5, 3, 4, 2}, array_case{4, 4, 16, 40},
                                         array_case{28, 28, 16, 64}),
                         case_name);

// The wrap cases above must really overflow, or they would prove nothing.
TEST(accumulator_wrap, narrow_accumulator_cases_overflow) {
  const auto w = sw::make_workload({5, 19, 5}, 8, sw::operand_fill::min, 1);
  const auto wide = sw::reference_gemm(w, 64);
  const auto narrow = sw::reference_gemm(w, 12);
  EXPECT_EQ(wide[0], 19 * 128 * 128);
  EXPECT_NE(narrow[0], wide[0]);
  EXPECT_EQ(narrow[0], hw::wrap_signed(static_cast<std::uint64_t>(wide[0]), 12));
}

}  // namespace
}  // namespace axsa::test
