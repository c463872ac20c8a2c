// The valid and control fault sites (hw/fault.h, docs/faults.md): spec parsing and validation, their
// fault spaces, the fast engine's controller under control faults (a job that runs too long, stops
// early, never finishes, fails), and real control faults on the full system through the campaign's
// own path: Hang (the host's watchdog) and Crash (a job the host cannot complete), the system usable
// again after each, and a shortcut campaign that runs control faults in full and records the engine.
// Simulating tests: each runs in its own process (gtest_discover_tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <set>

#include <unistd.h>

#include "faults/campaign.h"
#include "faults/campaign_runner.h"
#include "faults/fault_space.h"
#include "hw/array_core.h"
#include "hw/cycle_model.h"
#include "hw/dataflow.h"
#include "sw/accelerated_system.h"
#include "sw/gemm_workload.h"

namespace axsa::faults {
namespace {

const std::string source_dir = AXSA_SOURCE_DIR;
namespace field = control_field;

fault control(fault_kind kind, unsigned bit, std::uint64_t first = 0,
              std::uint64_t last = std::numeric_limits<std::uint64_t>::max()) {
  fault f;
  f.site = fault_site::control;
  f.kind = kind;
  f.bit = bit;
  f.first_cycle = first;
  f.last_cycle = last;
  return f;
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(valid_and_control_specs, parse_describe_and_validate) {
  const fault v = parse_fault("valid:stuck-at-1:2:3:1:5:9");
  EXPECT_EQ(v.site, fault_site::valid);
  EXPECT_EQ(v.bit, valid_weight_bit);
  EXPECT_EQ(parse_fault(describe(v)), v);
  const fault c = parse_fault("control:bit-flip:0:0:65:100:100");
  EXPECT_EQ(c.site, fault_site::control);
  EXPECT_EQ(c.bit, field::done);
  EXPECT_EQ(describe(c), "control:bit-flip:0:0:65:100:100");
  EXPECT_EQ(parse_sites("valid,control,acc"), (std::vector<fault_site>{fault_site::valid, fault_site::control, fault_site::acc}));
  EXPECT_EQ(to_string(parse_sites("control,valid")), "control,valid");
  EXPECT_NE(message_of([] { (void)parse_site("ctrl"); }).find("valid or control"), std::string::npos);

  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  EXPECT_NO_THROW(v.validate(cfg));
  EXPECT_NO_THROW(c.validate(cfg));
  EXPECT_NE(message_of([&] { parse_fault("valid:stuck-at-0:0:0:2").validate(cfg); }).find("2-bit valid pair"), std::string::npos);
  EXPECT_NE(message_of([&] { parse_fault("control:stuck-at-0:0:0:66").validate(cfg); }).find("66-bit controller"),
            std::string::npos);
  EXPECT_NE(message_of([&] { parse_fault("control:stuck-at-0:1:0:3").validate(cfg); }).find("names no PE"), std::string::npos);
  cfg.dataflow = hw::dataflow_kind::weight_stationary;
  EXPECT_NE(message_of([&] { v.validate(cfg); }).find("site valid are modelled for the output-stationary"), std::string::npos);
  EXPECT_NE(message_of([&] { c.validate(cfg); }).find("site control"), std::string::npos);
}

TEST(valid_and_control_specs, fault_spaces_per_site) {
  const std::uint64_t T = 50;
  const fault_space space({fault_site::valid, fault_site::control}, fault_set::all, 4, 3, 8, 32, T);
  ASSERT_EQ(space.parts().size(), 2u);
  EXPECT_EQ(space.parts()[0].stuck, 2u * 2 * 12);
  EXPECT_EQ(space.parts()[0].flip, 2u * 12 * T);
  EXPECT_EQ(space.parts()[1].stuck, 2u * field::width);
  EXPECT_EQ(space.parts()[1].flip, std::uint64_t{field::width} * T);
  EXPECT_EQ(space.size(), 48u + 1200 + 132 + 66 * T);
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 3;
  std::set<std::pair<unsigned, std::uint64_t>> flips;  // (bit, cycle) of the control bit-flips
  for (std::uint64_t i = space.parts()[1].first; i < space.size(); ++i) {
    const fault f = space.at(i);
    ASSERT_EQ(f.site, fault_site::control);
    EXPECT_EQ(f.row, 0u);
    EXPECT_EQ(f.col, 0u);
    EXPECT_NO_THROW(f.validate(cfg));
    if (f.kind == fault_kind::bit_flip) flips.insert({f.bit, f.first_cycle});
  }
  EXPECT_EQ(flips.size(), field::width * T) << "every (bit, cycle) once";
  const fault last_valid = space.at(space.parts()[1].first - 1);
  EXPECT_EQ(last_valid.site, fault_site::valid);
  EXPECT_EQ(last_valid.bit, 1u);
  EXPECT_EQ(last_valid.first_cycle, T - 1);
}

// The fast engine's controller, kernel-free: 4x3 array, M = 10 (three folds), K = 12, N = 3.
struct core_run {
  std::uint64_t cycles = 0;
  bool finished = false, failed = false;
  std::vector<std::int64_t> out, reference;
  std::uint64_t formula = 0;
};

core_run run_core(const std::vector<fault>& faults, std::uint64_t max_steps = 0) {
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 3;
  const hw::gemm_shape shape{10, 12, 3};
  const sw::gemm_workload w = sw::make_workload(shape, 8, sw::operand_fill::max, 5);
  core_run r;
  r.formula = hw::gemm_cycles(shape, cfg);
  r.out.assign(shape.m * shape.n, 777);  // a sentinel where nothing is written
  r.reference = sw::reference_gemm(w, cfg.acc_bits, nullptr);
  hw::array_core core(cfg);
  core.set_faults(faults);
  core.start({shape, w.act.data(), w.weight.data(), r.out.data()});
  if (max_steps == 0) max_steps = 2 * r.formula + 1000;  // the host's watchdog budget
  for (std::uint64_t i = 0; i < max_steps && core.busy(); ++i) core.step();
  r.finished = !core.busy();
  r.cycles = core.job_cycles();
  r.failed = core.failed();
  return r;
}

TEST(control_faults, fault_free_run_matches_the_formula) {
  const core_run r = run_core({});
  EXPECT_TRUE(r.finished);
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(r.cycles, r.formula);
  EXPECT_EQ(r.out, r.reference);
}

// A flip of bit 3 of the K counter at compute cycle 8 sends it back to 0: the fold repeats 8 cycles
// (their products are added twice).
TEST(control_faults, k_counter_flip_backwards_runs_the_job_too_long) {
  const core_run r = run_core({control(fault_kind::bit_flip, field::stage_counter + 3, 8, 8)});
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.cycles, r.formula + 8);
  EXPECT_NE(r.out, r.reference);
}

// Forward: a flip of bit 2 at compute cycle 0 skips 4 cycles of the first fold (its first products).
TEST(control_faults, k_counter_flip_forwards_stops_the_fold_early) {
  const core_run r = run_core({control(fault_kind::bit_flip, field::stage_counter + 2, 0, 0)});
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.cycles, r.formula - 4);
  EXPECT_NE(r.out, r.reference);
}

// The stage register stuck at drain: every fold drains at once (R cycles) and delivers zeros.
TEST(control_faults, stage_stuck_at_drain_stops_every_fold_early) {
  const core_run r = run_core({control(fault_kind::stuck_at_1, field::stage)});
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.cycles, 3u * 4);
  EXPECT_EQ(r.out, std::vector<std::int64_t>(r.out.size(), 0));
}

