// The campaign shortcut against the full cycle-accurate run: for 200 random faults of each type
// (stuck-at-0, stuck-at-1, bit-flip; both sites; whole-run, single-cycle and multi-cycle windows)
// the faulty output integers of every image, and so the outcomes, are identical. One
// configuration per process: it runs the host driver, the TLM bus and the array with the saboteur.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "faults/campaign.h"
#include "rtl/mult_registry.h"

namespace axsa::faults {
namespace {

const std::string source_dir = AXSA_SOURCE_DIR;

struct shortcut_case {
  unsigned rows, cols;
  const char* mult;
  std::size_t act_bytes;  // small buffers make the driver tile M into several jobs
  bool high = false;      // --operand-align high
};

void PrintTo(const shortcut_case& c, std::ostream* os) {
  *os << c.rows << "x" << c.cols << " " << c.mult << (c.high ? " operands high" : "") << " act buffer " << c.act_bytes;
}

std::string case_name(const testing::TestParamInfo<shortcut_case>& p) {
  std::ostringstream s;
  s << p.param.rows << "x" << p.param.cols << "_" << p.param.mult << "_" << p.param.act_bytes << (p.param.high ? "_high" : "");
  return s.str();
}

class shortcut : public testing::TestWithParam<shortcut_case> {};

// Every fault of `list` on the full cycle-accurate system built from `cfg` (host driver, TLM bus,
// array with the saboteur), after a fault-free run. One system per process, as SystemC allows.
struct full_runs {
  std::vector<std::vector<std::int64_t>> golden;
  std::vector<std::vector<std::vector<std::int64_t>>> faulty;
  std::size_t issued = 0;  // GEMM jobs the host driver issued
};

full_runs run_all_on_system(const campaign_setup& s, const hw::array_config& cfg, const std::vector<fault>& list) {
  sw::accelerated_system sys("system", cfg, s.buffers);
  sys.accelerator.array.set_multiplier(s.mult.get());
  full_runs out;
  sys.host.set_program([&] {
    out.golden = run_on_system(sys, s, {});
    for (const fault& f : list) out.faulty.push_back(run_on_system(sys, s, {f}));
  });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
  out.issued = sys.host.issued().size();
  return out;
}

TEST_P(shortcut, equals_the_full_cycle_accurate_run_for_600_faults) {
  const shortcut_case p = GetParam();
  const sw::network net = sw::load_onnx(source_dir + "/models/lenet5.onnx");
  const sw::dataset test = sw::load_mnist(source_dir + "/data/mnist", "t10k");
  const sw::dataset train = sw::load_mnist(source_dir + "/data/mnist", "train");
  campaign_setup s;
  s.cfg.rows = p.rows;
  s.cfg.cols = p.cols;
  s.cfg.data_bits = 8;
  s.cfg.acc_bits = 32;
  s.cfg.align = p.high ? hw::operand_align::high : hw::operand_align::low;
  const sw::qnetwork q = sw::quantize(net, 8, 32, train.images, 200);
  s.net = &q;
  if (std::string(p.mult) != "exact") s.mult = rtl::make_multiplier(p.mult, 8, rtl::eval_mode::table, s.cfg.align);
  s.images = &test.images;
  s.first = 77;
  s.count = 6;
  s.batch = 4;  // two batches, the second ragged
  s.buffers.act_bytes = p.act_bytes;
  const golden_reference golden(s);

  std::mt19937_64 rng(2024);
  std::vector<fault> list;
  for (int type = 0; type < 3; ++type) {
    for (int i = 0; i < 200; ++i) {
      fault f;
      f.site = rng() % 2 ? fault_site::weight_link : fault_site::weight_mult;
      f.row = static_cast<unsigned>(rng() % p.rows);
      f.col = static_cast<unsigned>(rng() % p.cols);
      f.bit = static_cast<unsigned>(rng() % 8);
      f.kind = type == 0 ? fault_kind::stuck_at_0 : type == 1 ? fault_kind::stuck_at_1 : fault_kind::bit_flip;
      if (type == 2) {
        f.first_cycle = rng() % golden.cycles();
        f.last_cycle = f.first_cycle + (i % 4 == 0 ? rng() % 3000 : 0);  // some multi-cycle windows
      } else if (i % 5 == 0) {
        f.first_cycle = rng() % golden.cycles();  // some stuck-at faults for part of the run
        f.last_cycle = f.first_cycle + rng() % 20000;
      }
      list.push_back(f);
    }
  }

  const full_runs runs = run_all_on_system(s, s.cfg, list);
  const auto& full = runs.faulty;
  ASSERT_EQ(runs.golden, golden.logits()) << "the golden runs must agree first";
  if (p.act_bytes < (4u << 20)) {
    EXPECT_GT(runs.issued, 5u * (list.size() + 1)) << "the small buffer should split jobs";
  }

  shortcut_engine engine(golden);
  std::array<int, 5> counts{};
  std::size_t differing = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto fast = engine.run(list[i]);
    ASSERT_EQ(fast, full[i]) << "fault " << describe(list[i]);
    const auto a = classify_run(golden, fast), b = classify_run(golden, full[i]);
    for (std::size_t k = 0; k < a.size(); ++k) {
      ASSERT_EQ(a[k].result, b[k].result);
      ++counts[static_cast<int>(a[k].result)];
    }
    differing += fast != golden.logits();
  }
  std::cout << "pairs: masked " << counts[0] << ", tolerable " << counts[1] << ", critical " << counts[2]
            << "; faults changing an output: " << differing << " of " << list.size() << "\n";
  EXPECT_GT(differing, 100u) << "the sample should exercise faulty outputs, not only masked ones";
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1] + counts[2], 0);
}

