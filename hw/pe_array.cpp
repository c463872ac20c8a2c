#include "hw/pe_array.h"

#include <string>

namespace axsa::hw {

namespace {
// The register behind an export (bound at construction), for binding a port to it.
template <class IF>
IF& interface_of(sc_core::sc_export<IF>& e) {
  return e;
}
}  // namespace

pe_array::pe_array(const array_config& cfg)
    : m_cfg((cfg.validate(), cfg)),
      m_rows(cfg.rows),
      m_cols(cfg.cols),
      m_west_feeder("west_feeder", "row", cfg.rows),
      m_north_feeder("north_feeder", "col", cfg.cols),
      m_drain("drain", cfg.cols) {
  const std::size_t n = static_cast<std::size_t>(m_rows) * m_cols;
  m_link_saboteurs.resize(n);
  m_act_link_saboteurs.resize(n);
  m_pes.reserve(n);
  for (unsigned r = 0; r < m_rows; ++r) {
    for (unsigned c = 0; c < m_cols; ++c) {
      const std::string name = "pe_" + std::to_string(r) + "_" + std::to_string(c);
      const pe::saboteurs planned{m_cfg.saboteurs.mult_at(r, c), m_cfg.saboteurs.act_mult_at(r, c),
                                  m_cfg.saboteurs.acc_at(r, c), m_cfg.saboteurs.valid_at(r, c)};
      m_pes.push_back(std::make_unique<pe>(name.c_str(), m_cfg, planned, m_cycle));
    }
  }
  // The links: activations west to east, weights north to south (through a saboteur where one is
  // planned), accumulators down each column into the drain ports.
  for (unsigned r = 0; r < m_rows; ++r) {
    for (unsigned c = 0; c < m_cols; ++c) {
      pe& p = at(r, c);
      operand_out& left = c == 0 ? m_west_feeder.out[r] : at(r, c - 1).east;
      if (m_cfg.saboteurs.act_link_at(r, c)) {
        const std::string name = "act_link_saboteur_" + std::to_string(r) + "_" + std::to_string(c);
        auto& sab = m_act_link_saboteurs[static_cast<std::size_t>(r) * m_cols + c];
        sab = std::make_unique<saboteur>(name.c_str(), m_cfg.data_bits, m_cycle);
        sab->in.bind(interface_of(left));
        p.west.bind(interface_of(sab->out));
      } else {
        p.west.bind(interface_of(left));
      }
      operand_out& above = r == 0 ? m_north_feeder.out[c] : at(r - 1, c).south;
      if (m_cfg.saboteurs.link_at(r, c)) {
        const std::string name = "link_saboteur_" + std::to_string(r) + "_" + std::to_string(c);
        auto& sab = m_link_saboteurs[static_cast<std::size_t>(r) * m_cols + c];
        sab = std::make_unique<saboteur>(name.c_str(), m_cfg.data_bits, m_cycle);
        sab->in.bind(interface_of(above));
        p.north.bind(interface_of(sab->out));
      } else {
        p.north.bind(interface_of(above));
      }
      if (r == 0) p.sum_in.bind(m_zero);
      else p.sum_in.bind(interface_of(at(r - 1, c).sum_out));
      p.load_weight.bind(m_load_weight);
      p.pass_sum.bind(m_pass_sum);
    }
  }
  for (unsigned c = 0; c < m_cols; ++c) m_drain.col[c].bind(interface_of(at(m_rows - 1, c).sum_out));
}

void pe_array::set_multiplier(const multiplier* m) {
  if (busy()) throw config_error("cannot change the multiplier while a GEMM is running");
  check_multiplier_slot(m, m_cfg);
  m_mult = m;
  for (auto& p : m_pes) p->mult().set_circuit(m);
}

const char* pe_array::evaluation() const {
  if (m_mult == nullptr || m_mult->is_exact()) return "native";
  return m_mult->product_table(m_cfg.data_bits) != nullptr ? "table" : "slot";
}

void pe_array::set_faults(std::vector<faults::fault> list) {
  for (const auto& f : list) {
    f.validate(m_cfg);
    if (f.site == faults::fault_site::control) {
      throw config_error("control faults are modelled in the fast engine's controller only (--engine fast; "
                         "docs/faults.md)");
    }
    const saboteur_plan& plan = m_cfg.saboteurs;
    const char* where = nullptr;
    bool placed = false;
    switch (f.site) {
      case faults::fault_site::weight_link: placed = plan.link_at(f.row, f.col); where = "north input"; break;
      case faults::fault_site::weight_mult: placed = plan.mult_at(f.row, f.col); where = "multiplier weight operand"; break;
      case faults::fault_site::act_link: placed = plan.act_link_at(f.row, f.col); where = "west input"; break;
      case faults::fault_site::act_mult: placed = plan.act_mult_at(f.row, f.col); where = "multiplier activation operand"; break;
      case faults::fault_site::acc: placed = plan.acc_at(f.row, f.col); where = "accumulator"; break;
      case faults::fault_site::valid: placed = plan.valid_at(f.row, f.col); where = "MAC-enable gate"; break;
      case faults::fault_site::control: break;
    }
    if (!placed) {
      throw config_error(std::string("a ") + faults::to_string(f.site) + " fault on PE (" + std::to_string(f.row) + "," +
                         std::to_string(f.col) + ") needs a saboteur on its " + where +
                         ", which the structural array did not place (plan it before the array is built)");
    }
  }
  // Each saboteur gets the faults of its site, in list order.
  std::vector<std::vector<faults::fault>> per_site[faults::fault_site_count];
  for (auto& v : per_site) v.resize(m_pes.size());
  for (const auto& f : list) {
    const std::size_t i = static_cast<std::size_t>(f.row) * m_cols + f.col;
    per_site[static_cast<unsigned>(f.site)][i].push_back(f);
  }
  auto of = [&](faults::fault_site s, std::size_t i) { return std::move(per_site[static_cast<unsigned>(s)][i]); };
  for (std::size_t i = 0; i < m_pes.size(); ++i) {
    if (m_link_saboteurs[i]) m_link_saboteurs[i]->set_faults(of(faults::fault_site::weight_link, i));
    if (m_act_link_saboteurs[i]) m_act_link_saboteurs[i]->set_faults(of(faults::fault_site::act_link, i));
    if (saboteur* s = m_pes[i]->mult_saboteur()) s->set_faults(of(faults::fault_site::weight_mult, i));
    if (saboteur* s = m_pes[i]->act_mult_saboteur()) s->set_faults(of(faults::fault_site::act_mult, i));
    if (acc_saboteur* s = m_pes[i]->acc_saboteur()) s->set_faults(of(faults::fault_site::acc, i));
    if (valid_saboteur* s = m_pes[i]->valid_saboteur()) s->set_faults(of(faults::fault_site::valid, i));
  }
  m_faults = std::move(list);
}

void pe_array::start(const gemm_job& job) {
  if (busy()) throw config_error("the array is busy: a GEMM is still running");
  job.validate();
  m_job = job;
  m_flow.emplace(m_cfg, job.shape);
  m_fold = 0;
  m_job_cycles = 0;
  m_busy = true;
  begin_fold();
  // The array is idle between jobs: the first cycle's feeder values and controls show at once.
  m_west_feeder.commit();
  m_north_feeder.commit();
  m_load_weight.commit();
  m_pass_sum.commit();
}

void pe_array::begin_fold() {
  m_tile = m_flow->fold_tile(m_fold);
  m_stage = m_flow->first_stage();
  m_t = 0;
  load_feeders();
}

// What the feeders present and what the controller tells the PEs next cycle: the descriptor's
// schedule while busy, zero, invalid and (idle) no movement otherwise.
void pe_array::load_feeders() {
  const dataflow& df = *m_flow;
  const std::size_t k = m_job.shape.k, n = m_job.shape.n;
  for (unsigned r = 0; r < m_rows; ++r) {
    operand v;
    if (m_busy) {
      if (const auto a = df.west_operand(m_tile, m_stage, m_t, r)) v = {m_job.act[a->row * k + a->col], true};
      if (m_counting && v.valid) ++m_own.act_buffer_reads;
    }
    m_west_feeder.load(r, v);
  }
  for (unsigned c = 0; c < m_cols; ++c) {
    operand v;
    if (m_busy) {
      if (const auto w = df.north_operand(m_tile, m_stage, m_t, c)) v = {m_job.weight[w->row * n + w->col], true};
      if (m_counting && v.valid) ++m_own.weight_buffer_reads;
    }
    m_north_feeder.load(c, v);
  }
  // Between jobs step() changes nothing, so the controls' idle values do not matter.
  m_load_weight.write(m_busy && df.weights_advance(m_stage));
  m_pass_sum.write(m_busy && df.sums_advance(m_stage));
}

void pe_array::step() {
  if (!m_busy) {
    ++m_cycle;
    return;
  }
  ++m_job_cycles;
  // The outputs leave at the bottom of the columns when and where the descriptor says.
  for (unsigned c = 0; c < m_tile.cols_used; ++c) {
    const auto o = m_flow->output(m_tile, m_stage, m_t, c);
    if (!o) continue;
    std::int64_t& out = m_job.out[o->m * m_job.shape.n + o->n];
    const std::uint64_t v = m_drain.col[c]->read();
    out = wrap_signed(o->add ? static_cast<std::uint64_t>(out) + v : v, m_cfg.acc_bits);
    if (m_counting) {
      ++m_own.drain_moves;
      ++m_own.out_buffer_writes;
      m_own.out_buffer_reads += o->add;
    }
  }
  if (m_counting) ++m_own.cycles;
  for (auto& p : m_pes) p->evaluate();
  // The controller's next state: the next cycle of this stage, the next stage, the next fold, or done.
  if (++m_t == m_flow->stage_cycles(m_stage)) {
    m_t = 0;
    if (!m_flow->next_stage(m_stage)) {
      if (++m_fold < m_flow->folds()) {
        begin_fold();
      } else {
        m_busy = false;
        load_feeders();
      }
    } else {
      load_feeders();
    }
  } else {
    load_feeders();
  }
  for (auto& p : m_pes) p->commit();
  m_west_feeder.commit();
  m_north_feeder.commit();
  m_load_weight.commit();
  m_pass_sum.commit();
  ++m_cycle;
}

void pe_array::abort() {
  if (!m_busy) return;
  m_busy = false;
  load_feeders();
  m_west_feeder.commit();
  m_north_feeder.commit();
  m_load_weight.commit();
  m_pass_sum.commit();
  for (auto& p : m_pes) p->reset();
}

std::int32_t pe_array::west_in(unsigned r, unsigned c) const {
  return c == 0 ? m_west_feeder.value(r).value : at(r, c - 1).east_value().value;
}

std::int32_t pe_array::north_in(unsigned r, unsigned c) const {
  return r == 0 ? m_north_feeder.value(c).value : at(r - 1, c).south_value().value;
}

const activity& pe_array::counts() const {
  m_counts = m_own;
  for (const auto& p : m_pes) {
    const pe::counts& c = p->activity();
    m_counts.macs += c.macs;
    m_counts.zero_macs += c.zero_macs;
    m_counts.act_reg_writes += c.act_writes;
    m_counts.weight_reg_writes += c.weight_writes;
    m_counts.acc_writes += c.acc_writes;
  }
  return m_counts;
}

void pe_array::set_counting(bool on) {
  m_counting = on;
  for (auto& p : m_pes) p->set_counting(on);
}

std::int64_t pe_array::drain_out(unsigned c) const {
  return m_busy && m_flow->drains(m_stage) ? at(m_rows - 1, c).acc() : 0;
}

}  // namespace axsa::hw
