#include "faults/sweep_store.h"

#include "faults/sqlite_file.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace axsa::sweep {

namespace {

constexpr const char* format_value = "axsa-sweep-1";

// One column: its SQL type and how it reads and writes a config_result.
enum class kind { integer, real, optional_real, text };
struct column {
  const char* name;
  kind type;
  std::function<double(const config_result&)> get_number;
  std::function<std::string(const config_result&)> get_text;
  std::function<bool(const config_result&)> present;  // optional_real only
  std::function<void(config_result&, double)> set_number;
  std::function<void(config_result&, const std::string&)> set_text;
  std::function<void(config_result&)> set_absent;
};

template <class T>
column integer_column(const char* name, T config_result::*m) {
  return {name, kind::integer, [m](const config_result& r) { return static_cast<double>(r.*m); }, {}, {},
          [m](config_result& r, double v) { r.*m = static_cast<T>(v); }, {}, {}};
}
template <class T>
column point_column(const char* name, T config_point::*m) {
  return {name, kind::integer, [m](const config_result& r) { return static_cast<double>(r.point.*m); }, {}, {},
          [m](config_result& r, double v) { r.point.*m = static_cast<T>(v); }, {}, {}};
}
column real_column(const char* name, double config_result::*m) {
  return {name, kind::real, [m](const config_result& r) { return r.*m; }, {}, {},
          [m](config_result& r, double v) { r.*m = v; }, {}, {}};
}
column optional_column(const char* name, std::optional<double> config_result::*m) {
  return {name, kind::optional_real, [m](const config_result& r) { return (r.*m).value_or(0); }, {},
          [m](const config_result& r) { return (r.*m).has_value(); }, [m](config_result& r, double v) { r.*m = v; }, {},
          [m](config_result& r) { r.*m = std::nullopt; }};
}
column text_column(const char* name, std::string config_result::*m) {
  return {name, kind::text, {}, [m](const config_result& r) { return r.*m; }, {}, {},
          [m](config_result& r, const std::string& v) { r.*m = v; }, {}};
}
column point_text_column(const char* name, std::string config_point::*m) {
  return {name, kind::text, {}, [m](const config_result& r) { return r.point.*m; }, {}, {},
          [m](config_result& r, const std::string& v) { r.point.*m = v; }, {}};
}

const std::vector<column>& table() {
  static const std::vector<column> t = {
      point_column("rows", &config_point::rows),
      point_column("cols", &config_point::cols),
      point_column("bits", &config_point::bits),
      point_text_column("mult", &config_point::mult),
      point_text_column("dataflow", &config_point::dataflow),
      text_column("status", &config_result::status),
      text_column("note", &config_result::note),
      integer_column("acc_bits", &config_result::acc_bits),
      integer_column("images", &config_result::images),
      integer_column("correct", &config_result::correct),
      real_column("accuracy", &config_result::accuracy),
      real_column("cycles_per_image", &config_result::cycles_per_image),
      real_column("utilization", &config_result::utilization),
      real_column("macs_per_image", &config_result::macs_per_image),
      real_column("energy_pj", &config_result::energy_pj),
      real_column("energy_multipliers_pj", &config_result::energy_mult_pj),
      real_column("energy_adders_pj", &config_result::energy_adder_pj),
      real_column("energy_registers_pj", &config_result::energy_register_pj),
      real_column("energy_buffers_pj", &config_result::energy_buffer_pj),
      real_column("energy_offchip_pj", &config_result::energy_offchip_pj),
      real_column("mult_pj_per_product", &config_result::mult_pj_per_product),
      text_column("mult_energy_basis", &config_result::mult_energy_basis),
      optional_column("mult_area_nand2", &config_result::mult_area),
      optional_column("pe_area_nand2", &config_result::pe_area),
      optional_column("array_area_nand2", &config_result::array_area),
      text_column("area_basis", &config_result::area_basis),
      optional_column("critical_share", &config_result::critical_share),
      integer_column("campaign_faults", &config_result::campaign_faults),
      integer_column("campaign_pairs", &config_result::campaign_pairs),
      real_column("seconds", &config_result::seconds),
  };
  return t;
}

std::string number_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void check_definition(const std::string& path, const std::map<std::string, std::string>& stored,
                      const std::map<std::string, std::string>& wanted, const char* what) {
  const auto f = stored.find("format");
  if (f == stored.end() || f->second != format_value) {
    throw config_error(path + " is not an axsa sweep " + what + " (no '" + format_value + "' format entry)");
  }
  for (const auto& [k, v] : wanted) {
    const auto it = stored.find(k);
    if (it == stored.end() || it->second != v) {
      throw config_error(path + ": holds a sweep with " + k + " = '" + (it == stored.end() ? "(none)" : it->second) +
                         "', this run has '" + v + "'; rerun the same grid to resume, or choose another output file");
    }
  }
}

// SQLite: the definition in `grid`, results in `configs`, one INSERT (one transaction) per row.
class sqlite_store final : public store {
 public:
  sqlite_store(const std::string& path, const std::map<std::string, std::string>& definition) : store(path) {
    const bool exists = faults::regular_file_exists(path);
    m_db = faults::open_sqlite_file(path);
    try {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");
      bool has_grid = false;
      if (exists) has_grid = table_exists("grid");
      if (!has_grid) {
        if (exists && table_count() > 0) {  // an empty file has no tables
          throw config_error(path + " is not an axsa sweep database (no 'grid' table)");
        }
        exec("BEGIN");
        exec("CREATE TABLE grid (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        std::string sql = "CREATE TABLE configs (";
        for (const auto& c : table()) {
          sql += std::string(c.name) + (c.type == kind::text ? " TEXT NOT NULL" : c.type == kind::integer ? " INTEGER NOT NULL"
                                                               : c.type == kind::real       ? " REAL NOT NULL"
                                                                                            : " REAL") + ", ";
        }
        sql += "PRIMARY KEY (rows, cols, bits, mult, dataflow))";
        exec(sql);
        std::map<std::string, std::string> all = definition;
        all["format"] = format_value;
        for (const auto& [k, v] : all) {
          sqlite3_stmt* s = nullptr;
          sqlite3_prepare_v2(m_db, "INSERT INTO grid (key, value) VALUES (?, ?)", -1, &s, nullptr);
          sqlite3_bind_text(s, 1, k.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_text(s, 2, v.c_str(), -1, SQLITE_TRANSIENT);
          const int rc = sqlite3_step(s);
          sqlite3_finalize(s);
          if (rc != SQLITE_DONE) throw config_error(path + ": " + faults::sqlite_message(m_db));
        }
        exec("COMMIT");
        return;
      }
      check_definition(path, stored_definition(), definition, "database");
      for (const auto& r : rows()) mark_done(r.point);
    } catch (...) {
      sqlite3_close(m_db);
      m_db = nullptr;
      throw;
    }
  }
  ~sqlite_store() override { sqlite3_close(m_db); }

  std::vector<config_result> rows() const override {
    std::vector<config_result> out;
    sqlite3_stmt* s = nullptr;
    std::string cols;
    for (const auto& c : table()) cols += (cols.empty() ? "" : ", ") + std::string(c.name);
    const std::string sql = "SELECT " + cols + " FROM configs ORDER BY rows, cols, bits, mult, dataflow";
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      const std::string what = faults::sqlite_message(m_db);
      sqlite3_finalize(s);
      throw config_error(m_path + " is not an axsa sweep database (" + what + ")");
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      config_result r;
      int i = 0;
      for (const auto& c : table()) {
        switch (c.type) {
          case kind::text: {
            const auto* t = sqlite3_column_text(s, i);
            c.set_text(r, t ? reinterpret_cast<const char*>(t) : "");
            break;
          }
          case kind::optional_real:
            if (sqlite3_column_type(s, i) == SQLITE_NULL) c.set_absent(r);
            else c.set_number(r, sqlite3_column_double(s, i));
            break;
          case kind::integer:
            c.set_number(r, static_cast<double>(sqlite3_column_int64(s, i)));
            break;
          case kind::real:
            c.set_number(r, sqlite3_column_double(s, i));
            break;
        }
        ++i;
      }
      out.push_back(std::move(r));
    }
    sqlite3_finalize(s);
    return out;
  }

 private:
  void write(const config_result& r) override {
    std::string marks;
    for (std::size_t i = 0; i < table().size(); ++i) marks += i ? ", ?" : "?";
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, ("INSERT INTO configs VALUES (" + marks + ")").c_str(), -1, &s, nullptr) != SQLITE_OK) {
      const std::string what = faults::sqlite_message(m_db);
      sqlite3_finalize(s);
      throw std::runtime_error(m_path + ": " + what);
    }
    int i = 0;
    for (const auto& c : table()) {
      ++i;
      switch (c.type) {
        case kind::text: sqlite3_bind_text(s, i, c.get_text(r).c_str(), -1, SQLITE_TRANSIENT); break;
        case kind::integer: sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(c.get_number(r))); break;
        case kind::real: sqlite3_bind_double(s, i, c.get_number(r)); break;
        case kind::optional_real:
          if (c.present(r)) sqlite3_bind_double(s, i, c.get_number(r));
          else sqlite3_bind_null(s, i);
          break;
      }
    }
    // One statement is one transaction: a configuration is stored whole or not at all.
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) throw std::runtime_error(m_path + ": " + faults::sqlite_message(m_db));
  }

  void exec(const std::string& sql) const {
    char* err = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string what = err ? err : "unknown error";
      sqlite3_free(err);
      throw config_error(m_path + ": " + what);
    }
  }
  bool table_exists(const char* name) const {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &s, nullptr) !=
        SQLITE_OK) {
      const std::string what = faults::sqlite_message(m_db);
      sqlite3_finalize(s);
      throw config_error(m_path + " is not an axsa sweep database (" + what + ")");
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    const bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
  }
  int table_count() const {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(m_db, "SELECT count(*) FROM sqlite_master", -1, &s, nullptr);
    const int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    return n;
  }
  std::map<std::string, std::string> stored_definition() const {
    std::map<std::string, std::string> out;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, "SELECT key, value FROM grid", -1, &s, nullptr) != SQLITE_OK) {
      const std::string what = faults::sqlite_message(m_db);
      sqlite3_finalize(s);
      throw config_error(m_path + " is not an axsa sweep database (" + what + ")");
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    }
    sqlite3_finalize(s);
    return out;
  }

  sqlite3* m_db = nullptr;
};

