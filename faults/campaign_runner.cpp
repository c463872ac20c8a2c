#include "faults/campaign_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

#include "faults/campaign_progress.h"
#include "hw/saboteur.h"
#include "sw/accelerated_system.h"

namespace axsa::faults {

namespace {

using clock_type = std::chrono::steady_clock;
using fault_results = std::pair<std::uint64_t, std::vector<pair_result>>;

// Collects finished faults from the workers and commits them in batches (about every 0.5 s).
class result_writer {
 public:
  result_writer(campaign_db& db, progress_line& progress, std::uint64_t done)
      : m_db(db), m_progress(progress), m_done(done) {}
  void push(fault_results r, campaign_engine engine) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_queue.push_back({std::move(r), to_string(engine)});
    m_cv.notify_one();
  }
  // Runs on the calling thread until `expected` faults have been written.
  void drain(std::uint64_t expected) {
    std::uint64_t written = 0;
    while (written < expected) {
      std::vector<fault_results> batch;
      std::vector<std::string> engines;
      {
        std::unique_lock<std::mutex> lock(m_mutex);
        // A full batch, the last results, or half a second: whichever comes first.
        m_cv.wait_for(lock, std::chrono::milliseconds(500),
                      [&] { return m_queue.size() >= 256 || written + m_queue.size() >= expected || m_failed; });
        if (m_failed) std::rethrow_exception(m_failure);
        for (auto& q : m_queue) {
          batch.push_back(std::move(q.results));
          engines.push_back(q.engine);
        }
        m_queue.clear();
      }
      if (batch.empty()) continue;
      m_db.store_results_batch(batch, engines);
      written += batch.size();
      m_done += batch.size();
      m_progress.update(m_done);
    }
  }
  void fail(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!m_failed) m_failure = e;
    m_failed = true;
    m_cv.notify_one();
  }

 private:
  campaign_db& m_db;
  progress_line& m_progress;
  std::uint64_t m_done;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  struct queued {
    fault_results results;
    const char* engine;
  };
  std::deque<queued> m_queue;
  bool m_failed = false;
  std::exception_ptr m_failure;
};

void run_shortcut(const golden_reference& golden, const std::vector<fault>& all, const std::vector<std::uint64_t>& pending,
                  result_writer& writer, unsigned jobs) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    try {
      shortcut_engine eng(golden);
      for (std::size_t i; (i = next.fetch_add(1)) < pending.size();) {
        const std::uint64_t id = pending[i];
        writer.push({id, classify_run(golden, eng.run(all[id]))}, campaign_engine::shortcut);
      }
    } catch (...) {
      writer.fail(std::current_exception());
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::min<std::size_t>(jobs, std::max<std::size_t>(1, pending.size())); ++j)
    threads.emplace_back(worker);
  try {
    writer.drain(pending.size());
  } catch (...) {
    next = pending.size();
    for (auto& t : threads) t.join();
    throw;
  }
  for (auto& t : threads) t.join();
}

// The reference engines: every fault on the cycle-accurate system, one after the other. The
// structural engine places a saboteur on every PE of the site, since any of them may be faulted.
void run_on_simulation(const golden_reference& golden, const std::vector<fault>& all,
                       const std::vector<std::uint64_t>& pending, result_writer& writer, bool structural) {
  const campaign_setup& setup = golden.setup();
  hw::array_config cfg = setup.cfg;
  if (structural) {
    for (std::uint64_t id : pending) {
      if (all[id].site == fault_site::control) {
        throw config_error("the structural engine has no model of the controller: run control faults with "
                           "--engine systemc or shortcut (docs/faults.md)");
      }
    }
    cfg.engine = hw::engine_kind::structural;
    for (std::uint64_t id : pending) {
      hw::plan_everywhere(cfg.saboteurs, all[id].site);
    }
  }
  sw::accelerated_system sys("system", cfg, setup.buffers);
  sys.accelerator.array.set_multiplier(setup.mult.get());
  std::exception_ptr writer_failure;
  std::thread drainer([&] {
    try {
      writer.drain(pending.size());
    } catch (...) {
      writer_failure = std::current_exception();
    }
  });
  sys.host.set_program([&] {
    for (std::uint64_t id : pending)
      writer.push({id, evaluate_on_system(sys, golden, all[id])},
                  structural ? campaign_engine::structural : campaign_engine::systemc);
  });
  sc_core::sc_start();
  if (sys.host.failure()) writer.fail(sys.host.failure());
  drainer.join();
  if (sys.host.failure()) std::rethrow_exception(sys.host.failure());
  if (writer_failure) std::rethrow_exception(writer_failure);
}

}  // namespace

