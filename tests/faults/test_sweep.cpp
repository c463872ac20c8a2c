// axsa sweep's library (faults/sweep.h, faults/sweep_store.h): a small grid checked against
// independent computations (cycles from hw::gemm_cycles over the GEMMs the network issues, split
// into the host driver's jobs; energy from estimate_energy of a separate twin run; area from the
// multiplier's synthesis), the stores' resume rules, skipped cells, the quick campaign's
// determinism and the option parsers.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "faults/sweep.h"
#include "faults/sweep_store.h"
#include "hw/cycle_model.h"
#include "rtl/mult_energy.h"
#include "rtl/mult_registry.h"
#include "rtl/synthesis.h"
#include "sw/functional_engine.h"
#include "sw/host_driver.h"
#include "sw/inference.h"
#include "tests/support/temp_dir_test.h"

namespace axsa::test {
namespace {

// The twin without a host model, recording every GEMM shape the network issues.
class shape_recorder final : public sw::gemm_backend {
 public:
  explicit shape_recorder(sw::functional_engine& twin) : m_twin(twin) {}
  sw::gemm_stats gemm(const hw::gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight, std::int64_t* out,
                      const void* id) override {
    shapes.push_back(shape);
    return m_twin.gemm(shape, act, weight, out, id);
  }
  std::string name() const override { return "recorder"; }
  std::vector<hw::gemm_shape> shapes;