// CSV fields: quoted when they hold a comma, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Splits one CSV record (no line breaks inside fields: the writer never emits them unquoted, and
// the notes it writes have none).
bool split_csv(const std::string& line, std::vector<std::string>& out) {
  out.clear();
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return !quoted;
}

// CSV: "# key=value" lines for the definition, the header, then rows. Every row is written with
// one write() and fsync'ed, so after a kill the file ends either on a whole row or on part of the
// last one, which opening cuts off.
class csv_store final : public store {
 public:
  csv_store(const std::string& path, const std::map<std::string, std::string>& definition) : store(path) {
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) throw config_error(path + ": not a regular file");
    std::string header;
    for (const auto& c : table()) header += (header.empty() ? "" : ",") + std::string(c.name);
    if (!exists || st.st_size == 0) {
      std::string text = std::string("# format=") + format_value + "\n";
      for (const auto& [k, v] : definition) {
        if (k.find_first_of("=\n") != std::string::npos || v.find('\n') != std::string::npos) {
          throw config_error(path + ": cannot store the grid entry '" + k + "' in CSV");
        }
        text += "# " + k + "=" + v + "\n";
      }
      text += header + "\n";
      open_for_append();
      append(text);
      return;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error("cannot open " + path + ": " + std::strerror(errno));
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    std::map<std::string, std::string> stored;
    std::size_t pos = 0, line_no = 0, complete = 0;
    bool have_header = false;
    std::vector<std::string> fields;
    while (pos < text.size()) {
      const std::size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) break;  // a row cut short by a kill: dropped below
      const std::string line = text.substr(pos, nl - pos);
      ++line_no;
      if (!have_header && line.rfind("# ", 0) == 0) {
        const auto eq = line.find('=');
        if (eq == std::string::npos) throw config_error(path + ": line " + std::to_string(line_no) + ": expected '# key=value'");
        stored[line.substr(2, eq - 2)] = line.substr(eq + 1);
      } else if (!have_header) {
        check_definition(path, stored, definition, "CSV file");
        if (line != header) throw config_error(path + ": line " + std::to_string(line_no) + ": not the sweep's column header");
        have_header = true;
      } else {
        if (!split_csv(line, fields) || fields.size() != table().size()) {
          throw config_error(path + ": line " + std::to_string(line_no) + ": expected " + std::to_string(table().size()) +
                             " fields");
        }
        m_rows.push_back(parse_row(fields, line_no));
        mark_done(m_rows.back().point);
      }
      pos = nl + 1;
      complete = pos;
    }
    if (!have_header) {
      check_definition(path, stored, definition, "CSV file");
      throw config_error(path + ": no column header");
    }
    if (complete < text.size() && ::truncate(path.c_str(), static_cast<off_t>(complete)) != 0) {
      throw config_error("cannot cut the partial last row of " + path + ": " + std::strerror(errno));
    }
    open_for_append();
  }
  ~csv_store() override {
    if (m_fd >= 0) ::close(m_fd);
  }

  std::vector<config_result> rows() const override {
    std::vector<config_result> out = m_rows;
    std::sort(out.begin(), out.end(), [](const config_result& a, const config_result& b) { return a.point < b.point; });
    return out;
  }

 private:
  void open_for_append() {
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (m_fd < 0) throw config_error("cannot open " + m_path + " for writing: " + std::strerror(errno));
  }
  void append(const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(m_fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("cannot write " + m_path + ": " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(m_fd) != 0) throw std::runtime_error("cannot flush " + m_path + ": " + std::strerror(errno));
  }
  void write(const config_result& r) override {
    std::string line;
    for (const auto& c : table()) {
      if (!line.empty()) line += ',';
      switch (c.type) {
        case kind::text: line += csv_field(c.get_text(r)); break;
        case kind::integer: line += std::to_string(static_cast<long long>(c.get_number(r))); break;
        case kind::real: line += number_text(c.get_number(r)); break;
        case kind::optional_real: line += c.present(r) ? number_text(c.get_number(r)) : ""; break;
      }
    }
    append(line + "\n");
    m_rows.push_back(r);
  }
  config_result parse_row(const std::vector<std::string>& f, std::size_t line_no) const {
    config_result r;
    for (std::size_t i = 0; i < table().size(); ++i) {
      const column& c = table()[i];
      if (c.type == kind::text) {
        c.set_text(r, f[i]);
        continue;
      }
      if (c.type == kind::optional_real && f[i].empty()) {
        c.set_absent(r);
        continue;
      }
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(f[i].c_str(), &end);
      if (f[i].empty() || errno != 0 || end != f[i].c_str() + f[i].size()) {
        throw config_error(m_path + ": line " + std::to_string(line_no) + ": field '" + c.name + "': '" + f[i] +
                           "' is not a number");
      }
      c.set_number(r, v);
    }
    return r;
  }

  int m_fd = -1;
  std::vector<config_result> m_rows;
};

}  // namespace

const std::vector<std::string>& columns() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& c : table()) v.push_back(c.name);
    return v;
  }();
  return names;
}

bool store::has(const config_point& p) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_done.count(p) != 0;
}

void store::put(const config_result& r) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (m_done.count(r.point) != 0) throw std::logic_error(m_path + ": " + r.point.label() + " stored twice");
  write(r);
  m_done.insert(r.point);
}

std::unique_ptr<store> open_sqlite_store(const std::string& path, const std::map<std::string, std::string>& definition) {
  return std::make_unique<sqlite_store>(path, definition);
}

std::unique_ptr<store> open_csv_store(const std::string& path, const std::map<std::string, std::string>& definition) {
  return std::make_unique<csv_store>(path, definition);
}

}  // namespace axsa::sweep
