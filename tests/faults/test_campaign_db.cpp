// Campaign results store (faults/campaign_db.h), `axsa report`, scripts/plot_campaign.py and
// scripts/reproduce_survey_table.sh, on small databases built here through the API or by the
// synthetic campaign_fixture (the engine's stand-in). Kernel-free: many tests per process.
#include <gtest/gtest.h>

#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <regex>
#include <sstream>

#include <grp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults/campaign_db.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir_test.h"

namespace axsa::faults {
namespace {

namespace fs = std::filesystem;
using test::command_result;
using test::count_lines;
using test::read_text;

const std::string python = "/usr/bin/python3";

class campaign_db_test : public test::temp_dir_test {};

campaign_config small_config() {
  campaign_config c;
  c.model_path = "models/lenet5.onnx";
  c.model_sha256 = "0123abcd";
  c.data_dir = "data/mnist";
  c.bits = 2;
  c.acc_bits = 20;
  c.rows = 2;
  c.cols = 2;
  c.mult = "trunc12_k6";
  c.mult_eval = "table";
  c.engine = "shortcut";
  c.site = "weight-link";
  c.fault_types = "all";
  c.first_image = 0;
  c.images = 5;
  c.batch = 2;
  c.confidence = 0.99;
  c.margin = 0.1;
  c.p = 0.5;
  c.exhaustive = false;
  c.seed = 7;
  c.population = 10;
  c.sample_size = 6;
  c.golden_cycles = 12345;
  c.version = "axsa 0.1.0";
  return c;
}

fault make_fault(unsigned row, unsigned col, unsigned bit, fault_kind kind) {
  fault f;
  f.row = row;
  f.col = col;
  f.bit = bit;
  f.kind = kind;
  return f;
}

// The hand-worked example of the summary test: 6 faults drawn from N = 10, 4 of them done, each
// over images 0..4. Outcome letters: M masked, T tolerable, C critical, X crash.
//   fault 0  PE (0,0) bit 0 stuck-at-0   M M M M M
//   fault 1  PE (0,1) bit 1 stuck-at-1   M M M C C
//   fault 2  PE (1,0) bit 1 bit-flip     M M M M T
//   fault 3  PE (1,1) bit 0 stuck-at-1   X X M C T
std::vector<fault> example_faults() {
  auto flip = make_fault(1, 0, 1, fault_kind::bit_flip);
  flip.first_cycle = flip.last_cycle = 40;
  return {make_fault(0, 0, 0, fault_kind::stuck_at_0), make_fault(0, 1, 1, fault_kind::stuck_at_1), flip,
          make_fault(1, 1, 0, fault_kind::stuck_at_1), make_fault(0, 0, 1, fault_kind::stuck_at_0),
          make_fault(1, 1, 1, fault_kind::stuck_at_1)};
}

std::vector<pair_result> outcomes(const std::string& letters) {
  std::vector<pair_result> out;
  for (std::uint32_t i = 0; i < letters.size(); ++i) {
    pair_result r;
    r.image = i;
    r.golden_label = static_cast<int>(i % 10);
    switch (letters[i]) {
      case 'M': r.result = outcome::masked; break;
      case 'T': r.result = outcome::tolerable; break;
      case 'C': r.result = outcome::critical; break;
      case 'X': r.result = outcome::crash; break;
      default: r.result = outcome::hang; break;
    }
    r.faulty_label = r.result == outcome::critical ? (r.golden_label + 1) % 10
                     : r.result == outcome::crash  ? -1
                                                   : r.golden_label;
    r.ratio = r.result == outcome::crash ? std::nan("") : 0.5 + 0.1 * i;
    out.push_back(r);
  }
  return out;
}

void write_example(const std::string& path) {
  auto db = campaign_db::create(path, small_config(), false);
  db.store_golden({0, 1, 2, 3, 4}, std::vector<std::vector<double>>(5, std::vector<double>(10, 0.1)));
  db.store_faults(example_faults());
  db.store_results_batch({{0, outcomes("MMMMM")}, {1, outcomes("MMMCC")}});
  db.store_results(2, outcomes("MMMMT"));
  db.store_results(3, outcomes("XXMCT"));
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("(not a config_error) ") + e.what();
  }
  return "(no exception)";
}

// --- storage --------------------------------------------------------------------------------

TEST_F(campaign_db_test, config_round_trips_every_field) {
  campaign_config cfg = small_config();
  cfg.confidence = 0.1 + 0.2;  // not a short decimal: the text form must keep all digits
  cfg.seed = std::numeric_limits<std::uint64_t>::max();
  cfg.exhaustive = true;
  cfg.model_path = "dir with, comma/and 'quote'.onnx";
  { auto db = campaign_db::create(file("c.db"), cfg, false); }
  const auto db = campaign_db::open_read_only(file("c.db"));
  EXPECT_TRUE(db.config() == cfg);
  campaign_config other = cfg;
  other.golden_cycles += 1;
  EXPECT_FALSE(db.config() == other);
}

TEST_F(campaign_db_test, golden_faults_and_results_round_trip) {
  auto db = campaign_db::create(file("r.db"), small_config(), false);
  EXPECT_FALSE(db.has_golden());
  const std::vector<int> labels{7, 2, 1, 0, 4};
  std::vector<std::vector<double>> probs;
  for (int i = 0; i < 5; ++i) probs.push_back({1.0 / 3, 1e-300, -0.0, 0.1 * i, 1 - 1.0 / 3});
  db.store_golden(labels, probs);
  EXPECT_TRUE(db.has_golden());
  EXPECT_EQ(db.golden_labels(), labels);
  EXPECT_EQ(db.golden_probabilities(), probs);

  auto list = example_faults();
  list[2].first_cycle = 0;
  list[2].last_cycle = (std::uint64_t{1} << 62) + 3;
  db.store_faults(list);
  EXPECT_EQ(db.faults(), list);
  EXPECT_EQ(db.fault_count(), 6u);
  db.store_faults(list);  // a resumed campaign re-stores its sample: no-op
  EXPECT_EQ(db.fault_count(), 6u);
  auto different = list;
  different[5].bit = 0;
  EXPECT_NE(message_of([&] { db.store_faults(different); }).find("different fault list"), std::string::npos);

  const auto stored = outcomes("XMTCH");
  db.store_results(4, stored);
  const auto back = db.results(4);
  ASSERT_EQ(back.size(), stored.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].image, stored[i].image);
    EXPECT_EQ(back[i].result, stored[i].result);
    EXPECT_EQ(back[i].golden_label, stored[i].golden_label);
    EXPECT_EQ(back[i].faulty_label, stored[i].faulty_label);
    if (std::isnan(stored[i].ratio)) {
      EXPECT_TRUE(std::isnan(back[i].ratio));
    } else {
      EXPECT_EQ(back[i].ratio, stored[i].ratio);
    }
  }
  EXPECT_EQ(db.completed_faults(), 1u);
  EXPECT_EQ(db.pending_faults(), (std::vector<std::uint64_t>{0, 1, 2, 3, 5}));
}

