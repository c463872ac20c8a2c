// A small VCD reader for tests: variables with their full scope path, and the value of each
// at any time (the last change at or before it). Only what vcd_writer emits is supported:
// wire vectors in binary ("b0101 id") and scalars ("1id").
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace axsa::test {

class vcd_reader {
 public:
  struct var {
    std::string path;  // scope.scope.name
    unsigned bits = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> changes;  // (time, raw bits)
  };

  explicit vcd_reader(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot open " + file);
    std::vector<std::string> scopes;
    std::string tok;
    std::uint64_t now = 0;
    bool defs = true;
    while (in >> tok) {
      if (defs) {
        if (tok == "$scope") {
          std::string kind, name, end;
          in >> kind >> name >> end;
          scopes.push_back(name);
        } else if (tok == "$upscope") {
          in >> tok;
          scopes.pop_back();
        } else if (tok == "$var") {
          std::string type, id, name, end;
          unsigned bits = 0;
          in >> type >> bits >> id >> name >> end;
          std::string path;
          for (const auto& s : scopes) path += s + ".";
          m_vars[id] = var{path + name, bits, {}};
          m_by_path[path + name] = id;
        } else if (tok == "$timescale") {
          in >> tok;
          if (tok != "1") throw std::runtime_error("unexpected timescale");
          in >> m_unit >> tok;
        } else if (tok == "$enddefinitions") {
          in >> tok;
          defs = false;
        }
        continue;
      }
      if (tok[0] == '#') {
        const std::uint64_t t = std::stoull(tok.substr(1));
        if (t < now) throw std::runtime_error("time goes backwards");
        now = t;
      } else if (tok[0] == 'b') {
        std::string id;
        in >> id;
        record(id, now, std::stoull(tok.substr(1), nullptr, 2));
      } else if (tok[0] == '0' || tok[0] == '1') {
        record(tok.substr(1), now, tok[0] == '1' ? 1 : 0);
      } else if (tok != "$dumpvars" && tok != "$end") {
        throw std::runtime_error("unexpected token '" + tok + "'");
      }
    }
  }

  const std::string& unit() const { return m_unit; }
  bool has(const std::string& path) const { return m_by_path.count(path) > 0; }
  std::size_t size() const { return m_vars.size(); }
  const var& at(const std::string& path) const { return m_vars.at(m_by_path.at(path)); }

  // Signed value of `path` at `time`; throws if it has no value yet.
  std::int64_t value(const std::string& path, std::uint64_t time) const {
    const var& v = at(path);
    bool found = false;
    std::uint64_t raw = 0;
    for (const auto& [t, bits] : v.changes) {
      if (t > time) break;
      raw = bits;
      found = true;
    }
    if (!found) throw std::runtime_error(path + " has no value at " + std::to_string(time));
    if (v.bits >= 64 || v.bits == 1) return static_cast<std::int64_t>(raw);
    const unsigned shift = 64 - v.bits;
    return static_cast<std::int64_t>(raw << shift) >> shift;
  }

 private:
  void record(const std::string& id, std::uint64_t t, std::uint64_t raw) {
    auto it = m_vars.find(id);
    if (it == m_vars.end()) throw std::runtime_error("change of undeclared id " + id);
    auto& ch = it->second.changes;
    if (!ch.empty() && ch.back().first == t) ch.back().second = raw;
    else ch.emplace_back(t, raw);
  }

  std::map<std::string, var> m_vars;
  std::map<std::string, std::string> m_by_path;
  std::string m_unit;
};

}  // namespace axsa::test
