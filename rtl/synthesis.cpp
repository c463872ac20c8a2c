#include "rtl/synthesis.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>

#include <unistd.h>

namespace axsa::rtl {

namespace {

// NAND2-equivalent weights of yosys' internal gate cells (a common gate-equivalent convention).
const std::map<std::string, double>& gate_weights() {
  static const std::map<std::string, double> w = {
      {"$_NOT_", 0.67},  {"$_NAND_", 1.0},   {"$_NOR_", 1.0},  {"$_AND_", 1.33},   {"$_OR_", 1.33},
      {"$_ANDNOT_", 1.33}, {"$_ORNOT_", 1.33}, {"$_XOR_", 2.33}, {"$_XNOR_", 2.33}, {"$_MUX_", 2.33},
      {"$_BUF_", 0.0}};
  return w;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string cache_path(const mult_entry& e) {
  const std::string dir = cache_directory();
  // ".area2": written with every digit (older ".area" files held 6, so a cached figure differed from a
  // fresh one in its last bits and results depended on whether the cache was warm).
  return dir.empty() ? "" : dir + "/" + e.name + "-" + std::string(e.hash).substr(0, 16) + ".area2";
}

}  // namespace

bool yosys_available() { return std::system("command -v yosys >/dev/null 2>&1") == 0; }

std::optional<area_estimate> estimate_area(const mult_entry& entry, std::string* why) {
  const std::string cached = cache_path(entry);
  if (!cached.empty()) {
    std::ifstream in(cached);
    area_estimate a;
    if (in >> a.cells >> a.nand2_equivalents) return a;
  }
  if (!yosys_available()) {
    if (why) *why = "yosys is not installed";
    return std::nullopt;
  }
  std::ostringstream script;
  script << "read_verilog " << entry.source << "; ";
  if (*entry.params != '\0' || std::string(entry.origin) == "axsa") {
    script << "chparam -set N " << entry.bits;
    std::istringstream params(entry.params);
    std::string kv;
    while (params >> kv) {
      const auto eq = kv.find('=');
      script << " -set " << kv.substr(0, eq) << ' ' << kv.substr(eq + 1);
    }
    script << ' ' << entry.module << "; ";
  }
  script << "synth -flatten -top " << entry.module << "; abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX; "
         << "opt_clean; tee -o /dev/stdout stat";
  const std::string cmd = "yosys -q -p " + shell_quote(script.str()) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    if (why) *why = "cannot start yosys";
    return std::nullopt;
  }
  std::string output;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  const int rc = pclose(p);
  area_estimate a;
  bool have_count = false;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string first;
    f >> first;
    if (first == "Number") {
      std::string of, what;
      unsigned count = 0;
      if ((f >> of >> what >> count) && what == "cells:") {
        a.cells = count;
        have_count = true;
      }
    } else if (const auto it = gate_weights().find(first); it != gate_weights().end()) {
      double count = 0;
      if (f >> count) a.nand2_equivalents += count * it->second;
    }
  }
  if (rc != 0 || !have_count) {
    if (why) *why = "yosys failed on " + std::string(entry.source);
    return std::nullopt;
  }
  if (!cached.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(cached).parent_path(), ec);
    const std::string tmp = cached + ".tmp." + std::to_string(::getpid());
    std::ofstream out(tmp);
    out << std::setprecision(std::numeric_limits<double>::max_digits10) << a.cells << ' ' << a.nand2_equivalents << '\n';
    out.close();
    std::filesystem::rename(tmp, cached, ec);
  }
  return a;
}

}  // namespace axsa::rtl