// K counter bit 31 stuck at 1: the counter never equals the compute length; still busy after the
// whole watchdog budget, and after ten times more.
TEST(control_faults, stuck_k_counter_bit_never_lets_the_job_finish) {
  const core_run r = run_core({control(fault_kind::stuck_at_1, field::stage_counter + 31)});
  EXPECT_FALSE(r.finished);
  const core_run longer = run_core({control(fault_kind::stuck_at_1, field::stage_counter + 31)}, 20 * r.formula + 10000);
  EXPECT_FALSE(longer.finished);
  EXPECT_GT(longer.cycles, r.cycles);
}

// Controller bit 40 (fold counter bit 8) stuck at 1: fold 256 is past the job's three; the address generator stops the
// job in its first cycle with an error, nothing written.
TEST(control_faults, fold_counter_past_the_last_fold_fails_the_job) {
  const core_run r = run_core({control(fault_kind::stuck_at_1, field::fold_counter + 8)});
  EXPECT_TRUE(r.finished);
  EXPECT_TRUE(r.failed);
  EXPECT_EQ(r.cycles, 1u);
  EXPECT_EQ(r.out, std::vector<std::int64_t>(r.out.size(), 777));
}

// The fixture network (conv, average pool, dense, softmax) on random 8x8 images, 5x3 array.
// With control faults the valid bits travel with the operands (docs/faults.md). A drain cut short
// (the stage forced to drain at compute cycle 6 and, in the same cycle, the drain counter pushed past
// the drain's length) ends the job with operand pairs still on their way. Within that run they stay
// in the array (it holds between jobs, as the RTL's does) and meet in the next job, whose outputs
// they corrupt; a new run (a new fault list) starts with none: a control fault that changes nothing
// then gives the fault-free outputs.
TEST(control_faults, valid_operands_left_by_a_run_do_not_reach_the_next) {
  hw::array_config cfg;
  cfg.rows = 4;
  cfg.cols = 3;
  const hw::gemm_shape shape{4, 12, 3};  // one fold
  const sw::gemm_workload w = sw::make_workload(shape, 8, sw::operand_fill::max, 5);
  const std::vector<std::int64_t> reference = sw::reference_gemm(w, cfg.acc_bits, nullptr);
  std::vector<std::int64_t> out(shape.m * shape.n, 0);
  auto job = [&](hw::array_core& core) {
    for (unsigned r = 0; r < cfg.rows; ++r)
      for (unsigned c = 0; c < cfg.cols; ++c) core.poke_acc(r, c, 0);  // as the campaign does between runs
    std::fill(out.begin(), out.end(), 0);
    core.start({shape, w.act.data(), w.weight.data(), out.data()});
    while (core.busy()) core.step();
  };
  const std::vector<fault> cut_short = {control(fault_kind::stuck_at_1, field::stage, 6, 6),
                                        control(fault_kind::stuck_at_1, field::stage_counter + 3, 6, 6)};
  hw::array_core same_run(cfg), next_run(cfg);
  for (hw::array_core* core : {&same_run, &next_run}) {
    core->set_faults(cut_short);
    job(*core);
    EXPECT_EQ(core->job_cycles(), 7u) << "one cycle of drain, then the job ends";
    EXPECT_NE(out, reference);
  }
  job(same_run);  // the same run, its faults past: the pairs left in the array meet
  EXPECT_NE(out, reference) << "operands left in flight must reach the next job of the same run";
  const std::uint64_t base = next_run.total_cycles();
  next_run.set_faults({control(fault_kind::stuck_at_0, field::fold_counter + 20, base)});  // a new run; never set
  job(next_run);
  EXPECT_EQ(out, reference) << "a new run must start with no valid operand in the array";
}

