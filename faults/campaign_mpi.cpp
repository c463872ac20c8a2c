#include "faults/campaign_mpi.h"

#include <stdexcept>

#ifdef AXSA_WITH_MPI

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "faults/campaign_progress.h"

namespace axsa::faults::mpi {

namespace {

using clock_type = std::chrono::steady_clock;
using fault_results = std::pair<std::uint64_t, std::vector<pair_result>>;

constexpr int tag_up = 1;    // rank k -> rank 0: results, requests, done, failure
constexpr int tag_down = 2;  // rank 0 -> rank k: a batch of faults (none: no more work)
constexpr int tag_error = 3; // agree(): a failing rank's message

enum class message : std::uint8_t { request = 1, results = 2, done = 3, failure = 4 };

// Messages are flat byte strings of fixed-width fields in the host's byte order (every rank runs
// the same binary on the same kind of machine).
class writer {
 public:
  template <typename T>
  writer& put(T v) {
    append(&v, sizeof v);
    return *this;
  }
  writer& put_text(const std::string& text) {
    put(static_cast<std::uint32_t>(text.size()));
    append(text.data(), text.size());
    return *this;
  }
  const std::vector<char>& bytes() const { return m_bytes; }

 private:
  void append(const void* data, std::size_t n) {
    if (n == 0) return;
    const std::size_t at = m_bytes.size();
    m_bytes.resize(at + n);
    std::memcpy(m_bytes.data() + at, data, n);
  }
  std::vector<char> m_bytes;
};

class reader {
 public:
  explicit reader(const std::vector<char>& bytes) : m_bytes(bytes) {}
  template <typename T>
  T get() {
    if (m_at + sizeof(T) > m_bytes.size()) throw std::runtime_error("MPI campaign: truncated message");
    T v;
    std::memcpy(&v, m_bytes.data() + m_at, sizeof v);
    m_at += sizeof v;
    return v;
  }
  std::string get_text() {
    const auto n = get<std::uint32_t>();
    if (m_at + n > m_bytes.size()) throw std::runtime_error("MPI campaign: truncated message");
    std::string text(m_bytes.data() + m_at, n);
    m_at += n;
    return text;
  }

 private:
  const std::vector<char>& m_bytes;
  std::size_t m_at = 0;
};

void put_results(writer& w, const std::vector<fault_results>& list) {
  w.put(static_cast<std::uint32_t>(list.size()));
  for (const auto& [id, results] : list) {
    w.put(id).put(static_cast<std::uint32_t>(results.size()));
    for (const pair_result& r : results) {
      w.put(r.image).put(static_cast<std::int32_t>(r.result)).put(static_cast<std::int32_t>(r.golden_label));
      w.put(static_cast<std::int32_t>(r.faulty_label)).put(r.ratio);
    }
  }
}

std::vector<fault_results> get_results(reader& r) {
  std::vector<fault_results> list(r.get<std::uint32_t>());
  for (auto& [id, results] : list) {
    id = r.get<std::uint64_t>();
    results.resize(r.get<std::uint32_t>());
    for (pair_result& p : results) {
      p.image = r.get<std::uint32_t>();
      p.result = static_cast<outcome>(r.get<std::int32_t>());
      p.golden_label = r.get<std::int32_t>();
      p.faulty_label = r.get<std::int32_t>();
      p.ratio = r.get<double>();
    }
  }
  return list;
}

void send(const writer& w, int to, int tag) {
  MPI_Send(w.bytes().data(), static_cast<int>(w.bytes().size()), MPI_BYTE, to, tag, MPI_COMM_WORLD);
}

// A message that has arrived (after a successful probe), received whole.
std::vector<char> receive(const MPI_Status& probed) {
  int n = 0;
  MPI_Get_count(&probed, MPI_BYTE, &n);
  std::vector<char> bytes(static_cast<std::size_t>(n));
  MPI_Recv(bytes.data(), n, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return bytes;
}

bool probe(int source, int tag, MPI_Status& status) {
  int flag = 0;
  MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &status);
  return flag != 0;
}

// A blocking MPI call spins a core in OpenMPI; the main thread polls and naps instead, so the
// worker threads keep both cores of a two-rank job.
void nap() { std::this_thread::sleep_for(std::chrono::microseconds(500)); }

// The faults a rank has been given and its threads have not started, and the results they made.
class local_pool {
 public:
  local_pool(const golden_reference& golden, unsigned jobs) {
    for (unsigned j = 0; j < jobs; ++j) m_threads.emplace_back([this, &golden] { work(golden); });
  }
  ~local_pool() { stop(); }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_stopping = true;
      m_todo.clear();
    }
    m_cv.notify_all();
    for (auto& t : m_threads) {
      if (t.joinable()) t.join();
    }
  }
  void add(std::uint64_t id, const fault& f) {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_todo.emplace_back(id, f);
    }
    m_cv.notify_one();
  }
  std::size_t backlog() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_todo.size();
  }
  bool idle() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_todo.empty() && m_busy == 0;
  }
  std::vector<fault_results> take_results() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_failure) std::rethrow_exception(m_failure);
    std::vector<fault_results> out(std::make_move_iterator(m_done.begin()), std::make_move_iterator(m_done.end()));
    m_done.clear();
    return out;
  }
  std::size_t results_waiting() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_done.size();
  }

 private:
  void work(const golden_reference& golden) {
    bool running = false;  // holds a fault (counted in m_busy)
    try {
      shortcut_engine engine(golden);
      std::unique_lock<std::mutex> lock(m_mutex);
      while (true) {
        m_cv.wait(lock, [&] { return m_stopping || !m_todo.empty(); });
        if (m_stopping) return;
        const auto [id, f] = m_todo.front();
        m_todo.pop_front();
        ++m_busy;
        running = true;
        lock.unlock();
        fault_results r{id, classify_run(golden, engine.run(f))};
        lock.lock();
        --m_busy;
        running = false;
        m_done.push_back(std::move(r));
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (!m_failure) m_failure = std::current_exception();
      if (running) --m_busy;
    }
  }

  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::pair<std::uint64_t, fault>> m_todo;
  std::vector<fault_results> m_done;
  unsigned m_busy = 0;
  bool m_stopping = false;
  std::exception_ptr m_failure;
  std::vector<std::thread> m_threads;
};

