#include "sw/scalesim.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <optional>
#include <sstream>

namespace axsa::sw::scalesim {

const std::vector<std::string> topology_columns = {"Layer name",   "IFMAP Height", "IFMAP Width", "Filter Height",
                                                   "Filter Width", "Channels",     "Num Filter",  "Strides"};

const char* const compute_report_header =
    "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,";
const char* const axsa_report_header =
    "LayerID, Layer Name, M, K, N, Dataflow, Rows, Cols, Folds, AXSA Cycles, SCALE-Sim Formula Cycles, Offset, "
    "Documented Offset, Result,";

namespace {

// Sizes above this are no layer of a CNN; the bound keeps every product below 2^64.
constexpr std::uint64_t max_size = std::uint64_t{1} << 24;

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n\f\v");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(first, last - first + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Lower case with runs of blanks as one space: how header names are compared.
std::string normalised(const std::string& s) {
  std::string out;
  for (char c : trim(s)) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(trim(field));
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  // SCALE-Sim's files end every line with a comma: the empty field after it is no column.
  if (!fields.empty() && fields.back().empty()) fields.pop_back();
  return fields;
}

// A decimal integer with an optional sign, or nothing.
std::optional<long long> parse_integer(const std::string& text) {
  long long v = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  const auto r = std::from_chars(begin, end, v);
  if (begin == end || r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return v;
}

std::string stem_of(const std::string& path) { return std::filesystem::path(path).stem().string(); }

std::ifstream open_input(const std::string& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw config_error(std::string("cannot read ") + what + " '" + path + "': " +
                       (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(std::string("cannot read ") + what + " '" + path + "'");
  return in;
}

// ---- Topology

class topology_reader {
 public:
  explicit topology_reader(std::string file) : m_file(std::move(file)) {}

  [[noreturn]] void fail(std::size_t line, const std::string& layer, const std::string& what) const {
    throw config_error(m_file + ": line " + std::to_string(line) + (layer.empty() ? "" : ", layer '" + layer + "'") +
                       ": " + what);
  }

  // The header: read by position like every row, so its names only have to agree with the
  // position they stand at when they are names SCALE-Sim uses (a reordered file would otherwise
  // be read wrongly without a word).
  void header(std::size_t line, const std::vector<std::string>& fields) {
    if (fields.size() >= 2 && parse_integer(fields[1])) {
      fail(line, "", "the first line must be the header (" + joined_columns() +
                         "); it holds a layer, which SCALE-Sim would skip as the header");
    }
    if (fields.size() < topology_columns.size()) {
      fail(line, "", "header: missing column '" + topology_columns[fields.size()] + "' (column " +
                         std::to_string(fields.size() + 1) + "; expected " + joined_columns() + ")");
    }
    if (fields.size() > topology_columns.size() + 1) {
      fail(line, "", "header: " + std::to_string(fields.size()) + " columns; expected 8 (" + joined_columns() +
                         ") or 9 (Stride Height, Stride Width)");
    }
    static const std::map<std::string, std::size_t> known = {
        {"layer name", 0},  {"ifmap height", 1}, {"ifmap width", 2}, {"filter height", 3},  {"filter width", 4},
        {"channels", 5},    {"num filter", 6},   {"strides", 7},     {"stride height", 7}, {"stride width", 8}};
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto it = known.find(normalised(fields[i]));
      if (it != known.end() && it->second != i) {
        fail(line, "", "header: column '" + fields[i] + "' stands at position " + std::to_string(i + 1) +
                           "; SCALE-Sim reads columns by position and expects it at " + std::to_string(it->second + 1));
      }
    }
  }

  layer row(std::size_t line, const std::vector<std::string>& fields) {
    layer l;
    l.line = line;
    l.name = fields.empty() ? std::string() : fields[0];
    if (l.name.empty()) fail(line, "", "field 'Layer name' is empty");
    if (fields.size() < topology_columns.size()) {
      fail(line, l.name, "missing field '" + topology_columns[fields.size()] + "' (column " +
                             std::to_string(fields.size() + 1) + " of " + std::to_string(topology_columns.size()) + ")");
    }
    if (fields.size() > topology_columns.size() + 1) {
      fail(line, l.name, std::to_string(fields.size()) + " fields; a layer has 8 (" + joined_columns() +
                             ") or 9 (Stride Height, Stride Width)");
    }
    const bool two_strides = fields.size() == topology_columns.size() + 1;
    auto value = [&](std::size_t col) {
      const std::string name = col < 7 ? topology_columns[col] : two_strides ? (col == 7 ? "Stride Height" : "Stride Width")
                                                                             : "Strides";
      const std::string& text = fields[col];
      if (text.empty()) fail(line, l.name, "field '" + name + "' is empty");
      const auto v = parse_integer(text);
      if (!v) fail(line, l.name, "field '" + name + "' is not an integer (got '" + text + "')");
      if (*v <= 0) fail(line, l.name, "field '" + name + "' must be a positive integer (got " + text + ")");
      if (static_cast<unsigned long long>(*v) > max_size) {
        fail(line, l.name, "field '" + name + "' is too large (got " + text + ", at most " + std::to_string(max_size) + ")");
      }
      return static_cast<std::uint64_t>(*v);
    };
    l.ifmap_h = value(1);
    l.ifmap_w = value(2);
    l.filter_h = value(3);
    l.filter_w = value(4);
    l.channels = value(5);
    l.filters = value(6);
    l.stride_h = value(7);
    l.stride_w = two_strides ? value(8) : l.stride_h;
    if (l.filter_h > l.ifmap_h) {
      fail(line, l.name, "field 'Filter Height' (" + std::to_string(l.filter_h) + ") is larger than 'IFMAP Height' (" +
                             std::to_string(l.ifmap_h) + "); SCALE-Sim has no padding: write the padded size");
    }
    if (l.filter_w > l.ifmap_w) {
      fail(line, l.name, "field 'Filter Width' (" + std::to_string(l.filter_w) + ") is larger than 'IFMAP Width' (" +
                             std::to_string(l.ifmap_w) + "); SCALE-Sim has no padding: write the padded size");
    }
    try {
      l.gemm().validate();
    } catch (const config_error& e) {
      fail(line, l.name, std::string("its GEMM is out of range: ") + e.what());
    }
    return l;
  }

 private:
  static std::string joined_columns() {
    std::string s;
    for (const auto& c : topology_columns) s += (s.empty() ? "" : ", ") + c;
    return s;
  }

  std::string m_file;
};

// ---- Config

struct ini_value {
  std::string text;
  std::size_t line = 0;
};
struct ini_section {
  std::size_t line = 0;
  std::map<std::string, ini_value> values;  // keys in lower case (configparser ignores their case)
};

}  // namespace

topology parse_topology(std::istream& in, const std::string& file) {
  topology_reader reader(file);
  topology topo;
  topo.file = file;
  std::string text;
  std::size_t line = 0;
  bool seen_header = false;
  while (std::getline(in, text)) {
    ++line;
    if (trim(text).empty()) continue;
    const std::vector<std::string> fields = split_fields(trim(text));
    if (!seen_header) {
      reader.header(line, fields);
      seen_header = true;
      continue;
    }
    layer l = reader.row(line, fields);
    if (l.name.find("DP") != std::string::npos) {
      // Depthwise: SCALE-Sim runs every channel as its own single-channel layer.
      for (std::uint64_t c = 0; c < l.channels; ++c) {
        layer one = l;
        one.channels = 1;
        one.name = l.name + "Channel_" + std::to_string(c);
        topo.layers.push_back(std::move(one));
      }
    } else {
      topo.layers.push_back(std::move(l));
    }
  }
  if (in.bad()) throw config_error(file + ": read error");
  if (!seen_header) throw config_error(file + ": empty topology (expected a header line and one line per layer)");
  if (topo.layers.empty()) throw config_error(file + ": no layers after the header line");
  return topo;
}

topology read_topology(const std::string& path) {
  std::ifstream in = open_input(path, "topology");
  return parse_topology(in, path);
}

config parse_config(std::istream& in, const std::string& file) {
  auto fail = [&](std::size_t line, const std::string& what) -> void {
    throw config_error(file + ": line " + std::to_string(line) + ": " + what);
  };
  std::map<std::string, ini_section> sections;  // names in lower case
  std::string text;
  std::size_t line = 0;
  ini_section* current = nullptr;
  std::string current_name;
  while (std::getline(in, text)) {
    ++line;
    const std::string t = trim(text);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t[0] == '[') {
      if (t.back() != ']') fail(line, "section header '" + t + "' lacks its closing ']'");
      current_name = trim(t.substr(1, t.size() - 2));
      if (current_name.empty()) fail(line, "empty section name");
      const auto [it, fresh] = sections.emplace(lower(current_name), ini_section{line, {}});
      if (!fresh) fail(line, "section [" + current_name + "] appears twice (first at line " + std::to_string(it->second.line) + ")");
      current = &it->second;
      continue;
    }
    const auto delim = t.find_first_of("=:");
    if (delim == std::string::npos) fail(line, "expected 'key = value' or 'key: value' (got '" + t + "')");
    const std::string key = trim(t.substr(0, delim));
    if (key.empty()) fail(line, "a value without a key ('" + t + "')");
    if (current == nullptr) fail(line, "key '" + key + "' before any [section]");
    const auto [it, fresh] = current->values.emplace(lower(key), ini_value{trim(t.substr(delim + 1)), line});
    if (!fresh) {
      fail(line, "key '" + key + "' appears twice in [" + current_name + "] (first at line " +
                     std::to_string(it->second.line) + ")");
    }
  }
  if (in.bad()) throw config_error(file + ": read error");

  config cfg;
  cfg.file = file;
  const auto arch = sections.find("architecture_presets");
  if (arch == sections.end()) {
    throw config_error(file + ": no [architecture_presets] section (axsa needs its ArrayHeight, ArrayWidth and Dataflow)");
  }
  auto get = [&](const char* key) -> const ini_value& {
    const auto it = arch->second.values.find(lower(key));
    if (it == arch->second.values.end()) {
      throw config_error(file + ": line " + std::to_string(arch->second.line) + ": [architecture_presets] has no " + key);
    }
    return it->second;
  };
  auto dimension = [&](const char* key) {
    const ini_value& v = get(key);
    const auto n = parse_integer(v.text);
    if (!n) fail(v.line, std::string(key) + " is not an integer (got '" + v.text + "')");
    if (*n < 1 || *n > static_cast<long long>(hw::array_config::max_dim)) {
      fail(v.line, std::string(key) + " must be in 1.." + std::to_string(hw::array_config::max_dim) +
                       ", the array sizes axsa models (got " + v.text + ")");
    }
    return static_cast<unsigned>(*n);
  };
  cfg.rows = dimension("ArrayHeight");
  cfg.cols = dimension("ArrayWidth");
  const ini_value& df = get("Dataflow");
  const std::string d = lower(df.text);
  if (d == "os") {
    cfg.dataflow = hw::dataflow_kind::output_stationary;
  } else if (d == "ws") {
    cfg.dataflow = hw::dataflow_kind::weight_stationary;
  } else if (d == "is") {
    fail(df.line, "Dataflow 'is' (input-stationary) is not modelled by axsa; use os or ws");
  } else {
    fail(df.line, "Dataflow '" + df.text + "' is not one of os, ws");
  }
  cfg.run_name = stem_of(file);
  const auto general = sections.find("general");
  if (general != sections.end()) {
    const auto it = general->second.values.find("run_name");
    if (it != general->second.values.end() && !it->second.text.empty()) cfg.run_name = it->second.text;
  }
  return cfg;
}

config read_config(const std::string& path) {
  std::ifstream in = open_input(path, "config");
  return parse_config(in, path);
}

// ---- Formulas

namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
bool is_os(hw::dataflow_kind df) { return df == hw::dataflow_kind::output_stationary; }
// The GEMM dimension SCALE-Sim spreads over the array's rows (os: output pixels, ws: the window)
// and the one it streams through in time (os: the window, ws: the output pixels).
std::uint64_t spatial_rows(const hw::gemm_shape& s, hw::dataflow_kind df) { return is_os(df) ? s.m : s.k; }
std::uint64_t temporal(const hw::gemm_shape& s, hw::dataflow_kind df) { return is_os(df) ? s.k : s.m; }
}  // namespace

std::uint64_t folds(const hw::gemm_shape& s, unsigned rows, unsigned cols, hw::dataflow_kind df) {
  return ceil_div(spatial_rows(s, df), rows) * ceil_div(s.n, cols);
}

std::uint64_t formula_cycles(const hw::gemm_shape& s, unsigned rows, unsigned cols, hw::dataflow_kind df) {
  return folds(s, rows, cols, df) * (2 * std::uint64_t{rows} + cols + temporal(s, df) - 2);
}

std::uint64_t documented_offset(const hw::gemm_shape& s, unsigned rows, unsigned cols, hw::dataflow_kind df) {
  return is_os(df) ? 0 : folds(s, rows, cols, df);
}

layer_result make_result(const layer& l, const config& cfg, std::uint64_t stepped_cycles) {
  layer_result r;
  r.name = l.name;
  r.shape = l.gemm();
  const auto& s = r.shape;
  const double pes = static_cast<double>(cfg.rows) * cfg.cols;
  r.folds = folds(s, cfg.rows, cfg.cols, cfg.dataflow);
  r.cycles = stepped_cycles;
  r.formula = formula_cycles(s, cfg.rows, cfg.cols, cfg.dataflow);
  r.documented = documented_offset(s, cfg.rows, cfg.cols, cfg.dataflow);
  if (stepped_cycles == 0) return r;
  const double macs = static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n);
  r.overall_util = 100.0 * macs / (pes * static_cast<double>(stepped_cycles));
  // Over all folds the rows used sum to the mapped dimension and the columns used to N, so the mean
  // share of PEs a fold maps is (rows dimension * N) / (folds * R * C).
  const double mapped = static_cast<double>(spatial_rows(s, cfg.dataflow)) * static_cast<double>(s.n);
  r.mapping_efficiency = 100.0 * mapped / (static_cast<double>(r.folds) * pes);
  // Every fold of axsa takes the same cycles, so a fold's MACs over its PE-cycles averages to the
  // mapping efficiency times the streamed length over the fold's length.
  const double fold_cycles = static_cast<double>(stepped_cycles) / static_cast<double>(r.folds);
  r.compute_util = r.mapping_efficiency * static_cast<double>(temporal(s, cfg.dataflow)) / fold_cycles;
  return r;
}

