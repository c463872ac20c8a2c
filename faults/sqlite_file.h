// Opening a result file as an SQLite database, the way every grid of results does (the EPSILON
// grid, the sweep): only a regular file (or none yet), errors as one config_error line naming the
// path, a busy timeout so that a second reader waits rather than fails.
#pragma once

#include <string>

#include <sqlite3.h>
#include <sys/stat.h>

#include "hw/array_config.h"

namespace axsa::faults {

// SQLite's text on one line: its messages may quote a damaged schema, line breaks and all, and every
// error axsa prints is one line (found by tests/fuzz/fuzz_campaign_db).
inline std::string one_line_sqlite(const char* text) {
  std::string out;
  for (const char* p = text ? text : "unknown error"; *p; ++p) {
    const bool space = *p == '\n' || *p == '\r' || *p == '\t';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : *p;
  }
  return out;
}
inline std::string sqlite_message(sqlite3* db) { return one_line_sqlite(sqlite3_errmsg(db)); }

// Whether `path` exists; throws config_error when it exists and is not a regular file.
inline bool regular_file_exists(const std::string& path) {
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) throw config_error(path + ": not a regular file");
  return exists;
}

// Opens (creating) the database; throws config_error "cannot open PATH: why".
inline sqlite3* open_sqlite_file(const std::string& path, int busy_ms = 5000) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    const std::string what = db ? sqlite_message(db) : "out of memory";
    sqlite3_close(db);
    throw config_error("cannot open " + path + ": " + what);
  }
  sqlite3_busy_timeout(db, busy_ms);
  return db;
}

}  // namespace axsa::faults