// Rank 0: serves batches, runs faults on its own pool, commits results.
run_report coordinate(const session& s, campaign_db& db, const golden_reference& golden, const run_options& options) {
  const std::vector<fault> stored = db.faults();
  const shard_spec shard = db.config().shard;
  const std::vector<std::uint64_t> pending = db.pending_faults();
  auto fault_of = [&](std::uint64_t id) -> const fault& { return stored[shard.position(id)]; };
  progress_line progress(stored.size(), stored.size() - pending.size());
  const auto t0 = clock_type::now();
  const double cpu0 = process_cpu_seconds();
  double cpu_of_others = 0;  // the other ranks report theirs when they are done

  std::size_t next = 0;  // pending[next..] not handed out yet
  local_pool pool(golden, options.jobs);
  std::vector<fault_results> ready;
  std::uint64_t written = 0, done_total = stored.size() - pending.size();
  int ranks_working = s.size() - 1;
  auto last_commit = clock_type::now();
  auto commit = [&] {
    db.store_results_batch(ready, std::vector<std::string>(ready.size(), "shortcut"));  // every rank runs the shortcut
    written += ready.size();
    done_total += ready.size();
    ready.clear();
    last_commit = clock_type::now();
    progress.update(done_total);
  };
  while (written < pending.size() || ranks_working > 0) {
    bool busy = false;
    MPI_Status status;
    if (probe(MPI_ANY_SOURCE, tag_up, status)) {
      busy = true;
      const std::vector<char> bytes = receive(status);
      reader r(bytes);
      const auto kind = static_cast<message>(r.get<std::uint8_t>());
      if (kind == message::failure) {
        throw std::runtime_error("rank " + std::to_string(status.MPI_SOURCE) + ": " + r.get_text());
      }
      if (kind == message::done) {
        cpu_of_others += r.get<double>();
        --ranks_working;
      } else {
        for (auto& fr : get_results(r)) ready.push_back(std::move(fr));
      }
      if (kind == message::request) {
        writer w;
        const std::size_t n = std::min(options.batch, pending.size() - next);
        w.put(static_cast<std::uint32_t>(n));
        for (std::size_t i = 0; i < n; ++i, ++next) {
          const fault& f = fault_of(pending[next]);
          w.put(pending[next]).put(static_cast<std::uint8_t>(f.site)).put(static_cast<std::uint8_t>(f.kind));
          w.put(f.row).put(f.col).put(f.bit).put(f.first_cycle).put(f.last_cycle);
        }
        send(w, status.MPI_SOURCE, tag_down);
      }
    }
    // Rank 0's own threads take one fault at a time and keep one in reserve each.
    while (pool.backlog() < options.jobs && next < pending.size()) {
      pool.add(pending[next], fault_of(pending[next]));
      ++next;
    }
    for (auto& fr : pool.take_results()) ready.push_back(std::move(fr));
    const bool last = written + ready.size() == pending.size();
    if (!ready.empty() && (ready.size() >= 256 || last || clock_type::now() - last_commit > std::chrono::milliseconds(500))) {
      commit();
      busy = true;
    }
    if (!busy) nap();
  }
  pool.stop();
  progress.finish();
  return {pending.size(), std::chrono::duration<double>(clock_type::now() - t0).count(),
          process_cpu_seconds() - cpu0 + cpu_of_others};
}

