#include "rtl/mult_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

#include "hw/aligned_multiplier.h"
#include "hw/array_config.h"
#include "hw/mult/behavioural.h"
#include "hw/tabled_multiplier.h"

namespace axsa::rtl {

namespace fs = std::filesystem;

const mult_entry& find_entry(const std::string& name) {
  for (const auto& e : registered_entries()) {
    if (name == e.name) return e;
  }
  std::string known;
  for (const auto& e : registered_entries()) known += (known.empty() ? "" : ", ") + std::string(e.name);
  throw config_error("unknown multiplier '" + name + "' (registered: " + known + "; see axsa multipliers)");
}

eval_mode parse_eval_mode(const std::string& text) {
  if (text == "table") return eval_mode::table;
  if (text == "rtl") return eval_mode::rtl;
  throw config_error("unknown multiplier evaluation '" + text + "' (expected table or rtl)");
}

verilated_multiplier::verilated_multiplier(const mult_entry& entry)
    : m_entry(entry),
      m_model(entry.make()),
      m_mask(static_cast<std::uint32_t>((std::uint64_t{1} << entry.bits) - 1)),
      m_out_shift(64 - 2 * entry.bits) {}

std::int32_t verilated_multiplier::multiply(std::int32_t a, std::int32_t b) const {
  const std::uint64_t o = m_model->eval(static_cast<std::uint32_t>(a) & m_mask, static_cast<std::uint32_t>(b) & m_mask);
  // O is 2N <= 32 bits of two's complement: sign-extend it.
  return static_cast<std::int32_t>(static_cast<std::int64_t>(o << m_out_shift) >> m_out_shift);
}

std::string cache_directory() {
  if (const char* d = std::getenv("AXSA_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/axsa";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/axsa";
  return "";
}

namespace {

constexpr char cache_magic[8] = {'A', 'X', 'S', 'A', 'T', 'B', 'L', '1'};

std::vector<std::int32_t> compute_full_table(const mult_entry& entry) {
  const verilated_multiplier m(entry);
  const unsigned n = entry.bits;
  const std::size_t side = std::size_t{1} << n;
  const unsigned shift = 32 - n;
  std::vector<std::int32_t> table(side * side);
  for (std::size_t ua = 0; ua < side; ++ua) {
    const auto a = static_cast<std::int32_t>(static_cast<std::uint32_t>(ua) << shift) >> shift;
    for (std::size_t ub = 0; ub < side; ++ub) {
      const auto b = static_cast<std::int32_t>(static_cast<std::uint32_t>(ub) << shift) >> shift;
      table[(ua << n) | ub] = m.multiply(a, b);
    }
  }
  return table;
}

std::string cache_file(const mult_entry& entry) {
  const std::string dir = cache_directory();
  if (dir.empty()) return "";
  return dir + "/" + entry.name + "-" + std::string(entry.hash).substr(0, 16) + ".tbl";
}

bool read_cached(const std::string& path, const mult_entry& entry, std::vector<std::int32_t>& table) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  char magic[8];
  char hash[64];
  std::uint32_t bits = 0;
  in.read(magic, 8).read(hash, 64).read(reinterpret_cast<char*>(&bits), 4);
  if (!in || std::memcmp(magic, cache_magic, 8) != 0 || std::strncmp(hash, entry.hash, 64) != 0 ||
      bits != entry.bits) {
    return false;
  }
  table.resize(std::size_t{1} << (2 * entry.bits));
  in.read(reinterpret_cast<char*>(table.data()), static_cast<std::streamsize>(table.size() * sizeof(std::int32_t)));
  return static_cast<bool>(in) && in.peek() == std::char_traits<char>::eof();
}

void write_cached(const std::string& path, const mult_entry& entry, const std::vector<std::int32_t>& table) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return;  // a cache we cannot write only costs time
    char hash[64] = {};
    std::memcpy(hash, entry.hash, std::min(sizeof hash, std::strlen(entry.hash)));
    const std::uint32_t bits = entry.bits;
    out.write(cache_magic, 8).write(hash, 64).write(reinterpret_cast<const char*>(&bits), 4);
    out.write(reinterpret_cast<const char*>(table.data()), static_cast<std::streamsize>(table.size() * sizeof(std::int32_t)));
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) fs::remove(tmp, ec);
}

}  // namespace

std::vector<std::int32_t> full_table(const mult_entry& entry) {
  if (entry.bits > hw::tabled_multiplier::max_table_bits) {
    throw config_error(std::string("multiplier ") + entry.name + " has " + std::to_string(entry.bits) +
                       "-bit operands: a full product table needs at most 12");
  }
  const std::string path = cache_file(entry);
  std::vector<std::int32_t> table;
  if (!path.empty() && read_cached(path, entry, table)) return table;
  table = compute_full_table(entry);
  if (!path.empty()) write_cached(path, entry, table);
  return table;
}

bool table_is_exact(const std::vector<std::int32_t>& full, unsigned bits) {
  const std::size_t side = std::size_t{1} << bits;
  const unsigned shift = 32 - bits;
  for (std::size_t ua = 0; ua < side; ++ua) {
    const auto a = static_cast<std::int32_t>(static_cast<std::uint32_t>(ua) << shift) >> shift;
    for (std::size_t ub = 0; ub < side; ++ub) {
      const auto b = static_cast<std::int32_t>(static_cast<std::uint32_t>(ub) << shift) >> shift;
      if (full[(ua << bits) | ub] != a * b) return false;
    }
  }
  return true;
}