// ---- Reports

namespace {

// Shortest text that reads back as the same double (as Python's str(), which SCALE-Sim uses).
std::string number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  out.close();
  if (!out) throw config_error("cannot write '" + path + "'");
}

}  // namespace

void write_compute_report(const std::string& path, const std::vector<layer_result>& results) {
  std::ostringstream s;
  s << compute_report_header << '\n';
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    // axsa's array never waits for memory: no stall cycles.
    s << i << ", " << r.cycles << ", 0, " << number(r.overall_util) << ", " << number(r.mapping_efficiency) << ", "
      << number(r.compute_util) << ",\n";
  }
  write_file(path, s.str());
}

void write_axsa_report(const std::string& path, const config& cfg, const std::vector<layer_result>& results) {
  std::ostringstream s;
  s << axsa_report_header << '\n';
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    s << i << ", " << r.name << ", " << r.shape.m << ", " << r.shape.k << ", " << r.shape.n << ", "
      << hw::to_string(cfg.dataflow) << ", " << cfg.rows << ", " << cfg.cols << ", " << r.folds << ", " << r.cycles
      << ", " << r.formula << ", " << r.offset() << ", " << r.documented << ", " << (r.match ? "match" : "MISMATCH")
      << ",\n";
  }
  write_file(path, s.str());
}

}  // namespace axsa::sw::scalesim