// Ranks 1..P-1: ask for batches, run them, send the results back.
void serve(const golden_reference& golden, const run_options& options) {
  const double cpu0 = process_cpu_seconds();
  local_pool pool(golden, options.jobs);
  bool asked = false, no_more = false;
  auto last_send = clock_type::now();
  try {
    while (true) {
      bool busy = false;
      if (asked) {
        MPI_Status status;
        if (probe(0, tag_down, status)) {
          busy = true;
          asked = false;
          const std::vector<char> bytes = receive(status);
          reader r(bytes);
          const auto n = r.get<std::uint32_t>();
          if (n == 0) no_more = true;
          for (std::uint32_t i = 0; i < n; ++i) {
            const auto id = r.get<std::uint64_t>();
            fault f;
            f.site = static_cast<fault_site>(r.get<std::uint8_t>());
            f.kind = static_cast<fault_kind>(r.get<std::uint8_t>());
            f.row = r.get<unsigned>();
            f.col = r.get<unsigned>();
            f.bit = r.get<unsigned>();
            f.first_cycle = r.get<std::uint64_t>();
            f.last_cycle = r.get<std::uint64_t>();
            pool.add(id, f);
          }
        }
      }
      // Ask before the threads run dry, so the round trip hides behind the last faults.
      const bool ask = !asked && !no_more && pool.backlog() < options.jobs;
      const bool flush = pool.results_waiting() > 0 &&
                         (clock_type::now() - last_send > std::chrono::milliseconds(250) || (no_more && pool.idle()));
      if (ask || flush) {
        writer w;
        w.put(static_cast<std::uint8_t>(ask ? message::request : message::results));
        put_results(w, pool.take_results());
        send(w, 0, tag_up);
        asked = asked || ask;
        last_send = clock_type::now();
        busy = true;
      }
      if (no_more && pool.idle() && pool.results_waiting() == 0) {
        (void)pool.take_results();  // rethrows a failure of the last fault
        break;
      }
      if (!busy) nap();
    }
  } catch (const std::exception& e) {
    writer w;
    w.put(static_cast<std::uint8_t>(message::failure)).put_text(e.what());
    send(w, 0, tag_up);
    pool.stop();
    while (true) nap();  // rank 0 ends the job
  }
  pool.stop();
  writer w;
  w.put(static_cast<std::uint8_t>(message::done)).put(process_cpu_seconds() - cpu0);
  send(w, 0, tag_up);
}

}  // namespace

bool available() { return true; }

session::session() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) throw config_error("--mpi: MPI is already initialised in this process");
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &m_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &m_size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &m_local_size);
  MPI_Comm_free(&local);
}

session::~session() { MPI_Finalize(); }

void session::agree(const std::string& error, int code) const {
  const int mine = error.empty() ? 0 : code;
  std::vector<int> codes(static_cast<std::size_t>(m_size));
  MPI_Allgather(&mine, 1, MPI_INT, codes.data(), 1, MPI_INT, MPI_COMM_WORLD);
  const auto first = std::find_if(codes.begin(), codes.end(), [](int c) { return c != 0; });
  if (first == codes.end()) return;
  const int failing = static_cast<int>(first - codes.begin());
  std::string text = error;
  if (failing != 0) {  // that rank sends its message to rank 0
    if (m_rank == failing) {
      writer w;
      w.put_text(error);
      send(w, 0, tag_error);
    } else if (m_rank == 0) {
      MPI_Status status;
      MPI_Probe(failing, tag_error, MPI_COMM_WORLD, &status);
      const std::vector<char> bytes = receive(status);
      reader r(bytes);
      text = "rank " + std::to_string(failing) + ": " + r.get_text();
    }
  }
  if (m_rank != 0) throw quiet_failure(*first);
  if (*first == 2) throw config_error(text);
  throw std::runtime_error(text);
}

void session::check_same_config(const campaign_config& cfg) const {
  std::string mine;
  for (const auto& [k, v] : cfg.to_key_values()) mine += k + "=" + v + "\n";
  auto length = static_cast<int>(mine.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string theirs = m_rank == 0 ? mine : std::string(static_cast<std::size_t>(length), '\0');
  MPI_Bcast(theirs.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
  std::string error;
  if (theirs != mine) {
    const auto a = cfg.to_key_values();
    error = "its campaign differs from rank 0's";
    for (const auto& [k, v] : a) {
      const std::string line = k + "=" + v + "\n";
      if (theirs.find("\n" + line) == std::string::npos && theirs.compare(0, line.size(), line) != 0) {
        error = "its campaign has " + k + " = '" + v + "', unlike rank 0's (same model, data and options on every node?)";
        break;
      }
    }
  }
  agree(error, 2);
}

run_report run_pending_faults(const session& s, campaign_db* db, const golden_reference& golden,
                              const run_options& options) {
  try {
    if (s.rank() == 0) return coordinate(s, *db, golden, options);
    serve(golden, options);
    return {};
  } catch (const std::exception& e) {
    std::cerr << "axsa campaign: error: " << e.what() << " (ending the MPI job)" << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 1);
    throw;
  }
}

}  // namespace axsa::faults::mpi

#else  // without MPI

namespace axsa::faults::mpi {

bool available() { return false; }

session::session() {
  throw config_error("--mpi: this axsa was built without MPI (install libopenmpi-dev, e.g. scripts/setup.sh, and rebuild)");
}
session::~session() = default;
void session::agree(const std::string&, int) const {}
void session::check_same_config(const campaign_config&) const {}
run_report run_pending_faults(const session&, campaign_db*, const golden_reference&, const run_options&) { return {}; }

}  // namespace axsa::faults::mpi

#endif
