// A flat JSON object writer for --json output: keys in insertion order, strings escaped,
// non-finite numbers written as null (JSON has no NaN).
#pragma once

#include <cmath>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>

namespace axsa::cli {

class json_object {
 public:
  json_object& add(const std::string& key, const std::string& value) { return raw(key, quote(value)); }
  json_object& add(const std::string& key, const char* value) { return raw(key, quote(value)); }
  json_object& add(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
  json_object& add(const std::string& key, std::uint64_t value) { return raw(key, std::to_string(value)); }
  json_object& add(const std::string& key, std::int64_t value) { return raw(key, std::to_string(value)); }
  json_object& add(const std::string& key, unsigned value) { return raw(key, std::to_string(value)); }
  json_object& add(const std::string& key, double value) {
    if (!std::isfinite(value)) return raw(key, "null");
    std::ostringstream s;
    s << std::setprecision(10) << value;
    return raw(key, s.str());
  }
  // value must already be valid JSON (a nested object or an array).
  json_object& raw(const std::string& key, const std::string& value) {
    m_body += (m_body.empty() ? "" : ", ") + quote(key) + ": " + value;
    return *this;
  }
  std::string str() const { return "{" + m_body + "}"; }

  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += ch;
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += ch;
      }
    }
    return out + "\"";
  }

 private:
  std::string m_body;
};

}  // namespace axsa::cli