// Each fault's engine is stored with its results; a database from before that record (no
// fault_engine table) stays readable, its faults "unrecorded", and a resumed campaign records again.
TEST_F(campaign_db_test, the_engine_of_each_fault_is_recorded_and_old_databases_stay_readable) {
  {
    auto db = campaign_db::create(file("eng.db"), small_config(), false);
    db.store_golden({7, 2, 1, 0, 4}, std::vector<std::vector<double>>(5, {0.25, 0.75}));
    db.store_faults(example_faults());
    db.store_results_batch({{0, outcomes("MMMMM")}, {1, outcomes("HHHHH")}}, {"shortcut", "systemc"});
    db.store_results(2, outcomes("MMMMT"));  // without an engine
    EXPECT_EQ(db.engine_of(0), "shortcut");
    EXPECT_EQ(db.engine_of(1), "systemc");
    EXPECT_EQ(db.engine_of(2), "");
    EXPECT_EQ(db.engine_counts(), (std::map<std::string, std::uint64_t>{{"shortcut", 1}, {"systemc", 1}, {"unrecorded", 1}}));
    EXPECT_THROW(db.store_results_batch({{3, outcomes("MMMMM")}}, {"shortcut", "systemc"}), std::invalid_argument);
  }
  // The file as an axsa without the record wrote it.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file("eng.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DROP TABLE fault_engine", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  {
    const auto old = campaign_db::open_read_only(file("eng.db"));
    EXPECT_EQ(old.engine_of(1), "");
    EXPECT_EQ(old.engine_counts(), (std::map<std::string, std::uint64_t>{{"unrecorded", 3}}));
    EXPECT_EQ(old.summarize().faults_done, 3u);
  }
  auto resumed = campaign_db::resume(file("eng.db"), small_config());
  resumed.store_results_batch({{3, outcomes("XXXXX")}}, {"systemc"});
  EXPECT_EQ(resumed.engine_of(3), "systemc");
  EXPECT_EQ(resumed.engine_counts(), (std::map<std::string, std::uint64_t>{{"systemc", 1}, {"unrecorded", 3}}));
}

