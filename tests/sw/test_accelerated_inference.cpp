// LeNet-5 through the host driver, the TLM bus and the cycle-accurate array: the output integers
// equal the functional twin's for every image, and every GEMM the driver issues takes exactly the
// documented cycle count. One configuration per process (one elaboration each).
#include <gtest/gtest.h>

#include <sstream>

#include "rtl/mult_registry.h"
#include "sw/accelerated_system.h"
#include "sw/functional_engine.h"
#include "sw/gemm_workload.h"
#include "sw/inference.h"

namespace axsa::sw {
namespace {

const std::string source_dir = AXSA_SOURCE_DIR;

struct run_case {
  unsigned bits;
  const char* mult;
  unsigned rows, cols;
};

void PrintTo(const run_case& c, std::ostream* os) {
  *os << "W" << c.bits << " " << c.mult << " " << c.rows << "x" << c.cols;
}

std::string case_name(const testing::TestParamInfo<run_case>& info) {
  std::ostringstream s;
  s << "W" << info.param.bits << "_" << info.param.mult << "_" << info.param.rows << "x" << info.param.cols;
  return s.str();
}

struct lenet_data {
  network net = load_onnx(source_dir + "/models/lenet5.onnx");
  dataset test = load_mnist(source_dir + "/data/mnist", "t10k");
  dataset train = load_mnist(source_dir + "/data/mnist", "train");
};

std::uint64_t documented_cycles(const hw::gemm_shape& s, unsigned r, unsigned c) {
  return ((s.m + r - 1) / r) * ((s.n + c - 1) / c) * (s.k + 2 * r + c - 2);
}

class accelerated_inference : public testing::TestWithParam<run_case> {};

TEST_P(accelerated_inference, identical_to_the_functional_twin_and_cycle_exact) {
  const run_case p = GetParam();
  const lenet_data d;
  hw::array_config cfg;
  cfg.rows = p.rows;
  cfg.cols = p.cols;
  cfg.data_bits = p.bits;
  cfg.acc_bits = safe_acc_bits(d.net, p.bits);
  const qnetwork q = quantize(d.net, p.bits, cfg.acc_bits, d.train.images, 300);
  std::shared_ptr<const hw::multiplier> mult;
  if (std::string(p.mult) != "exact") mult = rtl::make_multiplier(p.mult, p.bits, rtl::eval_mode::table);

  constexpr std::size_t images = 200, first = 1234, batch = 16;
  accelerated_system sys("system", cfg);
  sys.accelerator.array.set_multiplier(mult.get());
  inference_result on_array;
  sys.host.set_program([&] { on_array = run_inference(q, sys.host, d.test.images, first, images, batch); });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());

  functional_engine twin(cfg, mult);
  twin.set_host_model(host_driver::model({}));
  const inference_result reference = run_inference(q, twin, d.test.images, first, images, batch);
  ASSERT_EQ(on_array.logits.size(), images);
  EXPECT_EQ(on_array.logits, reference.logits);
  EXPECT_EQ(on_array.predictions, reference.predictions);
  EXPECT_GT(accuracy(on_array, d.test.labels.labels, first), 0.9);

