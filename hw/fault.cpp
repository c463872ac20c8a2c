#include "hw/fault.h"

#include <sstream>

namespace axsa::faults {

const char* to_string(fault_site s) {
  switch (s) {
    case fault_site::weight_link: return "weight-link";
    case fault_site::weight_mult: return "weight-mult";
    case fault_site::act_link: return "act-link";
    case fault_site::act_mult: return "act-mult";
    case fault_site::acc: return "acc";
    case fault_site::valid: return "valid";
    case fault_site::control: return "control";
  }
  return "?";
}

const char* to_string(fault_kind k) {
  switch (k) {
    case fault_kind::stuck_at_0: return "stuck-at-0";
    case fault_kind::stuck_at_1: return "stuck-at-1";
    case fault_kind::bit_flip: return "bit-flip";
  }
  return "?";
}

fault_site parse_site(const std::string& text) {
  for (unsigned i = 0; i < fault_site_count; ++i)
    if (text == to_string(static_cast<fault_site>(i))) return static_cast<fault_site>(i);
  throw config_error("unknown fault site '" + text + "' (expected weight-link, weight-mult, act-link, act-mult, acc, valid or control)");
}

std::vector<fault_site> parse_sites(const std::string& text) {
  std::vector<fault_site> out;
  std::stringstream in(text);
  for (std::string p; std::getline(in, p, ',');) {
    const fault_site s = parse_site(p);
    for (fault_site seen : out)
      if (seen == s) throw config_error("fault site '" + p + "' is listed twice in '" + text + "'");
    out.push_back(s);
  }
  if (out.empty() || text.back() == ',') throw config_error("'" + text + "' is not a comma-separated list of fault sites");
  return out;
}

std::string to_string(const std::vector<fault_site>& sites) {
  std::string out;
  for (fault_site s : sites) out += (out.empty() ? "" : ",") + std::string(to_string(s));
  return out;
}

fault_kind parse_kind(const std::string& text) {
  if (text == "stuck-at-0") return fault_kind::stuck_at_0;
  if (text == "stuck-at-1") return fault_kind::stuck_at_1;
  if (text == "bit-flip") return fault_kind::bit_flip;
  throw config_error("unknown fault type '" + text + "' (expected stuck-at-0, stuck-at-1 or bit-flip)");
}

fault parse_fault(const std::string& text) {
  // Every ':' separates two fields, so "...:5:" has an empty last field (getline would drop it).
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == ':') {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  if (parts.size() < 5 || parts.size() > 7) {
    throw config_error("fault '" + text + "' is not site:kind:row:col:bit[:first[:last]]");
  }
  // Decimal digits only, and the value must fit its field: a row of 2^32 must not wrap to row 0.
  auto number = [&](const std::string& s, std::uint64_t max) -> std::uint64_t {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
      throw config_error("fault '" + text + "': '" + s + "' is not a non-negative integer");
    }
    const std::size_t nz = s.find_first_not_of('0');
    const std::string digits = nz == std::string::npos ? "0" : s.substr(nz);
    if (digits.size() > 20 || (digits.size() == 20 && digits > "18446744073709551615") || std::stoull(digits) > max) {
      throw config_error("fault '" + text + "': " + s + " is out of range (at most " + std::to_string(max) + ")");
    }
    return std::stoull(digits);
  };
  constexpr std::uint64_t max_index = std::numeric_limits<unsigned>::max();
  constexpr std::uint64_t max_cycle = std::numeric_limits<std::uint64_t>::max();
  fault f;
  f.site = parse_site(parts[0]);
  f.kind = parse_kind(parts[1]);
  f.row = static_cast<unsigned>(number(parts[2], max_index));
  f.col = static_cast<unsigned>(number(parts[3], max_index));
  f.bit = static_cast<unsigned>(number(parts[4], max_index));
  if (parts.size() > 5) f.first_cycle = f.last_cycle = number(parts[5], max_cycle);
  if (parts.size() > 6) f.last_cycle = number(parts[6], max_cycle);
  if (f.first_cycle > f.last_cycle) throw config_error("fault '" + text + "': window starts after it ends");
  return f;
}

std::string describe(const fault& f) {
  std::ostringstream s;
  s << to_string(f.site) << ':' << to_string(f.kind) << ':' << f.row << ':' << f.col << ':' << f.bit;
  if (f.first_cycle != 0 || f.last_cycle != std::numeric_limits<std::uint64_t>::max()) {
    s << ':' << f.first_cycle << ':' << f.last_cycle;
  }
  return s.str();
}

}  // namespace axsa::faults
