// The accelerator's weight memory with permanent faults: a stuck bit reads the same through the
// bus, debug transport and the array, survives every write and keeps DMI read-only; and an
// inference with stuck weight bits gives the same integers on the cycle-accurate TLM run as on the
// functional twin. One elaboration per process.
#include <gtest/gtest.h>

#include "sw/accelerated_system.h"
#include "sw/functional_engine.h"
#include "sw/inference.h"

namespace axsa::sw {
namespace {

const std::string source_dir = AXSA_SOURCE_DIR;

// Expected words worked out by hand for W = 8 (two's complement in the low byte, sign-extended).
TEST(weight_memory, stick_bit_works_on_the_w_bit_pattern) {
  EXPECT_EQ(stick_bit(5, 7, true, 8), -123);    // 0000_0101 -> 1000_0101
  EXPECT_EQ(stick_bit(-1, 7, false, 8), 127);   // 1111_1111 -> 0111_1111
  EXPECT_EQ(stick_bit(3, 0, false, 8), 2);
  EXPECT_EQ(stick_bit(-128, 0, true, 8), -127);
  EXPECT_EQ(stick_bit(4, 2, true, 8), 4);       // already 1
  EXPECT_EQ(stick_bit(0, 15, true, 16), -32768);
  EXPECT_EQ(stick_bit(1, 3, true, 4), -7);      // 0001 -> 1001 at W = 4
}

class bus_probe : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(bus_probe);
  explicit bus_probe(const sc_core::sc_module_name& n) : sc_core::sc_module(n), socket("socket") {}
  tlm_utils::simple_initiator_socket<bus_probe> socket;
};

TEST(weight_memory, stuck_bits_survive_writes_and_show_on_read_back) {
  hw::array_config cfg;
  cfg.rows = cfg.cols = 4;
  cfg.data_bits = 8;
  accelerated_system sys("system", cfg);
  bool ran = false;
  int layer = 0;  // its address is the layer's identity
  sys.host.set_program([&] {
    const std::vector<std::int16_t> w = {5, -1, 3, 0, 17, -128, 64, 2};
    gemm_stats cost;
    sys.host.write_weights(&layer, w.data(), w.size(), cost);
    EXPECT_GT(cost.bus_cycles, 0u);
    sys.host.stick_weight_bits(&layer, {{0, 7, true}, {1, 7, false}, {2, 0, false}, {5, 0, true}});
    std::vector<std::int16_t> back(w.size());
    sys.host.read_weights(&layer, back.data(), back.size(), cost);
    EXPECT_EQ(back, (std::vector<std::int16_t>{-123, 127, 2, 0, 17, -127, 64, 2}));
    // A write cannot clear a stuck bit.
    const std::vector<std::int16_t> again = {1, -2, 1, 7, 0, 0, 0, 0};
    sys.host.write_weights(&layer, again.data(), again.size(), cost);
    sys.host.read_weights(&layer, back.data(), back.size(), cost);
    EXPECT_EQ(back, (std::vector<std::int16_t>{-127, 126, 0, 7, 0, 1, 0, 0}));
    // The array multiplies what the memory holds: a 1 x 2 x 4 GEMM with activations (1, 1) sums
    // rows 0 and 1 of the stored 2 x 4 weights.
    const std::vector<std::int16_t> act = {1, 1};
    std::vector<std::int64_t> out(4);
    sys.host.gemm({1, 2, 4}, act.data(), again.data(), out.data(), &layer);
    EXPECT_EQ(out, (std::vector<std::int64_t>{-127 + 0, 126 + 1, 0 + 0, 7 + 0}));
    ran = true;
  });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
  EXPECT_TRUE(ran);
  EXPECT_EQ(sys.accelerator.stuck_weight_words(), 4u);
  // Outside the buffer or the data width: refused.
  EXPECT_THROW(sys.accelerator.stick_weight_bit(1, 0, true), config_error);
  EXPECT_THROW(sys.accelerator.stick_weight_bit(0, 8, true), config_error);
  EXPECT_THROW(sys.accelerator.stick_weight_bit(sys.accelerator.sizes().weight_bytes, 0, true), config_error);
}

TEST(weight_memory, debug_writes_pass_the_fault_and_dmi_turns_read_only) {
  hw::array_config cfg;
  cfg.rows = cfg.cols = 2;
  cfg.data_bits = 8;
  tlm_model::accelerator acc("acc", cfg);
  bus_probe probe("probe");
  probe.socket.bind(acc.socket);
  sc_core::sc_signal<bool> irq("irq");
  acc.irq(irq);
  auto payload = [](tlm::tlm_generic_payload& t, tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len) {
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(static_cast<unsigned char*>(data));
    t.set_data_length(len);
    t.set_streaming_width(len);
  };
  tlm::tlm_dmi dmi;
  std::int16_t word = 0;
  tlm::tlm_generic_payload probe_dmi, write, read;
  payload(probe_dmi, tlm::TLM_READ_COMMAND, tlm_model::weight_base, &word, 2);
  ASSERT_TRUE(probe.socket->get_direct_mem_ptr(probe_dmi, dmi));
  EXPECT_TRUE(dmi.is_write_allowed());
  acc.stick_weight_bit(6, 1, true);  // word 3, bit 1
  ASSERT_TRUE(probe.socket->get_direct_mem_ptr(probe_dmi, dmi));
  EXPECT_TRUE(dmi.is_read_allowed());
  EXPECT_FALSE(dmi.is_write_allowed());
  std::int16_t words[4] = {0, 0, 0, 0};
  payload(write, tlm::TLM_WRITE_COMMAND, tlm_model::weight_base, words, 8);
  EXPECT_EQ(probe.socket->transport_dbg(write), 8u);
  std::int16_t back[4] = {9, 9, 9, 9};
  payload(read, tlm::TLM_READ_COMMAND, tlm_model::weight_base, back, 8);
  EXPECT_EQ(probe.socket->transport_dbg(read), 8u);
  EXPECT_EQ(back[3], 2);
  EXPECT_EQ(back[0], 0);
}

// The same stuck bits on both engines: the same integers at every exit, and different ones from
// the fault-free run.
TEST(weight_memory, twin_and_cycle_accurate_run_agree_under_weight_faults) {
  const network net = load_onnx(source_dir + "/tests/fixtures/multiexit_tiny.onnx");
  const dataset test = load_mnist(source_dir + "/data/mnist", "t10k");
  const dataset train = load_mnist(source_dir + "/data/mnist", "train");
  hw::array_config cfg;
  cfg.rows = 6;
  cfg.cols = 5;
  cfg.data_bits = 8;
  cfg.acc_bits = safe_acc_bits(net, 8);
  const qnetwork q = quantize(net, 8, cfg.acc_bits, train.images, 100);
  std::vector<stuck_weight_bit> bits;
  for (std::size_t i = 0; i < q.layers[0].weight_kn.size(); i += 3) bits.push_back({i, static_cast<unsigned>(i % 8), i % 2 == 0});
  auto deploy = [&](gemm_backend& b, bool faulty) {
    gemm_stats cost;
    auto put = [&](const std::vector<qlayer>& chain) {
      for (const qlayer& l : chain)
        if (!l.weight_kn.empty()) b.write_weights(&l, l.weight_kn.data(), l.weight_kn.size(), cost);
    };
    put(q.layers);
    for (const qexit& e : q.exits) put(e.layers);
    if (faulty) b.stick_weight_bits(&q.layers[0], bits);
  };
  functional_engine twin(cfg, nullptr), clean(cfg, nullptr);
  deploy(twin, true);
  const auto expected = run_inference(q, twin, test.images, 0, 40, 6, {exit_policy::all, 0.5, {}});
  const auto golden = run_inference(q, clean, test.images, 0, 40, 6, {exit_policy::all, 0.5, {}});
  EXPECT_NE(expected.exit_logits, golden.exit_logits);
  accelerated_system sys("system", cfg);
  inference_result got;
  sys.host.set_program([&] {
    deploy(sys.host, true);
    got = run_inference(q, sys.host, test.images, 0, 40, 6, {exit_policy::all, 0.5, {}});
  });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
  EXPECT_EQ(got.exit_logits, expected.exit_logits);
  EXPECT_EQ(got.exit_taken, expected.exit_taken);
  EXPECT_EQ(got.totals.array_cycles, expected.totals.array_cycles);
}

}  // namespace
}  // namespace axsa::sw
