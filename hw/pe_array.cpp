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
  m_pes.reserve(n);
  for (unsigned r = 0; r < m_rows; ++r) {
    for (unsigned c = 0; c < m_cols; ++c) {
      const std::string name = "pe_" + std::to_string(r) + "_" + std::to_string(c);
      m_pes.push_back(std::make_unique<pe>(name.c_str(), m_cfg, m_cfg.saboteurs.mult_at(r, c), m_cycle));
    }
  }
  // The links: activations west to east, weights north to south (through a saboteur where one is
  // planned), accumulators down each column into the drain ports.
  for (unsigned r = 0; r < m_rows; ++r) {
    for (unsigned c = 0; c < m_cols; ++c) {
      pe& p = at(r, c);
      p.west.bind(interface_of(c == 0 ? m_west_feeder.out[r] : at(r, c - 1).east));
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
      if (r == 0) p.drain_in.bind(m_zero);
      else p.drain_in.bind(interface_of(at(r - 1, c).drain_out));
      p.drain.bind(m_drain_flag);
    }
  }
  for (unsigned c = 0; c < m_cols; ++c) m_drain.col[c].bind(interface_of(at(m_rows - 1, c).drain_out));
}

void pe_array::set_multiplier(const multiplier* m) {
  if (busy()) throw config_error("cannot change the multiplier while a GEMM is running");
  if (m != nullptr && m->bits() < m_cfg.data_bits) {
    throw config_error("multiplier " + m->name() + " has " + std::to_string(m->bits()) +
                       "-bit operands, narrower than the " + std::to_string(m_cfg.data_bits) + "-bit data");
  }
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
    const bool link = f.site == faults::fault_site::weight_link;
    const bool placed = link ? m_cfg.saboteurs.link_at(f.row, f.col) : m_cfg.saboteurs.mult_at(f.row, f.col);
    if (!placed) {
      throw config_error(std::string("a weight-") + (link ? "link" : "mult") + " fault on PE (" + std::to_string(f.row) +
                         "," + std::to_string(f.col) + ") needs a saboteur on its " +
                         (link ? "north input" : "multiplier operand") +
                         ", which the structural array did not place (plan it before the array is built)");
    }
  }
  // Each saboteur gets the faults of its site, in list order.
  std::vector<std::vector<faults::fault>> link(m_pes.size()), mult(m_pes.size());
  for (const auto& f : list) {
    const std::size_t i = static_cast<std::size_t>(f.row) * m_cols + f.col;
    (f.site == faults::fault_site::weight_link ? link : mult)[i].push_back(f);
  }
  for (std::size_t i = 0; i < m_pes.size(); ++i) {
    if (m_link_saboteurs[i]) m_link_saboteurs[i]->set_faults(std::move(link[i]));
    if (saboteur* s = m_pes[i]->mult_saboteur()) s->set_faults(std::move(mult[i]));
  }
  m_faults = std::move(list);
}

void pe_array::start(const gemm_job& job) {
  if (busy()) throw config_error("the array is busy: a GEMM is still running");
  job.shape.validate();
  if (job.act == nullptr || job.weight == nullptr || job.out == nullptr) {
    throw config_error("GEMM job without operand or result buffers");
  }
  m_job = job;
  m_flow.emplace(m_cfg, job.shape);
  m_fold = 0;
  m_job_cycles = 0;
  begin_fold();
  // The array is idle between jobs: the first cycle's feeder values show at once.
  m_west_feeder.commit();
  m_north_feeder.commit();
  m_drain_flag.commit();
}

void pe_array::begin_fold() {
  m_tile = m_flow->fold_tile(m_fold);
  m_t = 0;
  m_drain_cycle = 0;
  m_phase = phase::compute;
  load_feeders();
}

// What the feeders present next cycle: the descriptor's schedule in the compute phase, zero and
// invalid otherwise; and the drain flag.
void pe_array::load_feeders() {
  const bool compute = m_phase == phase::compute;
  const dataflow& df = *m_flow;
  const std::size_t k = m_job.shape.k, n = m_job.shape.n;
  for (unsigned r = 0; r < m_rows; ++r) {
    operand v;
    if (compute && df.west_valid(m_tile, m_t, r)) {
      v = {m_job.act[(m_tile.m0 + r) * k + static_cast<std::size_t>(df.west_k(m_t, r))], true};
    }
    m_west_feeder.load(r, v);
  }
  for (unsigned c = 0; c < m_cols; ++c) {
    operand v;
    if (compute && df.north_valid(m_tile, m_t, c)) {
      v = {m_job.weight[static_cast<std::size_t>(df.north_k(m_t, c)) * n + m_tile.n0 + c], true};
    }
    m_north_feeder.load(c, v);
  }
  m_drain_flag.write(m_phase == phase::drain);
}

void pe_array::step() {
  if (m_phase == phase::idle) {
    ++m_cycle;
    return;
  }
  ++m_job_cycles;
  // While draining, the bottom row leaves through the drain ports: the descriptor says which row.
  if (m_phase == phase::drain) {
    const unsigned local_row = m_flow->drained_row(m_drain_cycle);
    if (local_row < m_tile.rows_used) {
      std::int64_t* out = m_job.out + (m_tile.m0 + local_row) * m_job.shape.n + m_tile.n0;
      for (unsigned c = 0; c < m_tile.cols_used; ++c) out[c] = wrap_signed(m_drain.col[c]->read(), m_cfg.acc_bits);
    }
  }
  for (auto& p : m_pes) p->evaluate();
  // The controller's next state.
  if (m_phase == phase::compute) {
    if (++m_t == m_flow->compute_cycles()) m_phase = phase::drain;
  } else if (++m_drain_cycle == m_flow->drain_cycles()) {
    if (++m_fold < m_flow->folds()) begin_fold();
    else m_phase = phase::idle;
  }
  if (m_phase != phase::compute || m_t != 0) load_feeders();
  for (auto& p : m_pes) p->commit();
  m_west_feeder.commit();
  m_north_feeder.commit();
  m_drain_flag.commit();
  ++m_cycle;
}

std::int32_t pe_array::west_in(unsigned r, unsigned c) const {
  return c == 0 ? m_west_feeder.value(r).value : at(r, c - 1).east_value().value;
}

std::int32_t pe_array::north_in(unsigned r, unsigned c) const {
  return r == 0 ? m_north_feeder.value(c).value : at(r - 1, c).south_value().value;
}

std::int64_t pe_array::drain_out(unsigned c) const {
  return m_phase == phase::drain ? at(m_rows - 1, c).acc() : 0;
}

}  // namespace axsa::hw
