// The results of an EPSILON grid (axsa epsilon --grid, docs/epsilon.md) in SQLite: the grid's
// configuration, and one row per cell (multiplier x technique x fault point x rate x stuck value x
// seed), each committed in its own transaction, so a killed grid resumes without losing or
// repeating a cell.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

struct sqlite3;

namespace axsa::epsilon {

struct grid_cell {
  std::string mult, technique, point;  // point: FP1..FP4, or "none" for a fault-free run
  double rate = 0;
  int stuck = 0;
  std::uint64_t seed = 1;
  auto key() const { return std::tie(mult, technique, point, rate, stuck, seed); }
  bool operator<(const grid_cell& o) const { return key() < o.key(); }
};

struct cell_result {
  std::size_t images = 0, correct = 0, flagged_images = 0;
  std::size_t analyses = 0, layers_flagged = 0, weights_corrected = 0, reruns = 0;
  std::uint64_t array_cycles = 0, bus_cycles = 0, macs = 0;
  std::vector<std::size_t> exits_taken;  // per exit
  double seconds = 0;
};

class grid_db {
 public:
  // Creates `path` with `config`, or with `resume` opens it and checks that its configuration is
  // `config`. Throws config_error naming the file and the first differing key.
  grid_db(const std::string& path, const std::map<std::string, std::string>& config, bool resume);
  ~grid_db();
  grid_db(const grid_db&) = delete;
  grid_db& operator=(const grid_db&) = delete;

  bool has(const grid_cell& c) const;
  void put(const grid_cell& c, const cell_result& r);  // thread-safe
  std::vector<std::pair<grid_cell, cell_result>> rows() const;
  std::map<std::string, std::string> config() const;
  void set_config(const std::string& key, const std::string& value);  // e.g. tuned baseline thresholds

 private:
  void exec(const std::string& sql) const;
  std::string m_path;
  sqlite3* m_db = nullptr;
  std::set<grid_cell> m_done;
  mutable std::mutex m_mutex;
};

}  // namespace axsa::epsilon