 private:
  sw::functional_engine& m_twin;
};

sweep::grid small_grid() {
  sweep::grid g;
  g.model_path = AXSA_SOURCE_DIR "/models/lenet5.onnx";
  g.data_dir = AXSA_SOURCE_DIR "/data/mnist";
  g.sizes = {{4, 4}, {8, 8}};
  g.widths = {8, 12};
  g.mults = {"exact", "drum12_k6"};
  g.first = 7;
  g.images = 30;
  g.calibration = 200;
  return g;
}

using sweep_test = temp_dir_test;

TEST_F(sweep_test, small_grid_agrees_with_independent_cycles_energy_and_area) {
  const sweep::grid g = small_grid();
  const sweep::inputs in = sweep::load_inputs(g);
  auto st = sweep::open_sqlite_store(file("s.sqlite"), g.definition());
  sweep::run_options opt;
  opt.progress = false;
  const auto sum = sweep::run_grid(g, in, *st, opt);
  EXPECT_EQ(sum.total, 8u);
  EXPECT_EQ(sum.run, 8u);
  const auto rows = st->rows();
  ASSERT_EQ(rows.size(), 8u);
  for (const auto& r : rows) {
    SCOPED_TRACE(r.point.label());
    ASSERT_EQ(r.status, "done") << r.note;
    EXPECT_EQ(r.images, g.images);
    hw::array_config cfg;
    cfg.rows = r.point.rows;
    cfg.cols = r.point.cols;
    cfg.data_bits = r.point.bits;
    cfg.acc_bits = sw::safe_acc_bits(in.net, r.point.bits);
    EXPECT_EQ(r.acc_bits, cfg.acc_bits);
    const sw::qnetwork q = sw::quantize(in.net, cfg.data_bits, cfg.acc_bits, in.train.images, g.calibration);
    const auto mult = r.point.mult == "exact" ? nullptr : rtl::make_multiplier(r.point.mult, cfg.data_bits, rtl::eval_mode::table);

    // Cycles: every GEMM the network issues, cut into the driver's jobs, each by the cycle formula.
    sw::functional_engine plain(cfg, mult);
    shape_recorder rec(plain);
    const auto run = sw::run_inference(q, rec, in.test.images, g.first, g.images, cfg.rows);
    std::uint64_t cycles = 0, macs = 0;
    for (const auto& s : rec.shapes) {
      const std::size_t per_job = sw::host_driver::rows_per_job(s, {});
      ASSERT_GT(per_job, 0u);
      for (std::size_t m0 = 0; m0 < s.m; m0 += per_job) cycles += hw::gemm_cycles({std::min(per_job, s.m - m0), s.k, s.n}, cfg);
      macs += std::uint64_t{s.m} * s.k * s.n;
    }
    const double n = static_cast<double>(g.images);
    EXPECT_DOUBLE_EQ(r.cycles_per_image, static_cast<double>(cycles) / n);
    EXPECT_DOUBLE_EQ(r.macs_per_image, static_cast<double>(macs) / n);
    EXPECT_DOUBLE_EQ(r.utilization, static_cast<double>(macs) / (static_cast<double>(cfg.rows) * cfg.cols * static_cast<double>(cycles)));
    // Accuracy: the same twin's predictions against the labels.
    std::uint64_t correct = 0;
    for (std::size_t i = 0; i < run.predictions.size(); ++i) correct += run.predictions[i] == in.test.labels.labels[g.first + i];
    EXPECT_EQ(r.correct, correct);
    EXPECT_DOUBLE_EQ(r.accuracy, static_cast<double>(correct) / n);

    // Energy: estimate_energy of a separate twin run's activity, standing for the TLM system.
    sw::functional_engine twin(cfg, mult);
    twin.set_host_model(sw::host_driver::model({}));
    const auto counted = sw::run_inference(q, twin, in.test.images, g.first, g.images, cfg.rows);
    EXPECT_GT(counted.totals.activity.bus_beats, 0u);
    const auto me = rtl::energy_per_product(r.point.mult == "exact" ? "" : r.point.mult, cfg.data_bits, in.table);
    const auto e = hw::estimate_energy(counted.totals.activity, sweep::energy_setup_for(cfg, me.pj), in.table);
    EXPECT_DOUBLE_EQ(r.energy_pj, e.total() / n);
    EXPECT_DOUBLE_EQ(r.energy_mult_pj, e.multipliers / n);
    EXPECT_DOUBLE_EQ(r.energy_offchip_pj, e.offchip / n);
    EXPECT_NEAR(r.energy_mult_pj + r.energy_adder_pj + r.energy_register_pj + r.energy_buffer_pj + r.energy_offchip_pj,
                r.energy_pj, 1e-9 * r.energy_pj);
    EXPECT_DOUBLE_EQ(r.mult_pj_per_product, me.pj);
    EXPECT_EQ(r.mult_energy_basis, me.basis);
    EXPECT_FALSE(r.critical_share.has_value());

    // Area: the multiplier's own synthesis (native exact: exactW) plus the per-bit proxy, per PE.
    const std::string circuit = r.point.mult == "exact" ? "exact" + std::to_string(cfg.data_bits) : r.point.mult;
    const auto area = rtl::estimate_area(rtl::find_entry(circuit));
    ASSERT_EQ(area.has_value(), r.mult_area.has_value()) << r.area_basis;
    if (area) {
      EXPECT_DOUBLE_EQ(*r.mult_area, area->nand2_equivalents);
      EXPECT_DOUBLE_EQ(*r.array_area, cfg.rows * cfg.cols * (area->nand2_equivalents + sweep::pe_overhead_nand2(cfg)));
      EXPECT_NE(r.area_basis.find("proxy"), std::string::npos);
    } else {
      EXPECT_FALSE(rtl::yosys_available() && r.area_basis.empty());
    }
  }
  // Wider data costs more multiplier energy per product; a bigger array takes fewer cycles.
  auto find = [&](unsigned size, unsigned bits, const std::string& m) {
    for (const auto& r : rows)
      if (r.point.rows == size && r.point.bits == bits && r.point.mult == m) return r;
    ADD_FAILURE() << "no row " << size << " " << bits << " " << m;
    return sweep::config_result{};
  };
  EXPECT_GT(find(4, 12, "exact").mult_pj_per_product, find(4, 8, "exact").mult_pj_per_product);
  EXPECT_LT(find(8, 8, "exact").cycles_per_image, find(4, 8, "exact").cycles_per_image);
  // Running the same grid again does nothing: every configuration is stored.
  const auto again = sweep::run_grid(g, in, *st, opt);
  EXPECT_EQ(again.already_done, 8u);
  EXPECT_EQ(again.run, 0u);
}

TEST_F(sweep_test, weight_stationary_cycles_follow_the_formula_too) {
  sweep::grid g = small_grid();
  g.sizes = {{5, 3}};
  g.widths = {8};
  g.mults = {"exact"};
  g.dataflow = "ws";
  g.images = 10;
  const sweep::inputs in = sweep::load_inputs(g);
  auto st = sweep::open_sqlite_store(file("ws.sqlite"), g.definition());
  sweep::run_options opt;
  opt.progress = false;
  sweep::run_grid(g, in, *st, opt);
  const auto rows = st->rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].point.dataflow, "ws");
  hw::array_config cfg;
  cfg.rows = 5;
  cfg.cols = 3;
  cfg.acc_bits = sw::safe_acc_bits(in.net, 8);
  cfg.dataflow = hw::dataflow_kind::weight_stationary;
  const sw::qnetwork q = sw::quantize(in.net, 8, cfg.acc_bits, in.train.images, g.calibration);
  sw::functional_engine plain(cfg, nullptr);
  shape_recorder rec(plain);
  sw::run_inference(q, rec, in.test.images, g.first, g.images, cfg.rows);
  std::uint64_t cycles = 0;
  for (const auto& s : rec.shapes) {
    const std::size_t per_job = sw::host_driver::rows_per_job(s, {});
    for (std::size_t m0 = 0; m0 < s.m; m0 += per_job) cycles += hw::gemm_cycles({std::min(per_job, s.m - m0), s.k, s.n}, cfg);
  }
  EXPECT_DOUBLE_EQ(rows[0].cycles_per_image, static_cast<double>(cycles) / static_cast<double>(g.images));
  hw::array_config os = cfg;
  os.dataflow = hw::dataflow_kind::output_stationary;
  EXPECT_NE(hw::gemm_cycles({50, 25, 6}, cfg), hw::gemm_cycles({50, 25, 6}, os));  // the two formulas differ
}

