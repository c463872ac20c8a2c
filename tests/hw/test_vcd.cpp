// The VCD of a 4x4 array holds every PE's accumulator and links, and its values at chosen
// cycles equal the model's own state at those cycles; a window and a region limit what is written.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "hw/vcd_writer.h"
#include "sw/gemm_workload.h"
#include "tests/support/array_harness.h"
#include "tests/support/vcd_reader.h"

namespace axsa::test {
namespace {

const char* const pe_signals[] = {"west", "north", "east", "south", "acc", "mac_en"};

std::string pe_path(unsigned r, unsigned c, const char* sig) {
  return "h.array.pe_" + std::to_string(r) + "_" + std::to_string(c) + "." + sig;
}

std::int64_t model_value(const hw::array_engine& core, unsigned r, unsigned c, const std::string& sig) {
  if (sig == "west") return core.west_in(r, c);
  if (sig == "north") return core.north_in(r, c);
  if (sig == "east") return core.east_out(r, c);
  if (sig == "south") return core.south_out(r, c);
  if (sig == "acc") return core.acc(r, c);
  return core.mac_enabled(r, c) ? 1 : 0;
}

using snapshot = std::map<std::string, std::int64_t>;

struct traced_run {
  std::map<std::uint64_t, snapshot> snaps;
  std::uint64_t cycles = 0;
};

// Runs a 2x2-fold GEMM on a 4x4 array with a VCD and snapshots the model at `cycles_to_check`.
traced_run run_traced(const std::string& file, unsigned r0, unsigned r1, unsigned c0, unsigned c1,
                      std::uint64_t first, std::uint64_t last, const std::vector<std::uint64_t>& cycles_to_check) {
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  cfg.data_bits = 8;
  cfg.clock_period_ns = 2.5;
  const auto work = sw::make_workload({6, 10, 7}, 8, sw::operand_fill::random, 7);
  std::vector<std::int64_t> out(6 * 7);
  array_harness h("h", cfg);
  h.jobs.push_back({work.shape, work.act.data(), work.weight.data(), out.data()});
  hw::vcd_writer vcd(file, h.array.views(r0, r1, c0, c1), cfg.clock_period_ns, first, last);
  traced_run run;
  h.array.add_cycle_observer([&](const hw::array_engine& core) {
    vcd.sample(core.total_cycles());
    for (std::uint64_t want : cycles_to_check) {
      if (core.total_cycles() != want) continue;
      snapshot& s = run.snaps[want];
      for (unsigned r = 0; r < 4; ++r)
        for (unsigned c = 0; c < 4; ++c)
          for (const char* sig : pe_signals) s[pe_path(r, c, sig)] = model_value(core, r, c, sig);
    }
  });
  sc_core::sc_start();
  vcd.close();
  run.cycles = h.cycles.at(0);
  return run;
}

TEST(vcd, every_pe_signal_present_and_equal_to_model_state) {
  const std::string file = testing::TempDir() + "axsa_vcd_full.vcd";
  // Cycle 9: compute phase with every PE busy; 19: the first drain; 33: the second fold.
  const std::vector<std::uint64_t> checks = {0, 9, 19, 33};
  const traced_run run = run_traced(file, 0, 3, 0, 3, 0, UINT64_MAX, checks);
  ASSERT_EQ(run.cycles, 4u * (10 + 8 + 4 - 2));
  ASSERT_EQ(run.snaps.size(), checks.size());

  const vcd_reader vcd(file);
  EXPECT_EQ(vcd.unit(), "ps");
  EXPECT_EQ(vcd.size(), 16u * 6 + 4 + 4 + 4);  // PE signals, two feeders, the drain ports
  bool some_nonzero_acc = false;
  for (const auto& [cycle, snap] : run.snaps) {
    const std::uint64_t t = cycle * 2500;  // 2.5 ns clock, timescale 1 ps
    for (const auto& [path, value] : snap) {
      ASSERT_TRUE(vcd.has(path)) << path;
      EXPECT_EQ(vcd.value(path, t), value) << path << " at cycle " << cycle;
      if (path.size() > 4 && path.compare(path.size() - 4, 4, ".acc") == 0 && value != 0) some_nonzero_acc = true;
    }
  }
  EXPECT_TRUE(some_nonzero_acc) << "the chosen cycles should catch accumulators in use";
  EXPECT_EQ(vcd.at(pe_path(0, 0, "acc")).bits, 32u);
  EXPECT_EQ(vcd.at(pe_path(0, 0, "west")).bits, 8u);
  std::remove(file.c_str());
}

TEST(vcd, window_and_region_limit_the_dump) {
  const std::string file = testing::TempDir() + "axsa_vcd_window.vcd";
  const traced_run run = run_traced(file, 1, 2, 2, 3, 5, 12, {5, 12});
  const vcd_reader vcd(file);
  EXPECT_EQ(vcd.size(), 4u * 6 + 2 + 2 + 2);
  EXPECT_FALSE(vcd.has(pe_path(0, 0, "acc")));
  EXPECT_FALSE(vcd.has(pe_path(3, 3, "acc")));
  for (const auto& [cycle, snap] : run.snaps) {
    for (unsigned r = 1; r <= 2; ++r)
      for (unsigned c = 2; c <= 3; ++c)
        for (const char* sig : pe_signals) {
          const std::string p = pe_path(r, c, sig);
          EXPECT_EQ(vcd.value(p, cycle * 2500), snap.at(p)) << p << " at cycle " << cycle;
        }
  }
  for (unsigned r = 1; r <= 2; ++r) {
    for (const auto& [t, raw] : vcd.at(pe_path(r, 2, "acc")).changes) {
      EXPECT_GE(t, 5u * 2500);
      EXPECT_LE(t, 12u * 2500);
    }
  }
  std::remove(file.c_str());
}

}  // namespace
}  // namespace axsa::test