std::shared_ptr<const hw::multiplier> make_multiplier(const std::string& name, unsigned data_bits, eval_mode mode,
                                                      hw::operand_align align) {
  const mult_entry& entry = find_entry(name);
  if (entry.bits < data_bits) {
    throw config_error("multiplier " + name + " has " + std::to_string(entry.bits) + "-bit operands, narrower than the " +
                       std::to_string(data_bits) + "-bit data");
  }
  auto model = std::make_shared<verilated_multiplier>(entry);
  if (mode == eval_mode::rtl) return hw::align_multiplier(model, data_bits, align);
  if (entry.bits > hw::tabled_multiplier::max_table_bits) {
    model->set_exact(std::string(entry.origin) == "axsa" && std::string(entry.module) == "axsa_mul_exact");
    return hw::align_multiplier(model, data_bits, align);
  }
  const std::vector<std::int32_t> full = full_table(entry);
  model->set_exact(table_is_exact(full, entry.bits));
  // The array's table is indexed by the data_bits-wide patterns, placed into the circuit's N bits as
  // aligned_multiplier places them (shift 0: sign-extended), its products brought back likewise.
  const unsigned n = entry.bits;
  const unsigned s = align == hw::operand_align::high ? n - data_bits : 0;
  const std::size_t side = std::size_t{1} << data_bits;
  const std::uint32_t nmask = (1u << n) - 1;
  const unsigned wshift = 32 - data_bits;
  std::vector<std::int32_t> table(side * side);
  for (std::size_t ua = 0; ua < side; ++ua) {
    const auto a = static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(ua) << wshift) >> wshift);
    for (std::size_t ub = 0; ub < side; ++ub) {
      const auto b =
          static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(ub) << wshift) >> wshift);
      const auto na = static_cast<std::uint32_t>(hw::aligned_multiplier::operand(static_cast<std::int32_t>(a), s));
      const auto nb = static_cast<std::uint32_t>(hw::aligned_multiplier::operand(static_cast<std::int32_t>(b), s));
      table[(ua << data_bits) | ub] = hw::aligned_multiplier::product(full[((na & nmask) << n) | (nb & nmask)], s);
    }
  }
  return std::make_shared<hw::tabled_multiplier>(hw::align_multiplier(model, data_bits, align), data_bits,
                                                 std::move(table));
}

namespace {

std::map<std::string, int> parse_params(const std::string& text) {
  std::map<std::string, int> out;
  std::istringstream in(text);
  std::string kv;
  while (in >> kv) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = std::stoi(kv.substr(eq + 1));
  }
  return out;
}

// Parameters of the in-house designs, resolved once: K, HBL, VBL (-1 when absent).
struct design_params {
  int k = -1, hbl = -1, vbl = -1;
};

class behavioural_multiplier final : public hw::multiplier {
 public:
  using fn = std::int64_t (*)(int n, const design_params& p, std::int32_t a, std::int32_t b);
  behavioural_multiplier(const mult_entry& e, fn f, design_params p)
      : m_name(e.name), m_bits(e.bits), m_params(p), m_fn(f) {}
  std::string name() const override { return m_name + " (behavioural)"; }
  unsigned bits() const override { return m_bits; }
  std::int32_t multiply(std::int32_t a, std::int32_t b) const override {
    return static_cast<std::int32_t>(m_fn(static_cast<int>(m_bits), m_params, a, b));
  }

 private:
  std::string m_name;
  unsigned m_bits;
  design_params m_params;
  fn m_fn;
};

}  // namespace

std::shared_ptr<const hw::multiplier> make_behavioural(const mult_entry& entry) {
  namespace m = hw::mult;
  using P = const design_params&;
  struct model {
    behavioural_multiplier::fn fn;
    std::vector<std::string> needs;
  };
  static const std::map<std::string, model> models = {
      {"axsa_mul_exact", {[](int n, P, std::int32_t a, std::int32_t b) { return m::exact(n, a, b); }, {}}},
      {"axsa_mul_trunc", {[](int n, P p, std::int32_t a, std::int32_t b) { return m::truncated(n, p.k, a, b); }, {"K"}}},
      {"axsa_mul_bam",
       {[](int n, P p, std::int32_t a, std::int32_t b) { return m::broken_array(n, p.hbl, p.vbl, a, b); }, {"HBL", "VBL"}}},
      {"axsa_mul_kulkarni", {[](int n, P, std::int32_t a, std::int32_t b) { return m::kulkarni(n, a, b); }, {}}},
      {"axsa_mul_drum", {[](int n, P p, std::int32_t a, std::int32_t b) { return m::drum(n, p.k, a, b); }, {"K"}}},
      {"axsa_mul_mitchell", {[](int n, P, std::int32_t a, std::int32_t b) { return m::mitchell(n, a, b); }, {}}},
  };
  if (std::string(entry.origin) != "axsa") return nullptr;
  const auto it = models.find(entry.module);
  if (it == models.end()) return nullptr;
  const auto given = parse_params(entry.params);
  for (const auto& key : it->second.needs) {
    if (!given.count(key)) {
      throw config_error(std::string("multiplier ") + entry.name + ": parameter " + key + " missing in rtl/mult/multipliers.txt");
    }
  }
  design_params p;
  if (given.count("K")) p.k = given.at("K");
  if (given.count("HBL")) p.hbl = given.at("HBL");
  if (given.count("VBL")) p.vbl = given.at("VBL");
  return std::make_shared<behavioural_multiplier>(entry, it->second.fn, p);
}

}  // namespace axsa::rtl