struct fixture {
  sw::network net = sw::load_onnx(source_dir + "/tests/fixtures/conv_avgpool_softmax.onnx");
  sw::idx_images images;
  sw::qnetwork q;
  campaign_setup s;
  fixture() {
    std::mt19937_64 rng(99);
    images.count = 12;
    images.rows = images.cols = 8;
    for (std::size_t i = 0; i < images.count * 64; ++i) images.pixels.push_back(static_cast<std::uint8_t>(rng() % 256));
    q = sw::quantize(net, 8, 24, images, 12);
    s.cfg.rows = 5;
    s.cfg.cols = 3;
    s.cfg.data_bits = 8;
    s.cfg.acc_bits = 24;
    s.net = &q;
    s.images = &images;
    s.first = 4;
    s.count = 4;
    s.batch = 2;
  }
};

bool all_are(const std::vector<pair_result>& r, outcome o) {
  return !r.empty() && std::all_of(r.begin(), r.end(), [o](const pair_result& p) { return p.result == o; });
}

TEST(control_campaign, real_control_faults_reach_hang_and_crash_and_the_system_recovers) {
  fixture fx;
  const golden_reference golden(fx.s);
  ASSERT_GE(golden.jobs().size(), 2u);
  const job_span& first = golden.jobs().front();
  const std::uint64_t budget = 2 * first.cycles + 1000;  // the host's watchdog on the first job
  const std::uint64_t compute = hw::dataflow(fx.s.cfg, first.shape).compute_cycles();
  unsigned b = 0;
  while ((std::uint64_t{2} << b) < compute) ++b;  // 2^b < compute: cycle 2^b is a compute cycle of fold 0
  sw::accelerated_system sys("system", fx.s.cfg, fx.s.buffers);
  struct step {
    const char* what;
    fault f;
    std::vector<pair_result> results;
    std::uint64_t cycles = 0;  // array cycles the run took
  };
  std::vector<step> steps = {
      {"K counter bit 31 stuck at 1", control(fault_kind::stuck_at_1, field::stage_counter + 31), {}},
      {"done stuck at 0", control(fault_kind::stuck_at_0, field::done), {}},
      {"fold counter bit 8 stuck at 1", control(fault_kind::stuck_at_1, field::fold_counter + 8), {}},
      {"stage stuck at drain", control(fault_kind::stuck_at_1, field::stage), {}},
      {"K counter flipped back", control(fault_kind::bit_flip, field::stage_counter + b, std::uint64_t{1} << b,
                                         std::uint64_t{1} << b), {}},
  };
  std::vector<pair_result> clean_after;
  sys.host.set_program([&] {
    for (step& s : steps) {
      const std::uint64_t before = sys.accelerator.array.engine().total_cycles();
      s.results = evaluate_on_system(sys, golden, s.f);
      s.cycles = sys.accelerator.array.engine().total_cycles() - before;
    }
    clean_after = classify_run(golden, run_on_system(sys, fx.s, {}));
  });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());

  // Never finishing: the watchdog's budget bounds the run (plus at most a quantum the array ran ahead).
  EXPECT_TRUE(all_are(steps[0].results, outcome::hang));
  EXPECT_GT(steps[0].cycles, first.cycles);
  EXPECT_LE(steps[0].cycles, budget + 1024);
  // The done pulse swallowed: the job ends, no one hears of it.
  EXPECT_TRUE(all_are(steps[1].results, outcome::hang));
  EXPECT_EQ(steps[1].cycles, first.cycles);
  // A job the host cannot complete: the accelerator reports the controller's error.
  EXPECT_TRUE(all_are(steps[2].results, outcome::crash));
  EXPECT_EQ(steps[2].cycles, 1u);
  // Stopping early: every fold drains zeros; the run completes with wrong outputs.
  for (const pair_result& p : steps[3].results) EXPECT_TRUE(p.result == outcome::critical || p.result == outcome::tolerable);
  EXPECT_LT(steps[3].cycles, golden.cycles());
  // Too long: 2^b cycles more than the golden run, and the run completes.
  for (const pair_result& p : steps[4].results) EXPECT_NE(p.result, outcome::hang);
  for (const pair_result& p : steps[4].results) EXPECT_NE(p.result, outcome::crash);
  EXPECT_EQ(steps[4].cycles, golden.cycles() + (std::uint64_t{1} << b));
  // After all of them the system runs the golden run again.
  EXPECT_TRUE(all_are(clean_after, outcome::masked));
  std::cout << "hang run: " << steps[0].cycles << " array cycles (budget " << budget << ", golden run "
            << golden.cycles() << ")\n";
}

