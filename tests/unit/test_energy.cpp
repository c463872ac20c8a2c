// The energy model (hw/energy.h, docs/energy.md): the table's parser and its errors, interpolation,
// the charge of every count, and the multiplier's energy per product by circuit (rtl/mult_energy.h).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "hw/energy.h"
#include "rtl/mult_energy.h"
#include "rtl/published_metrics.h"

namespace axsa::test {
namespace {

const std::string header = "event,size,pj,note\n";
const std::string complete = header +
                             "mult,8,0.2,x\nmult,32,3.2,x\nadd,8,0.03,x\nadd,32,0.12,x\nreg_bit,1,0.01,x\n"
                             "sram_64b,1024,4,x\nsram_64b,4096,8,x\noffchip_64b,0,1000,x\n";

TEST(energy_table, builtin_holds_the_cited_figures) {
  const hw::energy_table& t = hw::energy_table::builtin();
  EXPECT_DOUBLE_EQ(t.mult_pj(8), 0.2);
  EXPECT_DOUBLE_EQ(t.mult_pj(32), 3.1);
  EXPECT_DOUBLE_EQ(t.add_pj(32), 0.1);
  EXPECT_DOUBLE_EQ(t.sram_pj(8192, 64), 10);
  EXPECT_DOUBLE_EQ(t.sram_pj(1 << 20, 64), 100);
  EXPECT_DOUBLE_EQ(t.offchip_beat_pj(), 1300);
  // 16 bits lies between, on the power law through 8 and 32 bits.
  const double slope = std::log(3.1 / 0.2) / std::log(4.0);
  EXPECT_NEAR(t.mult_pj(16), 0.2 * std::pow(2.0, slope), 1e-12);
  EXPECT_GT(t.mult_pj(12), t.mult_pj(8));
  EXPECT_LT(t.mult_pj(12), t.mult_pj(16));
}

TEST(energy_table, interpolates_log_log_and_extrapolates_from_the_ends) {
  const hw::energy_table t = hw::energy_table::parse(complete, "t.csv");
  EXPECT_NEAR(t.mult_pj(16), 0.2 * std::pow(2.0, 2.0), 1e-12);   // slope 2 through (8, 0.2) and (32, 3.2)
  EXPECT_NEAR(t.mult_pj(64), 0.2 * std::pow(8.0, 2.0), 1e-12);   // beyond the last entry
  EXPECT_NEAR(t.sram_pj(16384, 64), 16, 1e-9);                   // slope 0.5: 8 pJ at 4 KiB, 16 at 16 KiB
  EXPECT_NEAR(t.sram_pj(4096, 16), 2, 1e-12);                    // a quarter of a 64-bit access
  const hw::energy_table one = hw::energy_table::parse(
      header + "mult,8,0.2,\nadd,8,0.03,\nreg_bit,1,0,\nsram_64b,1024,4,\noffchip_64b,0,0,\n", "one.csv");
  EXPECT_NEAR(one.add_pj(32), 0.12, 1e-12);  // one entry: linear in the size
}

TEST(energy_table, malformed_rows_name_the_file_row_and_field) {
  struct bad {
    std::string text, fragment;
  };
  const std::vector<bad> cases = {
      {"event,size\n", "row 1: field 'header'"},
      {header + "mult,8\n", "row 2: field 'pj': missing"},
      {header + "mult\n", "row 2: field 'size': missing"},
      {header + "mult,8,-0.2,x\n", "row 2: field 'pj': negative energy -0.2"},
      {header + "mult,8,abc,x\n", "row 2: field 'pj': 'abc' is not a number"},
      {header + "mult,eight,0.2,x\n", "row 2: field 'size'"},
      {header + "mult,0,0.2,x\n", "row 2: field 'size': must be positive for mult"},
      {header + "# comment\nmult,8,0.2,x\nmult,8,0.3,x\n", "row 4: field 'size': a second mult row"},
      {header + "divide,8,1,x\n", "row 2: field 'event': unknown event 'divide'"},
      {header + "mult,8,0.2,x\n", "no add row"},
      {"", "no header row"},
  };
  for (const auto& c : cases) {
    try {
      (void)hw::energy_table::parse(c.text, "my_table.csv");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const config_error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("my_table.csv", 0), 0u) << what;
      EXPECT_NE(what.find(c.fragment), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  EXPECT_THROW((void)hw::energy_table::load("/nonexistent/table.csv"), config_error);
}

TEST(energy_model, charges_every_count_at_its_width) {
  const hw::energy_table t = hw::energy_table::parse(complete, "t.csv");
  hw::activity a;
  a.macs = 1000;
  a.zero_macs = 400;
  a.act_reg_writes = 50;
  a.weight_reg_writes = 60;
  a.acc_writes = 70;
  a.act_buffer_reads = 11;
  a.weight_buffer_reads = 13;
  a.out_buffer_writes = 7;
  a.out_buffer_reads = 3;
  a.bus_beats = 5;
  a.bus_write_bytes = 64;
  a.bus_read_bytes = 16;
  hw::energy_setup s;
  s.cfg.data_bits = 8;
  s.cfg.acc_bits = 32;
  s.mult_pj = 0.5;
  s.act_buffer_bytes = s.weight_buffer_bytes = s.out_buffer_bytes = 4096;  // 8 pJ per 64 bits
  hw::energy_breakdown e = hw::estimate_energy(a, s, t);
  EXPECT_DOUBLE_EQ(e.multipliers, 1000 * 0.5);
  EXPECT_DOUBLE_EQ(e.adders, 1000 * 0.12);
  EXPECT_DOUBLE_EQ(e.registers, 0.01 * ((50 + 60) * 8 + 70 * 32));
  EXPECT_NEAR(e.buffers, (11 + 13) * 1.0 + (7 + 3) * 4.0 + 64 * 1.0 + 16 * 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(e.offchip, 5 * 1000);
  EXPECT_DOUBLE_EQ(e.total(), e.multipliers + e.adders + e.registers + e.buffers + e.offchip);
  s.operand_weighting = true;
  s.zero_operand_share = 0.25;
  e = hw::estimate_energy(a, s, t);
  EXPECT_DOUBLE_EQ(e.multipliers, (600 + 400 * 0.25) * 0.5);
}

TEST(multiplier_energy, comes_from_the_circuit) {
  const hw::energy_table& t = hw::energy_table::builtin();
  const rtl::multiplier_energy native = rtl::energy_per_product("", 8, t);
  EXPECT_DOUBLE_EQ(native.pj, t.mult_pj(8));
  EXPECT_EQ(native.bits, 8u);
  // An EvoApprox circuit of the published table, built here or not: power x delay relative to the
  // exact 12-bit circuit, times the table's 12-bit multiply.
  const rtl::published_metrics* te = rtl::find_published("mul12s_2TE");
  const rtl::published_metrics* pp = rtl::find_published("mul12s_2PP");
  ASSERT_NE(te, nullptr);
  ASSERT_NE(pp, nullptr);
  const rtl::multiplier_energy evo = rtl::energy_per_product("mul12s_2TE", 8, t);
  EXPECT_EQ(evo.bits, 12u);
  EXPECT_NEAR(evo.pj, t.mult_pj(12) * (te->power_mw * te->delay_ns) / (pp->power_mw * pp->delay_ns), 1e-12);
  EXPECT_NE(evo.basis.find("power x delay"), std::string::npos) << evo.basis;
  EXPECT_DOUBLE_EQ(rtl::energy_per_product("mul12s_2PP", 8, t).pj, t.mult_pj(12));
  // In-house: the exact design costs the table's figure; an approximate one its area proxy's share.
  EXPECT_DOUBLE_EQ(rtl::energy_per_product("exact16", 16, t).pj, t.mult_pj(16));
  const rtl::multiplier_energy drum = rtl::energy_per_product("drum8_k4", 8, t);
  EXPECT_GT(drum.pj, 0);
  EXPECT_NE(drum.basis.find("proxy"), std::string::npos) << drum.basis;
  EXPECT_THROW((void)rtl::energy_per_product("no_such_multiplier", 8, t), config_error);
}

}  // namespace
}  // namespace axsa::test
