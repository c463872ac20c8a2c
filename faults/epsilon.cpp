#include "faults/epsilon.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include "sw/sha256.h"

namespace axsa::epsilon {

namespace {

bool is_gemm(const sw::qlayer& l) { return l.kind == sw::layer_kind::conv || l.kind == sw::layer_kind::dense; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Trunk GEMM indices, in order.
std::vector<std::size_t> trunk_gemms(const sw::qnetwork& net) {
  std::vector<std::size_t> g;
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    if (is_gemm(net.layers[i])) g.push_back(i);
  return g;
}

// The last trunk GEMM before a branch point (the layer that feeds the exit), or npos.
std::size_t feeder(const std::vector<std::size_t>& gemms, std::size_t branch) {
  std::size_t f = std::string::npos;
  for (const std::size_t g : gemms)
    if (g < branch) f = g;
  return f;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

double quantile(const std::vector<std::int16_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

std::string encode_name(const std::string& name) {
  std::string out;
  for (const char c : name) {
    if (c == ' ' || c == '%' || c == '\n' || c == '\t') {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", static_cast<unsigned char>(c));
      out += b;
    } else {
      out += c;
    }
  }
  return out;
}

std::string decode_name(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

// ---- Fault points and faults --------------------------------------------------------------------

std::vector<const sw::qlayer*> weight_layers(const sw::qnetwork& net) {
  std::vector<const sw::qlayer*> out;
  for (const auto& l : net.layers)
    if (is_gemm(l)) out.push_back(&l);
  for (const auto& e : net.exits)
    for (const auto& l : e.layers)
      if (is_gemm(l)) out.push_back(&l);
  return out;
}

std::vector<fault_point> fault_points(const sw::qnetwork& net) {
  const std::vector<std::size_t> g = trunk_gemms(net);
  if (g.size() < 4) {
    throw config_error(net.source + ": FP1 to FP4 need at least four trunk Conv/Gemm layers; the trunk has " +
                       std::to_string(g.size()));
  }
  std::vector<std::size_t> feeders;  // distinct, neither FP4 nor FP1
  for (const auto& e : net.exits) {
    const std::size_t f = feeder(g, e.branch);
    if (f != std::string::npos && f != g.front() && f != g.back() &&
        std::find(feeders.begin(), feeders.end(), f) == feeders.end()) {
      feeders.push_back(f);
    }
  }
  if (feeders.size() < 2) {
    throw config_error(net.source + ": FP2 and FP3 need two internal exits fed by trunk layers other than the first "
                       "and the last; this network has " + std::to_string(feeders.size()));
  }
  auto rank_pos = [&](std::size_t layer) {
    const auto r = static_cast<double>(std::find(g.begin(), g.end(), layer) - g.begin());
    return r / static_cast<double>(g.size() - 1);
  };
  auto nearest = [&](double target) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < feeders.size(); ++i)
      if (std::fabs(rank_pos(feeders[i]) - target) < std::fabs(rank_pos(feeders[best]) - target)) best = i;
    const std::size_t f = feeders[best];
    feeders.erase(feeders.begin() + static_cast<std::ptrdiff_t>(best));
    return f;
  };
  const std::size_t fp3 = nearest(1.0 / 3.0);
  const std::size_t fp2 = nearest(2.0 / 3.0);
  std::vector<fault_point> out;
  for (const auto& [name, idx] : std::vector<std::pair<std::string, std::size_t>>{
           {"FP1", g.back()}, {"FP2", std::max(fp2, fp3)}, {"FP3", std::min(fp2, fp3)}, {"FP4", g.front()}}) {
    out.push_back({name, idx, &net.layers[idx]});
  }
  return out;
}

std::size_t parse_fault_point(const std::string& text) {
  const std::string t = lower(text);
  for (std::size_t i = 0; i < 4; ++i)
    if (t == "fp" + std::to_string(i + 1)) return i;
  throw config_error("unknown fault point '" + text + "' (expected FP1, FP2, FP3 or FP4)");
}

std::vector<sw::stuck_weight_bit> draw_faults(std::size_t count, unsigned bits, const fault_spec& spec) {
  if (!(spec.rate > 0 && spec.rate < 1)) {
    throw config_error("the fault rate must lie in (0, 1) (got " + std::to_string(spec.rate) + ")");
  }
  if (spec.stuck_bit >= static_cast<int>(bits)) {
    throw config_error("--stuck-bit " + std::to_string(spec.stuck_bit) + " is outside the " + std::to_string(bits) +
                       "-bit weights (0.." + std::to_string(bits - 1) + ")");
  }
  const auto k = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(spec.rate * static_cast<double>(count))));
  std::mt19937_64 rng(mix(spec.seed ^ mix(spec.point * 1000003ull + static_cast<std::uint64_t>(spec.rate * 1e6)) ^
                          (spec.stuck_value ? 0x5a5a5a5aull : 0)));
  std::vector<std::size_t> index(count);
  std::iota(index.begin(), index.end(), std::size_t{0});
  std::vector<sw::stuck_weight_bit> out;
  for (std::size_t i = 0; i < k && i < count; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(rng() % (count - i));  // partial Fisher-Yates
    std::swap(index[i], index[j]);
    const unsigned bit = spec.stuck_bit >= 0 ? static_cast<unsigned>(spec.stuck_bit) : static_cast<unsigned>(rng() % bits);
    out.push_back({index[i], bit, spec.stuck_value});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return out;
}

// ---- Options -------------------------------------------------------------------------------------------

pattern_kind parse_pattern(const std::string& text) {
  if (text == "histogram") return pattern_kind::histogram;
  if (text == "zeros") return pattern_kind::zeros;
  throw config_error("--pattern must be histogram or zeros (got '" + text + "')");
}
score_units parse_units(const std::string& text) {
  if (text == "sigma") return score_units::sigma;
  if (text == "share") return score_units::share;
  throw config_error("--score-units must be sigma or share (got '" + text + "')");
}
candidate_set parse_candidates(const std::string& text) {
  if (text == "quartiles") return candidate_set::quartiles;
  if (text == "quartiles-minmax") return candidate_set::quartiles_minmax;
  throw config_error("--candidates must be quartiles or quartiles-minmax (got '" + text + "')");
}
const char* to_string(pattern_kind p) { return p == pattern_kind::histogram ? "histogram" : "zeros"; }
const char* to_string(score_units u) { return u == score_units::sigma ? "sigma" : "share"; }
const char* to_string(candidate_set c) { return c == candidate_set::quartiles ? "quartiles" : "quartiles-minmax"; }

technique parse_technique(const std::string& text) {
  if (text == "vanilla") return technique::vanilla;
  if (text == "mendnet") return technique::mendnet;
  if (text == "epsilon") return technique::epsilon;
  throw config_error("--technique must be epsilon, mendnet or vanilla (got '" + text + "')");
}
const char* to_string(technique t) {
  switch (t) {
    case technique::vanilla: return "vanilla";
    case technique::mendnet: return "mendnet";
    case technique::epsilon: return "epsilon";
  }
  return "?";
}

// ---- Signatures -------------------------------------------------------------------------------------

std::vector<double> pattern_of(const std::vector<std::int16_t>& w, pattern_kind kind, unsigned bins, unsigned bits) {
  if (kind == pattern_kind::zeros) {
    const auto zeros = static_cast<double>(std::count(w.begin(), w.end(), 0));
    const double n = std::max<double>(1, static_cast<double>(w.size()));
    return {zeros / n, 1 - zeros / n};
  }
  std::vector<double> p(bins, 0.0);
  const std::int32_t lo = -(std::int32_t{1} << (bits - 1));
  const std::uint64_t span = std::uint64_t{1} << bits;
  for (const std::int16_t v : w) {
    const auto b = static_cast<std::size_t>((static_cast<std::uint64_t>(v - lo) * bins) / span);
    p[std::min<std::size_t>(b, bins - 1)] += 1;
  }
  for (double& v : p) v /= std::max<double>(1, static_cast<double>(w.size()));
  return p;
}

std::string weights_digest(const sw::qnetwork& net) {
  std::string bytes;
  for (const sw::qlayer* l : weight_layers(net)) {
    bytes.append(reinterpret_cast<const char*>(l->weight_kn.data()), l->weight_kn.size() * sizeof(std::int16_t));
  }
  return sw::sha256_bytes(bytes.data(), bytes.size());
}

signature_set make_signatures(const sw::qnetwork& net, const options& opt) {
  signature_set s;
  const std::string& src = net.source;
  s.model = src.substr(src.find_last_of('/') == std::string::npos ? 0 : src.find_last_of('/') + 1);
  s.weights_sha256 = weights_digest(net);
  s.bits = net.bits;
  s.pattern = opt.pattern;
  s.bins = opt.pattern == pattern_kind::zeros ? 2 : opt.bins;
  const std::vector<std::size_t> g = trunk_gemms(net);
  std::size_t max_k = 2;
  for (const sw::qlayer* l : weight_layers(net)) max_k = std::max(max_k, l->gemm_k);
  // Position along the trunk in [0, 1]: a head sits where the layer that feeds it sits.
  auto position = [&](std::size_t trunk_index) {
    const auto r = static_cast<double>(std::find(g.begin(), g.end(), trunk_index) - g.begin());
    return g.size() > 1 ? r / static_cast<double>(g.size() - 1) : 0.0;
  };
  std::vector<double> positions;
  for (const std::size_t i : g) positions.push_back(position(i));
  for (const auto& e : net.exits) {
    const std::size_t f = feeder(g, e.branch);
    for (const auto& l : e.layers)
      if (is_gemm(l)) positions.push_back(f == std::string::npos ? 0.0 : position(f));
  }
  const std::vector<const sw::qlayer*> layers = weight_layers(net);
  for (std::size_t li = 0; li < layers.size(); ++li) {
    const sw::qlayer& l = *layers[li];
    layer_signature sig;
    sig.name = l.name;
    sig.count = l.weight_kn.size();
    std::vector<std::int16_t> sorted = l.weight_kn;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0, sq = 0;
    for (const std::int16_t v : sorted) sum += v;
    sig.mean = sum / static_cast<double>(sorted.size());
    for (const std::int16_t v : sorted) sq += (v - sig.mean) * (v - sig.mean);
    sig.stddev = std::sqrt(sq / static_cast<double>(sorted.size()));
    for (std::size_t q = 0; q < 5; ++q) sig.quantiles[q] = quantile(sorted, 0.25 * static_cast<double>(q));
    sig.pattern = pattern_of(l.weight_kn, s.pattern, s.bins, net.bits);
    sig.zero_share = static_cast<double>(std::count(sorted.begin(), sorted.end(), 0)) / static_cast<double>(sorted.size());
    sig.beta = 1.0 - (1.0 - opt.beta_min) * positions[li];
    const double type = l.kind == sw::layer_kind::conv ? 1.0 : 0.8;
    const double connectivity = std::log2(std::max<double>(2, static_cast<double>(l.gemm_k))) / std::log2(static_cast<double>(max_k));
    sig.gamma_s = type * connectivity * (1.0 - sig.zero_share);
    sig.alpha = sig.beta * sig.gamma_s;
    s.layers.push_back(std::move(sig));
  }
  return s;
}

void write_signatures(const std::string& path, const signature_set& s) {
  std::ostringstream out;
  out.precision(17);
  out << "axsa-epsilon-signatures 1\n";
  out << "model " << encode_name(s.model) << "\n";
  out << "weights_sha256 " << s.weights_sha256 << "\n";
  out << "bits " << s.bits << "\n";
  out << "pattern " << to_string(s.pattern) << " " << s.bins << "\n";
  for (const layer_signature& l : s.layers) {
    out << "layer " << encode_name(l.name) << " " << l.count << " " << l.mean << " " << l.stddev;
    for (const double q : l.quantiles) out << " " << q;
    out << " " << l.zero_share << " " << l.beta << " " << l.gamma_s << " " << l.alpha;
    out.precision(9);
    for (const double p : l.pattern) out << " " << p;
    out.precision(17);
    out << "\n";
  }
  const std::string tmp = path + ".part";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << out.str();
    f.close();
    if (!f) throw config_error("cannot write the signature file " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw config_error("cannot write the signature file " + path);
}

signature_set read_signatures(const std::string& path, const sw::qnetwork& net, const options& opt) {
  std::ifstream in(path);
  if (!in) throw config_error("cannot open the signature file " + path);
  auto bad = [&](std::size_t line, const std::string& what) {
    return config_error(path + ": line " + std::to_string(line) + ": " + what);
  };
  signature_set s;
  std::string line;
  std::size_t n = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream f(line);
    std::string key;
    f >> key;
    if (n == 1) {
      int version = 0;
      if (key != "axsa-epsilon-signatures" || !(f >> version) || version != 1) {
        throw bad(n, "not an axsa EPSILON signature file (expected 'axsa-epsilon-signatures 1')");
      }
      header = true;
    } else if (key == "model") {
      std::string m;
      f >> m;
      s.model = decode_name(m);
    } else if (key == "weights_sha256") {
      f >> s.weights_sha256;
    } else if (key == "bits") {
      if (!(f >> s.bits) || s.bits < 2 || s.bits > 16) throw bad(n, "bits must be 2..16");
    } else if (key == "pattern") {
      std::string kind;
      f >> kind >> s.bins;
      if (kind != "histogram" && kind != "zeros") throw bad(n, "pattern must be histogram or zeros");
      s.pattern = parse_pattern(kind);
      if (!f || s.bins < 2 || s.bins > 1024) throw bad(n, "the pattern needs 2..1024 bins");
    } else if (key == "layer") {
      layer_signature l;
      std::string name;
      f >> name >> l.count >> l.mean >> l.stddev;
      l.name = decode_name(name);
      for (double& q : l.quantiles) f >> q;
      f >> l.zero_share >> l.beta >> l.gamma_s >> l.alpha;
      l.pattern.resize(s.bins);
      for (double& p : l.pattern) f >> p;
      std::string extra;
      if (!f || (f >> extra) || !std::isfinite(l.mean) || !(l.stddev >= 0) || !(l.alpha >= 0)) {
        throw bad(n, "a layer line needs a name, a count, mean, standard deviation, 5 quantiles, zero share, beta, "
                     "gamma_s, alpha and " + std::to_string(s.bins) + " pattern values");
      }
      s.layers.push_back(std::move(l));
    } else if (!key.empty()) {
      throw bad(n, "unknown key '" + key + "'");
    }
  }
  if (!header) throw config_error(path + ": empty; not an axsa EPSILON signature file");
  const std::string digest = weights_digest(net);
  const std::vector<const sw::qlayer*> layers = weight_layers(net);
  bool same = s.weights_sha256 == digest && s.bits == net.bits && s.layers.size() == layers.size();
  for (std::size_t i = 0; same && i < layers.size(); ++i)
    same = s.layers[i].name == layers[i]->name && s.layers[i].count == layers[i]->weight_kn.size();
  if (!same) {
    throw config_error(path + ": signatures of another model ('" + s.model + "', INT" + std::to_string(s.bits) + ", " +
                       std::to_string(s.layers.size()) + " layers) than " + net.source + " at INT" +
                       std::to_string(net.bits) + " (" + std::to_string(layers.size()) + " layers); make them with --make-signatures");
  }
  const unsigned bins = opt.pattern == pattern_kind::zeros ? 2 : opt.bins;
  if (s.pattern != opt.pattern || s.bins != bins) {
    throw config_error(path + ": made with the " + std::string(to_string(s.pattern)) + " pattern of " +
                       std::to_string(s.bins) + " bins, but --pattern asks for " + to_string(opt.pattern) + " of " +
                       std::to_string(bins));
  }
  if (opt.alpha >= 0)
    for (auto& l : s.layers) l.alpha = opt.alpha;
  return s;
}

// ---- Detection and correction ------------------------------------------------------------------

double threshold(const layer_signature& sig, const options& opt) { return (opt.m + sig.alpha) * sig.stddev; }

double pattern_score(const layer_signature& sig, const std::vector<std::int16_t>& w, const options& opt, unsigned bits) {
  const std::vector<double> cur = pattern_of(w, opt.pattern, static_cast<unsigned>(sig.pattern.size()), bits);
  double score = 0;
  const auto n = static_cast<double>(w.size());
  for (std::size_t i = 0; i < cur.size(); ++i) {
    const double diff = std::fabs(cur[i] - sig.pattern[i]);
    // sigma: the change of each bin's count in units of its count's Poisson spread, summed.
    score += opt.units == score_units::sigma ? diff * n / std::sqrt(sig.pattern[i] * n + 1.0) : diff;
  }
  return score;
}

bool flags(const layer_signature& sig, const std::vector<std::int16_t>& w, const options& opt, unsigned bits) {
  const double score = pattern_score(sig, w, opt, bits);
  if (opt.units == score_units::sigma) return score > opt.m + sig.alpha;  // T_l / sigma_l
  return score > threshold(sig, opt) / static_cast<double>(1u << (bits - 1));  // T_l as a share of full scale
}

std::size_t correct(const layer_signature& sig, std::vector<std::int16_t>& w, const options& opt) {
  std::vector<double> candidates = {sig.quantiles[1], sig.quantiles[2], sig.quantiles[3]};
  if (opt.candidates == candidate_set::quartiles_minmax) {
    candidates.push_back(sig.quantiles[0]);
    candidates.push_back(sig.quantiles[4]);
  }
  const double t = threshold(sig, opt);
  std::size_t changed = 0;
  for (std::int16_t& v : w) {
    if (std::fabs(v - sig.mean) <= t) continue;
    double best = candidates[0];
    for (const double c : candidates)
      if (std::fabs(v - c) < std::fabs(v - best)) best = c;
    const auto r = static_cast<std::int16_t>(std::llround(best));
    changed += r != v;
    v = r;
  }
  return changed;
}

// ---- Techniques ---------------------------------------------------------------------------------------

double energy_score(const std::vector<std::int64_t>& logits, double acc_scale) {
  if (logits.empty()) return 0;
  const std::int64_t top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (const std::int64_t v : logits) sum += std::exp(static_cast<double>(v - top) * acc_scale);
  return -(static_cast<double>(top) * acc_scale + std::log(sum));
}

sw::gemm_stats deploy(const sw::qnetwork& net, sw::gemm_backend& backend) {
  sw::gemm_stats cost;
  for (const sw::qlayer* l : weight_layers(net)) backend.write_weights(l, l->weight_kn.data(), l->weight_kn.size(), cost);
  return cost;
}

std::vector<sw::stuck_weight_bit> inject(const sw::qnetwork& net, sw::gemm_backend& backend, const fault_spec& spec) {
  if (spec.point > 3) throw config_error("fault point index " + std::to_string(spec.point) + " is not FP1..FP4");
  const fault_point fp = fault_points(net)[spec.point];
  auto bits = draw_faults(fp.layer->weight_kn.size(), net.bits, spec);
  backend.stick_weight_bits(fp.layer, bits);
  return bits;
}

namespace {

void add(sw::gemm_stats& a, const sw::gemm_stats& b) { a += b; }

}  // namespace

golden_prefix record_prefix(const sw::qnetwork& net, sw::gemm_backend& backend, const sw::idx_images& images,
                            std::size_t first, std::size_t count, std::size_t batch) {
  golden_prefix p;
  p.first = first;
  p.count = count;
  p.batch = batch;
  for (const fault_point& fp : fault_points(net)) p.layers.push_back(fp.trunk_layer);
  for (std::size_t b0 = 0; b0 < count; b0 += batch) {
    const std::size_t nb = std::min(batch, count - b0);
    std::vector<std::vector<std::int16_t>> inputs;
    std::vector<sw::layer_stats> stats = sw::make_layer_stats(net);
    sw::run_batch(net, backend, sw::quantize_images(net, images, first + b0, nb), nb, 0, stats, &inputs);
    std::vector<std::vector<std::int16_t>> kept;
    std::vector<sw::gemm_stats> cost;
    for (const std::size_t l : p.layers) {
      kept.push_back(inputs.at(l));
      sw::gemm_stats before;
      for (std::size_t g = 0; g < sw::gemm_ordinal(net, l); ++g) add(before, stats[g].totals);
      cost.push_back(before);
    }
    p.inputs.push_back(std::move(kept));
    p.cost.push_back(std::move(cost));
  }
  return p;
}

run_result run(const sw::qnetwork& net, sw::gemm_backend& backend, const sw::idx_images& images, std::size_t first,
               std::size_t count, const run_options& opt, const signature_set* signatures, const golden_prefix* prefix,
               std::size_t from_point) {
  if (opt.tech == technique::epsilon && signatures == nullptr) throw config_error("EPSILON needs the layers' signatures");
  if (opt.batch == 0) throw config_error("batch must be at least 1");
  const std::vector<const sw::qlayer*> layers = weight_layers(net);
  if (signatures && signatures->layers.size() != layers.size()) throw config_error("the signatures do not fit the network");
  run_result out;
  out.flags_per_layer.assign(layers.size(), 0);
  sw::exit_options exits;
  exits.gamma = opt.gamma;
  if (opt.tech == technique::vanilla || net.exit_count() == 1) exits.policy = sw::exit_policy::final;
  if (opt.tech == technique::mendnet) {
    exits.stop = [&opt](std::size_t, const std::vector<std::int64_t>& logits, double scale) {
      return sw::confident(logits, scale, opt.gamma) && energy_score(logits, scale) <= opt.tau;
    };
  }
  const std::size_t final_exit = net.exit_count() - 1;
  const double final_scale = net.logits_layer(final_exit).acc_scale;
  const bool shortcut = prefix != nullptr && opt.tech == technique::vanilla;
  if (shortcut && (prefix->first != first || prefix->count != count || prefix->batch != opt.batch || from_point > 3)) {
    throw config_error("the golden prefix was recorded for other images or another batch");
  }
  for (std::size_t b0 = 0; b0 < count; b0 += opt.batch) {
    const std::size_t nb = std::min(opt.batch, count - b0);
    sw::inference_result r;
    if (shortcut) {
      // Everything before the faulty layer is fault-free: start there from the recorded activations.
      const std::size_t b = b0 / opt.batch, layer = prefix->layers[from_point];
      r.images = nb;
      r.layers = sw::make_layer_stats(net);
      for (auto& v : sw::run_batch(net, backend, prefix->inputs[b][from_point], nb, layer, r.layers)) {
        r.predictions.push_back(static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()));
        r.logits.push_back(std::move(v));
      }
      for (const auto& st : r.layers) add(r.totals, st.totals);
      add(r.totals, prefix->cost[b][from_point]);
      r.exit_taken.assign(nb, static_cast<int>(final_exit));
    } else {
      r = sw::run_inference(net, backend, images, first + b0, nb, nb, exits);
    }
    if (r.exit_taken.empty()) r.exit_taken.assign(nb, static_cast<int>(final_exit));
    std::vector<bool> flagged(nb, false);
    std::vector<std::size_t> low;  // images no exit was confident about
    for (std::size_t i = 0; i < nb; ++i) {
      if (static_cast<std::size_t>(r.exit_taken[i]) != final_exit) continue;
      if (opt.tech == technique::mendnet) flagged[i] = energy_score(r.logits[i], final_scale) > opt.tau;
      if (opt.tech == technique::epsilon && !sw::confident(r.logits[i], final_scale, opt.gamma)) low.push_back(i);
    }
    if (!low.empty()) {
      // Algorithm 1: read every layer back, flag those off their signature, correct, write back.
      ++out.analyses;
      bool detected = false;
      for (std::size_t li = 0; li < layers.size(); ++li) {
        const layer_signature& sig = signatures->layers[li];
        std::vector<std::int16_t> w(layers[li]->weight_kn.size());
        backend.read_weights(layers[li], w.data(), w.size(), out.extra);
        if (!flags(sig, w, opt.eps, net.bits)) continue;
        detected = true;
        ++out.layers_flagged;
        ++out.flags_per_layer[li];
        const std::size_t changed = correct(sig, w, opt.eps);
        out.weights_corrected += changed;
        if (changed) backend.write_weights(layers[li], w.data(), w.size(), out.extra);
      }
      if (detected) {
        // The images that triggered the check run again, to the final exit, on the corrected weights.
        const std::size_t pixels = std::size_t{images.rows} * images.cols;
        std::vector<std::int16_t> cur;
        cur.reserve(low.size() * pixels);
        for (const std::size_t i : low) {
          const auto one = sw::quantize_images(net, images, first + b0 + i, 1);
          cur.insert(cur.end(), one.begin(), one.end());
        }
        std::vector<sw::layer_stats> stats = sw::make_layer_stats(net);
        const auto logits = sw::run_batch(net, backend, cur, low.size(), 0, stats);
        for (const auto& s : stats) add(out.extra, s.totals);
        for (std::size_t j = 0; j < low.size(); ++j) {
          const std::size_t i = low[j];
          r.logits[i] = logits[j];
          r.predictions[i] = static_cast<int>(std::max_element(logits[j].begin(), logits[j].end()) - logits[j].begin());
          flagged[i] = true;
        }
        out.reruns += low.size();
      }
    }
    sw::append_result(out.inference, r);
    out.image_flagged.insert(out.image_flagged.end(), flagged.begin(), flagged.end());
  }
  add(out.inference.totals, out.extra);
  return out;
}

}  // namespace axsa::epsilon