// campaign --engine structural: the full run on the structural engine (pe modules with a saboteur
// on every PE's north input and multiplier operand) gives the shortcut's outputs too.
TEST(structural_campaign, equals_the_shortcut_for_60_faults_on_both_sites) {
  const sw::network net = sw::load_onnx(source_dir + "/models/lenet5.onnx");
  const sw::dataset test = sw::load_mnist(source_dir + "/data/mnist", "t10k");
  const sw::dataset train = sw::load_mnist(source_dir + "/data/mnist", "train");
  campaign_setup s;
  s.cfg.rows = 6;
  s.cfg.cols = 5;
  s.cfg.data_bits = 8;
  s.cfg.acc_bits = 32;
  const sw::qnetwork q = sw::quantize(net, 8, 32, train.images, 200);
  s.net = &q;
  s.mult = rtl::make_multiplier("drum8_k4", 8, rtl::eval_mode::table);
  s.images = &test.images;
  s.first = 5;
  s.count = 3;
  s.batch = 2;
  const golden_reference golden(s);
  std::mt19937_64 rng(99);
  std::vector<fault> list;
  for (int i = 0; i < 60; ++i) {
    fault f;
    f.site = i % 2 ? fault_site::weight_link : fault_site::weight_mult;
    f.kind = static_cast<fault_kind>(i % 3);
    f.row = static_cast<unsigned>(rng() % s.cfg.rows);
    f.col = static_cast<unsigned>(rng() % s.cfg.cols);
    f.bit = static_cast<unsigned>(rng() % 8);
    if (i % 4 == 1) {
      f.first_cycle = rng() % golden.cycles();
      f.last_cycle = f.first_cycle + rng() % 5000;
    }
    list.push_back(f);
  }
  hw::array_config cfg = s.cfg;
  cfg.engine = hw::engine_kind::structural;
  cfg.saboteurs.every_link = cfg.saboteurs.every_mult = true;
  const full_runs runs = run_all_on_system(s, cfg, list);
  const auto& full = runs.faulty;
  ASSERT_EQ(runs.golden, golden.logits());
  shortcut_engine engine(golden);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto fast = engine.run(list[i]);
    ASSERT_EQ(fast, full[i]) << "fault " << describe(list[i]);
    differing += fast != golden.logits();
  }
  EXPECT_GT(differing, 10u) << "the sample should change some outputs";
}

// The layers LeNet-5 lacks: a strided conv with asymmetric padding, max and average pools with
// padding, a ReLU apart from its conv, and a final softmax (tests/fixtures/conv_avgpool_softmax.onnx,
// 8x8 inputs, here random images). 600 faults of every kind against the full run, on an exact and
// an approximate multiplier; the shortcut must have taken both its sparse and its dense path.
class shortcut_layers : public testing::TestWithParam<const char*> {};