TEST_F(campaign_db_test, resume_with_the_same_config_returns_exactly_the_pending_faults) {
  write_example(file("e.db"));
  auto db = campaign_db::resume(file("e.db"), small_config());
  EXPECT_EQ(db.pending_faults(), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(db.completed_faults(), 4u);
  EXPECT_EQ(db.results(1).size(), 5u);
  db.store_results(5, outcomes("MMMMM"));
  EXPECT_EQ(db.pending_faults(), (std::vector<std::uint64_t>{4}));
}

TEST_F(campaign_db_test, resume_creates_a_missing_file) {
  { auto db = campaign_db::resume(file("new.db"), small_config()); }
  EXPECT_TRUE(campaign_db::open_read_only(file("new.db")).config() == small_config());
}

TEST_F(campaign_db_test, resume_with_another_config_names_the_key_and_both_values) {
  write_example(file("e.db"));
  campaign_config cfg = small_config();
  cfg.mult = "drum12_k6";
  auto msg = message_of([&] { (void)campaign_db::resume(file("e.db"), cfg); });
  EXPECT_NE(msg.find(file("e.db")), std::string::npos) << msg;
  EXPECT_NE(msg.find("mult = 'trunc12_k6'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mult = 'drum12_k6'"), std::string::npos) << msg;

  cfg = small_config();
  cfg.margin = 0.05;
  cfg.images = 6;  // images precedes margin in the key order: the first difference is named
  msg = message_of([&] { (void)campaign_db::resume(file("e.db"), cfg); });
  EXPECT_NE(msg.find("images = '5'"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("margin"), std::string::npos) << msg;
  // Refused without touching the results.
  EXPECT_EQ(campaign_db::open_read_only(file("e.db")).completed_faults(), 4u);
}

// --operand-align: stored only when high (a low campaign's config is as before), shown back, and a
// resume with the other alignment is refused both ways, naming the key.
TEST_F(campaign_db_test, operand_alignment_is_stored_when_high_and_a_resume_needs_the_same) {
  write_example(file("e.db"));  // low
  for (const auto& kv : small_config().to_key_values()) EXPECT_NE(kv.first, "operand_align");
  campaign_config high = small_config();
  high.operand_align = "high";
  auto msg = message_of([&] { (void)campaign_db::resume(file("e.db"), high); });
  EXPECT_NE(msg.find("operand_align = '(missing)'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("operand_align = 'high'"), std::string::npos) << msg;
  { auto db = campaign_db::create(file("h.db"), high, false); }
  EXPECT_EQ(campaign_db::open_read_only(file("h.db")).config().operand_align, "high");
  EXPECT_TRUE(campaign_db::open_read_only(file("h.db")).config() == high);
  msg = message_of([&] { (void)campaign_db::resume(file("h.db"), small_config()); });
  EXPECT_NE(msg.find("operand_align = 'high'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("this run has no operand_align"), std::string::npos) << msg;
  (void)campaign_db::resume(file("h.db"), high);
  auto kv = high.to_key_values();
  for (auto& [k, v] : kv)
    if (k == "operand_align") v = "middle";
  EXPECT_THROW(campaign_config::from_key_values(kv), config_error);
}

// A shard's database holds its slice under the whole sample's ids; results outside the slice are
// refused, and resuming it needs the same shard.
TEST_F(campaign_db_test, a_shard_stores_its_slice_under_the_sample_ids) {
  campaign_config cfg = small_config();
  cfg.shard = shard_spec{2, 3};  // sample of 6: ids 1 and 4
  const std::vector<fault> sample = example_faults();
  {
    auto db = campaign_db::create(file("s.db"), cfg, false);
    db.store_faults(shard_slice(sample, cfg.shard));
    EXPECT_EQ(db.pending_faults(), (std::vector<std::uint64_t>{1, 4}));
    EXPECT_THROW(db.store_results(0, outcomes("MMMMM")), std::invalid_argument);
    EXPECT_THROW(db.store_results(7, outcomes("MMMMM")), std::invalid_argument);
    db.store_results(4, outcomes("MMMCT"));
    EXPECT_EQ(db.pending_faults(), (std::vector<std::uint64_t>{1}));
    EXPECT_FALSE(db.summarize().complete);
    db.store_results(1, outcomes("MMMMM"));
    const auto sum = db.summarize();
    EXPECT_TRUE(sum.complete);
    EXPECT_EQ(sum.faults_done, 2u);
    EXPECT_EQ(sum.classes[static_cast<int>(outcome::critical)].pairs, 1u);
  }
  auto read = campaign_db::open_read_only(file("s.db"));
  EXPECT_EQ(read.config().shard, cfg.shard);
  EXPECT_EQ(read.faults(), shard_slice(sample, cfg.shard));

  campaign_config whole = small_config();
  auto msg = message_of([&] { (void)campaign_db::resume(file("s.db"), whole); });
  EXPECT_NE(msg.find("shard = '2/3'"), std::string::npos) << msg;
  campaign_config other = small_config();
  other.shard = shard_spec{3, 3};
  msg = message_of([&] { (void)campaign_db::resume(file("s.db"), other); });
  EXPECT_NE(msg.find("shard = '2/3'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shard = '3/3'"), std::string::npos) << msg;
  EXPECT_EQ(campaign_db::resume(file("s.db"), cfg).pending_faults().size(), 0u);
}

TEST_F(campaign_db_test, create_over_an_existing_database_is_refused_unless_overwrite) {
  write_example(file("e.db"));
  const auto msg = message_of([&] { (void)campaign_db::create(file("e.db"), small_config(), false); });
  EXPECT_NE(msg.find(file("e.db")), std::string::npos) << msg;
  EXPECT_NE(msg.find("exists"), std::string::npos) << msg;
  EXPECT_EQ(campaign_db::open_read_only(file("e.db")).completed_faults(), 4u);

  auto db = campaign_db::create(file("e.db"), small_config(), true);
  EXPECT_EQ(db.fault_count(), 0u);
  EXPECT_EQ(db.completed_faults(), 0u);

  // overwrite replaces campaign databases only, never some other file.
  std::ofstream(file("notes.txt")) << "precious";
  EXPECT_NE(message_of([&] { (void)campaign_db::create(file("notes.txt"), small_config(), true); })
                .find("not an axsa campaign database"),
            std::string::npos);
  EXPECT_EQ(read_text(file("notes.txt")), "precious");
}

TEST_F(campaign_db_test, opening_a_missing_or_foreign_file_names_it) {
  auto msg = message_of([&] { (void)campaign_db::open_read_only(file("absent.db")); });
  EXPECT_NE(msg.find(file("absent.db")), std::string::npos) << msg;
  std::ofstream(file("junk.db")) << std::string(5000, 'x');
  msg = message_of([&] { (void)campaign_db::open_read_only(file("junk.db")); });
  EXPECT_NE(msg.find(file("junk.db") + " is not an axsa campaign database"), std::string::npos) << msg;
  msg = message_of([&] { (void)campaign_db::resume(file("junk.db"), small_config()); });
  EXPECT_NE(msg.find("not an axsa campaign database"), std::string::npos) << msg;
}

// Inputs of tests/fuzz/fuzz_campaign_db's findings: a damaged b-tree (SQLite then counts 13 faults with results
// where the list holds 11) and a damaged schema whose SQLite message spans lines. Both are refused in one line,
// for report and for resume.
TEST_F(campaign_db_test, damaged_files_found_by_the_fuzzer_are_one_line_refusals) {
  const std::string corpus = std::string(AXSA_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_campaign_db/";
  const std::pair<const char*, const char*> cases[] = {
      {"regression_result_key_of_another_type.db", " is a damaged axsa campaign database: SQLite's check says: "},
      {"regression_results_out_of_key_order.db", " is a damaged axsa campaign database: SQLite's check says: "},
      {"regression_schema_error_spans_lines.db", " is not an axsa campaign database (malformed database schema"}};
  for (const auto& [name, fragment] : cases) {
    std::filesystem::copy_file(corpus + name, file(name));
    const std::string path = file(name);  // C++17 lambdas cannot capture a structured binding (clang)
    // A resume compares configs first: give it the file's own, read past the damage with SQLite itself.
    campaign_config stored = small_config();
    {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
      sqlite3_stmt* st = nullptr;
      std::vector<std::pair<std::string, std::string>> kv;
      if (sqlite3_prepare_v2(db, "SELECT key, value FROM config", -1, &st, nullptr) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
          kv.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                          reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
        }
      }
      sqlite3_finalize(st);
      sqlite3_close(db);
      if (!kv.empty()) stored = campaign_config::from_key_values(kv);
    }
    for (const bool resume : {false, true}) {
      const auto msg = message_of([&] {
        if (resume) {
          (void)campaign_db::resume(path, stored);
        } else {
          (void)campaign_db::open_read_only(path);
        }
      });
      EXPECT_NE(msg.find(path + fragment), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

TEST_F(campaign_db_test, a_failing_batch_leaves_nothing_behind) {
  write_example(file("e.db"));
  {
    auto db = campaign_db::resume(file("e.db"), small_config());
    // Fault 5's list repeats image 1: SQLite refuses it after fault 4's rows went in.
    auto bad = outcomes("MMMMM");
    bad.push_back(bad[1]);
    EXPECT_THROW(db.store_results_batch({{4, outcomes("CCCCC")}, {5, bad}}), std::runtime_error);
    EXPECT_EQ(db.pending_faults(), (std::vector<std::uint64_t>{4, 5}));
    // A fault that already has results is not recorded twice, nor changed.
    EXPECT_THROW(db.store_results(1, outcomes("CCCCC")), std::runtime_error);
    EXPECT_THROW(db.store_results(6, outcomes("M")), std::invalid_argument);  // no fault 6
    EXPECT_THROW(db.store_results(4, {}), std::invalid_argument);
  }
  const auto db = campaign_db::open_read_only(file("e.db"));
  EXPECT_EQ(db.pending_faults(), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(db.results(1)[4].result, outcome::critical);
  EXPECT_EQ(db.results(1)[0].result, outcome::masked);
  EXPECT_EQ(db.results(4).size(), 0u);
}

TEST_F(campaign_db_test, a_killed_writer_leaves_whole_batches) {
  constexpr std::uint64_t faults = 3000, per_batch = 25, images = 60;
  campaign_config cfg = small_config();
  cfg.images = images;
  cfg.population = cfg.sample_size = faults;
  {
    auto db = campaign_db::create(file("k.db"), cfg, false);
    db.store_faults(std::vector<fault>(faults, make_fault(0, 0, 0, fault_kind::stuck_at_1)));
  }
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the "campaign": batches until killed; never returns into GoogleTest
    try {
      auto db = campaign_db::resume(file("k.db"), cfg);
      const std::vector<pair_result> results = outcomes(std::string(images, 'C'));
      for (std::uint64_t first = 0; first < faults; first += per_batch) {
        std::vector<std::pair<std::uint64_t, std::vector<pair_result>>> batch;
        for (std::uint64_t id = first; id < first + per_batch; ++id) batch.emplace_back(id, results);
        db.store_results_batch(batch);
        if (first == 0 && write(ready[1], "x", 1) != 1) _exit(3);
      }
    } catch (...) {
      _exit(2);
    }
    _exit(0);
  }
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  usleep(40000);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(ready[0]);
  close(ready[1]);

  // A report reads the crashed campaign's log as it stands; resuming sees the same.
  const std::uint64_t seen_by_report = campaign_db::open_read_only(file("k.db")).completed_faults();
  auto db = campaign_db::resume(file("k.db"), cfg);
  const std::uint64_t done = db.completed_faults();
  EXPECT_EQ(seen_by_report, done);
  EXPECT_GE(done, per_batch);
  EXPECT_EQ(done % per_batch, 0u) << done;
  const auto pending = db.pending_faults();
  ASSERT_EQ(pending.size(), faults - done);
  if (!pending.empty()) {
    EXPECT_EQ(pending.front(), done);
  }
  const auto s = db.summarize();
  EXPECT_EQ(s.pairs, done * images);  // no fault half-recorded
  std::cout << "killed after " << done << " of " << faults << " faults\n";
}

// --- statistics -----------------------------------------------------------------------------

// The statistics themselves are tested without a database in test_campaign_stats.cpp; this is the
// same example read back through SQLite.
TEST_F(campaign_db_test, summary_matches_the_hand_computed_example) {
  write_example(file("e.db"));
  const auto s = campaign_db::open_read_only(file("e.db")).summarize();
  EXPECT_EQ(s.faults_stored, 6u);
  EXPECT_EQ(s.faults_done, 4u);
  EXPECT_FALSE(s.complete);
  EXPECT_EQ(s.pairs, 20u);
  EXPECT_DOUBLE_EQ(s.fault_space_share, 0.4);
  EXPECT_NEAR(s.t, 2.5758293035489, 1e-12);
  // 2.5758 * sqrt(0.25 / 4 * (10 - 4) / (10 - 1)) and the same with n = 6.
  EXPECT_NEAR(s.margin, 0.5257889548502807, 1e-12);
  EXPECT_NEAR(s.planned_margin, 0.3505259699001871, 1e-12);

  // Per-fault shares y_i; SE = sd(y) / sqrt(4) * sqrt(6 / 9); interval = share -/+ t SE in [0, 1].
  struct expected {
    outcome o;
    std::uint64_t pairs, faults;
    double fraction, se, low, high;
  };
  const expected cases[] = {
      // masked: y = 1, .6, .8, .2 -> sd^2 = .35 / 3
      {outcome::masked, 13, 4, 0.65, 0.13944333775567924, 0.29081776442425483, 1.0},
      // tolerable: y = 0, 0, .2, .2 -> sd^2 = .04 / 3
      {outcome::tolerable, 2, 2, 0.10, 0.047140452079103175, 0.0, 0.22142575784789664},
      // critical: y = 0, .4, 0, .2
      {outcome::critical, 3, 2, 0.15, 0.07817359599705716, 0.0, 0.3513618393330128},
      // crash: y = 0, 0, 0, .4
      {outcome::crash, 2, 1, 0.10, 0.08164965809277261, 0.0, 0.3103155819401123},
      {outcome::hang, 0, 0, 0.0, 0.0, 0.0, 0.0},
  };
  for (const auto& e : cases) {
    const auto& c = s.classes[static_cast<std::size_t>(e.o)];
    SCOPED_TRACE(to_string(e.o));
    EXPECT_EQ(c.pairs, e.pairs);
    EXPECT_EQ(c.faults, e.faults);
    EXPECT_NEAR(c.fraction, e.fraction, 1e-12);
    EXPECT_NEAR(c.std_error, e.se, 1e-12);
    EXPECT_NEAR(c.ci.low, e.low, 1e-12);
    EXPECT_NEAR(c.ci.high, e.high, 1e-12);
  }

  ASSERT_EQ(s.per_pe.size(), 4u);
  EXPECT_EQ(s.per_pe[1].faults, 1u);  // PE (0,1): fault 1
  EXPECT_EQ(s.per_pe[1].by_outcome[static_cast<std::size_t>(outcome::critical)], 2u);
  EXPECT_EQ(s.per_pe[3].by_outcome[static_cast<std::size_t>(outcome::crash)], 2u);  // PE (1,1): fault 3
  ASSERT_EQ(s.per_bit.size(), 2u);
  EXPECT_EQ(s.per_bit[0].faults, 2u);  // faults 0 and 3
  EXPECT_EQ(s.per_bit[0].pairs, 10u);
  EXPECT_EQ(s.per_bit[0].by_outcome[static_cast<std::size_t>(outcome::masked)], 6u);
  EXPECT_EQ(s.per_bit[1].by_outcome[static_cast<std::size_t>(outcome::critical)], 2u);
  EXPECT_EQ(s.per_bit[1].by_outcome[static_cast<std::size_t>(outcome::tolerable)], 1u);
  EXPECT_EQ(s.per_kind[static_cast<std::size_t>(fault_kind::stuck_at_1)].faults, 2u);
  EXPECT_EQ(s.per_kind[static_cast<std::size_t>(fault_kind::bit_flip)].pairs, 5u);
}

TEST_F(campaign_db_test, exhaustive_campaign_has_zero_margin_and_point_intervals) {
  campaign_config cfg = small_config();
  cfg.population = cfg.sample_size = 4;
  cfg.exhaustive = true;
  auto db = campaign_db::create(file("x.db"), cfg, false);
  auto list = example_faults();
  list.resize(4);
  db.store_faults(list);
  db.store_results_batch({{0, outcomes("MMMMM")}, {1, outcomes("MMMCC")}, {2, outcomes("MMMMT")}, {3, outcomes("XXMCT")}});
  const auto s = db.summarize();
  EXPECT_TRUE(s.complete);
  EXPECT_EQ(s.margin, 0.0);
  EXPECT_EQ(s.planned_margin, 0.0);
  for (const auto& c : s.classes) {
    EXPECT_EQ(c.std_error, 0.0);
    EXPECT_EQ(c.ci.low, c.fraction);
    EXPECT_EQ(c.ci.high, c.fraction);
  }
}

TEST_F(campaign_db_test, one_fault_of_many_has_no_interval) {
  auto db = campaign_db::create(file("one.db"), small_config(), false);
  db.store_faults(example_faults());
  db.store_results(0, outcomes("MMMCC"));
  const auto s = db.summarize();
  EXPECT_NEAR(s.classes[0].fraction, 0.6, 1e-15);
  EXPECT_TRUE(std::isnan(s.classes[0].std_error));
  EXPECT_TRUE(std::isnan(s.classes[0].ci.low));
}

// --- axsa report ----------------------------------------------------------------------------

double json_number(const std::string& text, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\"" + key + "\": ([-0-9.eE+]+)"))) {
    ADD_FAILURE() << "no number " << key << " in " << text;
    return NAN;
  }
  return std::stod(m[1]);
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

TEST_F(campaign_db_test, report_json_has_the_promised_keys_and_values) {
  write_example(file("e.db"));
  const auto r = run(std::string(AXSA_BIN) + " report " + file("e.db") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(count_lines(r.out), 1u);
  for (const char* key : {"faults", "pairs", "masked", "tolerable", "critical", "crash", "hang", "margin", "intervals",
                          "bits", "mult", "rows", "cols", "site", "fault_types", "population", "sample_size",
                          "fault_space_share", "confidence", "complete"}) {
    EXPECT_NE(r.out.find("\"" + std::string(key) + "\": "), std::string::npos) << key;
  }
  EXPECT_EQ(json_number(r.out, "faults"), 4);
  EXPECT_EQ(json_number(r.out, "pairs"), 20);
  EXPECT_NEAR(json_number(r.out, "masked"), 0.65, 1e-9);
  EXPECT_NEAR(json_number(r.out, "critical"), 0.15, 1e-9);
  EXPECT_NEAR(json_number(r.out, "margin"), 0.5257889548502807, 1e-9);
  EXPECT_NE(r.out.find("\"complete\": false"), std::string::npos);
  EXPECT_NE(r.out.find("\"critical\": [0, 0.35136183"), std::string::npos) << r.out;
}

TEST_F(campaign_db_test, report_text_says_partial_and_csv_is_one_header_and_one_row) {
  write_example(file("e.db"));
  const auto r = run(std::string(AXSA_BIN) + " report " + file("e.db") + " --csv " + file("e.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("partial: 4 of 6 faults"), std::string::npos) << r.out;
  for (const char* word : {"Masked", "Tolerable", "Critical", "Crash", "Hang", "trunc12_k6", "2x2", "weight-link"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
  const std::string csv = read_text(file("e.csv"));
  ASSERT_EQ(count_lines(csv), 2u) << csv;
  const auto header = split_csv_line(csv.substr(0, csv.find('\n')));
  const auto row = split_csv_line(csv.substr(csv.find('\n') + 1, csv.size() - csv.find('\n') - 2));
  ASSERT_EQ(header.size(), row.size());
  const auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? std::string("(no column " + name + ")") : row[static_cast<std::size_t>(it - header.begin())];
  };
  EXPECT_EQ(column("status"), "partial");
  EXPECT_EQ(column("faults"), "4");
  EXPECT_EQ(column("masked"), "0.65");
  EXPECT_EQ(column("mult"), "trunc12_k6");
  EXPECT_NEAR(std::stod(column("critical_high")), 0.3513618393330128, 1e-9);
}

TEST_F(campaign_db_test, report_errors_are_one_line_and_exit_2) {
  std::ofstream(file("junk.db")) << "not a database at all, just text long enough to be looked at";
  ASSERT_EQ(run(python + " -c \"import sqlite3; c = sqlite3.connect('" + file("other.db") +
                "'); c.execute('CREATE TABLE t(x)'); c.commit()\"")
                .exit_code,
            0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {file("absent.db"), file("absent.db") + ": no such file"},
      {file("junk.db"), "is not an axsa campaign database"},
      {file("other.db"), "is not an axsa campaign database"},
      {"", "expects the campaign database"},
      {file("a.db") + " " + file("b.db"), "expects one campaign database"},
      {"--frobnicate", "frobnicate"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run(std::string(AXSA_BIN) + " report " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  const auto help = run(std::string(AXSA_BIN) + " report --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* opt : {"--csv", "--json", "results.db"}) EXPECT_NE(help.out.find(opt), std::string::npos) << opt;
}

// --- bad files and tampered databases -------------------------------------------------------

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Edits a database behind the API's back, as a user or a damaged disk could; CHECK constraints
// are off, so that outcome codes the schema forbids can be written.
command_result tamper(const std::string& path, const std::string& sql) {
  const std::string script =
      "import sqlite3, sys\n"
      "c = sqlite3.connect(sys.argv[1])\n"
      "c.execute('PRAGMA ignore_check_constraints = 1')\n"
      "c.executescript(sys.argv[2])\n"
      "c.commit()\n";
  return test::run_command(python + " -c " + shell_quote(script) + " " + shell_quote(path) + " " + shell_quote(sql),
                           testing::TempDir());
}

// f() in a child process that runs as nobody when the test runs as root (a folder's permissions
// do not stop root); what f returns, or "(skip) ..." when the privileges cannot be dropped (the
// caller fails on that).
std::string as_unprivileged(const std::function<std::string()>& f) {
  int out[2];
  if (pipe(out) != 0) return "(skip) no pipe";
  const pid_t child = fork();
  if (child < 0) return "(skip) no fork";
  if (child == 0) {
    close(out[0]);
    std::string text;
    if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) {
      text = "(skip) cannot drop root privileges";
    } else {
      text = f();
    }
    const bool ok = write(out[1], text.data(), text.size()) == static_cast<ssize_t>(text.size());
    _exit(ok ? 0 : 1);
  }
  close(out[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return text;
}

// A command line run as nobody when the test runs as root, through setpriv; "" if there is none.
std::string unprivileged(const std::string& cmd) {
  if (geteuid() != 0) return cmd;
  if (!fs::exists("/usr/bin/setpriv")) return "";
  return "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " + cmd;
}

TEST_F(campaign_db_test, only_regular_files_are_created_replaced_or_read) {
  ASSERT_EQ(mkfifo(file("pipe.db").c_str(), 0644), 0);
  fs::create_directory(file("dir.db"));
  // An existing FIFO is empty, which create() used to take for a new file and replace.
  for (const bool overwrite : {false, true}) {
    const auto msg = message_of([&] { (void)campaign_db::create(file("pipe.db"), small_config(), overwrite); });
    EXPECT_NE(msg.find(file("pipe.db") + " is a FIFO, not a regular file"), std::string::npos) << msg;
  }
  auto msg = message_of([&] { (void)campaign_db::resume(file("pipe.db"), small_config()); });
  EXPECT_NE(msg.find("is a FIFO"), std::string::npos) << msg;
  msg = message_of([&] { (void)campaign_db::create(file("dir.db"), small_config(), true); });
  EXPECT_NE(msg.find(file("dir.db") + " is a directory"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_fifo(file("pipe.db")));
  EXPECT_TRUE(fs::is_directory(file("dir.db")));

  // Nor is a stray -wal that is not a file removed to make room.
  fs::create_directory(file("new.db-wal"));
  msg = message_of([&] { (void)campaign_db::create(file("new.db"), small_config(), false); });
  EXPECT_NE(msg.find("refusing to remove " + file("new.db-wal") + ", which is a directory"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_directory(file("new.db-wal")));
  EXPECT_FALSE(fs::exists(file("new.db")));

  // Reading a FIFO would block in SQLite; a directory was "disk I/O error".
  for (const auto& [name, kind] : std::vector<std::pair<std::string, std::string>>{{"pipe.db", "a FIFO"},
                                                                                 {"dir.db", "a directory"}}) {
    const auto r = run("timeout 20 " + std::string(AXSA_BIN) + " report " + file(name));
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(file(name) + " is " + kind + ", not a campaign database"), std::string::npos) << r.err;
  }
}

TEST_F(campaign_db_test, an_empty_path_is_named_as_such) {
  for (const bool overwrite : {false, true}) {
    const auto msg = message_of([&] { (void)campaign_db::create("", small_config(), overwrite); });
    EXPECT_EQ(msg, "the database path is empty");
  }
  EXPECT_EQ(message_of([&] { (void)campaign_db::resume("", small_config()); }), "the database path is empty");
  const auto r = run(std::string(AXSA_BIN) + " report ''");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "axsa report: error: the database path is empty\n");
}

TEST_F(campaign_db_test, report_never_writes_its_csv_over_the_database) {
  write_example(file("e.db"));
  fs::create_symlink(file("e.db"), file("link.db"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {file("e.db"), file("e.db")},           {file("e.db"), m_dir + "./e.db"},
      {file("e.db"), file("link.db")},        {file("link.db"), file("e.db")},
      {file("e.db"), file("e.db-wal")},       {file("e.db"), file("e.db-shm")},
      {file("link.db"), file("e.db-wal")},
  };
  for (const auto& [db, csv] : cases) {
    const auto r = run(std::string(AXSA_BIN) + " report " + db + " --csv " + csv);
    EXPECT_EQ(r.exit_code, 2) << db << " --csv " << csv;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("--csv " + csv + " would overwrite"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_EQ(campaign_db::open_read_only(file("e.db")).completed_faults(), 4u);
  EXPECT_EQ(read_text(file("e.db")).compare(0, 16, std::string("SQLite format 3\0", 16)), 0);
  EXPECT_FALSE(fs::exists(file("e.db-wal")) && read_text(file("e.db-wal")).find("file,status") != std::string::npos);
}

TEST_F(campaign_db_test, odd_characters_in_the_path_survive_the_read_only_uri) {
  for (const std::string name : {"a ?b#c%41d.db", "file:x.db", "%2e.db"}) {
    write_example(file(name));
    EXPECT_EQ(campaign_db::open_read_only(file(name)).completed_faults(), 4u) << name;
    const auto r = run(std::string(AXSA_BIN) + " report " + shell_quote(file(name)) + " --json");
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(json_number(r.out, "faults"), 4) << name;
  }
  // "file://" + "//tmp/..." keeps the authority empty and the path whole.
  EXPECT_EQ(campaign_db::open_read_only("/" + file("file:x.db")).completed_faults(), 4u);
}

TEST_F(campaign_db_test, a_database_in_a_folder_nobody_may_write_is_read_but_not_replaced) {
  fs::create_directory(file("ro"));
  write_example(file("ro/e.db"));  // closed: the WAL is folded into the file, no -shm
  {
    // A campaign stopped without closing: its last commits are only in the -wal log.
    auto writer = campaign_db::create(file("w.db"), small_config(), false);
    writer.store_faults(example_faults());
    fs::copy_file(file("w.db"), file("ro/w.db"));
    fs::copy_file(file("w.db-wal"), file("ro/w.db-wal"));
  }
  ASSERT_FALSE(fs::exists(file("ro/e.db-shm")));
  fs::permissions(m_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(file("ro"), fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                  fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  struct restore {
    std::string dir;
    ~restore() { fs::permissions(dir, fs::perms::owner_all); }
  } restore_on_exit{file("ro")};
  const std::string report = unprivileged(std::string(AXSA_BIN) + " report ");
  // The premise must hold, or the test would prove nothing: fail rather than skip.
  ASSERT_FALSE(report.empty()) << "running as root without /usr/bin/setpriv (util-linux): cannot test as a user "
                                  "without write permission";
  ASSERT_NE(run(unprivileged("touch " + file("ro/probe"))).exit_code, 0) << "the folder's permissions are not enforced here";

  auto r = run(report + file("ro/e.db") + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(json_number(r.out, "faults"), 4);
  EXPECT_EQ(json_number(r.out, "pairs"), 20);
  // Reading it as immutable would ignore the log and find no campaign at all.
  r = run(report + file("ro/w.db"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("its last commits are in " + file("ro/w.db-wal")), std::string::npos) << r.err;

  // Writing is refused for what it is, not as "not an axsa campaign database".
  const auto msg = as_unprivileged([&] {
    std::string out;
    for (const auto& [label, fn] : std::vector<std::pair<std::string, std::function<void()>>>{
             {"overwrite", [&] { (void)campaign_db::create(file("ro/e.db"), small_config(), true); }},
             {"resume", [&] { (void)campaign_db::resume(file("ro/e.db"), small_config()); }},
             {"create", [&] { (void)campaign_db::create(file("ro/new.db"), small_config(), false); }}}) {
      out += label + ": " + message_of(fn) + "\n";
    }
    return out;
  });
  ASSERT_NE(msg.rfind("(skip)", 0), 0u) << msg;
  const std::string denied = "cannot write in the folder " + file("ro") + " (Permission denied)";
  EXPECT_NE(msg.find("overwrite: cannot overwrite " + file("ro/e.db") + ": " + denied), std::string::npos) << msg;
  EXPECT_NE(msg.find("resume: cannot resume " + file("ro/e.db") + ": " + denied), std::string::npos) << msg;
  EXPECT_NE(msg.find("create: cannot create " + file("ro/new.db") + ": " + denied), std::string::npos) << msg;
  EXPECT_EQ(msg.find("not an axsa campaign database"), std::string::npos) << msg;
  EXPECT_EQ(campaign_db::open_read_only(file("ro/e.db")).completed_faults(), 4u);
}

TEST_F(campaign_db_test, stored_configs_no_campaign_could_have_are_refused_naming_the_key) {
  struct bad_config {
    std::string key, value;
    std::function<void(campaign_config&)> edit;
  };
  const std::vector<bad_config> cases = {
      {"population", "0", [](campaign_config& c) { c.population = 0; }},
      {"sample_size", "6", [](campaign_config& c) { c.population = 5; }},  // 6 of 5: a share of 120 %
      {"sample_size", "0", [](campaign_config& c) { c.sample_size = 0; }},
      {"images", "0", [](campaign_config& c) { c.images = 0; }},
      {"batch", "0", [](campaign_config& c) { c.batch = 0; }},
      {"margin", "0", [](campaign_config& c) { c.margin = 0; }},
      {"margin", "1", [](campaign_config& c) { c.margin = 1; }},
      {"confidence", "2", [](campaign_config& c) { c.confidence = 2; }},
      {"p", "nan", [](campaign_config& c) { c.p = std::nan(""); }},
      {"bits", "1", [](campaign_config& c) { c.bits = 1; }},
      {"bits", "17", [](campaign_config& c) { c.bits = 17; }},
      {"acc_bits", "65", [](campaign_config& c) { c.acc_bits = 65; }},
      {"rows", "0", [](campaign_config& c) { c.rows = 0; }},
      {"cols", "0", [](campaign_config& c) { c.cols = 0; }},
      {"cols", "129", [](campaign_config& c) { c.cols = 129; }},
      {"site", "accumulator", [](campaign_config& c) { c.site = "accumulator"; }},
      {"site", "acc,acc", [](campaign_config& c) { c.site = "acc,acc"; }},
      {"fault_types", "some", [](campaign_config& c) { c.fault_types = "some"; }},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const bad_config& b = cases[i];
    SCOPED_TRACE(b.key + " = " + b.value);
    campaign_config cfg = small_config();
    b.edit(cfg);
    const std::string path = file("config" + std::to_string(i) + ".db");
    {
      auto db = campaign_db::create(path, cfg, false);  // the API stores what it is given
      db.store_faults(example_faults());
      db.store_results(0, outcomes("MMMMM"));
    }
    const auto r = run(std::string(AXSA_BIN) + " report " + path);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(path + ": campaign config: " + b.key + " = '" + b.value + "' is not"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    const auto msg = message_of([&] { (void)campaign_db::resume(path, cfg); });
    EXPECT_NE(msg.find("campaign config: " + b.key), std::string::npos) << msg;
  }

  // More faults stored than the sample has.
  campaign_config cfg = small_config();
  cfg.sample_size = 4;
  { campaign_db::create(file("long.db"), cfg, false).store_faults(example_faults()); }
  const auto r = run(std::string(AXSA_BIN) + " report " + file("long.db"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("holds 6 faults, more than the sample size 4"), std::string::npos) << r.err;
}

TEST_F(campaign_db_test, tampered_results_are_one_line_and_exit_2) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"outcome.db", "UPDATE results SET outcome = 9 WHERE fault_id = 2 AND image = 3",
       "results of fault 2 on image 3: outcome '9' is not an outcome code (0..4)"},
      {"text.db", "UPDATE results SET outcome = 'bad' WHERE fault_id = 1 AND image = 0",
       "results of fault 1 on image 0: outcome 'bad' is not an outcome code"},
      {"orphan.db", "PRAGMA foreign_keys = OFF; UPDATE results SET fault_id = 40 WHERE fault_id = 3",
       "results of fault 40 on image 0, which is not in the fault list"},
      {"noresults.db", "DROP TABLE results", "it has no results table"},
      {"nofaults.db", "PRAGMA foreign_keys = OFF; DROP TABLE faults", "it has no faults table"},
  };
  for (const auto& [name, sql, fragment] : cases) {
    SCOPED_TRACE(name);
    write_example(file(name));
    const auto t = tamper(file(name), sql);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    const auto r = run(std::string(AXSA_BIN) + " report " + file(name));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(file(name) + (fragment[0] == 'i' ? " is a damaged axsa campaign database: " : ": ") + fragment),
              std::string::npos)
        << r.err;
    // Refused when resuming too, before any fault runs.
    const std::string path = file(name);  // C++17 lambdas cannot capture a structured binding (clang)
    const auto msg = message_of([&] { (void)campaign_db::resume(path, small_config()); });
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }
}

TEST_F(campaign_db_test, resume_refuses_stored_faults_the_campaign_could_not_have_drawn) {
  campaign_config stuck = small_config();
  stuck.fault_types = "stuck-at";
  struct bad_fault {
    const char* what;
    campaign_config cfg;
    std::function<void(fault&)> edit;
    std::string fragment;
  };
  const std::vector<bad_fault> cases = {
      {"row", small_config(), [](fault& f) { f.row = 99; }, "fault on PE (99,1) outside the 2x2 array"},
      {"col", small_config(), [](fault& f) { f.col = 2; }, "fault on PE (1,2) outside the 2x2 array"},
      {"bit", small_config(), [](fault& f) { f.bit = 2; }, "fault on bit 2 of a 2-bit weight"},
      {"bit99", small_config(), [](fault& f) { f.bit = 99; }, "fault on bit 99"},
      {"window", small_config(), [](fault& f) { f.first_cycle = 10, f.last_cycle = 5; }, "window starts after it ends"},
      {"site", small_config(), [](fault& f) { f.site = fault_site::weight_mult; }, "is on the weight-mult"},
      {"kind", stuck, [](fault& f) { f.kind = fault_kind::bit_flip; }, "is a bit-flip fault in a campaign of stuck-at"},
  };
  for (const auto& b : cases) {
    SCOPED_TRACE(b.what);
    const std::string path = file(std::string(b.what) + ".db");
    auto list = example_faults();
    if (b.cfg.fault_types == "stuck-at") list[2].kind = fault_kind::stuck_at_0;
    b.edit(list[3]);
    { campaign_db::create(path, b.cfg, false).store_faults(list); }
    const auto msg = message_of([&] { (void)campaign_db::resume(path, b.cfg); });
    EXPECT_NE(msg.find(path + ": fault 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find(b.fragment), std::string::npos) << msg;
    const auto r = run(std::string(AXSA_BIN) + " report " + path);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(b.fragment), std::string::npos) << r.err;
  }

  // Values a cast to unsigned would wrap into the array, and gaps in the ids, edited in SQL.
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"UPDATE faults SET row = 4294967296 WHERE id = 3", "fault 3: row '4294967296' is not an integer"},
      {"UPDATE faults SET bit = -1 WHERE id = 3", "fault 3: bit '-1' is not an integer"},
      {"UPDATE faults SET col = 'x' WHERE id = 3", "fault 3: col 'x' is not an integer"},
      {"UPDATE faults SET first_cycle = -5 WHERE id = 3", "fault 3: first_cycle '-5' is not an integer"},
      {"UPDATE faults SET id = 9 WHERE id = 5", "the fault ids are not 0..5 (fault 5 is missing)"},
  };
  for (const auto& [sql, fragment] : edits) {
    SCOPED_TRACE(sql);
    fs::remove(file("sql.db"));
    { campaign_db::create(file("sql.db"), small_config(), false).store_faults(example_faults()); }
    const auto t = tamper(file("sql.db"), sql);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    const auto msg = message_of([&] { (void)campaign_db::resume(file("sql.db"), small_config()); });
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }
}

// --- scripts --------------------------------------------------------------------------------

bool is_png(const std::string& path) {
  const std::string data = read_text(path);
  return data.size() > 5000 && data.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

TEST_F(campaign_db_test, plot_script_writes_both_pngs) {
  const std::string fixture = AXSA_FIXTURE_BIN;
  // A partial 6x5 campaign of the synthetic fixture, and the hand-made 2x2 one.
  auto r = run(fixture + " --out " + file("f.db") + " --rows 6 --cols 5 --bits 6 --images 8 --margin 0.05 --stop-after 90");
  ASSERT_EQ(r.exit_code, 3) << r.err;  // 3: stopped with faults pending
  write_example(file("e.db"));
  const std::string script = std::string(AXSA_SOURCE_DIR) + "/scripts/plot_campaign.py";
  r = run(python + " " + script + " " + file("f.db") + " --out " + file("plots/f"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(is_png(file("plots/f_pe_critical.png")));
  EXPECT_TRUE(is_png(file("plots/f_bits.png")));
  EXPECT_NE(r.out.find(file("plots/f_bits.png")), std::string::npos) << r.out;
  r = run(python + " " + script + " " + file("e.db"));  // default prefix: the database path
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(is_png(file("e_pe_critical.png")));
  EXPECT_TRUE(is_png(file("e_bits.png")));
}

TEST_F(campaign_db_test, plot_script_refuses_missing_and_foreign_files) {
  const std::string script = python + " " + std::string(AXSA_SOURCE_DIR) + "/scripts/plot_campaign.py ";
  std::ofstream(file("junk.db")) << std::string(3000, 'j');
  for (const auto& [name, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"absent.db", "no such file"}, {"junk.db", "not an axsa campaign database"}}) {
    const auto r = run(script + file(name) + " --out " + file("p"));
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(file("p_bits.png")));
  }
  const auto help = run(script + "--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--out"), std::string::npos);
}

// The survey script against a stand-in axsa: `campaign` is the synthetic fixture (optionally
// stopping early, as a killed campaign would), `infer` a fixed accuracy, the rest the real axsa.
class survey_script_test : public campaign_db_test {
 protected:
  void write_stub(bool evoapprox_registered) {
    std::ofstream s(file("axsa"));
    s << "#!/bin/bash\necho \"$*\" >> " << file("calls.log") << "\ncase \"$1\" in\n"
      << "  campaign) shift; exec " << AXSA_FIXTURE_BIN << " \"$@\" ${STOP_AFTER:+--stop-after $STOP_AFTER} ;;\n"
      << "  infer) if [[ \"$*\" == *'--bits 16'* ]]; then e='\"array_pj\": 2000, \"total_pj\": 10000'; "
         "else e='\"array_pj\": 1000, \"total_pj\": 8000'; fi\n"
      << "    echo \"{\\\"accuracy\\\": 0.9875, \\\"images\\\": 20, \\\"energy_per_image\\\": {$e}}\" ;;\n"
      << "  multipliers) exit " << (evoapprox_registered ? 0 : 2) << " ;;\n"
      << "  *) exec " << AXSA_BIN << " \"$@\" ;;\nesac\n";
    s.close();
    fs::permissions(file("axsa"), fs::perms::owner_all);
  }
  std::string script() const {
    return std::string(AXSA_SOURCE_DIR) + "/scripts/reproduce_survey_table.sh --axsa " + file("axsa") + " --out " +
           file("survey");
  }
};

TEST_F(survey_script_test, interrupted_run_resumes_and_builds_the_table) {
  write_stub(false);
  auto r = run("STOP_AFTER=40 " + script() + " --quick");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rerun the same command to resume"), std::string::npos) << r.err;
  EXPECT_EQ(campaign_db::open_read_only(file("survey/int16_exact.db")).completed_faults(), 40u);

  r = run(script() + " --quick");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const char* names[] = {"int16_exact", "int8_exact", "int8_trunc12_k6", "int8_drum12_k6", "int8_mitchell12",
                         "int8_kulkarni12"};
  const std::string table = read_text(file("survey/survey_table.csv"));
  EXPECT_EQ(count_lines(table), 7u) << table;
  for (const char* n : names) {
    EXPECT_NE(table.find(std::string("\n") + n + ",0.9875,"), std::string::npos) << n << "\n" << table;
    EXPECT_TRUE(campaign_db::open_read_only(file("survey/") + n + ".db").summarize().complete) << n;
  }
  EXPECT_EQ(table.find("partial"), std::string::npos);
  const std::string md = read_text(file("survey/survey_table.md"));
  EXPECT_EQ(r.out, md);
  EXPECT_NE(md.find("| INT8 trunc12_k6 "), std::string::npos) << md;
  EXPECT_NE(md.find("| INT16 exact "), std::string::npos) << md;
  EXPECT_NE(md.find("98.75"), std::string::npos) << md;
  EXPECT_NE(md.find("| INT8 trunc12_k6 | 50.0 / 20.0 "), std::string::npos) << md;  // the stand-in's energies

  const std::string calls = read_text(file("calls.log"));
  EXPECT_NE(calls.find("campaign --model"), std::string::npos);
  for (const char* part : {"--images 20 --bits 8 --mult kulkarni12 --rows 28 --cols 28 --batch 28 --site weight-link --faults "
                           "stuck-at --confidence 0.99 --margin 0.05 --seed 1",
                           "--bits 16 --mult exact", "--resume"}) {
    EXPECT_NE(calls.find(part), std::string::npos) << part << "\n" << calls;
  }
  EXPECT_NE(calls.find("--out " + file("survey/int8_drum12_k6.db") + " --resume"), std::string::npos) << calls;
}

TEST_F(survey_script_test, uses_the_evoapprox_multipliers_when_registered) {
  write_stub(true);
  const auto r = run(script() + " --images 2 --margin 0.2 --rows 4 --cols 4 --no-accuracy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string table = read_text(file("survey/survey_table.csv"));
  EXPECT_EQ(count_lines(table), 8u) << table;
  for (const char* n : {"int8_mul12s_2PT", "int8_mul12s_2QH", "int8_mul12s_2R5", "int8_mul12s_34P", "int8_mul12s_2TE"})
    EXPECT_NE(table.find(std::string("\n") + n + ",,"), std::string::npos) << n << "\n" << table;
  EXPECT_EQ(table.find("trunc12_k6"), std::string::npos);
  // The batch follows the rows unless given.
  EXPECT_NE(read_text(file("calls.log")).find("--rows 4 --cols 4 --batch 4 "), std::string::npos);
  EXPECT_EQ(campaign_db::open_read_only(file("survey/int16_exact.db")).config().batch, 4u);
}

TEST_F(survey_script_test, batch_reaches_every_campaign) {
  write_stub(false);
  const auto r = run(script() + " --images 2 --margin 0.2 --rows 4 --cols 4 --batch 1 --mults drum12_k6 --no-accuracy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("batch 1,"), std::string::npos) << r.err;
  for (const char* n : {"int16_exact", "int8_exact", "int8_drum12_k6"})
    EXPECT_EQ(campaign_db::open_read_only(file("survey/") + n + ".db").config().batch, 1u) << n;
}

TEST_F(survey_script_test, bad_options_are_one_line_and_exit_2) {
  write_stub(false);
  for (const std::string args : {"--frobnicate", "--images x", "--margin 2", "--images", "--mults 'a b'", "--batch -1"}) {
    const auto r = run(script() + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
    EXPECT_FALSE(fs::exists(file("calls.log")) && read_text(file("calls.log")).find("campaign") != std::string::npos);
  }
  const auto help = run(script() + " --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--quick"), std::string::npos);
}

}  // namespace
}  // namespace axsa::faults
