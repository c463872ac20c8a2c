#include "hw/energy.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace axsa::hw {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// A finite number and nothing else, or false.
bool parse_number(const std::string& text, double& out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return errno == 0 && end == text.c_str() + text.size() && std::isfinite(out);
}

}  // namespace

energy_table energy_table::parse(const std::string& text, const std::string& origin) {
  energy_table t;
  t.m_origin = origin;
  std::istringstream in(text);
  std::string line;
  std::size_t row = 0;
  bool header = false, have_reg = false, have_offchip = false;
  auto fail = [&](const std::string& field, const std::string& why) {
    throw config_error(origin + ": row " + std::to_string(row) + ": field '" + field + "': " + why);
  };
  while (std::getline(in, line)) {
    ++row;
    const std::string stripped = trim(line);
    if (stripped.empty() || stripped[0] == '#') continue;
    // event,size,pj[,note]: the note is the rest of the line and may hold commas.
    std::vector<std::string> f;
    std::size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
      const auto comma = stripped.find(',', pos);
      f.push_back(trim(stripped.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos)));
      if (comma == std::string::npos) {
        pos = std::string::npos;
        break;
      }
      pos = comma + 1;
    }
    if (!header) {
      if (f.size() < 3 || f[0] != "event" || f[1] != "size" || f[2] != "pj") {
        fail("header", "expected the header 'event,size,pj,note'");
      }
      header = true;
      continue;
    }
    static const char* names[] = {"event", "size", "pj"};
    if (f.size() < 3) fail(names[f.size()], "missing (a row is event,size,pj,note)");
    double size = 0, pj = 0;
    if (!parse_number(f[1], size) || size < 0) fail("size", "'" + f[1] + "' is not a non-negative number");
    if (!parse_number(f[2], pj)) fail("pj", "'" + f[2] + "' is not a number");
    if (pj < 0) fail("pj", "negative energy " + f[2]);
    const std::string& ev = f[0];
    auto add_point = [&](std::vector<std::pair<double, double>>& v) {
      if (size <= 0) fail("size", "must be positive for " + ev);
      if (pj <= 0) fail("pj", "must be positive for " + ev);
      for (const auto& p : v)
        if (p.first == size) fail("size", "a second " + ev + " row for size " + f[1]);
      v.emplace_back(size, pj);
    };
    if (ev == "mult") {
      add_point(t.m_mult);
    } else if (ev == "add") {
      add_point(t.m_add);
    } else if (ev == "sram_64b") {
      add_point(t.m_sram);
    } else if (ev == "reg_bit") {
      if (have_reg) fail("event", "a second reg_bit row");
      have_reg = true;
      t.m_reg_bit = pj;
    } else if (ev == "offchip_64b") {
      if (have_offchip) fail("event", "a second offchip_64b row");
      have_offchip = true;
      t.m_offchip = pj;
    } else {
      fail("event", "unknown event '" + ev + "' (expected mult, add, reg_bit, sram_64b or offchip_64b)");
    }
  }
  if (!header) throw config_error(origin + ": no header row 'event,size,pj,note'");
  auto need = [&](bool ok, const char* ev) {
    if (!ok) throw config_error(origin + ": no " + std::string(ev) + " row (every event needs at least one)");
  };
  need(!t.m_mult.empty(), "mult");
  need(!t.m_add.empty(), "add");
  need(!t.m_sram.empty(), "sram_64b");
  need(have_reg, "reg_bit");
  need(have_offchip, "offchip_64b");
  for (auto* v : {&t.m_mult, &t.m_add, &t.m_sram}) std::sort(v->begin(), v->end());
  return t;
}

energy_table energy_table::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error("cannot read the energy table " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

const energy_table& energy_table::builtin() {
  static const energy_table t = parse(builtin_text(), "hw/energy_45nm.csv (built in)");
  return t;
}

double energy_table::lookup(const std::vector<std::pair<double, double>>& p, double x) {
  if (p.size() == 1) return p[0].second * x / p[0].first;
  // The segment around x, or the first or last one beyond the table.
  std::size_t i = 1;
  while (i + 1 < p.size() && p[i].first < x) ++i;
  const double x0 = p[i - 1].first, y0 = p[i - 1].second, x1 = p[i].first, y1 = p[i].second;
  const double slope = std::log(y1 / y0) / std::log(x1 / x0);
  return y0 * std::pow(x / x0, slope);
}

double energy_table::sram_pj(std::uint64_t bytes, unsigned bits) const {
  return lookup(m_sram, static_cast<double>(bytes)) * bits / 64.0;
}

std::vector<std::pair<const char*, double>> energy_breakdown::components() const {
  return {{"multipliers", multipliers}, {"adders", adders}, {"registers", registers}, {"buffers", buffers}, {"offchip", offchip}};
}

// docs/energy.md: which count each component charges, at which width.
energy_breakdown estimate_energy(const activity& a, const energy_setup& s, const energy_table& t) {
  const unsigned W = s.cfg.data_bits, A = s.cfg.acc_bits;
  energy_breakdown e;
  const double macs = static_cast<double>(a.macs), zero = static_cast<double>(a.zero_macs);
  e.multipliers = s.mult_pj * (s.operand_weighting ? (macs - zero) + zero * s.zero_operand_share : macs);
  e.adders = macs * t.add_pj(A);
  e.registers = t.reg_bit_pj() * (static_cast<double>(a.act_reg_writes + a.weight_reg_writes) * W +
                                  static_cast<double>(a.acc_writes) * A);
  // Array side: W-bit operand reads, A-bit result writes and partial-sum reads. Bus side: the bytes
  // the host writes go to the operand buffers, those it reads come from the output buffer.
  e.buffers = static_cast<double>(a.act_buffer_reads) * t.sram_pj(s.act_buffer_bytes, W) +
              static_cast<double>(a.weight_buffer_reads) * t.sram_pj(s.weight_buffer_bytes, W) +
              static_cast<double>(a.out_buffer_writes + a.out_buffer_reads) * t.sram_pj(s.out_buffer_bytes, A) +
              static_cast<double>(a.bus_write_bytes) * t.sram_pj(std::max(s.act_buffer_bytes, s.weight_buffer_bytes), 8) +
              static_cast<double>(a.bus_read_bytes) * t.sram_pj(s.out_buffer_bytes, 8);
  e.offchip = static_cast<double>(a.bus_beats) * t.offchip_beat_pj();
  return e;
}

}  // namespace axsa::hw
