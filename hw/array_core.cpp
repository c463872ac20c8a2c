#include "hw/array_core.h"

#include <algorithm>
#include <cstring>

#include "hw/mac_kernels.h"

namespace axsa::hw {

namespace {

// Product strategies: each runs the MAC over a run of consecutive PEs.
struct native_product {
  static constexpr bool masked = true;  // run_masked is cheaper than finding the busy runs
  template <class Acc>
  void run(Acc* acc, const std::int16_t* a, const std::int16_t* w, std::size_t n) const {
    kernels::mac_native(acc, a, w, n);
  }
  // The products of the PEs whose `en` byte is 1 (each 0 or 1), branch-free so that it vectorises.
  template <class Acc>
  void run_masked(Acc* __restrict acc, const std::int16_t* __restrict a, const std::int16_t* __restrict w,
                  const std::uint8_t* __restrict en, std::size_t n) const {
    for (std::size_t i = 0; i < n; ++i) {
      const auto p = static_cast<Acc>(static_cast<std::int32_t>(a[i]) * w[i]);
      acc[i] += p & (Acc{0} - static_cast<Acc>(en[i]));
    }
  }
};

struct table_product {
  static constexpr bool masked = false;
  const std::int32_t* table;
  unsigned bits;
  template <class Acc>
  void run(Acc* acc, const std::int16_t* a, const std::int16_t* w, std::size_t n) const {
    kernels::mac_table(acc, a, w, n, table, bits);
  }
};

struct slot_product {
  static constexpr bool masked = false;
  const multiplier* m;
  template <class Acc>
  void run(Acc* acc, const std::int16_t* a, const std::int16_t* w, std::size_t n) const {
    kernels::mac_slot(acc, a, w, n, *m);
  }
};

}  // namespace

array_core::array_core(const array_config& cfg) : m_cfg(cfg) {
  m_cfg.validate();
  m_rows = m_cfg.rows;
  m_cols = m_cfg.cols;
  m_hop = m_cfg.weight_hop;
  m_ws = m_cfg.dataflow == dataflow_kind::weight_stationary;
  m_wide_acc = m_cfg.acc_bits > 32;
  m_act.assign(static_cast<std::size_t>(m_rows) * m_cols, 0);
  m_wgt.assign(static_cast<std::size_t>(m_rows) * m_hop * m_cols, 0);
  m_act_edge.assign(m_rows, 0);
  m_wgt_edge.assign(m_cols, 0);
  m_act_valid.assign(m_act.size(), 0);
  m_wgt_valid.assign(m_wgt.size(), 0);
  m_enable.assign(m_act.size(), 0);
  m_act_off.assign(m_rows, 0);
  m_wgt_off.assign(m_cols, 0);
  if (m_wide_acc) {
    m_acc64.assign(static_cast<std::size_t>(m_rows) * m_cols, 0);
  } else {
    m_acc32.assign(static_cast<std::size_t>(m_rows) * m_cols, 0);
  }
}

void array_core::set_multiplier(const multiplier* m) {
  if (busy()) throw config_error("cannot change the multiplier while a GEMM is running");
  check_multiplier_slot(m, m_cfg);
  m_mult = m;
  m_native = m == nullptr || m->is_exact();
  m_table = m_native ? nullptr : m->product_table(m_cfg.data_bits);
}

void array_core::start(const gemm_job& job) {
  if (busy()) throw config_error("the array is busy: a GEMM is still running");
  job.validate();
  m_job = job;
  m_flow.emplace(m_cfg, job.shape);
  m_compute_len = m_flow->compute_cycles();
  m_fold = 0;
  m_job_cycles = 0;
  m_failed = false;
  begin_fold();
}

void array_core::begin_fold() {
  m_t = 0;
  if (m_ws) {
    m_tile = m_flow->fold_tile(m_fold);
    m_phase = phase::preload;
    load_feeders_ws();
    return;
  }
  m_drain_cycle = 0;
  m_phase = phase::compute;
  set_fold_tile();
  load_feeders();
}

void array_core::set_fold_tile() {
  const dataflow& df = *m_flow;
  m_tile = m_fold < df.folds() ? df.fold_tile(m_fold) : dataflow::tile{};
  m_failed = m_fold >= df.folds();  // only a control fault gets here (sabotage_control)
  if (m_counting) count_fold_zeros();
  else m_fold_zeros_counted = false;
  // Row i's feeder reads m_act_src[t * m_act_step + m_act_off[i]], the activation k = t - west_skew(i)
  // of the descriptor, only ever with k inside 0..K-1, so every index is inside its array. Normally that is the operand itself. When K is a
  // multiple of 1024 the R rows of one cycle lie a multiple of 2 KiB apart and compete for one or two
  // L1 sets; the fold's rows are then read from a transposed copy (blocks of 64 k keep both sides in
  // L1), where they are neighbours. On 28x28 with K = 8192 that is 10 % faster, and slower for K that
  // do not alias, so only then.
  const std::size_t kk = m_job.shape.k;
  const std::size_t ru = m_tile.rows_used;
  const std::size_t m0 = m_tile.m0;
  if (kk % 1024 == 0) {
    m_act_tile.resize(kk * ru);
    for (std::size_t k0 = 0; k0 < kk; k0 += 64) {
      const std::size_t k1 = std::min(kk, k0 + 64);
      for (std::size_t i = 0; i < ru; ++i) {
        const std::int16_t* src = m_job.act + (m0 + i) * kk;
        for (std::size_t x = k0; x < k1; ++x) m_act_tile[x * ru + i] = src[x];
      }
    }
    m_act_src = m_act_tile.data();
    m_act_step = ru;
    for (unsigned i = 0; i < ru; ++i)
      m_act_off[i] = static_cast<std::ptrdiff_t>(i) - static_cast<std::ptrdiff_t>(df.west_skew(i) * ru);
  } else {
    m_act_src = m_job.act;
    m_act_step = 1;
    for (unsigned i = 0; i < ru; ++i)
      m_act_off[i] = static_cast<std::ptrdiff_t>((m0 + i) * kk) - static_cast<std::ptrdiff_t>(df.west_skew(i));
  }
  // Column j's feeder reads weight[t * n + m_wgt_off[j]], the weight k = t - north_skew(j).
  const auto n = static_cast<std::ptrdiff_t>(m_job.shape.n);
  for (unsigned j = 0; j < m_tile.cols_used; ++j)
    m_wgt_off[j] = static_cast<std::ptrdiff_t>(m_tile.n0) + j - static_cast<std::ptrdiff_t>(df.north_skew(j)) * n;
}

// The feeder registers hold what enters the array during cycle m_t: the descriptor's feeder schedule
// (zero where it is not valid). Row i's feeder holds m_act_src[t*m_act_step + m_act_off[i]] and
// column j's weight[t*n + m_wgt_off[j]] (begin_fold()). Once every used row (column) is inside its
// window, which is all of the compute phase but the skewed start and end, no test is needed per feeder.
void array_core::load_feeders() {
  if (m_phase != phase::compute) {
    for (unsigned i = 0; i < m_rows; ++i) m_act[i * m_cols] = 0;
    std::fill(m_wgt.begin(), m_wgt.begin() + m_cols, std::int16_t{0});
    if (m_travel) {
      for (unsigned i = 0; i < m_rows; ++i) m_act_valid[i * m_cols] = 0;
      std::fill(m_wgt_valid.begin(), m_wgt_valid.begin() + m_cols, std::uint8_t{0});
    }
    return;
  }
  const dataflow& df = *m_flow;
  if (m_travel) {
    for (unsigned i = 0; i < m_rows; ++i) m_act_valid[i * m_cols] = df.west_valid(m_tile, m_t, i);
    for (unsigned j = 0; j < m_cols; ++j) m_wgt_valid[j] = df.north_valid(m_tile, m_t, j);
  }
  const std::uint64_t t = m_t;
  const std::uint64_t k = m_job.shape.k;
  const unsigned ru = m_tile.rows_used, cu = m_tile.cols_used;
  const std::int16_t* act = m_act_src;
  const auto at = static_cast<std::ptrdiff_t>(t * m_act_step);
  if (t >= df.west_skew(ru - 1) && t < k) {
    for (unsigned i = 0; i < ru; ++i) m_act[i * m_cols] = act[at + m_act_off[i]];
    if (m_counting) m_counts.act_buffer_reads += ru;
  } else {
    for (unsigned i = 0; i < ru; ++i) {
      const bool valid = df.west_valid(m_tile, t, i);
      m_act[i * m_cols] = valid ? act[at + m_act_off[i]] : std::int16_t{0};
      if (m_counting) m_counts.act_buffer_reads += valid;
    }
  }
  for (unsigned i = ru; i < m_rows; ++i) m_act[i * m_cols] = 0;

  const std::int16_t* wgt = m_job.weight;
  const auto row = static_cast<std::ptrdiff_t>(t * m_job.shape.n);
  if (t >= df.north_skew(cu - 1) && t < k) {
    for (unsigned j = 0; j < cu; ++j) m_wgt[j] = wgt[row + m_wgt_off[j]];
    if (m_counting) m_counts.weight_buffer_reads += cu;
  } else {
    for (unsigned j = 0; j < cu; ++j) {
      const bool valid = df.north_valid(m_tile, t, j);
      m_wgt[j] = valid ? wgt[row + m_wgt_off[j]] : std::int16_t{0};
      if (m_counting) m_counts.weight_buffer_reads += valid;
    }
  }
  std::fill(m_wgt.begin() + cu, m_wgt.begin() + m_cols, std::int16_t{0});
}

// Every link register takes its input: activations move one PE east, weights one register stage south.
// One memmove per direction: the activation that falls off row r's east end lands on row r+1's
// feeder slot, which load_feeders() overwrites.
void array_core::shift_links() {
  for (unsigned i = 0; i < m_rows; ++i) m_act_edge[i] = m_act[i * m_cols + m_cols - 1];
  std::memmove(&m_act[1], &m_act[0], (m_act.size() - 1) * sizeof(std::int16_t));
  std::copy(m_wgt.end() - m_cols, m_wgt.end(), m_wgt_edge.begin());
  std::memmove(&m_wgt[m_cols], &m_wgt[0], (m_wgt.size() - m_cols) * sizeof(std::int16_t));
  if (m_travel) {
    std::memmove(&m_act_valid[1], &m_act_valid[0], m_act_valid.size() - 1);
    std::memmove(&m_wgt_valid[m_cols], &m_wgt_valid[0], m_wgt_valid.size() - m_cols);
  }
}

// With the valid bits travelling (control faults): every PE whose two arriving valid bits are set,
// as runs of neighbours in a row for the vectorised kernels (one run per row while the counter
// counts as it should).
template <class Acc, class Mul>
void array_core::compute_macs_travelling(Acc* acc, const Mul& mul) {
  if constexpr (Mul::masked) {
    if (m_hop == 1) {  // PE (r, c)'s two inputs at one index: one masked pass over all PEs
      const std::size_t n = m_act.size();
      std::uint8_t* __restrict en = m_enable.data();
      const std::uint8_t* __restrict av = m_act_valid.data();
      const std::uint8_t* __restrict wv = m_wgt_valid.data();
      const std::int16_t* __restrict a = m_act.data();
      const std::int16_t* __restrict w = m_wgt.data();
      for (std::size_t i = 0; i < n; ++i) en[i] = av[i] & wv[i];
      mul.run_masked(acc, a, w, en, n);
      if (m_counting) {  // as count_macs() over the enabled PEs (with faults no fold's zeros are pre-counted)
        std::uint32_t macs = 0, zeros = 0;
        for (std::size_t i = 0; i < n; ++i) {
          macs += en[i];
          zeros += en[i] & static_cast<std::uint32_t>((a[i] == 0) | (w[i] == 0));
        }
        m_counts.macs += macs;
        m_cycle_macs += macs;
        m_counts.zero_macs += zeros;
      }
      return;
    }
  }
  constexpr std::uint64_t all_set = 0x0101010101010101ull;  // eight valid bytes (each 0 or 1) set
  for (unsigned r = 0; r < m_rows; ++r) {
    const std::size_t row = static_cast<std::size_t>(r) * m_cols;
    const std::size_t north = north_index(r, 0);
    const std::uint8_t* av = &m_act_valid[row];
    const std::uint8_t* wv = &m_wgt_valid[north];
    unsigned first = m_cols;  // start of the open run (m_cols: none)
    auto close = [&](unsigned end) {
      if (first >= end) return;
      mul.run(acc + row + first, &m_act[row + first], &m_wgt[north + first], end - first);
      if (m_counting) count_macs(&m_act[row + first], &m_wgt[north + first], end - first);
      first = m_cols;
    };
    unsigned c = 0;
    while (c < m_cols) {
      if (c + 8 <= m_cols) {  // eight PEs at once: all idle or all busy is the common case
        std::uint64_t a, w;
        std::memcpy(&a, av + c, 8);
        std::memcpy(&w, wv + c, 8);
        const std::uint64_t both = a & w;
        if (both == 0 || both == all_set) {
          if (both == 0) close(c);
          else if (first == m_cols) first = c;
          c += 8;
          continue;
        }
      }
      if (av[c] & wv[c]) {
        if (first == m_cols) first = c;
      } else {
        close(c);
      }
      ++c;
    }
    close(m_cols);
  }
}

bool array_core::arrived_valid(unsigned r, unsigned c) const {
  if (m_travel) return m_act_valid[static_cast<std::size_t>(r) * m_cols + c] != 0 && m_wgt_valid[north_index(r, c)] != 0;
  return m_flow->accumulates(m_tile, m_t, r, c);
}

// The hot loop. The descriptor gives each row's busy columns as one contiguous run, so the loop
// touches only PEs that accumulate. Once every PE of a full tile is busy the runs join into one flat
// loop over all PEs (with one weight stage per PE, where both operands sit at the same index).
template <class Acc, class Mul>
void array_core::compute_macs(Acc* acc, const Mul& mul) {
  const dataflow& df = *m_flow;
  const std::int16_t* __restrict act = m_act.data();
  const std::int16_t* __restrict wgt = m_wgt.data();
  if (m_hop == 1 && df.all_busy(m_tile, m_t)) {
    mul.run(acc, act, wgt, static_cast<std::size_t>(m_rows) * m_cols);
    if (m_counting) count_macs(act, wgt, static_cast<std::size_t>(m_rows) * m_cols);
    return;
  }
  for (unsigned i = 0; i < m_tile.rows_used; ++i) {
    if (m_t < df.west_skew(i)) break;  // rows further south start later still
    const auto [lo, hi] = df.busy_columns(m_tile, m_t, i);
    if (lo > hi) continue;
    const std::size_t base = static_cast<std::size_t>(i) * m_cols + static_cast<std::size_t>(lo);
    mul.run(acc + base, act + base, wgt + north_index(i, static_cast<unsigned>(lo)), static_cast<std::size_t>(hi - lo + 1));
    if (m_counting) count_macs(act + base, wgt + north_index(i, static_cast<unsigned>(lo)), static_cast<std::size_t>(hi - lo + 1));
  }
}

void array_core::count_macs(const std::int16_t* act, const std::int16_t* wgt, std::size_t n) {
  m_counts.macs += n;
  m_cycle_macs += n;
  if (!m_fold_zeros_counted) m_counts.zero_macs += kernels::zero_pairs(act, wgt, n);
}

// Output-stationary without faults, PE (r, c) meets exactly the pairs (act[m0+r][k], weight[k][n0+c])
// of its output over a fold, so the fold's zero operands are counted once from its operands: for
// every k, the zero activations of the tile's rows meet all its columns' weights, and the other way
// round, minus the pairs counted twice. With faults a multiplier may see other operands, and the
// MAC loop counts what each one sees.
void array_core::count_fold_zeros() {
  m_fold_zeros_counted = !m_ws && m_faults.empty();
  if (!m_fold_zeros_counted) return;
  const std::size_t K = m_job.shape.k, N = m_job.shape.n;
  m_zero_act.assign(K, 0);
  for (unsigned r = 0; r < m_tile.rows_used; ++r) {
    const std::int16_t* a = m_job.act + (m_tile.m0 + r) * K;
    for (std::size_t k = 0; k < K; ++k) m_zero_act[k] += a[k] == 0;
  }
  std::uint64_t zeros = 0;
  for (std::size_t k = 0; k < K; ++k) {
    const std::uint64_t za = m_zero_act[k];
    std::uint64_t zw = 0;
    const std::int16_t* w = m_job.weight + k * N + m_tile.n0;
    for (unsigned c = 0; c < m_tile.cols_used; ++c) zw += w[c] == 0;
    zeros += za * m_tile.cols_used + zw * m_tile.rows_used - za * zw;
  }
  m_counts.zero_macs += zeros;
}

// Every activation register is clocked each cycle of a job; the weight registers when the stage's
// weights advance; the accumulators when its sums advance, else those that take a product.
void array_core::count_cycle(stage s) {
  const dataflow& df = *m_flow;
  const std::uint64_t pes = std::uint64_t{m_rows} * m_cols;
  m_counts.cycles += 1;
  m_counts.act_reg_writes += pes;
  if (df.weights_advance(s)) m_counts.weight_reg_writes += pes * m_hop;
  m_counts.acc_writes += df.sums_advance(s) ? pes : m_cycle_macs;
  m_cycle_macs = 0;
}

template <class Acc>
void array_core::drain_row(Acc* acc) {
  // The bottom row leaves through the drain outputs: the descriptor says which row of the tile it is.
  const unsigned local_row = m_flow->drained_row(m_drain_cycle);
  if (local_row < m_tile.rows_used) {
    const Acc* bottom = acc + static_cast<std::size_t>(m_rows - 1) * m_cols;
    std::int64_t* out = m_job.out + (m_tile.m0 + local_row) * m_job.shape.n + m_tile.n0;
    for (unsigned j = 0; j < m_tile.cols_used; ++j) out[j] = wrap_signed(bottom[j], m_cfg.acc_bits);
    if (m_counting) {
      m_counts.drain_moves += m_tile.cols_used;
      m_counts.out_buffer_writes += m_tile.cols_used;
    }
  }
  std::memmove(acc + m_cols, acc, static_cast<std::size_t>(m_rows - 1) * m_cols * sizeof(Acc));
  std::fill(acc, acc + m_cols, Acc{0});
}

void array_core::set_faults(std::vector<faults::fault> list) {
  for (const auto& f : list) f.validate(m_cfg);
  m_faults = std::move(list);
  m_valid_faults = m_control_faults = m_pe_faults = false;
  for (const auto& f : m_faults) {
    m_valid_faults |= f.site == faults::fault_site::valid;
    m_control_faults |= f.site == faults::fault_site::control;
    m_pe_faults |= faults::is_mult_site(f.site) || f.site == faults::fault_site::valid;
  }
  m_travel = m_control_faults && !m_ws;
  // A new fault list starts a new run (the engine is idle): no operand of the run before is valid in
  // it. Within a run the bits carry over from job to job, as the RTL's held registers do; while they
  // are not kept (no control faults) they would be stale.
  std::fill(m_act_valid.begin(), m_act_valid.end(), std::uint8_t{0});
  std::fill(m_wgt_valid.begin(), m_wgt_valid.end(), std::uint8_t{0});
}

bool array_core::valid_mac(unsigned r, unsigned c, std::uint64_t cycle) const {
  // The valid bits PE (r, c) receives: the west feeder's of row r c cycles ago, the north feeder's
  // of column c weight_hop * r cycles ago (invalid before the fold began: the drain fed none).
  const dataflow& df = *m_flow;
  bool act, wgt;
  if (m_travel) {
    act = m_act_valid[static_cast<std::size_t>(r) * m_cols + c] != 0;
    wgt = m_wgt_valid[north_index(r, c)] != 0;
  } else {
    act = m_t >= c && df.west_valid(m_tile, m_t - c, r);
    wgt = m_t >= df.west_skew(r) && df.north_valid(m_tile, m_t - df.west_skew(r), c);
  }
  for (const auto& f : m_faults) {
    if (f.site != faults::fault_site::valid || f.row != r || f.col != c || !f.active(cycle)) continue;
    bool& v = f.bit == faults::valid_act_bit ? act : wgt;
    v = f.apply_bit(v);
  }
  return act && wgt;
}

// Control faults corrupt the controller's registers as it reads them in this cycle.
void array_core::sabotage_control(std::uint64_t cycle) {
  namespace field = faults::control_field;
  // The stage register first: it selects which counter the controller reads in this cycle.
  m_phase = phase_at(cycle);
  for (const auto& f : m_faults) {
    if (f.site != faults::fault_site::control || !f.active(cycle) || f.bit == field::stage) continue;
    faults::fault at = f;  // the same fault on the field's own bit
    if (f.bit < field::fold_counter) {
      at.bit = f.bit - field::stage_counter;
      std::uint64_t& counter = m_phase == phase::drain ? m_drain_cycle : m_t;
      counter = at.apply_word(counter);
    } else if (f.bit < field::stage) {
      at.bit = f.bit - field::fold_counter;
      const std::uint64_t fold = at.apply_word(m_fold);
      if (fold != m_fold) {
        m_fold = fold;
        set_fold_tile();  // the feeders' and the drain's addresses follow the fold counter
      }
    }
  }
}

array_core::phase array_core::phase_at(std::uint64_t cycle) const {
  if (!m_control_faults || (m_phase != phase::compute && m_phase != phase::drain)) return m_phase;
  bool draining = m_phase == phase::drain;
  for (const auto& f : m_faults) {
    if (f.site == faults::fault_site::control && f.bit == faults::control_field::stage && f.active(cycle))
      draining = f.apply_bit(draining);
  }
  return draining ? phase::drain : phase::compute;
}

void array_core::abort() {
  if (m_phase == phase::idle) return;
  m_phase = phase::idle;
  std::fill(m_act.begin(), m_act.end(), std::int16_t{0});
  std::fill(m_wgt.begin(), m_wgt.end(), std::int16_t{0});
  std::fill(m_act_edge.begin(), m_act_edge.end(), std::int16_t{0});
  std::fill(m_wgt_edge.begin(), m_wgt_edge.end(), std::int16_t{0});
  std::fill(m_acc32.begin(), m_acc32.end(), 0u);
  std::fill(m_acc64.begin(), m_acc64.end(), std::uint64_t{0});
  std::fill(m_act_valid.begin(), m_act_valid.end(), std::uint8_t{0});
  std::fill(m_wgt_valid.begin(), m_wgt_valid.end(), std::uint8_t{0});
}

// Link faults corrupt the value on the link into the PE before it is used and registered on
// (weights south, activations east).
void array_core::apply_link_faults(std::uint64_t cycle) {
  for (const auto& f : m_faults) {
    if (!f.active(cycle)) continue;
    if (f.site == faults::fault_site::weight_link) {
      std::int16_t& w = m_wgt[north_index(f.row, f.col)];
      w = static_cast<std::int16_t>(f.apply(w, m_cfg.data_bits));
    } else if (f.site == faults::fault_site::act_link) {
      std::int16_t& a = m_act[static_cast<std::size_t>(f.row) * m_cols + f.col];
      a = static_cast<std::int16_t>(f.apply(a, m_cfg.data_bits));
    }
  }
}

// Multiplier-site and valid faults: the PE's product uses the corrupted operands, the links keep the
// intact ones, and it is added when the (possibly corrupted) valid bits say so. Done as a correction
// after the MAC of all PEs, so the hot loop stays fault-free. Several on one PE compose in list
// order per operand, as link faults do: the first of them applies the whole chain of both operands.
template <class Acc>
void array_core::apply_pe_faults(Acc* acc, std::uint64_t cycle) {
  auto names = [&](const faults::fault& f) {
    return (faults::is_mult_site(f.site) || f.site == faults::fault_site::valid) && f.active(cycle);
  };
  auto product = [this](std::int16_t x, std::int16_t y) { return this->product(x, y); };
  for (std::size_t n = 0; n < m_faults.size(); ++n) {
    const faults::fault& f = m_faults[n];
    if (!names(f)) continue;
    bool handled = false;
    for (std::size_t e = 0; e < n && !handled; ++e)
      handled = names(m_faults[e]) && m_faults[e].row == f.row && m_faults[e].col == f.col;
    if (handled) continue;
    // What the MAC loop did for this PE, and what the faulty PE does.
    const bool was = arrived_valid(f.row, f.col);
    const bool now = m_valid_faults ? valid_mac(f.row, f.col, cycle) : was;
    if (!was && !now) continue;
    const std::size_t i = static_cast<std::size_t>(f.row) * m_cols + f.col;
    const std::int16_t a = m_act[i];
    const std::int16_t w = m_ws ? static_cast<std::int16_t>(south_out(f.row, f.col)) : m_wgt[north_index(f.row, f.col)];
    std::int32_t bad_a = a, bad_w = w;
    for (std::size_t later = n; later < m_faults.size(); ++later) {
      const faults::fault& g = m_faults[later];
      if (!faults::is_mult_site(g.site) || !g.active(cycle) || g.row != f.row || g.col != f.col) continue;
      std::int32_t& v = g.site == faults::fault_site::weight_mult ? bad_w : bad_a;
      v = g.apply(v, m_cfg.data_bits);
    }
    const Acc added = now ? static_cast<Acc>(product(static_cast<std::int16_t>(bad_a), static_cast<std::int16_t>(bad_w))) : Acc{0};
    const Acc removed = was ? static_cast<Acc>(product(a, w)) : Acc{0};
    acc[i] += added - removed;
    // The multiplier saw the corrupted operands: count its MACs and zero operands as it saw them.
    if (m_counting) {
      m_counts.macs += static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(was);
      m_cycle_macs += static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(was);
      m_counts.zero_macs += static_cast<std::uint64_t>(now && (bad_a == 0 || bad_w == 0)) -
                            static_cast<std::uint64_t>(was && (a == 0 || w == 0));
    }
  }
}

// Accumulator faults corrupt what the register takes at this edge, after the cycle's sum or shift.
template <class Acc>
void array_core::apply_acc_faults(Acc* acc, std::uint64_t cycle) {
  for (const auto& f : m_faults) {
    if (f.site != faults::fault_site::acc || !f.active(cycle)) continue;
    Acc& v = acc[static_cast<std::size_t>(f.row) * m_cols + f.col];
    v = f.apply_word(v);
  }
}

// The saboteur acts on the current cycle's state before any PE uses it. A faulty wire is faulty in
// every phase, though only products of the compute phase reach an accumulator. Kept out of line so
// that a run without faults pays one predicted branch per cycle.
__attribute__((noinline)) void array_core::sabotage(std::uint64_t cycle) {
  apply_link_faults(cycle);
  if (m_phase != phase::compute || !m_pe_faults) return;
  if (m_wide_acc) apply_pe_faults(m_acc64.data(), cycle);
  else apply_pe_faults(m_acc32.data(), cycle);
}

__attribute__((noinline)) void array_core::sabotage_acc(std::uint64_t cycle) {
  if (m_wide_acc) apply_acc_faults(m_acc64.data(), cycle);
  else apply_acc_faults(m_acc32.data(), cycle);
}

template <class Mul>
void array_core::compute_with(const Mul& mul) {
  if (m_travel) {
    if (m_wide_acc) compute_macs_travelling(m_acc64.data(), mul);
    else compute_macs_travelling(m_acc32.data(), mul);
  } else {
    if (m_wide_acc) compute_macs(m_acc64.data(), mul);
    else compute_macs(m_acc32.data(), mul);
  }
}

void array_core::compute_step() {
  if (m_native) compute_with(native_product{});
  else if (m_table != nullptr) compute_with(table_product{m_table, m_cfg.data_bits});
  else compute_with(slot_product{m_mult});
}

void array_core::step() {
  ++m_total_cycles;
  if (m_phase == phase::idle) return;  // all links hold zero between jobs
  ++m_job_cycles;
  if (m_ws) {
    step_ws();
    return;
  }
  const bool faulty = __builtin_expect(!m_faults.empty(), 0);
  if (faulty) {
    if (m_control_faults) {
      sabotage_control(m_total_cycles - 1);
      if (m_failed) {  // the address generator stops the job, and the controller resets the array
        abort();
        return;
      }
    }
    sabotage(m_total_cycles - 1);
  }
  if (m_phase == phase::compute) {
    compute_step();
    if (faulty) sabotage_acc(m_total_cycles - 1);
    if (m_counting) count_cycle(stage::compute);
    shift_links();
    if (++m_t == m_compute_len) m_phase = phase::drain;
    load_feeders();
    return;
  }
  if (m_wide_acc) drain_row(m_acc64.data());
  else drain_row(m_acc32.data());
  if (faulty) sabotage_acc(m_total_cycles - 1);
  if (m_counting) count_cycle(stage::drain);
  shift_links();
  if (++m_drain_cycle < m_flow->drain_cycles()) {
    load_feeders();
    return;
  }
  if (++m_fold < fold_count()) {
    begin_fold();
  } else {
    m_phase = phase::idle;
    load_feeders();
  }
}

std::int64_t array_core::acc(unsigned r, unsigned c) const {
  const std::size_t i = static_cast<std::size_t>(r) * m_cols + c;
  return wrap_signed(m_wide_acc ? m_acc64[i] : m_acc32[i], m_cfg.acc_bits);
}

bool array_core::mac_enabled(unsigned r, unsigned c) const {
  if (phase_at(m_total_cycles) != phase::compute) return false;
  return m_valid_faults ? valid_mac(r, c, m_total_cycles) : arrived_valid(r, c);
}

std::int32_t array_core::product(std::int16_t a, std::int16_t w) const {
  if (m_native) return std::int32_t{a} * w;
  return m_mult->multiply(a, w);  // a product table's multiply() is its lookup
}

// ---- Weight-stationary. Per cycle: the outputs leave the bottom row, the saboteur acts, the partial
// sums move one PE south and add the products of the PEs that accumulate, every activation moves
// east, and (preloading) every weight moves south. The descriptor gives the feeders, the busy PEs
// and the outputs; a row at a time, as the MAC runs never join across rows here.
void array_core::load_feeders_ws() {
  const dataflow& df = *m_flow;
  const stage s = m_phase == phase::preload ? stage::preload : stage::compute;
  const std::size_t k = m_job.shape.k, n = m_job.shape.n;
  for (unsigned r = 0; r < m_rows; ++r) {
    const auto a = m_phase == phase::idle ? std::nullopt : df.west_operand(m_tile, s, m_t, r);
    m_act[r * m_cols] = a ? m_job.act[a->row * k + a->col] : std::int16_t{0};
    if (m_counting && a) ++m_counts.act_buffer_reads;
  }
  for (unsigned c = 0; c < m_cols; ++c) {
    const auto w = m_phase == phase::idle ? std::nullopt : df.north_operand(m_tile, s, m_t, c);
    m_wgt[c] = w ? m_job.weight[w->row * n + w->col] : std::int16_t{0};
    if (m_counting && w) ++m_counts.weight_buffer_reads;
  }
}

template <class Acc>
void array_core::step_ws_sums(Acc* acc) {
  const dataflow& df = *m_flow;
  const bool compute = m_phase == phase::compute;
  if (compute) {
    for (unsigned c = 0; c < m_tile.cols_used; ++c) {
      const auto o = df.output(m_tile, stage::compute, m_t, c);
      if (!o) continue;
      std::int64_t& out = m_job.out[o->m * m_job.shape.n + o->n];
      const std::uint64_t v = acc[static_cast<std::size_t>(m_rows - 1) * m_cols + c];
      out = wrap_signed(o->add ? static_cast<std::uint64_t>(out) + v : v, m_cfg.acc_bits);
      if (m_counting) {
        ++m_counts.drain_moves;
        ++m_counts.out_buffer_writes;
        m_counts.out_buffer_reads += o->add;
      }
    }
  }
  // Link faults corrupt what a PE loads while preloading; held weights are not on the wire after that.
  if (__builtin_expect(!m_faults.empty(), 0) && m_phase == phase::preload) apply_link_faults(m_total_cycles - 1);
  std::memmove(acc + m_cols, acc, static_cast<std::size_t>(m_rows - 1) * m_cols * sizeof(Acc));
  std::fill(acc, acc + m_cols, Acc{0});
  if (compute) {
    for (unsigned r = 0; r < m_tile.rows_used; ++r) {
      const auto [lo, hi] = df.busy_columns(m_tile, m_t, r);
      const std::int16_t* held = r + 1 < m_rows ? &m_wgt[north_index(r + 1, 0)] : m_wgt_edge.data();
      for (std::int64_t c = lo; c <= hi; ++c) {
        const std::size_t i = static_cast<std::size_t>(r) * m_cols + static_cast<std::size_t>(c);
        const std::int16_t a = m_act[i], w = held[c];
        acc[i] += static_cast<Acc>(product(a, w));
      }
      if (m_counting && lo <= hi) {
        const std::size_t first = static_cast<std::size_t>(r) * m_cols + static_cast<std::size_t>(lo);
        count_macs(&m_act[first], held + lo, static_cast<std::size_t>(hi - lo + 1));
      }
    }
    if (__builtin_expect(m_pe_faults, 0)) apply_pe_faults(acc, m_total_cycles - 1);
  }
}

void array_core::step_ws() {
  if (m_wide_acc) step_ws_sums(m_acc64.data());
  else step_ws_sums(m_acc32.data());
  if (m_counting) count_cycle(m_phase == phase::preload ? stage::preload : stage::compute);
  // Activations move east every cycle; weights move south only while preloading.
  for (unsigned i = 0; i < m_rows; ++i) m_act_edge[i] = m_act[i * m_cols + m_cols - 1];
  std::memmove(&m_act[1], &m_act[0], (m_act.size() - 1) * sizeof(std::int16_t));
  if (m_phase == phase::preload) {
    std::copy(m_wgt.end() - m_cols, m_wgt.end(), m_wgt_edge.begin());
    std::memmove(&m_wgt[m_cols], &m_wgt[0], (m_wgt.size() - m_cols) * sizeof(std::int16_t));
  }
  const dataflow& df = *m_flow;
  if (++m_t == df.stage_cycles(m_phase == phase::preload ? stage::preload : stage::compute)) {
    m_t = 0;
    if (m_phase == phase::preload) {
      m_phase = phase::compute;
    } else if (++m_fold < df.folds()) {
      begin_fold();
      return;
    } else {
      m_phase = phase::idle;
    }
  }
  load_feeders_ws();
}

std::int64_t array_core::drain_out(unsigned c) const {
  if (m_ws ? m_phase != phase::compute : phase_at(m_total_cycles) != phase::drain) return 0;
  return acc(m_rows - 1, c);
}

void array_core::poke_acc(unsigned r, unsigned c, std::int64_t value) {
  const std::size_t i = static_cast<std::size_t>(r) * m_cols + c;
  if (m_wide_acc) m_acc64[i] = static_cast<std::uint64_t>(value);
  else m_acc32[i] = static_cast<std::uint32_t>(value);
}

}  // namespace axsa::hw