campaign_engine parse_campaign_engine(const std::string& text) {
  if (text == "shortcut") return campaign_engine::shortcut;
  if (text == "systemc") return campaign_engine::systemc;
  if (text == "structural") return campaign_engine::structural;
  throw config_error("--engine must be shortcut, systemc or structural (got '" + text + "')");
}

const char* to_string(campaign_engine e) {
  switch (e) {
    case campaign_engine::shortcut: return "shortcut";
    case campaign_engine::systemc: return "systemc";
    case campaign_engine::structural: return "structural";
  }
  return "?";
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::vector<std::array<std::uint64_t, outcome_count>> run_pilot(const golden_reference& golden,
                                                                 const std::vector<fault>& list, unsigned jobs) {
  std::vector<std::array<std::uint64_t, outcome_count>> counts(list.size());
  for (const fault& f : list) {
    if (!shortcut_site(f.site)) throw config_error(std::string("a pilot runs on the shortcut engine, which has no ") +
                                                   to_string(f.site) + " faults");
  }
  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto worker = [&] {
    try {
      shortcut_engine eng(golden);
      for (std::size_t i; (i = next.fetch_add(1)) < list.size();) {
        for (const pair_result& r : classify_run(golden, eng.run(list[i]))) ++counts[i][static_cast<std::size_t>(r.result)];
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next = list.size();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::min<std::size_t>(std::max(1u, jobs), std::max<std::size_t>(1, list.size())); ++j)
    threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  return counts;
}

campaign_db open_campaign(const std::string& path, const campaign_config& cfg, const golden_reference& golden,
                          bool resume, bool overwrite) {
  if (cfg.shard.count > cfg.sample_size) {
    throw config_error("--shard " + cfg.shard.str() + ": the sample has only " + std::to_string(cfg.sample_size) +
                       " faults, fewer than the shards");
  }
  campaign_db db = resume ? campaign_db::resume(path, cfg) : campaign_db::create(path, cfg, overwrite);
  if (!db.has_golden()) db.store_golden(golden.labels(), golden.probabilities());
  if (db.fault_count() == 0) db.store_faults(shard_slice(campaign_sample(cfg), cfg.shard));
  return db;
}

run_report run_pending_faults(campaign_db& db, const golden_reference& golden, campaign_engine engine, unsigned jobs) {
  // The stored faults by id: a shard holds only its slice, so ids map to positions through it.
  const std::vector<fault> stored = db.faults();
  const shard_spec shard = db.config().shard;
  std::vector<fault> all(stored.empty() ? 0 : shard.id_at(stored.size() - 1) + 1);
  for (std::size_t i = 0; i < stored.size(); ++i) all[shard.id_at(i)] = stored[i];
  const std::vector<std::uint64_t> pending = db.pending_faults();
  progress_line progress(stored.size(), stored.size() - pending.size());
  result_writer writer(db, progress, stored.size() - pending.size());
  const auto t0 = clock_type::now();
  const double cpu0 = process_cpu_seconds();
  if (engine == campaign_engine::shortcut) {
    // The shortcut takes the sites it computes exactly; the others (control) run the full simulation.
    std::vector<std::uint64_t> quick, full;
    for (std::uint64_t id : pending) (shortcut_site(all[id].site) ? quick : full).push_back(id);
    if (!quick.empty()) run_shortcut(golden, all, quick, writer, jobs);
    if (!full.empty()) run_on_simulation(golden, all, full, writer, false);
  } else {
    run_on_simulation(golden, all, pending, writer, engine == campaign_engine::structural);
  }
  progress.finish();
  return {pending.size(), std::chrono::duration<double>(clock_type::now() - t0).count(), process_cpu_seconds() - cpu0};
}

}  // namespace axsa::faults
