// axsa multipliers: every registered multiplier with its width, exhaustively computed error
// metrics, a yosys area proxy and, for EvoApprox names, the published figures.
#include <algorithm>
#include <iostream>
#include <optional>
#include <sstream>

#include <unistd.h>

#include "hw/mult/error_metrics.h"
#include "rtl/mult_registry.h"
#include "rtl/published_metrics.h"
#include "rtl/synthesis.h"
#include "testbench/commands.h"
#include "testbench/json.h"
#include "testbench/options.h"

namespace po = boost::program_options;

namespace axsa::cli {

namespace {

struct row {
  const rtl::mult_entry* entry;
  hw::mult::error_metrics metrics;
  std::optional<rtl::area_estimate> area;
  std::string area_note;
  const rtl::published_metrics* published;
};

hw::mult::error_metrics compute_metrics(const rtl::mult_entry& e, std::uint64_t samples) {
  if (e.bits <= 12) return hw::mult::metrics_from_table(rtl::full_table(e), e.bits);
  const rtl::verilated_multiplier m(e);
  return hw::mult::metrics_sampled(m, samples, 1);
}

std::string csv_number(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

}  // namespace

int run_multipliers(const std::vector<std::string>& args) {
  po::options_description desc("Options");
  desc.add_options()
    ("help,h", "show this help")
    ("json", "print a JSON array, one object per multiplier")
    ("csv", "print CSV, one line per multiplier")
    ("name", po::value<std::vector<std::string>>(), "only this multiplier (repeatable)")
    ("no-area", "skip the yosys area proxy")
    ("samples", po::value<long long>()->default_value(1 << 22),
     "random operand pairs for circuits wider than 12 bits (narrower ones are exhaustive)");
  po::variables_map vm;
  if (!parse_command("multipliers",
                     "Lists the registered multipliers with error metrics against the exact product (exhaustive\n"
                     "up to 12 bits), a yosys area proxy and, for EvoApprox circuits, the published figures.\n"
                     "mred and ep are in percent; mae and wce in product units.",
                     desc, args, vm)) {
    return 0;
  }
  if (vm.count("json") && vm.count("csv")) throw config_error("--json and --csv exclude each other");
  const auto samples = ranged(vm, "samples", 1, 1ll << 32);
  const bool want_area = !vm.count("no-area");

  std::vector<const rtl::mult_entry*> chosen;
  if (vm.count("name")) {
    for (const auto& n : vm["name"].as<std::vector<std::string>>()) {
      const auto* e = &rtl::find_entry(n);
      if (std::find(chosen.begin(), chosen.end(), e) == chosen.end()) chosen.push_back(e);  // each once
    }
  } else {
    for (const auto& e : rtl::registered_entries()) chosen.push_back(&e);
  }

  const bool progress = isatty(STDERR_FILENO) != 0;
  std::vector<row> rows;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const auto& e = *chosen[i];
    if (progress) std::cerr << "[" << i + 1 << "/" << chosen.size() << "] " << e.name << "          \r" << std::flush;
    row r{&e, compute_metrics(e, samples), std::nullopt, "", rtl::find_published(e.name)};
    if (want_area) r.area = rtl::estimate_area(e, &r.area_note);
    rows.push_back(r);
  }
  if (progress) std::cerr << std::string(40, ' ') << "\r" << std::flush;

  if (vm.count("json")) {
    json_value out = json_value::array();
    for (const auto& r : rows) {
      json_object o;
      const auto& m = r.metrics;
      o.add("name", r.entry->name).add("bits", r.entry->bits).add("origin", r.entry->origin);
      o.add("module", r.entry->module).add("params", r.entry->params);
      o.add("exhaustive", m.exhaustive).add("pairs", m.pairs);
      o.add("mae", m.mae).add("wce", m.wce).add("mred", m.mred_pct).add("ep", m.ep_pct);
      o.add("mae_pct", m.mae_pct).add("wce_pct", m.wce_pct).add("mean_error", m.mean_error).add("mse", m.mse);
      if (r.area) o.add("cells", r.area->cells).add("area_nand2", r.area->nand2_equivalents);
      if (r.published) {
        json_object p;
        p.add("mae", r.published->mae).add("wce", r.published->wce).add("ep", r.published->ep_pct);
        p.add("mred", r.published->mre_pct).add("area_um2", r.published->area_um2);
        p.add("power_mw", r.published->power_mw).add("delay_ns", r.published->delay_ns);
        o.add("published", p);
      }
      out.push_back(o.value());
    }
    std::cout << to_line(out) << std::endl;
    return 0;
  }
  if (vm.count("csv")) {
    std::cout << "name,bits,origin,exhaustive,pairs,mae,wce,mred,ep,mae_pct,wce_pct,mean_error,mse,cells,area_nand2,"
                 "published_mae,published_wce,published_mred,published_ep,published_area_um2\n";
    for (const auto& r : rows) {
      const auto& m = r.metrics;
      std::cout << r.entry->name << ',' << r.entry->bits << ',' << r.entry->origin << ',' << (m.exhaustive ? 1 : 0)
                << ',' << m.pairs << ',' << csv_number(m.mae) << ',' << csv_number(m.wce) << ','
                << csv_number(m.mred_pct) << ',' << csv_number(m.ep_pct) << ',' << csv_number(m.mae_pct) << ','
                << csv_number(m.wce_pct) << ',' << csv_number(m.mean_error) << ',' << csv_number(m.mse) << ','
                << (r.area ? std::to_string(r.area->cells) : "") << ','
                << (r.area ? csv_number(r.area->nand2_equivalents) : "");
      if (r.published) {
        std::cout << ',' << csv_number(r.published->mae) << ',' << csv_number(r.published->wce) << ','
                  << csv_number(r.published->mre_pct) << ',' << csv_number(r.published->ep_pct) << ','
                  << csv_number(r.published->area_um2);
      } else {
        std::cout << ",,,,,";
      }
      std::cout << '\n';
    }
    return 0;
  }
  std::printf("%-14s %4s %-9s %12s %10s %9s %8s %12s %7s %9s\n", "name", "bits", "origin", "MAE", "WCE", "MRED%",
              "EP%", "mean error", "cells", "area(GE)");
  for (const auto& r : rows) {
    const auto& m = r.metrics;
    std::printf("%-14s %4u %-9s %12.4g %10.6g %9.4f %8.3f %12.4g %7s %9s%s\n", r.entry->name, r.entry->bits,
                r.entry->origin, m.mae, m.wce, m.mred_pct, m.ep_pct, m.mean_error,
                r.area ? std::to_string(r.area->cells).c_str() : "-",
                r.area ? csv_number(r.area->nand2_equivalents).c_str() : "-", m.exhaustive ? "" : "  (sampled)");
    if (r.published) {
      std::printf("%-14s %4s %-9s %12.4g %10.6g %9.4f %8.3f %12s %7s %9s  PDK45 %.1f um2\n", "  published", "", "",
                  r.published->mae, r.published->wce, r.published->mre_pct, r.published->ep_pct, "", "", "",
                  r.published->area_um2);
    }
  }
  if (want_area && !rows.empty() && !rows.front().area) std::printf("area: %s\n", rows.front().area_note.c_str());
  return 0;
}

}  // namespace axsa::cli
