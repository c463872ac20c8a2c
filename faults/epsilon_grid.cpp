#include "faults/epsilon_grid.h"

#include "faults/sqlite_file.h"

#include <sqlite3.h>

#include <sstream>
#include <sys/stat.h>

#include "hw/array_config.h"

namespace axsa::epsilon {

namespace {

constexpr const char* format = "axsa-epsilon-grid-1";

std::string join(const std::vector<std::size_t>& v) {
  std::string s;
  for (const std::size_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

std::vector<std::size_t> split(const std::string& s) {
  std::vector<std::size_t> v;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) v.push_back(std::stoull(item));
  return v;
}

struct statement {
  sqlite3_stmt* s = nullptr;
  ~statement() { sqlite3_finalize(s); }
};

}  // namespace

void grid_db::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string what = err ? err : "unknown error";
    sqlite3_free(err);
    throw config_error(m_path + ": " + what);
  }
}

grid_db::grid_db(const std::string& path, const std::map<std::string, std::string>& config, bool resume) : m_path(path) {
  const bool exists = faults::regular_file_exists(path);
  if (exists && !resume) throw config_error(path + " exists; pass --resume to continue that grid, or choose another --out");
  if (!exists && resume) throw config_error(path + ": no such grid to resume");
  m_db = faults::open_sqlite_file(path);
  try {
    exec("PRAGMA journal_mode=WAL");
    if (!exists) {
      exec("BEGIN");
      exec("CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      exec("CREATE TABLE cells (mult TEXT, technique TEXT, point TEXT, rate REAL, stuck INTEGER, seed INTEGER, "
           "images INTEGER, correct INTEGER, flagged_images INTEGER, analyses INTEGER, layers_flagged INTEGER, "
           "weights_corrected INTEGER, reruns INTEGER, array_cycles INTEGER, bus_cycles INTEGER, macs INTEGER, "
           "exits_taken TEXT, seconds REAL, PRIMARY KEY (mult, technique, point, rate, stuck, seed))");
      std::map<std::string, std::string> all = config;
      all["format"] = format;
      for (const auto& [k, v] : all) set_config(k, v);
      exec("COMMIT");
      return;
    }
    const auto stored = this->config();
    if (stored.count("format") == 0 || stored.at("format") != format) {
      throw config_error(path + " is not an axsa EPSILON grid (no '" + std::string(format) + "' format entry)");
    }
    for (const auto& [k, v] : config) {
      const auto it = stored.find(k);
      if (it == stored.end() || it->second != v) {
        throw config_error(path + ": was made with " + k + " = '" + (it == stored.end() ? "(none)" : it->second) +
                           "', this run has '" + v + "'; --resume needs the same grid");
      }
    }
    for (const auto& [c, r] : rows()) m_done.insert(c);
  } catch (...) {
    sqlite3_close(m_db);
    m_db = nullptr;
    throw;
  }
}

grid_db::~grid_db() { sqlite3_close(m_db); }

std::map<std::string, std::string> grid_db::config() const {
  std::map<std::string, std::string> out;
  statement st;
  if (sqlite3_prepare_v2(m_db, "SELECT key, value FROM config", -1, &st.s, nullptr) != SQLITE_OK) {
    throw config_error(m_path + " is not an axsa EPSILON grid (" + faults::sqlite_message(m_db) + ")");
  }
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    out[reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0))] = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 1));
  }
  return out;
}

void grid_db::set_config(const std::string& key, const std::string& value) {
  statement st;
  sqlite3_prepare_v2(m_db, "INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)", -1, &st.s, nullptr);
  sqlite3_bind_text(st.s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, value.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) throw config_error(m_path + ": " + faults::sqlite_message(m_db));
}

bool grid_db::has(const grid_cell& c) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_done.count(c) != 0;
}

void grid_db::put(const grid_cell& c, const cell_result& r) {
  std::lock_guard<std::mutex> lock(m_mutex);
  statement st;
  sqlite3_prepare_v2(m_db,
                     "INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st.s, nullptr);
  int i = 0;
  for (const std::string* t : {&c.mult, &c.technique, &c.point}) sqlite3_bind_text(st.s, ++i, t->c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st.s, ++i, c.rate);
  sqlite3_bind_int(st.s, ++i, c.stuck);
  sqlite3_bind_int64(st.s, ++i, static_cast<sqlite3_int64>(c.seed));
  for (const std::size_t v : {r.images, r.correct, r.flagged_images, r.analyses, r.layers_flagged, r.weights_corrected, r.reruns})
    sqlite3_bind_int64(st.s, ++i, static_cast<sqlite3_int64>(v));
  for (const std::uint64_t v : {r.array_cycles, r.bus_cycles, r.macs}) sqlite3_bind_int64(st.s, ++i, static_cast<sqlite3_int64>(v));
  const std::string exits = join(r.exits_taken);
  sqlite3_bind_text(st.s, ++i, exits.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st.s, ++i, r.seconds);
  // One statement is one transaction: a cell is either stored whole or not at all.
  if (sqlite3_step(st.s) != SQLITE_DONE) throw config_error(m_path + ": " + faults::sqlite_message(m_db));
  m_done.insert(c);
}

std::vector<std::pair<grid_cell, cell_result>> grid_db::rows() const {
  std::vector<std::pair<grid_cell, cell_result>> out;
  statement st;
  if (sqlite3_prepare_v2(m_db, "SELECT * FROM cells ORDER BY mult, technique, point, rate, stuck, seed", -1, &st.s,
                         nullptr) != SQLITE_OK) {
    throw config_error(m_path + " is not an axsa EPSILON grid (" + faults::sqlite_message(m_db) + ")");
  }
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    grid_cell c;
    cell_result r;
    int i = 0;
    auto text = [&](int col) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st.s, col))); };
    c.mult = text(i++);
    c.technique = text(i++);
    c.point = text(i++);
    c.rate = sqlite3_column_double(st.s, i++);
    c.stuck = sqlite3_column_int(st.s, i++);
    c.seed = static_cast<std::uint64_t>(sqlite3_column_int64(st.s, i++));
    for (std::size_t* v : {&r.images, &r.correct, &r.flagged_images, &r.analyses, &r.layers_flagged, &r.weights_corrected, &r.reruns})
      *v = static_cast<std::size_t>(sqlite3_column_int64(st.s, i++));
    for (std::uint64_t* v : {&r.array_cycles, &r.bus_cycles, &r.macs}) *v = static_cast<std::uint64_t>(sqlite3_column_int64(st.s, i++));
    r.exits_taken = split(text(i++));
    r.seconds = sqlite3_column_double(st.s, i++);
    out.emplace_back(c, r);
  }
  return out;
}

}  // namespace axsa::epsilon
