// --json output through nlohmann::json (ordered_json: keys in insertion order). The text keeps the
// form axsa always printed, since tests and users' scripts read it: one line with ", " and ": "
// between items, a double with no fraction as an integer ("offchip_pj": 0), any other double as
// the shortest text that reads back to the same double, a non-finite one as null (JSON has no NaN).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace axsa::cli {

using json_value = nlohmann::ordered_json;

// null when not finite; an integer when the double is a whole number an int64 holds exactly.
inline json_value json_number(double value) {
  if (!std::isfinite(value)) return nullptr;
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) return static_cast<std::int64_t>(value);
  return value;
}

// One line: {"a": 1, "b": [1, 2]}. nlohmann's pretty form puts every item on its own line and a
// string never holds a raw newline, so joining the lines (a space after a comma) gives the old layout.
inline std::string to_line(const json_value& value) {
  const std::string pretty = value.dump(0, ' ', false, json_value::error_handler_t::replace);
  std::string out;
  out.reserve(pretty.size());
  for (const char c : pretty) {
    if (c != '\n') out += c;
    else if (!out.empty() && out.back() == ',') out += ' ';
  }
  return out;
}

class json_object {
 public:
  json_object& add(const std::string& key, const std::string& value) { return set(key, value); }
  json_object& add(const std::string& key, const char* value) { return set(key, value); }
  json_object& add(const std::string& key, bool value) { return set(key, value); }
  json_object& add(const std::string& key, std::uint64_t value) { return set(key, value); }
  json_object& add(const std::string& key, std::int64_t value) { return set(key, value); }
  json_object& add(const std::string& key, unsigned value) { return set(key, value); }
  json_object& add(const std::string& key, double value) { return set(key, json_number(value)); }
  json_object& add(const std::string& key, const json_object& nested) { return set(key, nested.m_value); }
  json_object& add(const std::string& key, const json_value& value) { return set(key, value); }  // arrays, null

  const json_value& value() const { return m_value; }
  std::string str() const { return to_line(m_value); }

 private:
  json_object& set(const std::string& key, json_value value) {
    m_value[key] = std::move(value);
    return *this;
  }
  json_value m_value = json_value::object();
};

}  // namespace axsa::cli