TEST_F(sweep_test, a_multiplier_narrower_than_the_width_is_a_skipped_row_with_its_reason) {
  sweep::grid g = small_grid();
  g.sizes = {{3, 5}};
  g.mults = {"drum8_k4"};
  g.images = 5;
  const sweep::inputs in = sweep::load_inputs(g);
  auto st = sweep::open_csv_store(file("s.csv"), g.definition());
  sweep::run_options opt;
  opt.progress = false;
  const auto sum = sweep::run_grid(g, in, *st, opt);
  EXPECT_EQ(sum.skipped, 1u);
  const auto rows = st->rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].point.bits, 8u);
  EXPECT_EQ(rows[0].status, "done");
  EXPECT_EQ(rows[1].point.bits, 12u);
  EXPECT_EQ(rows[1].status, "skipped");
  EXPECT_NE(rows[1].note.find("8-bit operands, narrower than the 12-bit data"), std::string::npos) << rows[1].note;
  EXPECT_EQ(rows[1].images, 0u);
}

TEST_F(sweep_test, quick_campaign_is_deterministic_for_a_seed) {
  sweep::grid g = small_grid();
  g.campaign = sweep::campaign_mode::quick;
  g.campaign_faults = 40;
  g.campaign_images = 6;
  g.images = 12;
  const sweep::inputs in = sweep::load_inputs(g);
  const sw::qnetwork q = sw::quantize(in.net, 8, sw::safe_acc_bits(in.net, 8), in.train.images, g.calibration);
  sweep::prepared p{&q, sw::safe_acc_bits(in.net, 8), &in.test, &in.table};
  const sweep::config_point point{4, 4, 8, "exact", "os"};
  const auto a = sweep::evaluate(g, point, p);
  const auto b = sweep::evaluate(g, point, p);
  ASSERT_TRUE(a.critical_share.has_value());
  EXPECT_EQ(a.campaign_faults, 40u);
  EXPECT_EQ(a.campaign_pairs, 40u * 6u);
  EXPECT_GE(*a.critical_share, 0.0);
  EXPECT_LE(*a.critical_share, 1.0);
  EXPECT_EQ(*a.critical_share, *b.critical_share);
  // Stuck-at faults on the sign bits of a 4x4 array's weights do hit: not every pair is masked.
  EXPECT_GT(*a.critical_share, 0.0);
}

