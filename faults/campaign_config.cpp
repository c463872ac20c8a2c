#include "faults/campaign_config.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>

#include "faults/fault_space.h"
#include "faults/stratified.h"
#include "hw/array_config.h"
#include "hw/fault.h"

namespace axsa::faults {

namespace {
std::string format_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// outcome, campaign_config

const char* to_string(outcome o) {
  switch (o) {
    case outcome::masked: return "masked";
    case outcome::tolerable: return "tolerable";
    case outcome::critical: return "critical";
    case outcome::crash: return "crash";
    case outcome::hang: return "hang";
  }
  return "?";
}

bool campaign_config::operator==(const campaign_config& o) const {
  return model_path == o.model_path && model_sha256 == o.model_sha256 && data_dir == o.data_dir && bits == o.bits &&
         acc_bits == o.acc_bits && rows == o.rows && cols == o.cols && mult == o.mult && mult_eval == o.mult_eval &&
         operand_align == o.operand_align &&
         engine == o.engine && site == o.site && fault_types == o.fault_types && first_image == o.first_image &&
         images == o.images && batch == o.batch && confidence == o.confidence && margin == o.margin && p == o.p &&
         exhaustive == o.exhaustive && seed == o.seed && population == o.population && sample_size == o.sample_size &&
         golden_cycles == o.golden_cycles && version == o.version && shard == o.shard && logits == o.logits &&
         sampling == o.sampling && pilot == o.pilot && strata == o.strata;
}

std::vector<std::pair<std::string, std::string>> campaign_config::to_key_values() const {
  using std::to_string;
  std::vector<std::pair<std::string, std::string>> kv{{"model_path", model_path},
          {"model_sha256", model_sha256},
          {"data_dir", data_dir},
          {"bits", to_string(bits)},
          {"acc_bits", to_string(acc_bits)},
          {"rows", to_string(rows)},
          {"cols", to_string(cols)},
          {"mult", mult},
          {"mult_eval", mult_eval},
          {"engine", engine},
          {"site", site},
          {"fault_types", fault_types},
          {"first_image", to_string(first_image)},
          {"images", to_string(images)},
          {"batch", to_string(batch)},
          {"confidence", format_double(confidence)},
          {"margin", format_double(margin)},
          {"p", format_double(p)},
          {"exhaustive", exhaustive ? "true" : "false"},
          {"seed", to_string(seed)},
          {"population", to_string(population)},
          {"sample_size", to_string(sample_size)},
          {"golden_cycles", to_string(golden_cycles)},
          {"version", version}};
  if (operand_align != "low") kv.emplace_back("operand_align", operand_align);
  if (!shard.whole()) kv.emplace_back("shard", shard.str());
  if (logits != "dequantized") kv.emplace_back("logits", logits);
  if (sampling != "uniform") {
    kv.emplace_back("sampling", sampling);
    kv.emplace_back("pilot", to_string(pilot));
    kv.emplace_back("strata", strata);
  }
  return kv;
}

campaign_config campaign_config::from_key_values(const std::vector<std::pair<std::string, std::string>>& kv) {
  const std::map<std::string, std::string> m(kv.begin(), kv.end());
  auto get = [&](const char* key) -> const std::string& {
    const auto it = m.find(key);
    if (it == m.end()) throw config_error(std::string("campaign config lacks the key '") + key + "'");
    return it->second;
  };
  auto bad = [&](const char* key, const std::string& expected) {
    return config_error(std::string("campaign config: ") + key + " = '" + get(key) + "' is not " + expected);
  };
  auto uint = [&](const char* key) -> std::uint64_t {
    const std::string& v = get(key);
    if (v.empty() || v.size() > 20 || v.find_first_not_of("0123456789") != std::string::npos) {
      throw bad(key, "a non-negative integer");
    }
    errno = 0;
    const auto r = std::strtoull(v.c_str(), nullptr, 10);
    if (errno == ERANGE) throw bad(key, "a 64-bit integer");
    return r;
  };
  auto small = [&](const char* key) -> unsigned {
    const auto v = uint(key);
    if (v > std::numeric_limits<unsigned>::max()) throw bad(key, "a small integer");
    return static_cast<unsigned>(v);
  };
  auto real = [&](const char* key) -> double {
    const std::string& v = get(key);
    char* end = nullptr;
    const double r = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size()) throw bad(key, "a number");
    return r;
  };
  // The ranges the campaign command accepts: anything else was not written by axsa, and would be
  // reported as a complete campaign with shares above 100 % or an empty array.
  auto in_range = [&](const char* key, std::uint64_t lo, std::uint64_t hi) -> unsigned {
    const auto v = small(key);
    if (v < lo || v > hi) throw bad(key, "in " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  };
  auto positive = [&](const char* key) -> std::uint64_t {
    const auto v = uint(key);
    if (v == 0) throw bad(key, "a positive integer");
    return v;
  };
  auto share = [&](const char* key) -> double {
    const double v = real(key);
    if (!(v > 0 && v < 1)) throw bad(key, "strictly between 0 and 1");
    return v;
  };
  campaign_config c;
  c.model_path = get("model_path");
  c.model_sha256 = get("model_sha256");
  c.data_dir = get("data_dir");
  c.bits = in_range("bits", 2, 16);
  c.acc_bits = in_range("acc_bits", 2, 64);
  c.rows = in_range("rows", 1, hw::array_config::max_dim);
  c.cols = in_range("cols", 1, hw::array_config::max_dim);
  c.mult = get("mult");
  c.mult_eval = get("mult_eval");
  if (m.count("operand_align")) {
    c.operand_align = get("operand_align");
    if (c.operand_align != "low" && c.operand_align != "high") throw bad("operand_align", "low or high");
  }
  c.engine = get("engine");
  c.site = get("site");
  try {
    (void)parse_sites(c.site);
  } catch (const config_error&) {
    throw bad("site", "a comma-separated list of weight-link, weight-mult, act-link, act-mult and acc, each once");
  }
  c.fault_types = get("fault_types");
  try {
    (void)parse_fault_set(c.fault_types);
  } catch (const config_error&) {
    throw bad("fault_types", "stuck-at, bit-flip or all");
  }
  c.first_image = uint("first_image");
  c.images = positive("images");
  c.batch = positive("batch");
  c.confidence = share("confidence");
  c.margin = share("margin");
  c.p = share("p");
  const std::string& ex = get("exhaustive");
  if (ex != "true" && ex != "false") throw bad("exhaustive", "true or false");
  c.exhaustive = ex == "true";
  c.seed = uint("seed");
  c.population = positive("population");
  c.sample_size = positive("sample_size");
  if (c.sample_size > c.population) throw bad("sample_size", "in 1.." + std::to_string(c.population) + " (the population)");
  c.golden_cycles = uint("golden_cycles");
  c.version = get("version");
  if (m.count("shard")) {
    try {
      c.shard = parse_shard(get("shard"));
    } catch (const config_error&) {
      throw bad("shard", "I/N with 1 <= I <= N");
    }
    if (c.shard.count > c.sample_size) throw bad("shard", "a slice of the sample of " + std::to_string(c.sample_size));
  }
  if (m.count("logits")) {
    c.logits = get("logits");  // the names of sw::logits_convention (this library sits below sw/)
    if (c.logits != "dequantized" && c.logits != "requantized") throw bad("logits", "dequantized or requantized");
  }
  if (m.count("sampling")) {
    c.sampling = get("sampling");
    if (c.sampling != "uniform" && c.sampling != "stratified") throw bad("sampling", "uniform or stratified");
  }
  if (c.sampling == "stratified") {
    c.pilot = uint("pilot");
    c.strata = get("strata");
    std::vector<std::uint64_t> n;
    try {
      n = parse_allocation(c.strata);
    } catch (const config_error&) {
      throw bad("strata", "a comma-separated list of fault counts");
    }
    std::uint64_t sum = 0;
    for (auto v : n) sum += std::min<std::uint64_t>(v, c.population + 1);
    if (sum != c.sample_size) throw bad("strata", "an allocation summing to sample_size = " + std::to_string(c.sample_size));
  }
  return c;
}

fault_space campaign_fault_space(const campaign_config& cfg) {
  return fault_space(parse_sites(cfg.site), parse_fault_set(cfg.fault_types), cfg.rows, cfg.cols, cfg.bits, cfg.acc_bits,
                     cfg.golden_cycles);
}

std::vector<fault> campaign_sample(const campaign_config& cfg) {
  const fault_space space = campaign_fault_space(cfg);
  if (space.size() != cfg.population) {
    throw config_error("campaign config: population = " + std::to_string(cfg.population) +
                       " is not the size of its fault space, " + std::to_string(space.size()));
  }
  if (cfg.sampling == "stratified") return stratified_sample_in_run_order(space, parse_allocation(cfg.strata), cfg.seed);
  return sample_in_run_order(space, cfg.sample_size, cfg.seed);
}

}  // namespace axsa::faults
