#include "faults/campaign_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "faults/fault_space.h"
#include "faults/sqlite_file.h"

namespace axsa::faults {

namespace {

// Marks a file as ours; bump it when the schema changes incompatibly.
constexpr const char* format_key = "format";
constexpr const char* format_value = "axsa-campaign-1";

constexpr const char* schema_sql = R"sql(
CREATE TABLE config(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE golden(image INTEGER PRIMARY KEY, label INTEGER NOT NULL, probabilities TEXT NOT NULL);
CREATE TABLE faults(id INTEGER PRIMARY KEY, site TEXT NOT NULL, kind TEXT NOT NULL, row INTEGER NOT NULL,
                    col INTEGER NOT NULL, bit INTEGER NOT NULL, first_cycle INTEGER NOT NULL, last_cycle INTEGER);
CREATE TABLE results(fault_id INTEGER NOT NULL REFERENCES faults(id), image INTEGER NOT NULL,
                     outcome INTEGER NOT NULL CHECK (outcome BETWEEN 0 AND 4), golden_label INTEGER NOT NULL,
                     faulty_label INTEGER NOT NULL, ratio REAL, PRIMARY KEY (fault_id, image)) WITHOUT ROWID;
)sql";

// Which engine computed each fault's results. Added after format 1 was fixed: a database without
// the table (written before it) stays readable, its faults' engines unrecorded; a campaign resuming
// it creates the table.
constexpr const char* engine_table_sql =
    "CREATE TABLE IF NOT EXISTS fault_engine(fault_id INTEGER PRIMARY KEY REFERENCES faults(id), engine TEXT NOT NULL)";

constexpr std::uint64_t no_end = std::numeric_limits<std::uint64_t>::max();

// A stored value quoted in a message may hold line breaks (a damaged file); every error axsa prints is one
// line (found by tests/fuzz/fuzz_campaign_db).
template <typename F>
campaign_db one_line_errors(F&& open) {
  try {
    return open();
  } catch (const config_error& e) {
    throw config_error(one_line_sqlite(e.what()));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(one_line_sqlite(e.what()));
  }
}

[[noreturn]] void fail_runtime(const std::string& path, sqlite3* db, const std::string& what) {
  throw std::runtime_error(path + ": " + what + ": " + (db ? sqlite_message(db) : "out of memory"));
}

// A prepared statement; every failure names the file and carries SQLite's message.
class statement {
 public:
  statement(sqlite3* db, const std::string& path, const char* sql) : m_db(db), m_path(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) fail_runtime(path, db, "cannot prepare query");
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { sqlite3_finalize(m_stmt); }

  statement& bind(int index, std::int64_t v) { return check(sqlite3_bind_int64(m_stmt, index, v)); }
  statement& bind(int index, double v) {
    return check(std::isnan(v) ? sqlite3_bind_null(m_stmt, index) : sqlite3_bind_double(m_stmt, index, v));
  }
  statement& bind(int index, const std::string& v) {
    return check(sqlite3_bind_text(m_stmt, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  statement& bind_null(int index) { return check(sqlite3_bind_null(m_stmt, index)); }

  // True while there is a row to read.
  bool step(const char* what) {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail_runtime(m_path, m_db, what);
  }
  void run(const char* what) {
    step(what);
    reset();
  }
  void reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }

  bool is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
  bool is_integer(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_INTEGER; }
  std::int64_t int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
  double real(int col) const { return is_null(col) ? std::nan("") : sqlite3_column_double(m_stmt, col); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(m_stmt, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col)))
             : std::string();
  }

 private:
  statement& check(int rc) {
    if (rc != SQLITE_OK) fail_runtime(m_path, m_db, "cannot bind a query parameter");
    return *this;
  }
  sqlite3* m_db;
  const std::string& m_path;
  sqlite3_stmt* m_stmt = nullptr;
};

void exec(sqlite3* db, const std::string& path, const char* sql, const char* what) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    const std::string text = msg ? one_line_sqlite(msg) : sqlite_message(db);
    sqlite3_free(msg);
    throw std::runtime_error(path + ": " + what + ": " + text);
  }
}

// BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails half-way for a
// lock; anything that leaves the scope without commit() is rolled back.
class transaction {
 public:
  transaction(sqlite3* db, const std::string& path) : m_db(db), m_path(path) {
    exec(db, path, "BEGIN IMMEDIATE", "cannot begin a transaction");
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction() {
    if (!m_done) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(m_db, m_path, "COMMIT", "cannot commit");
    m_done = true;
  }

 private:
  sqlite3* m_db;
  const std::string& m_path;
  bool m_done = false;
};

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "a special file";
}

// False when nothing is at path. Anything but a regular file is refused before SQLite sees it:
// it blocks opening a FIFO, calls a directory a "disk I/O error", and the replacing of an
// empty file would turn a device node into a database.
bool database_file(const std::string& path, bool for_writing, bool* empty = nullptr) {
  if (path.empty()) throw config_error("the database path is empty");
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    throw config_error("cannot open " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw config_error(path + " is " + file_type(st.st_mode) +
                       (for_writing ? ", not a regular file; refusing to replace it by a campaign database"
                                    : ", not a campaign database"));
  }
  if (empty) *empty = st.st_size == 0;
  return true;
}

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// SQLite writes its -wal and -shm files next to the database; where it may not, it opens the
// file read-only without a word and the first write fails as "attempt to write a readonly
// database", which the caller would take for a damaged file.
void require_writable(const std::string& path, const std::string& doing, bool file_too) {
  const std::string folder = folder_of(path);
  if (access(folder.c_str(), W_OK | X_OK) != 0) {
    throw config_error("cannot " + doing + " " + path + ": cannot write in the folder " + folder + " (" +
                       std::strerror(errno) + ")");
  }
  if (file_too && access(path.c_str(), R_OK | W_OK) != 0) {
    throw config_error("cannot " + doing + " " + path + ": " + std::strerror(errno));
  }
}

// A database file without its WAL belongs to nobody: a stale -wal next to a new file could
// otherwise be replayed into it. The caller has checked the database itself; a sibling that is
// not a regular file is not SQLite's and stays.
void remove_database_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string p = path + suffix;
    struct stat st {};
    if (*suffix != '\0' && lstat(p.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      throw config_error("refusing to remove " + p + ", which is " + file_type(st.st_mode) + ", to overwrite " + path);
    }
    if (std::remove(p.c_str()) != 0 && errno != ENOENT) {
      throw config_error("cannot remove " + p + " to overwrite it: " + std::strerror(errno));
    }
  }
}

// Throws config_error naming `path` (the file as the user gave it; `name` may be a URI).
sqlite3* open_connection(const std::string& name, int flags, const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db ? sqlite_message(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw config_error("cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  // A report may read while a campaign commits; wait for the lock rather than fail.
  sqlite3_busy_timeout(db, 10000);
  return db;
}

// The URI form of a file name, so that the query can ask for read-only or immutable access;
// every byte but the plain ones is percent-escaped ('?', '#' and '%' would otherwise end or
// change the path), and an absolute path gets the empty authority of "file://".
std::string file_uri(const std::string& path, const char* query) {
  std::string uri = path.front() == '/' ? "file://" : "file:";
  for (const unsigned char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
        c == '_' || c == '-' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      uri += hex;
    }
  }
  return uri + "?" + query;
}

// SQLite reads the schema (and, in WAL mode, sets up the -shm index) on the first query: the
// extended result code of that query, with any_tables telling whether the schema is not empty.
int first_read(sqlite3* db, bool* any_tables = nullptr) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master", -1, &raw, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW && any_tables) *any_tables = sqlite3_column_int64(raw, 0) > 0;
  rc = rc == SQLITE_ROW ? SQLITE_OK : sqlite3_extended_errcode(db);
  sqlite3_finalize(raw);
  return rc;
}

bool non_empty_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

