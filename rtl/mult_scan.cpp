// Configure-time readers of multipliers.txt and EvoApprox folders (rtl/mult_scan.h).
#include "rtl/mult_scan.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <system_error>

namespace axsa::rtl::scan {
namespace {

namespace fs = std::filesystem;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum_(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }

bool is_identifier(std::string_view s) {
  if (s.empty() || !(is_alpha(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), is_alnum_);
}

// A decimal number of at most 9 digits (no sign), so it always fits; false otherwise.
bool parse_small_uint(std::string_view s, unsigned& value) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), is_digit)) return false;
  unsigned v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  value = v;
  return true;
}

// Printable form of a piece of input for a message: control bytes as '?', cut at 60 characters.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (s.size() > 60) out += "...";
  return out;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

// A tokenizer over Verilog text that skips whitespace and // and /* */ comments.
class tokens {
 public:
  explicit tokens(std::string_view text) : m_text(text) {}

  // The next token: an identifier, a number, or one punctuation character ("" at the end).
  std::string_view next() {
    skip();
    if (m_pos >= m_text.size()) return {};
    const std::size_t start = m_pos;
    if (is_alnum_(m_text[m_pos]) || m_text[m_pos] == '$') {
      while (m_pos < m_text.size() && (is_alnum_(m_text[m_pos]) || m_text[m_pos] == '$')) ++m_pos;
    } else {
      ++m_pos;
    }
    return m_text.substr(start, m_pos - start);
  }
  bool expect(std::string_view want) { return next() == want; }

