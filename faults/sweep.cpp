#include "faults/sweep.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <exception>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "faults/campaign.h"
#include "faults/campaign_runner.h"
#include "faults/fault_space.h"
#include "faults/sweep_store.h"
#include "rtl/mult_energy.h"
#include "rtl/mult_registry.h"
#include "rtl/synthesis.h"
#include "sw/functional_engine.h"
#include "sw/host_driver.h"
#include "sw/inference.h"
#include "sw/sha256.h"

namespace axsa::sweep {

namespace {

using clock_type = std::chrono::steady_clock;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::stringstream in(text);
  while (std::getline(in, item, ',')) out.push_back(item);
  if (!text.empty() && text.back() == ',') out.emplace_back();
  return out;
}

// A whole decimal number in lo..hi, or nothing.
std::optional<unsigned> whole(const std::string& s, unsigned lo, unsigned hi) {
  if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const unsigned v = static_cast<unsigned>(std::stoul(s));
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

template <class T>
std::string join(const std::vector<T>& v, const std::function<std::string(const T&)>& f) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + f(x);
  return s;
}

// yosys runs once per circuit and process; run_grid fills this before its workers start.
std::optional<rtl::area_estimate> multiplier_area(const rtl::mult_entry& e, std::string* why) {
  static std::mutex lock;
  static std::map<std::string, std::pair<std::optional<rtl::area_estimate>, std::string>> memo;
  std::lock_guard<std::mutex> guard(lock);
  auto it = memo.find(e.name);
  if (it == memo.end()) {
    std::string reason;
    auto area = rtl::estimate_area(e, &reason);
    it = memo.emplace(e.name, std::make_pair(area, reason)).first;
  }
  if (why) *why = it->second.second;
  return it->second.first;
}

const rtl::mult_entry* registered(const std::string& name) {
  for (const auto& e : rtl::registered_entries())
    if (name == e.name) return &e;
  return nullptr;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string duration_text(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

}  // namespace

std::string config_point::label() const {
  return std::to_string(rows) + "x" + std::to_string(cols) + " INT" + std::to_string(bits) + " " + mult + " " + dataflow;
}

double pe_overhead_nand2(const hw::array_config& cfg) {
  const double register_bits = cfg.data_bits * (1.0 + cfg.weight_hop) + cfg.acc_bits;
  return cfg.acc_bits * full_adder_nand2 + register_bits * register_bit_nand2;
}

area_proxy estimate_array_area(const std::string& mult, const hw::array_config& cfg) {
  area_proxy out;
  const std::string circuit = mult == "exact" ? "exact" + std::to_string(cfg.data_bits) : mult;
  const rtl::mult_entry* e = registered(circuit);
  if (e == nullptr) {
    out.basis = "no area proxy: no in-house " + circuit + " design stands for the native exact multiplier";
    return out;
  }
  std::string why;
  const auto area = multiplier_area(*e, &why);
  if (!area) {
    out.basis = "no area proxy for " + circuit + ": " + (why.empty() ? "yosys gave none" : why);
    return out;
  }
  out.mult = area->nand2_equivalents;
  out.pe = *out.mult + pe_overhead_nand2(cfg);
  out.array = *out.pe * cfg.rows * cfg.cols;
  out.basis = "proxy: yosys " + circuit + " " + fixed(*out.mult, 0) + " NAND2-eq + per-bit adder and registers " +
              fixed(pe_overhead_nand2(cfg), 0) + " NAND2-eq, per PE";
  return out;
}

campaign_mode parse_campaign_mode(const std::string& text) {
  if (text == "none") return campaign_mode::none;
  if (text == "quick") return campaign_mode::quick;
  throw config_error("--campaign must be none or quick (got '" + text + "')");
}

const char* to_string(campaign_mode m) { return m == campaign_mode::quick ? "quick" : "none"; }

std::vector<std::pair<unsigned, unsigned>> parse_sizes(const std::string& text) {
  std::vector<std::pair<unsigned, unsigned>> out;
  for (const auto& item : split(text)) {
    const auto x = item.find('x');
    const auto r = whole(item.substr(0, x), 1, hw::array_config::max_dim);
    const auto c = x == std::string::npos ? r : whole(item.substr(x + 1), 1, hw::array_config::max_dim);
    if (!r || !c) {
      throw config_error("--rows: '" + item + "' is not an array size R or RxC with R and C in 1.." +
                         std::to_string(hw::array_config::max_dim));
    }
    if (std::find(out.begin(), out.end(), std::make_pair(*r, *c)) != out.end()) {
      throw config_error("--rows: size '" + item + "' is listed twice");
    }
    out.emplace_back(*r, *c);
  }
  if (out.empty()) throw config_error("--rows: no array size given");
  return out;
}

std::vector<unsigned> parse_widths(const std::string& text) {
  std::vector<unsigned> out;
  for (const auto& item : split(text)) {
    const auto w = whole(item, 2, 16);
    if (!w) throw config_error("--bits: '" + item + "' is not a width in 2..16");
    if (std::find(out.begin(), out.end(), *w) != out.end()) throw config_error("--bits: width " + item + " is listed twice");
    out.push_back(*w);
  }
  if (out.empty()) throw config_error("--bits: no width given");
  return out;
}

std::vector<std::string> parse_mults(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& item : split(text)) {
    if (item.empty()) throw config_error("--mults: empty multiplier name in '" + text + "'");
    if (item != "exact") {
      try {
        (void)rtl::find_entry(item);
      } catch (const config_error& e) {
        throw config_error(std::string("--mults: ") + e.what());
      }
    }
    if (std::find(out.begin(), out.end(), item) != out.end()) throw config_error("--mults: '" + item + "' is listed twice");
    out.push_back(item);
  }
  if (out.empty()) throw config_error("--mults: no multiplier given");
  return out;
}

std::vector<config_point> grid::points() const {
  std::vector<config_point> out;
  for (const auto& [r, c] : sizes)
    for (const unsigned w : widths)
      for (const auto& m : mults) out.push_back({r, c, w, m, dataflow});
  return out;
}

std::map<std::string, std::string> grid::definition() const {
  std::map<std::string, std::string> d;
  d["model"] = model_path;
  d["model_sha256"] = sw::sha256_file(model_path);
  d["data"] = data_dir;
  d["sizes"] = join<std::pair<unsigned, unsigned>>(
      sizes, [](const auto& s) { return std::to_string(s.first) + "x" + std::to_string(s.second); });
  d["bits"] = join<unsigned>(widths, [](const unsigned& w) { return std::to_string(w); });
  d["mults"] = join<std::string>(mults, [](const std::string& m) { return m; });
  d["dataflow"] = dataflow;
  d["first"] = std::to_string(first);
  d["images"] = std::to_string(images);
  d["calibration"] = std::to_string(calibration);
  d["acc_bits"] = acc_bits ? std::to_string(*acc_bits) : "auto";
  d["batch"] = "rows";
  d["campaign"] = to_string(campaign);
  if (campaign == campaign_mode::quick) {
    d["campaign_faults"] = std::to_string(campaign_faults);
    d["campaign_images"] = std::to_string(campaign_images);
    d["campaign_site"] = "weight-link";
    d["campaign_faults_kind"] = "stuck-at";
    d["seed"] = std::to_string(seed);
  }
  d["energy_table"] = energy_table_path.empty() ? "builtin" : energy_table_path;
  d["energy_table_sha256"] = energy_table_path.empty() ? sw::sha256_bytes(hw::energy_table::builtin_text(), std::strlen(hw::energy_table::builtin_text()))
                                                       : sw::sha256_file(energy_table_path);
  return d;
}

config_result evaluate(const grid& g, const config_point& p, const prepared& in) {
  const auto t0 = clock_type::now();
  config_result r;
  r.point = p;
  r.acc_bits = in.acc_bits;
  hw::array_config cfg;
  cfg.rows = p.rows;
  cfg.cols = p.cols;
  cfg.data_bits = p.bits;
  cfg.acc_bits = in.acc_bits;
  cfg.dataflow = hw::parse_dataflow(p.dataflow);
  cfg.validate();
  if (p.mult != "exact") {
    const rtl::mult_entry& e = rtl::find_entry(p.mult);
    if (e.bits < p.bits) {
      r.status = "skipped";
      r.note = "multiplier " + p.mult + " has " + std::to_string(e.bits) + "-bit operands, narrower than the " +
               std::to_string(p.bits) + "-bit data";
      return r;
    }
  }
  const auto mult = p.mult == "exact" ? nullptr : rtl::make_multiplier(p.mult, p.bits, rtl::eval_mode::table);
  const std::size_t batch = cfg.rows;  // as axsa infer's default

  // The functional twin standing for the TLM run: the driver's job split and its bus traffic.
  sw::functional_engine twin(cfg, mult);
  twin.set_host_model(sw::host_driver::model({}));
  const sw::inference_result run = sw::run_inference(*in.net, twin, in.test->images, g.first, g.images, batch);
  const double n = static_cast<double>(run.images);
  r.images = run.images;
  for (std::size_t i = 0; i < run.predictions.size(); ++i)
    r.correct += run.predictions[i] == in.test->labels.labels.at(g.first + i);
  r.accuracy = sw::accuracy(run, in.test->labels.labels, g.first);
  r.cycles_per_image = static_cast<double>(run.totals.array_cycles) / n;
  r.utilization = static_cast<double>(run.totals.macs) /
                  (static_cast<double>(cfg.rows) * cfg.cols * static_cast<double>(run.totals.array_cycles));
  r.macs_per_image = static_cast<double>(run.totals.macs) / n;

  const rtl::multiplier_energy me = rtl::energy_per_product(p.mult == "exact" ? "" : p.mult, p.bits, *in.table);
  const hw::energy_breakdown e = hw::estimate_energy(run.totals.activity, energy_setup_for(cfg, me.pj), *in.table);
  r.energy_pj = e.total() / n;
  r.energy_mult_pj = e.multipliers / n;
  r.energy_adder_pj = e.adders / n;
  r.energy_register_pj = e.registers / n;
  r.energy_buffer_pj = e.buffers / n;
  r.energy_offchip_pj = e.offchip / n;
  r.mult_pj_per_product = me.pj;
  r.mult_energy_basis = me.basis;

  const area_proxy area = estimate_array_area(p.mult, cfg);
  r.mult_area = area.mult;
  r.pe_area = area.pe;
  r.array_area = area.array;
  r.area_basis = area.basis;

  if (g.campaign == campaign_mode::quick) {
    faults::campaign_setup cs;
    cs.net = in.net;
    cs.cfg = cfg;
    cs.mult = mult;
    cs.images = &in.test->images;
    cs.first = g.first;
    cs.count = std::min(g.campaign_images, g.images);
    cs.batch = batch;
    const faults::golden_reference golden(cs);
    const faults::fault_space space(faults::fault_site::weight_link, faults::fault_set::stuck_at, cfg.rows, cfg.cols,
                                    cfg.data_bits, golden.cycles());
    const auto sample = faults::sample_in_run_order(space, std::min<std::uint64_t>(g.campaign_faults, space.size()), g.seed);
    faults::shortcut_engine engine(golden);
    std::uint64_t critical = 0;
    for (const auto& f : sample) {
      for (const auto& pr : faults::classify_run(golden, engine.run(f))) {
        ++r.campaign_pairs;
        critical += pr.result == faults::outcome::critical;
      }
    }
    r.campaign_faults = sample.size();
    r.critical_share = r.campaign_pairs ? static_cast<double>(critical) / static_cast<double>(r.campaign_pairs) : 0.0;
  }
  r.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  return r;
}

hw::energy_setup energy_setup_for(const hw::array_config& cfg, double mult_pj) {
  hw::energy_setup s;
  const tlm_model::buffer_sizes buffers{};
  s.cfg = cfg;
  s.mult_pj = mult_pj;
  s.act_buffer_bytes = buffers.act_bytes;
  s.weight_buffer_bytes = buffers.weight_bytes;
  s.out_buffer_bytes = buffers.out_bytes;
  return s;
}

inputs load_inputs(const grid& g) {
  inputs in{sw::load_onnx(g.model_path), {}, {},
            g.energy_table_path.empty() ? hw::energy_table::builtin() : hw::energy_table::load(g.energy_table_path)};
  if (g.campaign == campaign_mode::quick && in.net.exit_count() > 1) {
    throw config_error(g.model_path + ": has " + std::to_string(in.net.exit_count()) +
                       " exits; --campaign quick runs single-exit networks only");
  }
  if (g.campaign == campaign_mode::quick && g.dataflow != "os") {
    throw config_error("--campaign quick needs --dataflow os (the campaign shortcut models the output-stationary dataflow)");
  }
  in.test = sw::load_mnist(g.data_dir, "t10k");
  sw::check_input(in.net, in.test.images);
  if (g.images == 0 || g.first >= in.test.images.count || g.images > in.test.images.count - g.first) {
    throw config_error("--first " + std::to_string(g.first) + " --images " + std::to_string(g.images) +
                       ": beyond the " + std::to_string(in.test.images.count) + " test images of " + g.data_dir);
  }
  in.train = sw::load_mnist(g.data_dir, "train");
  if (g.calibration == 0 || g.calibration > in.train.images.count) {
    throw config_error("--calibration must be in 1.." + std::to_string(in.train.images.count));
  }
  return in;
}

run_summary run_grid(const grid& g, const inputs& in, store& st, const run_options& opt) {
  const auto t0 = clock_type::now();
  run_summary sum;
  const std::vector<config_point> all = g.points();
  sum.total = all.size();
  std::vector<config_point> pending;
  for (const auto& p : all) {
    if (st.has(p)) ++sum.already_done;
    else pending.push_back(p);
  }
  if (pending.empty()) return sum;

  const sw::network& net = in.net;
  const sw::dataset& test = in.test;
  const hw::energy_table& table = in.table;

  // Quantise once per width that has work left; the circuits' area and energy are looked up once
  // each here, so that the workers never start yosys side by side.
  std::map<unsigned, std::pair<unsigned, sw::qnetwork>> nets;
  for (const auto& p : pending) {
    if (nets.count(p.bits) == 0) {
      const unsigned acc = g.acc_bits ? *g.acc_bits : sw::safe_acc_bits(net, p.bits);
      nets.emplace(p.bits, std::make_pair(acc, sw::quantize(net, p.bits, acc, in.train.images, g.calibration)));
    }
    const rtl::mult_entry* e = p.mult == "exact" ? nullptr : &rtl::find_entry(p.mult);
    if (e != nullptr && e->bits < p.bits) continue;
    hw::array_config cfg;
    cfg.data_bits = p.bits;
    cfg.acc_bits = nets.at(p.bits).first;
    (void)estimate_array_area(p.mult, cfg);
    (void)rtl::energy_per_product(p.mult == "exact" ? "" : p.mult, p.bits, table);
  }

  std::atomic<std::size_t> next{0};
  std::mutex progress_lock;
  std::size_t finished = 0;
  std::vector<std::exception_ptr> errors(std::max(1u, opt.jobs));
  std::atomic<bool> failed{false};
  auto work = [&](unsigned j) {
    try {
      for (std::size_t i; !failed && (i = next++) < pending.size();) {
        const config_point& p = pending[i];
        prepared pin;
        pin.net = &nets.at(p.bits).second;
        pin.acc_bits = nets.at(p.bits).first;
        pin.test = &test;
        pin.table = &table;
        const config_result r = evaluate(g, p, pin);
        st.put(r);
        std::lock_guard<std::mutex> lock(progress_lock);
        ++finished;
        sum.skipped += r.status == "skipped";
        if (opt.progress) {
          const double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
          const double per = elapsed / static_cast<double>(finished);
          std::fprintf(stderr, "\rsweep: %zu/%zu configs (%zu resumed), %-28s %5.1f configs/min, ETA %s   ",
                       sum.already_done + finished, sum.total, sum.already_done, p.label().c_str(),
                       60.0 / std::max(per, 1e-9), duration_text(per * static_cast<double>(pending.size() - finished)).c_str());
          std::fflush(stderr);
        }
      }
    } catch (...) {
      errors[j] = std::current_exception();
      failed = true;
    }
  };
  const unsigned jobs = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, opt.jobs), pending.size()));
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(work, j);
  work(0);
  for (auto& t : threads) t.join();
  if (opt.progress) std::fprintf(stderr, "\n");
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  sum.run = finished;
  sum.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  return sum;
}

}  // namespace axsa::sweep
