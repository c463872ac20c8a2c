#include "rtl/array/lockstep.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <memory>

#include "hw/array_core.h"
#include "rtl/array/fault_masks.h"
#include "rtl/array/feed_schedule.h"
#include "rtl/array/trace_window.h"
#include "rtl/mult_registry.h"

namespace axsa::rtl {

void read_engine(const hw::array_engine& core, array_snapshot& s) {
  const unsigned rows = core.config().rows, cols = core.config().cols;
  s.west_in.resize(rows);
  s.north_in.resize(cols);
  s.acc.resize(static_cast<std::size_t>(rows) * cols);
  s.east.resize(s.acc.size());
  s.south.resize(s.acc.size());
  s.mac_en.resize(s.acc.size());
  s.drain_out.resize(cols);
  for (unsigned r = 0; r < rows; ++r) s.west_in[r] = core.west_in(r, 0);
  for (unsigned c = 0; c < cols; ++c) {
    s.north_in[c] = core.north_in(0, c);
    s.drain_out[c] = core.drain_out(c);
  }
  for (unsigned r = 0; r < rows; ++r) {
    for (unsigned c = 0; c < cols; ++c) {
      const std::size_t i = static_cast<std::size_t>(r) * cols + c;
      s.acc[i] = core.acc(r, c);
      s.east[i] = core.east_out(r, c);
      s.south[i] = core.south_out(r, c);
      s.mac_en[i] = core.mac_enabled(r, c) ? 1 : 0;
    }
  }
}

std::optional<mismatch> compare_snapshots(const array_snapshot& m, const array_snapshot& r, unsigned rows,
                                          unsigned cols, std::uint64_t& compared) {
  auto diff = [&](unsigned row, unsigned col, const char* signal, std::int64_t a, std::int64_t b) {
    return std::optional<mismatch>(mismatch{m.cycle, row, col, signal, a, b});
  };
  compared += rows + cols + 4ull * rows * cols + cols;
  for (unsigned i = 0; i < rows; ++i) {
    if (m.west_in[i] != r.west_in[i]) return diff(i, 0, "west_in", m.west_in[i], r.west_in[i]);
  }
  for (unsigned j = 0; j < cols; ++j) {
    if (m.north_in[j] != r.north_in[j]) return diff(0, j, "north_in", m.north_in[j], r.north_in[j]);
  }
  for (unsigned i = 0; i < rows; ++i) {
    for (unsigned j = 0; j < cols; ++j) {
      const std::size_t p = static_cast<std::size_t>(i) * cols + j;
      if (m.acc[p] != r.acc[p]) return diff(i, j, "acc", m.acc[p], r.acc[p]);
      if (m.east[p] != r.east[p]) return diff(i, j, "east", m.east[p], r.east[p]);
      if (m.south[p] != r.south[p]) return diff(i, j, "south", m.south[p], r.south[p]);
      if (m.mac_en[p] != r.mac_en[p]) return diff(i, j, "mac_en", m.mac_en[p], r.mac_en[p]);
    }
  }
  for (unsigned j = 0; j < cols; ++j) {
    if (m.drain_out[j] != r.drain_out[j]) return diff(rows - 1, j, "drain_out", m.drain_out[j], r.drain_out[j]);
  }
  return std::nullopt;
}

std::shared_ptr<const hw::multiplier> model_multiplier(const array_entry& rtl, hw::operand_align align) {
  return make_multiplier(rtl.mult, rtl.data_bits, eval_mode::table, align);
}

lockstep_result run_lockstep(const array_entry& rtl, const hw::multiplier* model_mult, const hw::gemm_shape& shape,
                             const std::int16_t* act, const std::int16_t* weight, const lockstep_options& options) {
  hw::array_config cfg;
  cfg.rows = rtl.rows;
  cfg.cols = rtl.cols;
  cfg.data_bits = rtl.data_bits;
  cfg.acc_bits = rtl.acc_bits;
  if (model_mult != nullptr) cfg.align = model_mult->alignment();
  cfg.validate();
  hw::array_core core(cfg);
  core.set_multiplier(model_mult);
  return run_lockstep(rtl, core, shape, act, weight, options);
}

lockstep_result run_lockstep(const array_entry& rtl, hw::array_engine& core, const hw::gemm_shape& shape,
                             const std::int16_t* act, const std::int16_t* weight, const lockstep_options& options) {
  const hw::array_config& cfg = core.config();
  if (cfg.rows != rtl.rows || cfg.cols != rtl.cols || cfg.data_bits != rtl.data_bits || cfg.acc_bits != rtl.acc_bits ||
      cfg.weight_hop != 1) {
    throw config_error(std::string("the model's configuration is not the RTL's (") + rtl.name + ")");
  }
  shape.validate();
  const feed_schedule schedule(cfg.rows, cfg.cols, shape, act, weight);
  const std::uint64_t total = schedule.cycles();
  if (options.bug) {
    const model_bug& b = *options.bug;
    if (b.row >= cfg.rows || b.col >= cfg.cols) {
      throw config_error("model bug on PE (" + std::to_string(b.row) + "," + std::to_string(b.col) + ") outside the " +
                         std::to_string(cfg.rows) + "x" + std::to_string(cfg.cols) + " array");
    }
    if (b.cycle > total) {
      throw config_error("model bug at cycle " + std::to_string(b.cycle) + ", after the run's last cycle " +
                         std::to_string(total));
    }
  }

  lockstep_result res;
  res.cycles = total;
  res.model_out.assign(shape.m * shape.n, 0);
  res.rtl_out.assign(shape.m * shape.n, 0);

  // The RTL twin has no controller (this driver sequences it): control faults have no counterpart.
  for (const auto& f : options.faults) {
    if (f.site == faults::fault_site::control) {
      throw config_error("control faults have no RTL counterpart (the C++ driver sequences the RTL array; docs/faults.md)");
    }
  }
  core.set_faults(options.faults);  // validates them
  std::vector<faults::fault> rtl_faults = options.faults;
  for (const auto& f : options.rtl_only_faults) {
    f.validate(cfg);
    rtl_faults.push_back(f);
  }
  fault_mask_plan masks(std::move(rtl_faults), cfg.rows, cfg.cols);
  std::unique_ptr<rtl_array> dut = rtl.make();
  dut->set_align_high(cfg.align == hw::operand_align::high);  // the model's alignment, strapped for the run
  dut->reset();
  core.start(hw::gemm_job{shape, act, weight, res.model_out.data()});

  const bool tracing = !options.vcd_prefix.empty();
  const std::size_t keep = static_cast<std::size_t>(options.vcd_radius) * 2 + 1;
  std::deque<std::pair<array_snapshot, array_snapshot>> history;
  array_snapshot model_now, rtl_now;
  feed_schedule::edges edges;
  std::uint64_t stop_after = total;  // last cycle to simulate

  for (std::uint64_t cycle = 0;; ++cycle) {
    if (options.bug && options.bug->cycle == cycle) {
      const model_bug& b = *options.bug;
      core.poke_acc(b.row, b.col, static_cast<std::int64_t>(static_cast<std::uint64_t>(core.acc(b.row, b.col)) + 1));
    }
    // The RTL's inputs for this cycle: the schedule's edges and the masks of the faults active now.
    schedule.inputs(cycle, edges);
    for (unsigned r = 0; r < cfg.rows; ++r) dut->set_west(r, edges.west[r], edges.west_valid[r] != 0);
    for (unsigned c = 0; c < cfg.cols; ++c) dut->set_north(c, edges.north[c], edges.north_valid[c] != 0);
    dut->set_drain(edges.drain);
    // The model applies faults only while it runs a job: so do the masks.
    const bool busy = cycle < total;
    for (const auto& pe : masks.at(cycle)) {
      using faults::fault_site;
      auto at = [&](fault_site site) { return busy ? pe.of(site) : bit_masks{}; };
      const bit_masks l = at(fault_site::weight_link), m = at(fault_site::weight_mult);
      const bit_masks al = at(fault_site::act_link), am = at(fault_site::act_mult), acc = at(fault_site::acc);
      const bit_masks valid_m = at(fault_site::valid);
      auto w32 = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
      dut->set_link_masks(pe.row, pe.col, w32(l.clear), w32(l.set), w32(l.flip));
      dut->set_mult_masks(pe.row, pe.col, w32(m.clear), w32(m.set), w32(m.flip));
      dut->set_act_link_masks(pe.row, pe.col, w32(al.clear), w32(al.set), w32(al.flip));
      dut->set_act_mult_masks(pe.row, pe.col, w32(am.clear), w32(am.set), w32(am.flip));
      dut->set_acc_masks(pe.row, pe.col, acc.clear, acc.set, acc.flip);
      dut->set_valid_masks(pe.row, pe.col, w32(valid_m.clear), w32(valid_m.set), w32(valid_m.flip));
    }
    dut->settle();

    model_now.cycle = rtl_now.cycle = cycle;
    read_engine(core, model_now);
    dut->read(rtl_now);
    if (!res.first_mismatch) {
      ++res.compared_cycles;
      res.first_mismatch = compare_snapshots(model_now, rtl_now, cfg.rows, cfg.cols, res.compared_values);
      // The model's own idea of when the job ends against the schedule's.
      if (!res.first_mismatch && core.busy() != busy) {
        res.first_mismatch = mismatch{cycle, 0, 0, "busy", core.busy() ? 1 : 0, busy ? 1 : 0};
      }
      if (res.first_mismatch) stop_after = std::min<std::uint64_t>(total, cycle + options.vcd_radius);
    }
    if (tracing) {
      history.emplace_back(model_now, rtl_now);
      if (history.size() > keep) history.pop_front();
    }
    if (auto row = schedule.drained(cycle)) {
      for (unsigned j = 0; j < row->count; ++j) res.rtl_out[row->m * shape.n + row->n0 + j] = dut->drain_out(j);
    }
    if (cycle >= stop_after) break;
    core.step();
    dut->clock();
  }

  res.match = !res.first_mismatch.has_value();
  if (!res.match && tracing) {
    const std::uint64_t at = res.first_mismatch->cycle;
    const std::uint64_t lo = at > options.vcd_radius ? at - options.vcd_radius : 0;
    std::vector<const array_snapshot*> model_window, rtl_window;
    for (const auto& [m, r] : history) {
      if (m.cycle < lo) continue;
      model_window.push_back(&m);
      rtl_window.push_back(&r);
    }
    const trace_shape ts{cfg.rows, cfg.cols, cfg.data_bits, cfg.acc_bits, cfg.clock_period_ns};
    const mismatch& mm = *res.first_mismatch;
    const std::string title = std::string(rtl.name) + ", first mismatch at cycle " + std::to_string(at) + " PE (" +
                              std::to_string(mm.row) + "," + std::to_string(mm.col) + ") " + mm.signal;
    res.vcd_files = {options.vcd_prefix + ".model.vcd", options.vcd_prefix + ".rtl.vcd"};
    write_trace_window(res.vcd_files[0], model_window, ts, at, "SystemC model, " + title);
    write_trace_window(res.vcd_files[1], rtl_window, ts, at, "RTL, " + title);
  }
  return res;
}

lockstep_result compare_engines(hw::array_engine& a, hw::array_engine& b, const hw::gemm_shape& shape,
                                const std::int16_t* act, const std::int16_t* weight,
                                const std::vector<faults::fault>& faults) {
  const hw::array_config& cfg = a.config();
  shape.validate();
  lockstep_result res;
  res.model_out.assign(shape.m * shape.n, 0);
  res.rtl_out.assign(shape.m * shape.n, 0);
  a.set_faults(faults);
  b.set_faults(faults);
  a.start(hw::gemm_job{shape, act, weight, res.model_out.data()});
  b.start(hw::gemm_job{shape, act, weight, res.rtl_out.data()});
  array_snapshot sa, sb;
  for (std::uint64_t cycle = 0;; ++cycle) {
    sa.cycle = sb.cycle = cycle;
    read_engine(a, sa);
    read_engine(b, sb);
    ++res.compared_cycles;
    res.first_mismatch = compare_snapshots(sa, sb, cfg.rows, cfg.cols, res.compared_values);
    if (!res.first_mismatch && a.busy() != b.busy()) {
      res.first_mismatch = mismatch{cycle, 0, 0, "busy", a.busy() ? 1 : 0, b.busy() ? 1 : 0};
    }
    if (res.first_mismatch || !a.busy()) break;
    a.step();
    b.step();
  }
  res.cycles = a.job_cycles();
  res.match = !res.first_mismatch.has_value();
  return res;
}

std::vector<faults::fault> random_faults(std::size_t count, unsigned rows, unsigned cols, unsigned data_bits,
                                         std::uint64_t cycles, std::mt19937_64& rng) {
  return random_faults(count, rows, cols, data_bits, 0, cycles, rng,
                       {faults::fault_site::weight_link, faults::fault_site::weight_mult});
}

std::vector<faults::fault> random_faults(std::size_t count, unsigned rows, unsigned cols, unsigned data_bits,
                                         unsigned acc_bits, std::uint64_t cycles, std::mt19937_64& rng,
                                         const std::vector<faults::fault_site>& sites) {
  if (sites.empty()) throw config_error("random_faults: no fault site to draw from");
  auto below = [&rng](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  const std::uint64_t span = std::max<std::uint64_t>(cycles, 1);
  std::vector<faults::fault> out;
  while (out.size() < count) {
    faults::fault f;
    f.site = sites[below(sites.size())];
    f.kind = static_cast<faults::fault_kind>(below(3));
    f.row = static_cast<unsigned>(below(rows));
    f.col = static_cast<unsigned>(below(cols));
    f.bit = static_cast<unsigned>(below(faults::site_bits(f.site, data_bits, acc_bits)));
    if (f.site == faults::fault_site::control) f.row = f.col = 0;
    switch (below(3)) {
      case 0:  // transient: one cycle
        f.first_cycle = f.last_cycle = below(span);
        break;
      case 1:  // a span of the run
        f.first_cycle = below(span);
        f.last_cycle = f.first_cycle + below(std::max<std::uint64_t>(span / 4, 1));
        break;
      default:  // permanent: the whole run
        f.first_cycle = 0;
        f.last_cycle = std::numeric_limits<std::uint64_t>::max();
        break;
    }
    out.push_back(f);
  }
  return out;
}

}  // namespace axsa::rtl