sweep::config_result sample_result(unsigned rows, const std::string& mult) {
  sweep::config_result r;
  r.point = {rows, rows + 1, 8, mult, "os"};
  r.note = "a note, with \"quotes\"";
  r.acc_bits = 32;
  r.images = 3;
  r.correct = 2;
  r.accuracy = 2.0 / 3.0;
  r.cycles_per_image = 1234.0 / 3.0;
  r.energy_pj = 0.1 + 0.2;
  r.mult_energy_basis = "basis, with a comma";
  r.mult_area = 123.456;
  r.critical_share = std::nullopt;
  r.seconds = 1e-3;
  return r;
}

void expect_same(const sweep::config_result& a, const sweep::config_result& b) {
  EXPECT_EQ(a.point, b.point);
  EXPECT_EQ(a.note, b.note);
  EXPECT_EQ(a.accuracy, b.accuracy);
  EXPECT_EQ(a.cycles_per_image, b.cycles_per_image);
  EXPECT_EQ(a.energy_pj, b.energy_pj);
  EXPECT_EQ(a.mult_energy_basis, b.mult_energy_basis);
  EXPECT_EQ(a.mult_area, b.mult_area);
  EXPECT_EQ(a.pe_area, b.pe_area);
  EXPECT_EQ(a.critical_share, b.critical_share);
  EXPECT_EQ(a.correct, b.correct);
}