 private:
  void skip() {
    while (m_pos < m_text.size()) {
      if (is_space(m_text[m_pos])) {
        ++m_pos;
      } else if (m_text.compare(m_pos, 2, "//") == 0) {
        const std::size_t nl = m_text.find('\n', m_pos);
        m_pos = nl == std::string_view::npos ? m_text.size() : nl + 1;
      } else if (m_text.compare(m_pos, 2, "/*") == 0) {
        const std::size_t end = m_text.find("*/", m_pos + 2);
        m_pos = end == std::string_view::npos ? m_text.size() : end + 2;
      } else {
        return;
      }
    }
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

std::string read_file(const fs::path& p, bool& ok) {
  std::ifstream in(p, std::ios::binary);
  ok = static_cast<bool>(in);
  if (!ok) return {};
  std::ostringstream s;
  s << in.rdbuf();
  ok = !in.bad();
  return s.str();
}

}  // namespace

std::vector<manifest_entry> parse_manifest(std::string_view text) {
  std::vector<manifest_entry> entries;
  std::map<std::string, std::size_t> seen;  // name -> line
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    const auto fields = split_fields(line);
    if (fields.empty() || fields[0][0] == '#') continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (line.find('\0') != std::string_view::npos) throw scan_error(where + "contains a NUL byte");
    if (fields.size() < 3) throw scan_error(where + "'" + shown(line) + "' needs at least: name module N");
    manifest_entry e;
    e.line = line_no;
    if (!is_identifier(fields[0]) || fields[0][0] == '_') {
      throw scan_error(where + "registry name '" + shown(fields[0]) +
                       "' is not a letter followed by letters, digits and '_'");
    }
    e.name = std::string(fields[0]);
    if (!is_identifier(fields[1])) {
      throw scan_error(where + "module '" + shown(fields[1]) + "' is not a Verilog identifier");
    }
    e.module = std::string(fields[1]);
    if (!parse_small_uint(fields[2], e.bits) || e.bits < min_bits || e.bits > max_bits) {
      throw scan_error(where + "operand width '" + shown(fields[2]) + "' of " + e.name + " is not " +
                       std::to_string(min_bits) + ".." + std::to_string(max_bits));
    }
    std::map<std::string_view, bool> keys;
    for (std::size_t i = 3; i < fields.size(); ++i) {
      const std::string_view p = fields[i];
      const std::size_t eq = p.find('=');
      unsigned value = 0;
      if (eq == std::string_view::npos || !is_identifier(p.substr(0, eq)) || !parse_small_uint(p.substr(eq + 1), value)) {
        throw scan_error(where + "parameter '" + shown(p) + "' of " + e.name +
                         " is not KEY=value (a Verilog identifier and a decimal number)");
      }
      if (p.substr(0, eq) == "N") throw scan_error(where + "parameter N of " + e.name + " is set by column 3, not by N=");
      if (!keys.emplace(p.substr(0, eq), true).second) {
        throw scan_error(where + "parameter " + std::string(p.substr(0, eq)) + " of " + e.name + " is given twice");
      }
      e.params.emplace_back(p);
    }
    const auto [it, fresh] = seen.emplace(e.name, line_no);
    if (!fresh) {
      throw scan_error(where + "multiplier '" + e.name + "' is listed twice (first on line " +
                       std::to_string(it->second) + ")");
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

evo_verdict classify_evoapprox_name(std::string_view base) {
  evo_verdict v;
  const auto ends_with = [&](std::string_view suffix) {
    return base.size() >= suffix.size() && base.substr(base.size() - suffix.size()) == suffix;
  };
  if (ends_with("_pdk45")) {
    v.why = "gate netlist: needs the PDK45 cell library, which is not shipped";
    return v;
  }
  // mul<N><s|u>_<id>
  std::size_t i = 3;
  if (base.substr(0, 3) != "mul") i = std::string_view::npos;
  std::size_t digits_end = i;
  while (i != std::string_view::npos && digits_end < base.size() && is_digit(base[digits_end])) ++digits_end;
  const bool has_digits = i != std::string_view::npos && digits_end > i;
  if (has_digits && digits_end + 1 < base.size() && base[digits_end] == 'u' && base[digits_end + 1] == '_') {
    v.why = "unsigned circuit: the PEs multiply signed operands";
    return v;
  }
  const bool shape = has_digits && digits_end + 2 < base.size() && base[digits_end] == 's' &&
                     base[digits_end + 1] == '_' &&
                     std::all_of(base.begin() + static_cast<std::ptrdiff_t>(digits_end + 2), base.end(),
                                 [](char c) { return is_alpha(c) || is_digit(c); });
  if (!shape) {
    v.why = "not a signed multiplier named mul<N>s_<id>";
    return v;
  }
  unsigned bits = 0;
  if (!parse_small_uint(base.substr(i, digits_end - i), bits) || bits < min_bits || bits > max_bits) {
    v.why = shown(base.substr(i, digits_end - i)) + "-bit operands: the PEs take " + std::to_string(min_bits) +
            ".." + std::to_string(max_bits);
    return v;
  }
  v.usable = true;
  v.bits = bits;
  return v;
}

std::string check_evoapprox_header(std::string_view text, std::string_view base, unsigned bits) {
  // Find "module <base>" as whole tokens, then its port list.
  tokens t(text);
  for (std::string_view tok = t.next(); !tok.empty(); tok = t.next()) {
    if (tok != "module") continue;
    if (t.next() != base) continue;
    if (!(t.expect("(") && t.expect("A") && t.expect(",") && t.expect("B") && t.expect(",") && t.expect("O") &&
          t.expect(")") && t.expect(";"))) {
      return "module " + std::string(base) + " does not have the ports (A, B, O)";
    }
    // The declarations of A, B and O before endmodule, in any order: "input [msb:0] A;" and so on.
    const unsigned in_msb = bits - 1, out_msb = 2 * bits - 1;
    bool a = false, b = false, o = false;
    for (std::string_view d = t.next(); !d.empty() && d != "endmodule"; d = t.next()) {
      if (d != "input" && d != "output") continue;
      const bool is_input = d == "input";
      unsigned msb = 0, lsb = 1;
      if (!(t.expect("[") && parse_small_uint(t.next(), msb) && t.expect(":") && parse_small_uint(t.next(), lsb) &&
            t.expect("]"))) {
        continue;
      }
      const std::string_view name = t.next();
      if (!t.expect(";") || lsb != 0) continue;
      if (is_input && msb == in_msb && name == "A") a = true;
      if (is_input && msb == in_msb && name == "B") b = true;
      if (!is_input && msb == out_msb && name == "O") o = true;
    }
    if (!(a && b && o)) {
      return "ports are not input [" + std::to_string(in_msb) + ":0] A, B and output [" + std::to_string(out_msb) +
             ":0] O";
    }
    return "";
  }
  return "no module " + std::string(base) + "(A, B, O) in the file";
}

std::vector<evo_file> scan_evoapprox_folder(const std::string& folder) {
  std::error_code ec;
  const fs::path root = fs::absolute(folder, ec);
  if (ec || !fs::is_directory(root, ec)) throw scan_error("'" + folder + "' is not a directory");
  std::vector<fs::path> files;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw scan_error("cannot read the folder '" + folder + "': " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw scan_error("cannot read below '" + folder + "': " + ec.message());
    if (it->path().extension() == ".v" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());

  struct taken_circuit {
    std::string text, relative;
  };
  std::map<std::string, taken_circuit> taken;  // base -> the copy taken
  std::vector<evo_file> out;
  for (const fs::path& p : files) {
    evo_file f;
    f.path = p.string();
    f.relative = p.lexically_relative(root).string();
    f.base = p.stem().string();
    if (f.path.find_first_of(";\n\r\"\\") != std::string::npos || f.path.find("]=]") != std::string::npos) {
      f.why = "its path holds ';', '\"', '\\', ']=]' or a line break, which the build cannot carry";
      out.push_back(std::move(f));
      continue;
    }
    const evo_verdict v = classify_evoapprox_name(f.base);
    if (!v.usable) {
      f.why = v.why;
      out.push_back(std::move(f));
      continue;
    }
    f.bits = v.bits;
    bool ok = false;
    const std::string text = read_file(p, ok);
    if (!ok) {
      f.why = "cannot be read";
    } else if (const auto prior = taken.find(f.base); prior != taken.end()) {
      if (prior->second.text == text) {
        f.what = evo_file::action::duplicate;
      } else {
        f.why = "differs from the " + f.base + " already taken from " + prior->second.relative + "; keeping that one";
      }
    } else {
      f.why = check_evoapprox_header(text, f.base, f.bits);
      if (f.why.empty()) {
        f.what = evo_file::action::take;
        taken.emplace(f.base, taken_circuit{text, f.relative});
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace axsa::rtl::scan
