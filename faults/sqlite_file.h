// Opening a result file as an SQLite database, the way every grid of results does (the EPSILON
// grid, the sweep): only a regular file (or none yet), errors as one config_error line naming the
// path, a busy timeout so that a second reader waits rather than fails.
#pragma once

#include <string>

#include <sqlite3.h>
#include <sys/stat.h>

#include "hw/array_config.h"

namespace axsa::faults {

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
    const std::string what = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw config_error("cannot open " + path + ": " + what);
  }
  sqlite3_busy_timeout(db, busy_ms);
  return db;
}

}  // namespace axsa::faults
