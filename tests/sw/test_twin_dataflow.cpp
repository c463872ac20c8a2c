// The functional twin stands for the TLM run under either dataflow: with the host model set, its
// array cycles for LeNet-5 equal those the cycle-accurate array spends behind the bus, output- and
// weight-stationary alike (axsa sweep --dataflow ws reads them). One configuration per process.
#include <gtest/gtest.h>

#include "sw/accelerated_system.h"
#include "sw/functional_engine.h"
#include "sw/host_driver.h"
#include "sw/inference.h"

namespace axsa::sw {
namespace {

const std::string source_dir = AXSA_SOURCE_DIR;

void check(hw::dataflow_kind dataflow) {
  const network net = load_onnx(source_dir + "/models/lenet5.onnx");
  const dataset test = load_mnist(source_dir + "/data/mnist", "t10k");
  const dataset train = load_mnist(source_dir + "/data/mnist", "train");
  hw::array_config cfg;
  cfg.rows = 5;
  cfg.cols = 3;
  cfg.acc_bits = safe_acc_bits(net, cfg.data_bits);
  cfg.dataflow = dataflow;
  const qnetwork q = quantize(net, cfg.data_bits, cfg.acc_bits, train.images, 200);
  constexpr std::size_t images = 12, first = 40, batch = 5;

  accelerated_system sys("system", cfg);
  inference_result on_array;
  sys.host.set_program([&] { on_array = run_inference(q, sys.host, test.images, first, images, batch); });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());

  functional_engine twin(cfg, nullptr);
  twin.set_host_model(host_driver::model({}));
  const inference_result reference = run_inference(q, twin, test.images, first, images, batch);
  EXPECT_EQ(on_array.logits, reference.logits);
  ASSERT_GT(on_array.totals.array_cycles, 0u);
  EXPECT_EQ(reference.totals.array_cycles, on_array.totals.array_cycles);
  std::uint64_t issued = 0;
  for (const auto& g : sys.host.issued()) issued += g.cycles;
  EXPECT_EQ(issued, on_array.totals.array_cycles);
}

TEST(twin_dataflow, output_stationary_cycles_equal_the_tlm_run) { check(hw::dataflow_kind::output_stationary); }
TEST(twin_dataflow, weight_stationary_cycles_equal_the_tlm_run) { check(hw::dataflow_kind::weight_stationary); }

}  // namespace
}  // namespace axsa::sw