  ASSERT_FALSE(sys.host.issued().empty());
  std::uint64_t sum = 0;
  for (const auto& g : sys.host.issued()) {
    EXPECT_EQ(g.cycles, documented_cycles(g.shape, p.rows, p.cols))
        << "GEMM " << g.shape.m << "x" << g.shape.k << "x" << g.shape.n;
    sum += g.cycles;
  }
  EXPECT_EQ(on_array.totals.array_cycles, sum);
  EXPECT_EQ(reference.totals.array_cycles, sum) << "the twin reports the same cycles from the formula";
  EXPECT_GT(on_array.totals.bus_cycles, 0u);
  // Activity: the array's counts (stepped) and the bus traffic (the target's) equal the twin's closed
  // forms and its model of the driver's transfers.
  const hw::activity& a = on_array.totals.activity;
  EXPECT_TRUE(a == reference.totals.activity);
  EXPECT_EQ(a.macs, on_array.totals.macs);
  EXPECT_EQ(a.cycles, sum);
  EXPECT_GT(a.zero_macs, 0u);  // ReLU activations and zero-point weights
  EXPECT_LT(a.zero_macs, a.macs);
  EXPECT_GT(a.bus_beats, 0u);
}

INSTANTIATE_TEST_SUITE_P(lenet5, accelerated_inference,
                         testing::Values(run_case{8, "exact", 28, 28}, run_case{8, "drum8_k4", 28, 28},
                                         run_case{16, "exact", 28, 28}, run_case{16, "trunc16_k8", 28, 28},
                                         run_case{8, "exact", 8, 8}, run_case{8, "drum8_k4", 8, 8},
                                         run_case{16, "exact", 8, 8}, run_case{16, "trunc16_k8", 8, 8}),
                         case_name);

// A job that overruns its budget is reported as a hang, not waited on for ever.
TEST(host_driver, watchdog_reports_a_hang) {
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  accelerated_system sys("system", cfg);
  sys.host.set_watchdog_factor(0.0);  // budget: 1000 cycles
  const auto w = make_workload({64, 500, 16}, 8, operand_fill::random, 1);  // 16 x 4 folds of 508 cycles
  std::vector<std::int64_t> out(64 * 16);
  sys.host.set_program([&] { sys.host.gemm(w.shape, w.act.data(), w.weight.data(), out.data(), nullptr); });
  sc_core::sc_start();
  ASSERT_TRUE(sys.host.failure());
  try {
    std::rethrow_exception(sys.host.failure());
  } catch (const hang_error& e) {
    EXPECT_NE(std::string(e.what()).find("did not signal done"), std::string::npos) << e.what();
  }
}

// A layer whose weights exceed the weight buffer is refused with a clear error before any transfer.
TEST(host_driver, oversized_layers_are_refused) {
  hw::array_config cfg;
  accelerated_system sys("system", cfg, tlm_model::buffer_sizes{1024, 1024, 4096});
  const auto w = make_workload({2, 100, 100}, 8, operand_fill::random, 1);
  std::vector<std::int64_t> out(200);
  sys.host.set_program([&] { sys.host.gemm(w.shape, w.act.data(), w.weight.data(), out.data(), nullptr); });
  sc_core::sc_start();
  ASSERT_TRUE(sys.host.failure());
  EXPECT_THROW(std::rethrow_exception(sys.host.failure()), config_error);
  EXPECT_TRUE(sys.host.issued().empty());
}

// Small buffers: the driver tiles M into several jobs and the result is still exact.
TEST(host_driver, tiles_m_to_fit_the_buffers) {
  hw::array_config cfg;
  cfg.rows = 5;
  cfg.cols = 3;
  accelerated_system sys("system", cfg, tlm_model::buffer_sizes{2 * 40 * 7, 4096, 8 * 7 * 9});
  const auto w = make_workload({50, 40, 9}, 8, operand_fill::random, 2);
  std::vector<std::int64_t> out(50 * 9);
  gemm_stats stats;
  sys.host.set_program([&] { stats = sys.host.gemm(w.shape, w.act.data(), w.weight.data(), out.data(), nullptr); });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
  EXPECT_EQ(out, reference_gemm(w, 32));
  EXPECT_EQ(sys.host.issued().size(), 8u);  // 7 rows per job
  // The bus traffic, from the driver's protocol: the weights once and five registers (K, N, three
  // offsets); per job the activations, M, START, STATUS, two CYCLES words, the results, CLEAR.
  const hw::activity& a = stats.activity;
  EXPECT_EQ(a.bus_transactions, 1u + 5 + 8 * 8);
  EXPECT_EQ(a.bus_write_bytes, 2u * 40 * 9 + 2u * 50 * 40);
  EXPECT_EQ(a.bus_read_bytes, 8u * 50 * 9);
  EXPECT_EQ(a.bus_beats, 2u * 40 * 9 / 8 + 5 + (2u * 50 * 40 / 8 + 8u * 50 * 9 / 8 + 6 * 8));
  EXPECT_EQ(a.macs, 50u * 40 * 9);
  functional_engine twin(cfg, nullptr);
  twin.set_host_model(host_driver::model(tlm_model::buffer_sizes{2 * 40 * 7, 4096, 8 * 7 * 9}));
  std::vector<std::int64_t> twin_out(50 * 9);
  EXPECT_TRUE(twin.gemm(w.shape, w.act.data(), w.weight.data(), twin_out.data(), nullptr).activity == a);
}

}  // namespace
}  // namespace axsa::sw
