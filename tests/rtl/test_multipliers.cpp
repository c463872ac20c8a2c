// The multiplier library: for every in-house design the verilated model, the independent
// behavioural model and the product table agree (exhaustively at 8 bits, on 1M random pairs plus
// the extremes at 12 and 16 bits); metrics match an independent computation; the table cache is
// used, and rebuilt when damaged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "hw/array_config.h"
#include "hw/mult/error_metrics.h"
#include "rtl/mult_registry.h"

namespace axsa::rtl {
namespace {

std::vector<const mult_entry*> inhouse(unsigned bits) {
  std::vector<const mult_entry*> out;
  for (const auto& e : registered_entries()) {
    if (std::string(e.origin) == "axsa" && e.bits == bits) out.push_back(&e);
  }
  return out;
}

std::int32_t sext(std::uint32_t v, unsigned bits) {
  const unsigned s = 32 - bits;
  return static_cast<std::int32_t>(v << s) >> s;
}

TEST(registry, lists_the_manifest_designs) {
  EXPECT_GE(inhouse(8).size(), 8u);
  EXPECT_GE(inhouse(12).size(), 4u);
  EXPECT_GE(inhouse(16).size(), 1u);
  for (const char* name : {"exact8", "exact12", "exact16", "trunc8_k4", "drum8_k4", "mitchell8", "kulkarni8"}) {
    EXPECT_NO_THROW(find_entry(name)) << name;
  }
  try {
    find_entry("mul8s_nope");
    ADD_FAILURE() << "unknown name accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("mul8s_nope"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("exact8"), std::string::npos) << "the error lists what exists";
  }
  EXPECT_THROW(make_multiplier("exact8", 12, eval_mode::table), config_error);
  EXPECT_THROW(parse_eval_mode("fast"), config_error);
}

TEST(multipliers_8bit, model_behaviour_and_table_agree_on_all_pairs) {
  for (const mult_entry* e : inhouse(8)) {
    SCOPED_TRACE(e->name);
    const verilated_multiplier rtl(*e);
    const auto beh = make_behavioural(*e);
    ASSERT_NE(beh, nullptr);
    const auto tabled = make_multiplier(e->name, 8, eval_mode::table);
    const std::int32_t* table = tabled->product_table(8);
    ASSERT_NE(table, nullptr);
    std::size_t bad = 0;
    for (std::uint32_t ua = 0; ua < 256; ++ua) {
      for (std::uint32_t ub = 0; ub < 256; ++ub) {
        const std::int32_t a = sext(ua, 8), b = sext(ub, 8);
        const std::int32_t r = rtl.multiply(a, b);
        if (r != beh->multiply(a, b) || r != table[(ua << 8) | ub]) {
          if (bad++ < 3) ADD_FAILURE() << a << " * " << b << ": rtl " << r << ", behavioural " << beh->multiply(a, b);
        }
      }
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(tabled->is_exact(), std::string(e->module) == "axsa_mul_exact");
  }
}

void check_wide(const mult_entry& e, unsigned data_bits) {
  SCOPED_TRACE(std::string(e.name) + " with " + std::to_string(data_bits) + "-bit data");
  const verilated_multiplier rtl(e);
  const auto beh = make_behavioural(e);
  ASSERT_NE(beh, nullptr);
  const auto arr = make_multiplier(e.name, data_bits, eval_mode::table);
  const std::int32_t* table = arr->product_table(data_bits);
  const std::int32_t lo = -(1 << (data_bits - 1)), hi = (1 << (data_bits - 1)) - 1;
  std::vector<std::pair<std::int32_t, std::int32_t>> pairs;
  for (std::int32_t a : {lo, lo + 1, -1, 0, 1, hi - 1, hi})
    for (std::int32_t b : {lo, lo + 1, -1, 0, 1, hi - 1, hi}) pairs.emplace_back(a, b);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int32_t> d(lo, hi);
  for (int i = 0; i < 1'000'000; ++i) pairs.emplace_back(d(rng), d(rng));
  const std::uint32_t mask = (1u << data_bits) - 1;
  std::size_t bad = 0;
  for (const auto& [a, b] : pairs) {
    const std::int32_t r = rtl.multiply(a, b);
    const std::int32_t t = table ? table[((static_cast<std::uint32_t>(a) & mask) << data_bits) |
                                         (static_cast<std::uint32_t>(b) & mask)]
                                 : arr->multiply(a, b);
    if (r != beh->multiply(a, b) || r != t) {
      if (bad++ < 3) ADD_FAILURE() << a << " * " << b << ": rtl " << r << ", behavioural " << beh->multiply(a, b)
                                   << ", array " << t;
    }
  }
  EXPECT_EQ(bad, 0u);
}

TEST(multipliers_12bit, model_behaviour_and_table_agree_on_1M_pairs_and_extremes) {
  for (const mult_entry* e : inhouse(12)) check_wide(*e, 12);
}

TEST(multipliers_16bit, model_and_behaviour_agree_on_1M_pairs_and_extremes) {
  for (const mult_entry* e : inhouse(16)) check_wide(*e, 16);
}

// W-bit data on a wider circuit: operands sign-extended, as 8-bit data on 12-bit multipliers.
TEST(multipliers_12bit, narrow_data_tables_sign_extend_into_the_circuit) {
  for (const mult_entry* e : inhouse(12)) {
    SCOPED_TRACE(e->name);
    const auto beh = make_behavioural(*e);
    const auto arr = make_multiplier(e->name, 8, eval_mode::table);
    const std::int32_t* table = arr->product_table(8);
    ASSERT_NE(table, nullptr);
    for (std::uint32_t ua = 0; ua < 256; ++ua)
      for (std::uint32_t ub = 0; ub < 256; ++ub)
        ASSERT_EQ(table[(ua << 8) | ub], beh->multiply(sext(ua, 8), sext(ub, 8))) << sext(ua, 8) << "*" << sext(ub, 8);
  }
}

// --operand-align high: every W-bit pair, for every registered circuit up to 12 bits and W = N-4 (at
// least 2), against the behavioural model (the verilated one for EvoApprox) evaluated on the operands
// times 2^s and floor-divided by 2^(2s); the table, the per-product model and the aligned model
// agree, and exact circuits stay exact. At W == N the high table is the low one.
TEST(operand_align, high_tables_are_the_circuit_on_shifted_operands_floor_divided) {
  for (const auto& e : registered_entries()) {
    if (e.bits > 12) continue;
    const auto circuit = make_behavioural(e) ? make_behavioural(e) : make_multiplier(e.name, e.bits, eval_mode::rtl);
    const unsigned w = e.bits > 5 ? e.bits - 4 : 2u;
    SCOPED_TRACE(std::string(e.name) + " with " + std::to_string(w) + "-bit data");
    const auto high = make_multiplier(e.name, w, eval_mode::table, hw::operand_align::high);
    const auto high_rtl = make_multiplier(e.name, w, eval_mode::rtl, hw::operand_align::high);
    const auto low = make_multiplier(e.name, w, eval_mode::table);
    EXPECT_EQ(high->alignment(), hw::operand_align::high);
    EXPECT_EQ(high_rtl->alignment(), hw::operand_align::high);
    EXPECT_EQ(low->alignment(), hw::operand_align::low);
    EXPECT_EQ(high->is_exact(), low->is_exact());
    const std::int32_t* table = high->product_table(w);
    ASSERT_NE(table, nullptr);
    const std::int64_t scale = std::int64_t{1} << (e.bits - w);
    std::size_t bad = 0;
    for (std::uint32_t ua = 0; ua < (1u << w); ++ua) {
      for (std::uint32_t ub = 0; ub < (1u << w); ++ub) {
        const std::int32_t a = sext(ua, w), b = sext(ub, w);
        const std::int64_t p = circuit->multiply(static_cast<std::int32_t>(a * scale), static_cast<std::int32_t>(b * scale));
        const std::int64_t q = p / (scale * scale), expected = (p % (scale * scale) != 0 && p < 0) ? q - 1 : q;
        const std::int32_t t = table[(ua << w) | ub];
        if (t != expected || high_rtl->multiply(a, b) != expected || (high->is_exact() && t != a * b)) {
          if (bad++ < 3) ADD_FAILURE() << a << " * " << b << ": table " << t << ", expected " << expected;
        }
      }
    }
    EXPECT_EQ(bad, 0u);
    if (e.bits <= 8) {  // W == N: no shift
      const auto same = make_multiplier(e.name, e.bits, eval_mode::table, hw::operand_align::high);
      const auto plain = make_multiplier(e.name, e.bits, eval_mode::table);
      const std::size_t n = std::size_t{1} << (2 * e.bits);
      EXPECT_TRUE(std::equal(same->product_table(e.bits), same->product_table(e.bits) + n, plain->product_table(e.bits)));
    }
  }
}

// A hand-worked case: with s = 4 the product's low 8 bits are dropped and the rest floors.
TEST(operand_align, the_shift_back_is_an_arithmetic_floor) {
  const auto exact = make_multiplier("exact12", 8, eval_mode::rtl, hw::operand_align::high);
  EXPECT_EQ(exact->multiply(-128, -128), 16384);  // (-2048)(-2048) = 2^22, >> 8 = 2^14
  EXPECT_EQ(exact->multiply(-128, 127), -16256);
  EXPECT_EQ(exact->multiply(-1, 1), -1);          // -256 >> 8 = -1 exactly, no rounding needed
  // drum12_k6 at 8-bit data: the result is floor(circuit(16a, 16b) / 256), never a rounded value.
  const auto drum = make_behavioural(find_entry("drum12_k6"));
  const auto high = make_multiplier("drum12_k6", 8, eval_mode::table, hw::operand_align::high);
  for (std::int32_t a : {-128, -127, -3, -1, 0, 1, 3, 77, 127}) {
    for (std::int32_t b : {-128, -5, -1, 1, 99, 127}) {
      const std::int32_t p = drum->multiply(16 * a, 16 * b);
      EXPECT_EQ(high->multiply(a, b), static_cast<std::int32_t>(std::floor(p / 256.0))) << a << " * " << b;
    }
  }
  EXPECT_THROW(hw::parse_operand_align("middle"), config_error);
}

// Independent metrics: straight from the behavioural model, in plain loops.
hw::mult::error_metrics independent_metrics(const hw::multiplier& m, unsigned bits) {
  hw::mult::error_metrics r;
  double sum_abs = 0, sum = 0, sum_sq = 0, red = 0;
  std::uint64_t wrong = 0, nonzero = 0, pairs = 0;
  const std::int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
  for (std::int32_t a = lo; a <= hi; ++a) {
    for (std::int32_t b = lo; b <= hi; ++b) {
      const double exact = double(a) * double(b);
      const double err = double(m.multiply(a, b)) - exact;
      ++pairs;
      sum_abs += std::fabs(err);
      sum += err;
      sum_sq += err * err;
      r.wce = std::max(r.wce, std::fabs(err));
      wrong += err != 0;
      if (exact != 0) {
        red += std::fabs(err) / std::fabs(exact);
        ++nonzero;
      }
    }
  }
  r.pairs = pairs;
  r.mae = sum_abs / double(pairs);
  r.mean_error = sum / double(pairs);
  r.mse = sum_sq / double(pairs);
  r.ep_pct = 100.0 * double(wrong) / double(pairs);
  r.mred_pct = 100.0 * red / double(nonzero);
  return r;
}

void expect_metrics_match(const mult_entry& e) {
  SCOPED_TRACE(e.name);
  const auto got = hw::mult::metrics_from_table(full_table(e), e.bits);
  EXPECT_TRUE(got.exhaustive);
  EXPECT_EQ(got.pairs, 1ull << (2 * e.bits));
  if (std::string(e.module) == "axsa_mul_exact") {
    EXPECT_EQ(got.mae, 0);
    EXPECT_EQ(got.wce, 0);
    EXPECT_EQ(got.mred_pct, 0);
    EXPECT_EQ(got.ep_pct, 0);
    EXPECT_EQ(got.mean_error, 0);
    EXPECT_EQ(got.mse, 0);
    return;
  }
  const auto want = independent_metrics(*make_behavioural(e), e.bits);
  EXPECT_GT(want.ep_pct, 0) << "an approximate design should make errors";
  EXPECT_NEAR(got.mae, want.mae, 1e-9 * std::max(1.0, want.mae));
  EXPECT_EQ(got.wce, want.wce);
  EXPECT_NEAR(got.mred_pct, want.mred_pct, 1e-9 * std::max(1.0, want.mred_pct));
  EXPECT_NEAR(got.ep_pct, want.ep_pct, 1e-9);
  EXPECT_NEAR(got.mean_error, want.mean_error, 1e-9 * std::max(1.0, std::fabs(want.mae)));
  EXPECT_NEAR(got.mse, want.mse, 1e-9 * std::max(1.0, want.mse));
  EXPECT_NEAR(got.mae_pct, want.mae / 65536.0 * 100 / (e.bits == 8 ? 1.0 : 256.0), 1e-9);
}

TEST(metrics, exact_zero_and_approximate_match_an_independent_computation_8bit) {
  for (const mult_entry* e : inhouse(8)) expect_metrics_match(*e);
}

TEST(metrics, exact_zero_and_approximate_match_an_independent_computation_12bit) {
  for (const mult_entry* e : inhouse(12)) expect_metrics_match(*e);
}

TEST(metrics, sampled_metrics_of_an_exact_circuit_are_zero) {
  const auto m = make_multiplier("exact16", 16, eval_mode::rtl);
  const auto r = hw::mult::metrics_sampled(*m, 20000, 3);
  EXPECT_FALSE(r.exhaustive);
  EXPECT_EQ(r.pairs, 20000u + 49u);
  EXPECT_EQ(r.mae, 0);
  EXPECT_EQ(r.ep_pct, 0);
}

TEST(table_cache, written_reused_and_rebuilt_when_damaged) {
  const std::string dir = testing::TempDir() + "axsa_cache_test_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  setenv("AXSA_CACHE_DIR", dir.c_str(), 1);
  ASSERT_EQ(cache_directory(), dir);
  const mult_entry& e = find_entry("drum8_k4");
  const auto first = full_table(e);
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(dir)) files.push_back(f.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(files[0]), 8u + 64u + 4u + 4u * 65536u);
  // A cached table is what the next call returns: poison one entry and see it come back.
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 64 + 4);
    const std::int32_t poison = 123456789;
    f.write(reinterpret_cast<const char*>(&poison), 4);
  }
  EXPECT_EQ(full_table(e)[0], 123456789);
  // A truncated file is not trusted: the table is recomputed and the file rewritten.
  std::filesystem::resize_file(files[0], 1000);
  EXPECT_EQ(full_table(e), first);
  EXPECT_EQ(std::filesystem::file_size(files[0]), 8u + 64u + 4u + 4u * 65536u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace axsa::rtl