TEST_F(sweep_test, stores_round_trip_resume_and_refuse_another_grid) {
  const std::map<std::string, std::string> def = {{"sizes", "4x4"}, {"bits", "8"}};
  for (const bool csv : {false, true}) {
    SCOPED_TRACE(csv ? "csv" : "sqlite");
    const std::string path = file(csv ? "r.csv" : "r.sqlite");
    auto open = [&](const std::map<std::string, std::string>& d) {
      return csv ? sweep::open_csv_store(path, d) : sweep::open_sqlite_store(path, d);
    };
    {
      auto st = open(def);
      st->put(sample_result(4, "exact"));
      st->put(sample_result(2, "drum8_k4"));
      EXPECT_THROW(st->put(sample_result(4, "exact")), std::logic_error);
    }
    if (csv) std::ofstream(path, std::ios::app) << "5,6,8,exact,os,done,cut sh";  // a row cut short by a kill
    {
      auto st = open(def);
      EXPECT_TRUE(st->has(sample_result(4, "exact").point));
      EXPECT_FALSE(st->has(sample_result(5, "exact").point));
      const auto rows = st->rows();
      ASSERT_EQ(rows.size(), 2u);
      expect_same(rows[0], sample_result(2, "drum8_k4"));
      expect_same(rows[1], sample_result(4, "exact"));
      st->put(sample_result(5, "exact"));
    }
    EXPECT_EQ(open(def)->rows().size(), 3u);
    if (csv) {
      const std::string text = read_text(path);
      EXPECT_EQ(text.find("cut sh"), std::string::npos);
      EXPECT_EQ(text.back(), '\n');
    }
    try {
      open({{"sizes", "4x4,8x8"}, {"bits", "8"}});
      ADD_FAILURE() << "another grid was accepted";
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find("sizes = '4x4'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  // A file that is not a sweep.
  std::ofstream(file("other.csv")) << "a,b\n1,2\n";
  EXPECT_THROW(sweep::open_csv_store(file("other.csv"), def), config_error);
  std::ofstream(file("other.sqlite")) << "not a database at all, just text that is long enough to be a header";
  EXPECT_THROW(sweep::open_sqlite_store(file("other.sqlite"), def), config_error);
}

TEST(sweep_parsers, lists_are_parsed_and_bad_items_named) {
  using P = std::vector<std::pair<unsigned, unsigned>>;
  EXPECT_EQ(sweep::parse_sizes("4,8x16,128"), (P{{4, 4}, {8, 16}, {128, 128}}));
  EXPECT_EQ(sweep::parse_widths("8,12,2,16"), (std::vector<unsigned>{8, 12, 2, 16}));
  EXPECT_EQ(sweep::parse_mults("exact,drum8_k4"), (std::vector<std::string>{"exact", "drum8_k4"}));
  for (const char* bad : {"0", "129", "4x", "x4", "a", "4,,8", "", "4,4", "8x0", "-1"}) {
    EXPECT_THROW(sweep::parse_sizes(bad), config_error) << bad;
  }
  for (const char* bad : {"1", "17", "8,8", "", "8,", "w"}) EXPECT_THROW(sweep::parse_widths(bad), config_error) << bad;
  try {
    sweep::parse_mults("exact,nosuch9");
    ADD_FAILURE();
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("nosuch9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sweep::parse_campaign_mode("full"), config_error);
}

TEST(sweep_area, pe_overhead_counts_adder_and_register_bits) {
  hw::array_config cfg;
  cfg.data_bits = 8;
  cfg.acc_bits = 32;
  // A 32-bit adder and 8 + 8 + 32 register bits.
  EXPECT_DOUBLE_EQ(sweep::pe_overhead_nand2(cfg), 32 * sweep::full_adder_nand2 + 48 * sweep::register_bit_nand2);
  cfg.data_bits = 16;
  EXPECT_DOUBLE_EQ(sweep::pe_overhead_nand2(cfg), 32 * sweep::full_adder_nand2 + 64 * sweep::register_bit_nand2);
}

// The synthesis cache holds every digit: a figure read back from it is the one yosys gave, so results
// (a sweep's energy per image) do not depend on whether the cache was warm. drum12_k6's area is
// 739.2500000000001 NAND2-eq from the cell counts; a cache written with 6 digits gave back 739.25,
// and a sweep killed and resumed differed from an uninterrupted one in the last digit.
TEST(sweep_area, a_cached_area_is_the_fresh_one_to_the_last_bit) {
  ASSERT_TRUE(rtl::yosys_available()) << "scripts/setup.sh installs yosys";
  const std::string dir = testing::TempDir() + "axsa_area_cache_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  const char* old = std::getenv("AXSA_CACHE_DIR");
  const std::string saved = old ? old : "";
  ::setenv("AXSA_CACHE_DIR", dir.c_str(), 1);
  for (const char* name : {"drum12_k6", "exact12", "exact8"}) {
    const auto fresh = rtl::estimate_area(rtl::find_entry(name));  // yosys, then written to the cache
    const auto cached = rtl::estimate_area(rtl::find_entry(name));
    ASSERT_TRUE(fresh && cached) << name;
    EXPECT_EQ(fresh->cells, cached->cells) << name;
    EXPECT_EQ(fresh->nand2_equivalents, cached->nand2_equivalents) << name;  // exact, not within an ulp
  }
  EXPECT_FALSE(std::filesystem::is_empty(dir)) << "the second estimates must have come from the cache";
  if (old) ::setenv("AXSA_CACHE_DIR", saved.c_str(), 1);
  else ::unsetenv("AXSA_CACHE_DIR");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace axsa::test