// A reader of a WAL database needs the -shm index next to it, which SQLite creates even for
// reading; in a folder the reader may not write (an archived campaign, another user's results)
// that fails although nothing is to be written. With no -wal log every commit is in the file
// itself, so it is then read as immutable (no index, no locks); with a log, ignoring it would
// silently drop the last commits, so that is an error.
sqlite3* open_for_reading(const std::string& path) {
  sqlite3* db = open_connection(file_uri(path, "mode=ro"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path);
  const int rc = first_read(db);
  if (rc == SQLITE_OK || ((rc & 0xff) != SQLITE_READONLY && (rc & 0xff) != SQLITE_CANTOPEN)) {
    return db;  // any other failure is the caller's to name (mostly: not a database)
  }
  const std::string msg = sqlite_message(db);
  sqlite3_close_v2(db);
  for (const char* log : {"-wal", "-journal"}) {
    if (non_empty_file(path + log)) {
      throw config_error("cannot read " + path + ": its last commits are in " + path + log +
                         ", which SQLite cannot read without writing in that folder (" + msg + ")");
    }
  }
  db = open_connection(file_uri(path, "mode=ro&immutable=1"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path);
  return db;
}

// False for a file SQLite created but nothing was committed to yet; config_error for a file that
// is not an SQLite database at all.
bool has_tables(sqlite3* db, const std::string& path) {
  bool any = false;
  if (first_read(db, &any) != SQLITE_OK) {
    throw config_error(path + " is not an axsa campaign database (" + sqlite_message(db) + ")");
  }
  return any;
}

std::string format_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::int64_t to_sql(std::uint64_t v, const char* what) {
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw std::invalid_argument(std::string(what) + " " + std::to_string(v) + " does not fit an SQLite integer");
  }
  return static_cast<std::int64_t>(v);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// campaign_db: opening

campaign_db::campaign_db(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {}

campaign_db::campaign_db(campaign_db&& other) noexcept : m_db(other.m_db), m_path(std::move(other.m_path)) {
  other.m_db = nullptr;
}

campaign_db& campaign_db::operator=(campaign_db&& other) noexcept {
  if (this != &other) {
    close();
    m_db = other.m_db;
    m_path = std::move(other.m_path);
    other.m_db = nullptr;
  }
  return *this;
}

campaign_db::~campaign_db() { close(); }

void campaign_db::close() noexcept {
  if (m_db == nullptr) return;
  // The last connection to close folds the WAL into the database file and deletes it; when a
  // report still has the file open that does not happen, so a writer copies what it can into the
  // main file now (without waiting for readers), and the .db file alone holds the results.
  if (sqlite3_db_readonly(m_db, "main") == 0) {
    sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  sqlite3_close_v2(m_db);
  m_db = nullptr;
}

namespace {

// The stored config as (key, value), without the format marker; config_error unless the file
// is a campaign database of our format.
std::vector<std::pair<std::string, std::string>> read_config(sqlite3* db, const std::string& path) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT key, value FROM config ORDER BY rowid", -1, &raw, nullptr) != SQLITE_OK) {
    const std::string msg = sqlite_message(db);
    sqlite3_finalize(raw);
    throw config_error(path + " is not an axsa campaign database (" + msg + ")");
  }
  std::vector<std::pair<std::string, std::string>> kv;
  std::string format;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    auto col = [&](int i) {
      const auto* p = sqlite3_column_text(raw, i);
      return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    };
    if (col(0) == format_key) {
      format = col(1);
    } else {
      kv.emplace_back(col(0), col(1));
    }
  }
  const std::string msg = sqlite_message(db);
  sqlite3_finalize(raw);
  if (rc != SQLITE_DONE) throw config_error("cannot read the campaign config of " + path + ": " + msg);
  if (format.empty()) throw config_error(path + " is not an axsa campaign database (no format entry in its config table)");
  if (format != format_value) {
    throw config_error(path + " is a campaign database of format '" + format + "'; this axsa reads '" + format_value + "'");
  }
  return kv;
}

void set_pragmas(sqlite3* db, const std::string& path) {
  // WAL: a commit appends to the log and needs no fsync with synchronous=NORMAL, yet stays
  // atomic (a power cut can lose the last commits, never half of one).
  statement mode(db, path, "PRAGMA journal_mode=WAL");
  if (!mode.step("cannot switch to WAL") || mode.text(0) != "wal") {
    throw std::runtime_error(path + ": cannot switch the journal to WAL mode");
  }
  exec(db, path, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", "cannot set the pragmas");
}

}  // namespace

campaign_db campaign_db::open_writable(const std::string& path, bool create) {
  campaign_db db(open_connection(path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), path), path);
  // Where SQLite falls back to read-only on its own (a read-only file system) the first write
  // would fail as "attempt to write a readonly database".
  if (sqlite3_db_readonly(db.m_db, "main") == 1) throw config_error("cannot write " + path + ": SQLite opened it read-only");
  return db;
}

void campaign_db::initialise(const campaign_config& cfg) {
  transaction tx(m_db, m_path);
  exec(m_db, m_path, schema_sql, "cannot create the tables");
  exec(m_db, m_path, engine_table_sql, "cannot create the tables");
  statement put(m_db, m_path, "INSERT INTO config(key, value) VALUES (?, ?)");
  put.bind(1, std::string(format_key)).bind(2, std::string(format_value)).run("cannot store the config");
  for (const auto& [k, v] : cfg.to_key_values()) put.bind(1, k).bind(2, v).run("cannot store the config");
  tx.commit();
}

campaign_db campaign_db::create(const std::string& path, const campaign_config& cfg, bool overwrite) {
  bool empty = false;
  const bool exists = database_file(path, true, &empty);
  if (exists && !empty) {
    if (!overwrite) throw config_error(path + " already exists; refusing to overwrite it");
    // Only the format is checked: a campaign database with damaged contents may be replaced.
    try {
      campaign_db old(open_for_reading(path), path);
      (void)read_config(old.m_db, path);
    } catch (const config_error&) {
      throw config_error("refusing to overwrite " + path + ", which is not an axsa campaign database");
    }
  }
  require_writable(path, exists ? "overwrite" : "create", false);
  remove_database_files(path);
  campaign_db db = open_writable(path, true);
  set_pragmas(db.m_db, path);
  db.initialise(cfg);
  return db;
}

campaign_db campaign_db::resume(const std::string& path, const campaign_config& cfg) {
  return one_line_errors([&]() -> campaign_db {
    bool empty = false;
    if (!database_file(path, true, &empty) || empty) return create(path, cfg, false);
    require_writable(path, "resume", true);
    campaign_db db = open_writable(path, false);
    if (!has_tables(db.m_db, path)) {  // created, then killed before its first commit
      set_pragmas(db.m_db, path);
      db.initialise(cfg);
      return db;
    }
    const auto stored = read_config(db.m_db, path);
    const std::map<std::string, std::string> by_key(stored.begin(), stored.end());
    for (const auto& [key, value] : cfg.to_key_values()) {
      const auto it = by_key.find(key);
      const std::string old = it == by_key.end() ? "(missing)" : it->second;
      if (old != value) {
        throw config_error("cannot resume " + path + ": its campaign has " + key + " = '" + old + "', this run " + key +
                           " = '" + value + "'");
      }
    }
    const auto wanted = cfg.to_key_values();
    for (const auto& [key, value] : stored) {
      const std::string& k = key;  // C++17 lambdas cannot capture a structured binding (clang)
      const bool known = std::any_of(wanted.begin(), wanted.end(), [&](const auto& kv) { return kv.first == k; });
      if (!known) {
        throw config_error("cannot resume " + path + ": its campaign has " + key + " = '" + value + "', this run has no " +
                           key);
      }
    }
    set_pragmas(db.m_db, path);
    db.check_contents();
    exec(db.m_db, path, engine_table_sql, "cannot create the fault_engine table");
    return db;
  });
}

campaign_db campaign_db::open_read_only(const std::string& path) {
  return one_line_errors([&]() -> campaign_db {
    if (!database_file(path, false)) throw config_error("cannot open " + path + ": no such file");
    if (access(path.c_str(), R_OK) != 0) throw config_error("cannot open " + path + ": " + std::strerror(errno));
    campaign_db db(open_for_reading(path), path);
    (void)read_config(db.m_db, path);
    db.check_contents();
    return db;
  });
}

void campaign_db::check_contents() const {
  {
    std::set<std::string> tables;
    statement s(m_db, m_path, "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (s.step("cannot list the tables")) tables.insert(s.text(0));
    for (const char* t : {"golden", "faults", "results"}) {
      if (tables.count(t) == 0) throw config_error(m_path + " is a damaged axsa campaign database: it has no " + t + " table");
    }
  }
  const campaign_config cfg = config();
  const std::uint64_t stored = faults().size();  // checks every fault against cfg
  const std::uint64_t slice = cfg.shard.size(cfg.sample_size);
  if (stored > slice) {
    throw config_error(m_path + ": its fault list holds " + std::to_string(stored) + " faults, more than the " +
                       (cfg.shard.whole() ? "sample size " : "shard " + cfg.shard.str() + "'s slice of the sample, ") +
                       std::to_string(slice));
  }
  // A damaged file can hold a key of another type ('3' or 3.0 beside 3): SQLite matches it to fault 3 but
  // counts it apart, so the statistics would count one result twice (found by tests/fuzz/fuzz_campaign_db).
  statement typed(m_db, m_path,
                  "SELECT fault_id, image FROM results WHERE typeof(fault_id) <> 'integer' OR typeof(image) <> 'integer' "
                  "LIMIT 1");
  if (typed.step("cannot check the results")) {
    throw config_error(m_path + " is a damaged axsa campaign database: results of fault '" + typed.text(0) +
                       "' on image '" + typed.text(1) + "' are not keyed by integers");
  }
  statement bad(m_db, m_path,
                "SELECT fault_id, image, outcome, EXISTS (SELECT 1 FROM faults f WHERE f.id = r.fault_id) FROM results r "
                "WHERE typeof(outcome) <> 'integer' OR outcome NOT BETWEEN 0 AND 4 OR "
                "NOT EXISTS (SELECT 1 FROM faults f WHERE f.id = r.fault_id) LIMIT 1");
  if (bad.step("cannot check the results")) {
    const std::string where = m_path + ": results of fault " + bad.text(0) + " on image " + bad.text(1);
    if (bad.int64(3) == 0) throw config_error(where + ", which is not in the fault list");
    throw config_error(where + ": outcome '" + bad.text(2) + "' is not an outcome code (0..4)");
  }
  {
    // SQLite answers queries on a damaged file inconsistently (one count says 13 faults have results, the
    // list says 11): refuse it, after the checks above, which name what is wrong more precisely (found by
    // tests/fuzz/fuzz_campaign_db). The full check, as quick_check misses keys out of order; about 3 s of
    // CPU for a 250 MB, 10-million-result file.
    statement s(m_db, m_path, "PRAGMA integrity_check(1)");
    if (s.step("cannot check the file") && s.text(0) != "ok") {
      throw config_error(m_path + " is a damaged axsa campaign database: SQLite's check says: " +
                         one_line_sqlite(s.text(0).c_str()));
    }
  }
}

// The writers need only the shard; reading it alone keeps them storing what they are given, as
// before shards, even under a config the readers would refuse.
shard_spec campaign_db::stored_shard() const {
  statement s(m_db, m_path, "SELECT value FROM config WHERE key = 'shard'");
  if (!s.step("cannot read the campaign config")) return shard_spec{};
  try {
    return parse_shard(s.text(0));
  } catch (const config_error&) {
    throw config_error(m_path + ": campaign config: shard = '" + s.text(0) + "' is not I/N with 1 <= I <= N");
  }
}

campaign_config campaign_db::config() const {
  const auto kv = read_config(m_db, m_path);
  try {
    return campaign_config::from_key_values(kv);
  } catch (const config_error& e) {
    throw config_error(m_path + ": " + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// golden run

void campaign_db::store_golden(const std::vector<int>& labels, const std::vector<std::vector<double>>& probabilities) {
  if (labels.size() != probabilities.size()) {
    throw std::invalid_argument("store_golden: " + std::to_string(labels.size()) + " labels but " +
                                std::to_string(probabilities.size()) + " probability vectors");
  }
  const std::int64_t first = to_sql(config().first_image, "first image");
  transaction tx(m_db, m_path);
  exec(m_db, m_path, "DELETE FROM golden", "cannot replace the golden run");
  statement put(m_db, m_path, "INSERT INTO golden(image, label, probabilities) VALUES (?, ?, ?)");
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::string text;
    for (double v : probabilities[i]) text += (text.empty() ? "" : ",") + format_double(v);
    put.bind(1, first + static_cast<std::int64_t>(i)).bind(2, std::int64_t{labels[i]}).bind(3, text);
    put.run("cannot store the golden run");
  }
  tx.commit();
}

bool campaign_db::has_golden() const {
  statement s(m_db, m_path, "SELECT EXISTS (SELECT 1 FROM golden)");
  s.step("cannot read the golden run");
  return s.int64(0) != 0;
}

std::vector<int> campaign_db::golden_labels() const {
  statement s(m_db, m_path, "SELECT label FROM golden ORDER BY image");
  std::vector<int> out;
  while (s.step("cannot read the golden run")) out.push_back(static_cast<int>(s.int64(0)));
  return out;
}

std::vector<std::vector<double>> campaign_db::golden_probabilities() const {
  statement s(m_db, m_path, "SELECT probabilities FROM golden ORDER BY image");
  std::vector<std::vector<double>> out;
  while (s.step("cannot read the golden run")) {
    const std::string text = s.text(0);
    std::vector<double> row;
    const char* p = text.c_str();
    while (*p != '\0') {
      char* end = nullptr;
      row.push_back(std::strtod(p, &end));
      if (end == p) throw std::runtime_error(m_path + ": malformed golden probabilities '" + text + "'");
      p = *end == ',' ? end + 1 : end;
    }
    out.push_back(std::move(row));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// faults

void campaign_db::store_faults(const std::vector<fault>& list) {
  if (fault_count() != 0) {
    if (faults() == list) return;
    throw config_error(m_path + " already holds a different fault list (" + std::to_string(fault_count()) + " faults)");
  }
  const shard_spec shard = stored_shard();
  transaction tx(m_db, m_path);
  statement put(m_db, m_path,
                "INSERT INTO faults(id, site, kind, row, col, bit, first_cycle, last_cycle) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const fault& f = list[i];
    put.bind(1, to_sql(shard.id_at(i), "fault id")).bind(2, std::string(to_string(f.site)));
    put.bind(3, std::string(to_string(f.kind))).bind(4, std::int64_t{f.row}).bind(5, std::int64_t{f.col});
    put.bind(6, std::int64_t{f.bit}).bind(7, to_sql(f.first_cycle, "fault window start"));
    if (f.last_cycle == no_end) {
      put.bind_null(8);
    } else {
      put.bind(8, to_sql(f.last_cycle, "fault window end"));
    }
    put.run("cannot store the fault list");
  }
  tx.commit();
}

std::vector<fault> campaign_db::faults() const {
  // A stored fault the campaign could not have drawn (a bit beyond the weight, a PE outside the
  // array, an empty window) would run as a silently Masked or Crash fault: refused instead.
  const campaign_config cfg = config();
  hw::array_config array;
  array.rows = cfg.rows;
  array.cols = cfg.cols;
  array.data_bits = cfg.bits;
  array.acc_bits = cfg.acc_bits;
  const std::vector<fault_site> sites = parse_sites(cfg.site);
  const fault_set types = parse_fault_set(cfg.fault_types);
  statement s(m_db, m_path, "SELECT id, site, kind, row, col, bit, first_cycle, last_cycle FROM faults ORDER BY id");
  std::vector<fault> out;
  while (s.step("cannot read the fault list")) {
    const std::string where = m_path + ": fault " + s.text(0);
    auto integer = [&](int col, const char* name, std::uint64_t max) -> std::uint64_t {
      if (!s.is_integer(col) || s.int64(col) < 0 || static_cast<std::uint64_t>(s.int64(col)) > max) {
        throw config_error(where + ": " + name + " '" + s.text(col) + "' is not an integer in 0.." + std::to_string(max));
      }
      return static_cast<std::uint64_t>(s.int64(col));
    };
    const std::uint64_t expected = cfg.shard.id_at(out.size());
    if (s.int64(0) != static_cast<std::int64_t>(expected)) {
      throw config_error(m_path + ": the fault ids are not " +
                         (cfg.shard.whole() ? "0.." + std::to_string(fault_count() - 1)
                                            : "those of shard " + cfg.shard.str()) +
                         " (fault " + std::to_string(expected) + " is missing)");
    }
    fault f;
    try {
      f.site = parse_site(s.text(1));
      f.kind = parse_kind(s.text(2));
    } catch (const config_error& e) {
      throw config_error(where + ": " + e.what());
    }
    constexpr std::uint64_t max_index = std::numeric_limits<unsigned>::max();
    constexpr auto max_cycle = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    f.row = static_cast<unsigned>(integer(3, "row", max_index));
    f.col = static_cast<unsigned>(integer(4, "col", max_index));
    f.bit = static_cast<unsigned>(integer(5, "bit", max_index));
    f.first_cycle = integer(6, "first_cycle", max_cycle);
    f.last_cycle = s.is_null(7) ? no_end : integer(7, "last_cycle", max_cycle);
    try {
      f.validate(array);
    } catch (const config_error& e) {
      throw config_error(where + ": " + e.what());
    }
    if (std::find(sites.begin(), sites.end(), f.site) == sites.end()) {
      throw config_error(where + " is on the " + to_string(f.site) + " of a campaign on the " + cfg.site);
    }
    if (f.kind == fault_kind::bit_flip ? types == fault_set::stuck_at : types == fault_set::bit_flip) {
      throw config_error(where + " is a " + to_string(f.kind) + " fault in a campaign of " + cfg.fault_types + " faults");
    }
    out.push_back(f);
  }
  return out;
}

std::uint64_t campaign_db::fault_count() const {
  statement s(m_db, m_path, "SELECT COUNT(*) FROM faults");
  s.step("cannot count the faults");
  return static_cast<std::uint64_t>(s.int64(0));
}

std::vector<std::uint64_t> campaign_db::pending_faults() const {
  statement s(m_db, m_path,
              "SELECT id FROM faults f WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.fault_id = f.id) ORDER BY id");
  std::vector<std::uint64_t> out;
  while (s.step("cannot list the pending faults")) out.push_back(static_cast<std::uint64_t>(s.int64(0)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// results

void campaign_db::store_results(std::uint64_t fault_id, const std::vector<pair_result>& results) {
  store_results_batch({{fault_id, results}});
}

void campaign_db::store_results_batch(const std::vector<std::pair<std::uint64_t, std::vector<pair_result>>>& batch) {
  store_results_batch(batch, {});
}

void campaign_db::store_results_batch(const std::vector<std::pair<std::uint64_t, std::vector<pair_result>>>& batch,
                                      const std::vector<std::string>& engines) {
  if (!engines.empty() && engines.size() != batch.size()) {
    throw std::invalid_argument(m_path + ": " + std::to_string(engines.size()) + " engines for " +
                                std::to_string(batch.size()) + " faults");
  }
  // Check everything before writing, so a bad entry never costs a rollback of good ones.
  const std::uint64_t known = fault_count();
  const shard_spec shard = stored_shard();
  for (const auto& [id, results] : batch) {
    if (!shard.contains(id) || shard.position(id) >= known) {
      throw std::invalid_argument(m_path + ": results for fault " + std::to_string(id) + ", but the list holds " +
                                  std::to_string(known) + " faults" +
                                  (shard.whole() ? std::string() : " of shard " + shard.str()));
    }
    if (results.empty()) throw std::invalid_argument(m_path + ": no results given for fault " + std::to_string(id));
  }
  transaction tx(m_db, m_path);
  statement put(m_db, m_path,
                "INSERT INTO results(fault_id, image, outcome, golden_label, faulty_label, ratio) VALUES (?, ?, ?, ?, ?, ?)");
  for (const auto& [id, results] : batch) {
    for (const auto& r : results) {
      put.bind(1, static_cast<std::int64_t>(id)).bind(2, std::int64_t{r.image});
      put.bind(3, std::int64_t{static_cast<int>(r.result)}).bind(4, std::int64_t{r.golden_label});
      put.bind(5, std::int64_t{r.faulty_label}).bind(6, r.ratio);
      put.run("cannot store the results of a fault");
    }
  }
  if (!engines.empty()) {
    statement eng(m_db, m_path, "INSERT INTO fault_engine(fault_id, engine) VALUES (?, ?)");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (engines[i].empty()) continue;  // unrecorded (a merged shard from before the record)
      eng.bind(1, static_cast<std::int64_t>(batch[i].first)).bind(2, engines[i]);
      eng.run("cannot store the engine of a fault");
    }
  }
  tx.commit();
}

bool campaign_db::has_engine_table() const {
  statement s(m_db, m_path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'fault_engine'");
  s.step("cannot list the tables");
  return s.int64(0) > 0;
}

std::string campaign_db::engine_of(std::uint64_t fault_id) const {
  if (!has_engine_table()) return "";
  statement s(m_db, m_path, "SELECT engine FROM fault_engine WHERE fault_id = ?");
  s.bind(1, to_sql(fault_id, "fault id"));
  return s.step("cannot read the engine of a fault") ? s.text(0) : std::string();
}

std::map<std::string, std::uint64_t> campaign_db::engine_counts() const {
  std::map<std::string, std::uint64_t> out;
  const std::uint64_t done = completed_faults();
  std::uint64_t recorded = 0;
  if (has_engine_table()) {
    statement s(m_db, m_path,
                "SELECT e.engine, COUNT(*) FROM fault_engine e WHERE EXISTS (SELECT 1 FROM results r WHERE r.fault_id = "
                "e.fault_id) GROUP BY e.engine");
    while (s.step("cannot count the engines")) {
      out[s.text(0)] = static_cast<std::uint64_t>(s.int64(1));
      recorded += static_cast<std::uint64_t>(s.int64(1));
    }
  }
  if (done > recorded) out["unrecorded"] = done - recorded;
  return out;
}

std::vector<pair_result> campaign_db::results(std::uint64_t fault_id) const {
  statement s(m_db, m_path,
              "SELECT image, outcome, golden_label, faulty_label, ratio FROM results WHERE fault_id = ? ORDER BY image");
  s.bind(1, to_sql(fault_id, "fault id"));
  std::vector<pair_result> out;
  while (s.step("cannot read results")) {
    pair_result r;
    r.image = static_cast<std::uint32_t>(s.int64(0));
    if (s.int64(1) < 0 || s.int64(1) >= static_cast<std::int64_t>(outcome_count)) {
      throw config_error(m_path + ": results of fault " + std::to_string(fault_id) + " on image " + s.text(0) +
                         ": outcome '" + s.text(1) + "' is not an outcome code (0..4)");
    }
    r.result = static_cast<outcome>(s.int64(1));
    r.golden_label = static_cast<int>(s.int64(2));
    r.faulty_label = static_cast<int>(s.int64(3));
    r.ratio = s.real(4);
    out.push_back(r);
  }
  return out;
}

void campaign_db::for_each_fault_results(
    const std::function<void(std::uint64_t, std::vector<pair_result>&&)>& visit) const {
  // One statement is one read transaction: a snapshot, even while a campaign commits.
  statement s(m_db, m_path,
              "SELECT fault_id, image, outcome, golden_label, faulty_label, ratio FROM results ORDER BY fault_id, image");
  std::vector<pair_result> current;
  std::uint64_t current_id = 0;
  while (s.step("cannot read results")) {
    const auto id = static_cast<std::uint64_t>(s.int64(0));
    if (!current.empty() && id != current_id) visit(current_id, std::move(current));
    if (current.empty() || id != current_id) current.clear();
    current_id = id;
    pair_result r;
    r.image = static_cast<std::uint32_t>(s.int64(1));
    if (s.int64(2) < 0 || s.int64(2) >= static_cast<std::int64_t>(outcome_count)) {
      throw config_error(m_path + ": results of fault " + s.text(0) + " on image " + s.text(1) + ": outcome '" +
                         s.text(2) + "' is not an outcome code (0..4)");
    }
    r.result = static_cast<outcome>(s.int64(2));
    r.golden_label = static_cast<int>(s.int64(3));
    r.faulty_label = static_cast<int>(s.int64(4));
    r.ratio = s.real(5);
    current.push_back(r);
  }
  if (!current.empty()) visit(current_id, std::move(current));
}

std::uint64_t campaign_db::completed_faults() const {
  statement s(m_db, m_path, "SELECT COUNT(DISTINCT fault_id) FROM results");
  s.step("cannot count the completed faults");
  return static_cast<std::uint64_t>(s.int64(0));
}

// ---------------------------------------------------------------------------------------------
// summary

campaign_db::summary campaign_db::summarize() const {
  const campaign_config cfg = config();
  const std::vector<fault> list = faults();

  // Outcome counts per fault, from one grouped scan of the results.
  std::vector<std::array<std::uint64_t, outcome_count>> per_fault(list.size());
  {
    statement s(m_db, m_path, "SELECT fault_id, outcome, COUNT(*) FROM results GROUP BY fault_id, outcome");
    while (s.step("cannot read the results")) {
      const auto id = static_cast<std::uint64_t>(s.int64(0));
      const auto o = static_cast<std::size_t>(s.int64(1));
      const std::uint64_t position = cfg.shard.position(id);
      if (!cfg.shard.contains(id) || position >= list.size() || o >= outcome_count) {
        throw config_error(m_path + ": results of fault " + s.text(0) + " with outcome '" + s.text(1) +
                           "': not a stored fault or not an outcome code (0..4)");
      }
      per_fault[position][o] += static_cast<std::uint64_t>(s.int64(2));
    }
  }

  return summarize_counts(cfg, list, per_fault);
}

}  // namespace axsa::faults