// A raised done signal: the host reads results the array has not finished, and the next START finds
// the array still running (ERROR 5) or the outputs are stale: never Masked, never Hang.
TEST(control_campaign, done_raised_early_returns_unfinished_results_or_crashes) {
  fixture fx;
  const golden_reference golden(fx.s);
  sw::accelerated_system sys("system", fx.s.cfg, fx.s.buffers);
  std::vector<pair_result> results;
  sys.host.set_program([&] { results = evaluate_on_system(sys, golden, control(fault_kind::stuck_at_1, field::done)); });
  sc_core::sc_start();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
  ASSERT_FALSE(results.empty());
  for (const pair_result& p : results) {
    EXPECT_NE(p.result, outcome::masked);
    EXPECT_NE(p.result, outcome::hang);
  }
}

// A shortcut campaign over valid and control faults: the valid ones run on the shortcut, the
// control ones on the full simulation, and the database says which.
TEST(control_campaign, shortcut_campaign_runs_control_faults_in_full_and_records_the_engine) {
  fixture fx;
  const golden_reference golden(fx.s);
  const std::string path = (std::filesystem::temp_directory_path() / ("axsa_control_" + std::to_string(::getpid()) + ".db")).string();
  campaign_config cc;
  cc.model_path = "tests/fixtures/conv_avgpool_softmax.onnx";
  cc.model_sha256 = "0";
  cc.data_dir = "random";
  cc.bits = 8;
  cc.acc_bits = 24;
  cc.rows = 5;
  cc.cols = 3;
  cc.mult = "exact";
  cc.mult_eval = "table";
  cc.engine = "shortcut";
  cc.site = "valid,control";
  cc.fault_types = "all";
  cc.first_image = fx.s.first;
  cc.images = fx.s.count;
  cc.batch = fx.s.batch;
  cc.confidence = 0.99;
  cc.margin = 0.1;
  cc.p = 0.5;
  cc.seed = 1;
  cc.population = 1000;
  cc.sample_size = 3;
  cc.golden_cycles = golden.cycles();
  cc.version = "axsa 0.1.0";
  {
    campaign_db db = campaign_db::create(path, cc, true);
    db.store_golden(golden.labels(), golden.probabilities());
    fault v;
    v.site = fault_site::valid;
    v.kind = fault_kind::stuck_at_0;
    db.store_faults({v, control(fault_kind::stuck_at_1, field::stage_counter + 31), control(fault_kind::stuck_at_0, field::done)});
    const run_report run = run_pending_faults(db, golden, campaign_engine::shortcut, 1);
    EXPECT_EQ(run.faults_run, 3u);
    EXPECT_EQ(db.engine_of(0), "shortcut");
    EXPECT_EQ(db.engine_of(1), "systemc");
    EXPECT_EQ(db.engine_of(2), "systemc");
    EXPECT_TRUE(all_are(db.results(1), outcome::hang));
    EXPECT_TRUE(all_are(db.results(2), outcome::hang));
    EXPECT_FALSE(all_are(db.results(0), outcome::masked)) << "a valid bit stuck at 0 on PE (0,0) skips products";
    EXPECT_EQ(db.engine_counts(), (std::map<std::string, std::uint64_t>{{"shortcut", 1}, {"systemc", 2}}));
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

}  // namespace
}  // namespace axsa::faults
