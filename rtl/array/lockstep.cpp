#include "rtl/array/lockstep.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <memory>

#include "hw/array_core.h"
#include "rtl/array/fault_masks.h"
#include "rtl/array/feed_schedule.h"
#include "rtl/array/rtl_controller.h"
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

namespace {

// The model's controller against the RTL's in one cycle: whether a job runs, and while it does the
// stage, fold and counter registers (the fast engine keeps them; another engine is held through busy
// alone); the done signal on the cycles the accelerator samples it, every cycle of a job and the one
// after it.
std::optional<mismatch> compare_controllers(const hw::array_engine& core, const hw::array_core* model,
                                            const rtl_controller::state& cs, std::uint64_t cycle, bool model_ran,
                                            const std::vector<faults::fault>& faults) {
  auto diff = [&](const char* signal, std::int64_t a, std::int64_t b) {
    return std::optional<mismatch>(mismatch{cycle, 0, 0, signal, a, b});
  };
  if (core.busy() != cs.busy) return diff("busy", core.busy(), cs.busy);
  if (model != nullptr && cs.busy) {
    const bool draining = model->current_phase() == hw::array_core::phase::drain;
    if (draining != cs.stage) return diff("stage", draining, cs.stage);
    if (model->fold_index() != cs.fold) return diff("fold", static_cast<std::int64_t>(model->fold_index()), cs.fold);
    const std::uint64_t counter = model->phase_cycle() & 0xffffffffu;
    if (counter != (cs.stage ? cs.d_count : cs.k_count)) {
      return diff("counter", static_cast<std::int64_t>(counter), cs.stage ? cs.d_count : cs.k_count);
    }
  }
  if (core.busy() || model_ran) {
    const bool done = faults::done_signal(faults, cycle, !core.busy());
    if (done != cs.done) return diff("done", done, cs.done);
  }
  return std::nullopt;
}

}  // namespace

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

  core.set_faults(options.faults);  // validates them
  // The PEs' faults become per-PE masks; the controller's, masks on its registers (set cycle by cycle below).
  std::vector<faults::fault> pe_faults, ctrl_faults;
  auto sort_fault = [&](const faults::fault& f) {
    (f.site == faults::fault_site::control ? ctrl_faults : pe_faults).push_back(f);
  };
  for (const auto& f : options.faults) sort_fault(f);
  for (const auto& f : options.rtl_only_faults) {
    f.validate(cfg);
    sort_fault(f);
  }
  const bool control_faults = !ctrl_faults.empty();
  fault_mask_plan masks(std::move(pe_faults), cfg.rows, cfg.cols);

  // The controller runs the job: its registers address the feeders and drive the drain.
  const hw::dataflow& flow = schedule.flow();
  constexpr std::uint64_t counter_limit = std::uint64_t{1} << faults::control_field::counter_bits;
  if (flow.folds() >= counter_limit || flow.compute_cycles() >= counter_limit) {
    throw config_error("the GEMM is too long for the RTL controller's 32-bit counters");
  }
  std::unique_ptr<rtl_controller> ctrl = make_controller();
  ctrl->set_job(static_cast<std::uint32_t>(flow.folds()), static_cast<std::uint32_t>(flow.compute_cycles()),
                static_cast<std::uint32_t>(flow.drain_cycles()));
  std::unique_ptr<rtl_array> dut = rtl.make();
  dut->set_align_high(cfg.align == hw::operand_align::high);  // the model's alignment, strapped for the run
  dut->reset();
  core.start(hw::gemm_job{shape, act, weight, res.model_out.data()});
  ctrl->set_start(true);
  ctrl->clock();
  ctrl->set_start(false);
  // The registers the model's controller keeps (the fast engine's; the structural engine takes no
  // control faults and is held to the schedule through busy and the edges).
  const auto* model_ctrl = dynamic_cast<const hw::array_core*>(&core);

  const bool tracing = !options.vcd_prefix.empty();
  const std::size_t keep = static_cast<std::size_t>(options.vcd_radius) * 2 + 1;
  std::deque<std::pair<array_snapshot, array_snapshot>> history;
  array_snapshot model_now, rtl_now;
  feed_schedule::edges edges;
  // A job a control fault keeps from finishing runs as long as the host's watchdog would let it
  // (hw/cycle_model.h's budget for one job); without control faults, the schedule's length.
  const std::uint64_t limit = control_faults ? 2 * total + 1000 : total;
  std::uint64_t stop_after = limit;  // last cycle to simulate
  bool model_ran = true;             // the model was busy in the cycle before

  for (std::uint64_t cycle = 0;; ++cycle) {
    if (options.bug && options.bug->cycle == cycle) {
      const model_bug& b = *options.bug;
      core.poke_acc(b.row, b.col, static_cast<std::int64_t>(static_cast<std::uint64_t>(core.acc(b.row, b.col)) + 1));
    }
    // The controller's masks of the faults active now, each on its field.
    bit_masks stage_m, counter_m, fold_m, done_m;
    for (const auto& f : ctrl_faults) {
      if (!f.active(cycle)) continue;
      namespace field = faults::control_field;
      faults::fault on = f;
      bit_masks& m = f.bit < field::fold_counter ? counter_m
                     : f.bit < field::stage      ? fold_m
                     : f.bit == field::stage     ? stage_m
                                                 : done_m;
      on.bit = f.bit < field::fold_counter ? f.bit : f.bit < field::stage ? f.bit - field::fold_counter : 0;
      compose(m, on);
    }
    ctrl->set_stage_masks(stage_m.clear != 0, stage_m.set != 0, stage_m.flip != 0);
    ctrl->set_counter_masks(static_cast<std::uint32_t>(counter_m.clear), static_cast<std::uint32_t>(counter_m.set),
                            static_cast<std::uint32_t>(counter_m.flip));
    ctrl->set_fold_masks(static_cast<std::uint32_t>(fold_m.clear), static_cast<std::uint32_t>(fold_m.set),
                         static_cast<std::uint32_t>(fold_m.flip));
    ctrl->set_done_masks(done_m.clear != 0, done_m.set != 0, done_m.flip != 0);
    ctrl->settle();
    const rtl_controller::state cs = ctrl->read();
    // The RTL's inputs for this cycle: what the feeders read at the controller's registers (the
    // edge registers were loaded with them), its drain, and the masks of the faults active now.
    const auto register_stage = cs.stage ? hw::stage::drain : hw::stage::compute;
    if (cs.busy && cs.fold < flow.folds()) {
      schedule.inputs_at({cs.fold, register_stage, cs.stage ? cs.d_count : cs.k_count}, edges);
    } else {
      schedule.inputs(total, edges);  // idle: zero and invalid
    }
    for (unsigned r = 0; r < cfg.rows; ++r) dut->set_west(r, edges.west[r], edges.west_valid[r] != 0);
    for (unsigned c = 0; c < cfg.cols; ++c) dut->set_north(c, edges.north[c], edges.north_valid[c] != 0);
    dut->set_drain(cs.drain);
    dut->set_enable(cs.busy);
    // The model applies faults only while it runs a job: so do the masks.
    const bool busy = cs.busy;
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
      if (!res.first_mismatch) res.first_mismatch = compare_controllers(core, model_ctrl, cs, cycle, model_ran, options.faults);
      // Without control faults the job must also end when the schedule says.
      if (!res.first_mismatch && !control_faults && busy != (cycle < total)) {
        res.first_mismatch = mismatch{cycle, 0, 0, "busy", cycle < total ? 1 : 0, busy ? 1 : 0};
      }
      if (res.first_mismatch) stop_after = std::min<std::uint64_t>(limit, cycle + options.vcd_radius);
    }
    if (tracing) {
      history.emplace_back(model_now, rtl_now);
      if (history.size() > keep) history.pop_front();
    }
    // The drain ports' row goes where the controller's fold and drain counter (as read now) say.
    if (cs.drain && !cs.error) {
      if (auto row = schedule.drained_at({cs.fold_now, hw::stage::drain, cs.counter_now})) {
        for (unsigned j = 0; j < row->count; ++j) res.rtl_out[row->m * shape.n + row->n0 + j] = dut->drain_out(j);
      }
    }
    model_ran = core.busy();
    if (!model_ran && !busy) break;  // both idle: the job is over
    if (cycle >= stop_after) {
      res.hung = model_ran && busy && !res.first_mismatch;
      break;
    }
    core.step();
    // The address generator's range error resets the array on this edge (the model's abort()).
    if (cs.error) dut->reset();
    else dut->clock();
    ctrl->clock();
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