TEST_P(shortcut_layers, equals_the_full_run_on_strided_padded_and_pooled_layers) {
  const sw::network net = sw::load_onnx(source_dir + "/tests/fixtures/conv_avgpool_softmax.onnx");
  sw::idx_images images;
  images.count = 40;
  images.rows = images.cols = 8;
  std::mt19937_64 rng(7);
  for (std::size_t i = 0; i < images.count * 64; ++i) images.pixels.push_back(static_cast<std::uint8_t>(rng() % 256));
  {
    const char* mult = GetParam();
    campaign_setup s;
    s.cfg.rows = 5;
    s.cfg.cols = 3;
    s.cfg.data_bits = 8;
    s.cfg.acc_bits = 24;  // narrow enough that faulty sums can wrap
    const sw::qnetwork q = sw::quantize(net, 8, 24, images, 30);
    s.net = &q;
    if (std::string(mult) != "exact") s.mult = rtl::make_multiplier(mult, 8, rtl::eval_mode::table);
    s.images = &images;
    s.first = 30;
    s.count = 7;
    s.batch = 3;
    const golden_reference golden(s);
    std::vector<fault> list;
    for (int i = 0; i < 600; ++i) {
      fault f;
      f.site = i % 2 ? fault_site::weight_link : fault_site::weight_mult;
      f.kind = static_cast<fault_kind>(i % 3);
      f.row = static_cast<unsigned>(rng() % s.cfg.rows);
      f.col = static_cast<unsigned>(rng() % s.cfg.cols);
      f.bit = static_cast<unsigned>(rng() % 8);
      if (f.kind == fault_kind::bit_flip || i % 5 == 0) {
        f.first_cycle = rng() % golden.cycles();
        f.last_cycle = f.first_cycle + (i % 4 == 0 ? rng() % 400 : 0);
      }
      list.push_back(f);
    }
    const full_runs runs = run_all_on_system(s, s.cfg, list);
    const auto& full = runs.faulty;
    ASSERT_EQ(runs.golden, golden.logits());
    shortcut_engine engine(golden);
    std::size_t differing = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto fast = engine.run(list[i]);
      ASSERT_EQ(fast, full[i]) << "fault " << describe(list[i]);
      differing += fast != golden.logits();
    }
    EXPECT_GT(differing, 100u);
    EXPECT_GT(engine.sparse_layers(), 0u);
    EXPECT_GT(engine.dense_layers(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(fixture, shortcut_layers, testing::Values("exact", "drum8_k4"),
                         [](const testing::TestParamInfo<const char*>& p) { return std::string(p.param); });

// The sites beyond the weight path, one per process: 600 faults of one site (200 of each kind;
// valid faults on either of the 2 bits, whose stuck-at-1 changes no output by the argument in faults/campaign.h;
// whole-run, single-cycle and multi-cycle windows; acc faults on any of the A bits) on LeNet-5 with
// buffers small enough to tile M, against the full cycle-accurate run; acc also on the fixture
// network with 24-bit accumulators (faulty sums wrap) and its dense layers.
struct site_case {
  fault_site site;
  const char* net;  // "lenet5" or "fixture"
  unsigned rows, cols;
  const char* mult;
};

void PrintTo(const site_case& c, std::ostream* os) {
  *os << to_string(c.site) << " " << c.net << " " << c.rows << "x" << c.cols << " " << c.mult;
}

class shortcut_sites : public testing::TestWithParam<site_case> {};

TEST_P(shortcut_sites, equals_the_full_cycle_accurate_run_for_600_faults_of_the_site) {
  const site_case p = GetParam();
  const bool lenet = std::string(p.net) == "lenet5";
  const sw::network net = sw::load_onnx(source_dir + (lenet ? "/models/lenet5.onnx" : "/tests/fixtures/conv_avgpool_softmax.onnx"));
  sw::dataset test, train;
  sw::idx_images random_images;
  std::mt19937_64 rng(4096 + static_cast<unsigned>(p.site));
  if (lenet) {
    test = sw::load_mnist(source_dir + "/data/mnist", "t10k");
    train = sw::load_mnist(source_dir + "/data/mnist", "train");
  } else {
    random_images.count = 40;
    random_images.rows = random_images.cols = 8;
    for (std::size_t i = 0; i < random_images.count * 64; ++i) random_images.pixels.push_back(static_cast<std::uint8_t>(rng() % 256));
  }
  campaign_setup s;
  s.cfg.rows = p.rows;
  s.cfg.cols = p.cols;
  s.cfg.data_bits = 8;
  s.cfg.acc_bits = lenet ? 32 : 24;
  const sw::qnetwork q = lenet ? sw::quantize(net, 8, 32, train.images, 200) : sw::quantize(net, 8, 24, random_images, 30);
  s.net = &q;
  if (std::string(p.mult) != "exact") s.mult = rtl::make_multiplier(p.mult, 8, rtl::eval_mode::table);
  s.images = lenet ? &test.images : &random_images;
  s.first = lenet ? 77 : 30;
  s.count = lenet ? 5 : 7;
  s.batch = lenet ? 3 : 3;  // batches, the last ragged
  if (lenet) s.buffers.act_bytes = 3000;
  const golden_reference golden(s);

  const unsigned bits = faults::site_bits(p.site, s.cfg);
  std::vector<fault> list;
  for (int type = 0; type < 3; ++type) {
    for (int i = 0; i < 200; ++i) {
      fault f;
      f.site = p.site;
      f.row = static_cast<unsigned>(rng() % p.rows);
      f.col = static_cast<unsigned>(rng() % p.cols);
      f.bit = static_cast<unsigned>(rng() % bits);
      f.kind = static_cast<fault_kind>(type);
      if (type == 2 || i % 5 == 0) {
        f.first_cycle = rng() % golden.cycles();
        f.last_cycle = f.first_cycle + (i % 4 == 0 ? rng() % 3000 : 0);  // single- and multi-cycle windows
      }
      list.push_back(f);
    }
  }
  const full_runs runs = run_all_on_system(s, s.cfg, list);
  ASSERT_EQ(runs.golden, golden.logits()) << "the golden runs must agree first";
  if (lenet) {
    EXPECT_GT(runs.issued, 5u * (list.size() + 1)) << "the small buffer should split jobs";
  }
  shortcut_engine engine(golden);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto fast = engine.run(list[i]);
    ASSERT_EQ(fast, runs.faulty[i]) << "fault " << describe(list[i]);
    differing += fast != golden.logits();
  }
  std::cout << to_string(p.site) << ": faults changing an output: " << differing << " of " << list.size()
            << "; sparse layers " << engine.sparse_layers() << ", dense " << engine.dense_layers() << "\n";
  EXPECT_GT(differing, 60u) << "the sample should exercise faulty outputs, not only masked ones";
}

std::string site_case_name(const testing::TestParamInfo<site_case>& p) {
  std::string s = std::string(to_string(p.param.site)) + "_" + p.param.net + "_" + p.param.mult;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

INSTANTIATE_TEST_SUITE_P(sites, shortcut_sites,
                         testing::Values(site_case{fault_site::act_link, "lenet5", 8, 8, "drum8_k4"},
                                         site_case{fault_site::act_mult, "lenet5", 8, 8, "exact"},
                                         site_case{fault_site::acc, "lenet5", 8, 8, "drum12_k6"},
                                         site_case{fault_site::acc, "fixture", 5, 3, "exact"},
                                         site_case{fault_site::act_link, "fixture", 5, 3, "drum8_k4"},
                                         site_case{fault_site::valid, "lenet5", 8, 8, "drum8_k4"},
                                         site_case{fault_site::valid, "fixture", 5, 3, "exact"}),
                         site_case_name);

INSTANTIATE_TEST_SUITE_P(lenet5, shortcut,
                         testing::Values(shortcut_case{28, 28, "exact", 4u << 20},
                                         shortcut_case{8, 8, "drum8_k4", 3000},
                                         shortcut_case{8, 8, "drum12_k6", 3000, true}),
                         case_name);

}  // namespace
}  // namespace axsa::faults

namespace axsa::faults {
namespace {

// Hang and Crash are reached by constructed runs: a watchdog budget no job can meet, and buffers
// too small for the network's weights (the driver refuses the layer).
struct tiny_lenet {
  sw::network net = sw::load_onnx(source_dir + "/models/lenet5.onnx");
  sw::dataset test = sw::load_mnist(source_dir + "/data/mnist", "t10k");
  sw::dataset train = sw::load_mnist(source_dir + "/data/mnist", "train");
  sw::qnetwork q = sw::quantize(net, 8, 32, train.images, 50);
  campaign_setup setup() const {
    campaign_setup s;
    s.cfg.rows = 8;
    s.cfg.cols = 8;
    s.net = &q;
    s.images = &test.images;
    s.count = 3;
    s.batch = 3;
    return s;
  }
};

TEST(failed_runs, a_watchdog_overrun_is_a_hang_for_every_image) {
  const tiny_lenet d;
  const auto s = d.setup();
  const golden_reference golden(s);
  sw::accelerated_system sys("system", s.cfg);
  sys.host.set_watchdog_factor(0.0);
  std::vector<pair_result> r;
  sys.host.set_program([&] { r = evaluate_on_system(sys, golden, parse_fault("weight-link:stuck-at-1:0:0:3")); });
  sc_core::sc_start();
  ASSERT_EQ(r.size(), 3u);
  for (const auto& p : r) EXPECT_EQ(p.result, outcome::hang);
}

TEST(failed_runs, a_run_that_throws_is_a_crash_for_every_image) {
  const tiny_lenet d;
  auto s = d.setup();
  const golden_reference golden(s);
  sw::accelerated_system sys("system", s.cfg, tlm_model::buffer_sizes{4096, 512, 8192});
  std::vector<pair_result> r;
  sys.host.set_program([&] { r = evaluate_on_system(sys, golden, parse_fault("weight-mult:bit-flip:1:1:2:5:5")); });
  sc_core::sc_start();
  ASSERT_EQ(r.size(), 3u);
  for (const auto& p : r) {
    EXPECT_EQ(p.result, outcome::crash);
    EXPECT_EQ(p.faulty_label, -1);
  }
}

}  // namespace
}  // namespace axsa::faults
