// Where a sweep's results live (docs/sweep.md): SQLite (a `grid` table holding the definition and a
// `configs` table with one row per finished configuration, each written in one transaction) or CSV
// (the definition as '#' lines, a header, then one row per finished configuration, appended and
// flushed to disk one at a time). Opening an existing store checks that it was made by the same
// grid and reads which configurations are done; a row cut short by a kill is dropped.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "faults/sweep.h"

struct sqlite3;

namespace axsa::sweep {

class store {
 public:
  virtual ~store() = default;
  bool has(const config_point& p) const;
  // Thread-safe; a configuration is stored at most once (a second put throws).
  void put(const config_result& r);
  // Every stored configuration, ordered by key.
  virtual std::vector<config_result> rows() const = 0;
  const std::string& path() const { return m_path; }

 protected:
  explicit store(std::string path) : m_path(std::move(path)) {}
  virtual void write(const config_result& r) = 0;
  void mark_done(const config_point& p) { m_done.insert(p); }
  std::string m_path;

 private:
  std::set<config_point> m_done;
  mutable std::mutex m_mutex;
};

// Creates `path` with `definition`, or opens it and checks the definition: throws config_error
// naming the file and the first key that differs.
std::unique_ptr<store> open_sqlite_store(const std::string& path, const std::map<std::string, std::string>& definition);
std::unique_ptr<store> open_csv_store(const std::string& path, const std::map<std::string, std::string>& definition);

// The CSV columns, in order (the SQLite table has the same columns).
const std::vector<std::string>& columns();

}  // namespace axsa::sweep
