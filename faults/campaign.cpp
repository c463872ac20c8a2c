#include "faults/campaign.h"

#include <algorithm>
#include <cmath>

#include "hw/cycle_model.h"
#include "hw/dataflow.h"

namespace axsa::faults {

namespace {

int argmax(const std::vector<double>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());  // lowest index on ties
}

bool is_gemm(sw::layer_kind k) { return k == sw::layer_kind::conv || k == sw::layer_kind::dense; }

// Records the GEMM calls of a run, and their sums, so that the jobs can be laid out as the driver
// issues them and faulty runs can start from the golden sums.
class recording_backend final : public sw::gemm_backend {
 public:
  explicit recording_backend(sw::functional_engine& twin) : m_twin(twin) {}
  sw::gemm_stats gemm(const hw::gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight,
                      std::int64_t* out, const void* id) override {
    shapes.push_back(shape);
    const sw::gemm_stats st = m_twin.gemm(shape, act, weight, out, id);
    sums.emplace_back(out, out + shape.m * shape.n);
    return st;
  }
  std::string name() const override { return "recording"; }
  std::vector<hw::gemm_shape> shapes;
  std::vector<std::vector<std::int64_t>> sums;

 private:
  sw::functional_engine& m_twin;
};

}  // namespace

pair_result classify(std::uint32_t image, const std::vector<double>& golden, const std::vector<double>& faulty) {
  pair_result r;
  r.image = image;
  r.golden_label = argmax(golden);
  r.faulty_label = argmax(faulty);
  r.ratio = faulty[static_cast<std::size_t>(r.faulty_label)] / golden[static_cast<std::size_t>(r.golden_label)];
  if (faulty == golden) r.result = outcome::masked;
  else if (r.faulty_label == r.golden_label && r.ratio > 0.95) r.result = outcome::tolerable;
  else r.result = outcome::critical;
  return r;
}

golden_reference::golden_reference(const campaign_setup& setup) : m_setup(setup) {
  const sw::qnetwork& net = *setup.net;
  if (setup.batch == 0) throw config_error("batch must be at least 1");
  sw::functional_engine twin(setup.cfg, setup.mult);
  recording_backend rec(twin);
  std::vector<sw::layer_stats> stats = sw::make_layer_stats(net);
  std::vector<std::size_t> gemm_layers;
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    if (is_gemm(net.layers[l].kind)) gemm_layers.push_back(l);
  for (std::size_t b0 = 0, b = 0; b0 < setup.count; b0 += setup.batch, ++b) {
    const std::size_t nb = std::min(setup.batch, setup.count - b0);
    m_inputs.emplace_back();
    rec.shapes.clear();
    rec.sums.clear();
    auto logits = sw::run_batch(net, rec, sw::quantize_images(net, *setup.images, setup.first + b0, nb), nb, 0, stats,
                                &m_inputs.back());
    for (auto& v : logits) m_logits.push_back(std::move(v));
    m_sums.emplace_back(net.layers.size());
    for (std::size_t g = 0; g < rec.sums.size(); ++g) m_sums.back()[gemm_layers[g]] = std::move(rec.sums[g]);
    // The driver's jobs: every GEMM call of the batch, tiled in M to fit the buffers.
    for (std::size_t g = 0; g < rec.shapes.size(); ++g) {
      const hw::gemm_shape& s = rec.shapes[g];
      const std::size_t rows = sw::host_driver::rows_per_job(s, setup.buffers);
      if (rows == 0) throw config_error("a GEMM of the network does not fit the accelerator's buffers");
      for (std::size_t r0 = 0; r0 < s.m; r0 += rows) {
        job_span j;
        j.batch = b;
        j.layer = gemm_layers[g];
        j.row0 = r0;
        j.shape = {std::min(rows, s.m - r0), s.k, s.n};
        j.first_cycle = m_cycles;
        j.cycles = hw::gemm_cycles(j.shape, setup.cfg);
        m_cycles += j.cycles;
        m_jobs.push_back(j);
      }
    }
  }
  for (const auto& v : m_logits) m_probs.push_back(probabilities_of(v));
}

std::vector<double> golden_reference::probabilities_of(const std::vector<std::int64_t>& logits) const {
  const sw::qnetwork& net = *m_setup.net;
  return sw::output_probabilities(logits, net.logits_layer(net.exit_count() - 1), net.bits, m_setup.logits);
}

std::vector<int> golden_reference::labels() const {
  std::vector<int> out;
  for (const auto& p : m_probs) out.push_back(argmax(p));
  return out;
}

std::size_t golden_reference::batch_size(std::size_t b) const {
  return std::min(m_setup.batch, m_setup.count - b * m_setup.batch);
}

double golden_reference::logits_scale() const {
  for (const auto& l : m_setup.net->layers)
    if (l.produces_logits) return l.acc_scale;
  return 1.0;
}

bool may_touch(const job_span& job, const fault& f, const hw::array_config& cfg) {
  if (f.last_cycle < job.first_cycle || f.first_cycle >= job.first_cycle + job.cycles) return false;
  if (f.site == fault_site::acc) return true;  // even an idle PE leaves corrupted zeros behind
  return f.row < std::min<std::size_t>(cfg.rows, job.shape.m) && f.col < std::min<std::size_t>(cfg.cols, job.shape.n);
}

std::vector<fault_rectangle> fault_rectangles(const job_span& job, const fault& f, const hw::array_config& cfg) {
  std::vector<fault_rectangle> out;
  if (f.site == fault_site::acc || f.site == fault_site::control || !may_touch(job, f, cfg)) return out;
  // A valid bit stuck at 1 changes no output (fault_rectangle); stuck at 0 or flipped, it skips products.
  const bool skip = f.site == fault_site::valid;
  if (skip && f.kind == fault_kind::stuck_at_1) return out;
  // The descriptor says when each fold starts, how long it computes and which k passes PE (r,c) when.
  const hw::dataflow df(cfg, job.shape);
  const std::uint64_t K = job.shape.k, compute = df.compute_cycles();
  const unsigned r = f.row, c = f.col;
  const bool link = is_link_site(f.site);
  const bool activation = !is_weight_site(f.site);
  for (std::uint64_t fi = 0; fi < df.folds(); ++fi) {
    const hw::dataflow::tile tile = df.fold_tile(fi);
    if (r >= tile.rows_used || c >= tile.cols_used) continue;
    const std::uint64_t start = job.first_cycle + fi * df.fold_cycles();
    // Compute cycles t of this fold inside the window, and the pairs passing PE (r,c) in them.
    if (f.last_cycle < start || f.first_cycle >= start + compute) continue;
    const std::uint64_t t_lo = f.first_cycle > start ? f.first_cycle - start : 0;
    const std::uint64_t t_hi = std::min(compute - 1, f.last_cycle - start);
    const std::int64_t k_last = std::min<std::int64_t>(static_cast<std::int64_t>(K) - 1, df.k_at(t_hi, r, c));
    if (k_last < 0) continue;
    fault_rectangle rect;
    rect.k_lo = static_cast<std::size_t>(std::max<std::int64_t>(0, df.k_at(t_lo, r, c)));
    rect.k_hi = static_cast<std::size_t>(k_last);
    rect.activation = activation;
    rect.skip = skip;
    const std::size_t m = job.row0 + tile.m0 + r, n = tile.n0 + c;
    if (skip) {  // the faulty PE's own products
      rect.m_begin = m;
      rect.m_end = m + 1;
      rect.n_begin = n;
      rect.n_end = n + 1;
    } else if (activation) {
      // Link site: the corrupted activation travels east to every column after it; multiplier site: this PE only.
      rect.m_begin = m;
      rect.m_end = m + 1;
      rect.n_begin = n;
      rect.n_end = link ? tile.n0 + tile.cols_used : n + 1;
    } else {
      // Link site: the corrupted weight travels down to every row below; multiplier site: this PE only.
      rect.m_begin = m;
      rect.m_end = link ? job.row0 + tile.m0 + tile.rows_used : m + 1;
      rect.n_begin = n;
      rect.n_end = n + 1;
    }
    out.push_back(rect);
  }
  return out;
}

void apply_fault_to_job(const job_span& job, const fault& f, const hw::array_config& cfg, const std::int16_t* act,
                        const std::int16_t* weight, std::int64_t* out, const sw::functional_engine& twin) {
  const std::size_t K = job.shape.k, N = job.shape.n;
  auto add = [&](std::size_t m, std::size_t n, std::int64_t delta) {
    std::int64_t& o = out[m * N + n];
    o = hw::wrap_signed(static_cast<std::uint64_t>(o) + static_cast<std::uint64_t>(delta), cfg.acc_bits);
  };
  for (const fault_rectangle& rect : fault_rectangles(job, f, cfg)) {
    for (std::size_t k = rect.k_lo; k <= rect.k_hi; ++k) {
      if (rect.skip) {  // one PE's product not added
        add(rect.m_begin, rect.n_begin, -std::int64_t{twin.product(act[rect.m_begin * K + k], weight[k * N + rect.n_begin])});
      } else if (rect.activation) {  // one row, its activation corrupted
        const std::int16_t a = act[rect.m_begin * K + k];
        const auto bad = static_cast<std::int16_t>(f.apply(a, cfg.data_bits));
        if (bad == a) continue;
        for (std::size_t n = rect.n_begin; n < rect.n_end; ++n) {
          const std::int16_t w = weight[k * N + n];
          add(rect.m_begin, n, std::int64_t{twin.product(bad, w)} - twin.product(a, w));
        }
      } else {  // one column, its weight corrupted
        const std::int16_t w = weight[k * N + rect.n_begin];
        const auto bad = static_cast<std::int16_t>(f.apply(w, cfg.data_bits));
        if (bad == w) continue;
        for (std::size_t m = rect.m_begin; m < rect.m_end; ++m) {
          const std::int16_t a = act[m * K + k];
          add(m, rect.n_begin, std::int64_t{twin.product(a, bad)} - twin.product(a, w));
        }
      }
    }
  }
}

namespace {

// The corrupted zeros a fold's drain leaves in column c: row r+R-1-d gets F(0) for every drain cycle
// d >= r the fault is active in (zeros enter row 0 behind the sums; PE (r, c) writes the one reaching it).
void fold_leftover(const fault& f, const hw::dataflow& df, std::uint64_t drain_start, std::vector<std::uint64_t>& out) {
  const unsigned R = df.rows();
  const std::uint64_t bad_zero = f.apply_word(std::uint64_t{0});
  out.clear();
  if (bad_zero == 0) return;
  for (unsigned d = f.row; d < R; ++d) {
    if (!f.active(drain_start + d)) continue;
    if (out.empty()) out.assign(R, 0);
    out[f.row + R - 1 - d] = bad_zero;
  }
}

}  // namespace

std::vector<std::uint64_t> acc_leftover(const job_span& job, const fault& f, const hw::array_config& cfg) {
  std::vector<std::uint64_t> out;
  if (f.site != fault_site::acc || !may_touch(job, f, cfg)) return out;
  const hw::dataflow df(cfg, job.shape);
  const std::uint64_t last = df.folds() - 1;
  fold_leftover(f, df, job.first_cycle + last * df.fold_cycles() + df.compute_cycles(), out);
  return out;
}

void acc_fault_outputs(const job_span& job, const fault& f, const hw::array_config& cfg,
                       const std::vector<std::uint64_t>& leftover_in,
                       const std::function<std::uint64_t(std::size_t m, std::size_t n)>& clean,
                       const std::function<std::int64_t(std::size_t m, std::size_t k, std::size_t n)>& product,
                       std::vector<acc_output>& out) {
  if (f.site != fault_site::acc) return;
  const bool window = may_touch(job, f, cfg);
  if (!window && leftover_in.empty()) return;
  const hw::dataflow df(cfg, job.shape);
  const unsigned r = f.row, c = f.col;
  const std::uint64_t compute = df.compute_cycles();
  std::vector<std::uint64_t> left = leftover_in, next;
  for (std::uint64_t fi = 0; fi < df.folds(); ++fi) {
    const hw::dataflow::tile tile = df.fold_tile(fi);
    const std::uint64_t start = job.first_cycle + fi * df.fold_cycles();
    const bool active_here = window && !(f.last_cycle < start || f.first_cycle >= start + df.fold_cycles());
    if (active_here) fold_leftover(f, df, start + compute, next);
    else next.clear();
    if ((active_here || !left.empty()) && c < tile.cols_used) {
      const std::size_t n = tile.n0 + c;
      for (unsigned j = 0; j < tile.rows_used; ++j) {
        const std::size_t m = job.row0 + tile.m0 + j;
        const std::uint64_t in = left.empty() ? 0 : left[j];
        const std::uint64_t fault_free = clean(m, n);
        std::uint64_t v = in + fault_free;
        if (j == r && active_here && !(f.last_cycle < start || f.first_cycle >= start + compute)) {
          // The faulty PE's own sum, cycle by cycle: its product, then the fault on the register's input.
          v = in;
          for (std::uint64_t t = 0; t < compute; ++t) {
            if (df.accumulates(tile, t, j, c)) v += static_cast<std::uint64_t>(product(m, static_cast<std::size_t>(df.k_at(t, j, c)), n));
            if (f.active(start + t)) v = f.apply_word(v);
          }
        } else if (j < r && active_here && f.active(start + compute + (r - 1 - j))) {
          // Rows above the faulty PE pass through it while draining: written into it in drain cycle r-1-j.
          v = f.apply_word(v);
        }
        const std::int64_t value = hw::wrap_signed(v, cfg.acc_bits);
        if (value != hw::wrap_signed(fault_free, cfg.acc_bits)) out.push_back({m, n, value});
      }
    }
    left.swap(next);
  }
}

std::vector<std::vector<std::int64_t>> run_on_system(sw::accelerated_system& sys, const campaign_setup& setup,
                                                     const std::vector<fault>& faults) {
  hw::array_engine& core = sys.accelerator.array.engine();
  // A fault of the run before may have left the accelerator busy or with DONE raised (a control fault
  // whose run crashed): reset it, and let the array's controller and irq settle for a cycle.
  sys.accelerator.abort();
  sc_core::wait(sys.accelerator.cycles_to_time(1));
  const std::uint64_t base = core.total_cycles();
  // Each run starts from a clean array: an accumulator fault of the run before may have left
  // corrupted zeros in it (acc_leftover), which belong to that run only.
  for (unsigned r = 0; r < core.config().rows; ++r)
    for (unsigned c = 0; c < core.config().cols; ++c) core.poke_acc(r, c, 0);
  std::vector<fault> shifted = faults;
  for (auto& f : shifted) {
    f.first_cycle += base;
    f.last_cycle = f.last_cycle > UINT64_MAX - base ? UINT64_MAX : f.last_cycle + base;
  }
  core.set_faults(shifted);
  struct clear_on_exit {
    hw::array_engine& c;
    ~clear_on_exit() { c.set_faults({}); }
  } guard{core};
  auto r = sw::run_inference(*setup.net, sys.host, *setup.images, setup.first, setup.count, setup.batch);
  return r.logits;
}

std::vector<pair_result> evaluate_on_system(sw::accelerated_system& sys, const golden_reference& golden, const fault& f) {
  try {
    return classify_run(golden, run_on_system(sys, golden.setup(), {f}));
  } catch (const sw::hang_error&) {
    return failed_run(golden, outcome::hang);
  } catch (const std::exception&) {
    return failed_run(golden, outcome::crash);
  }
}

std::vector<pair_result> classify_run(const golden_reference& golden, const std::vector<std::vector<std::int64_t>>& faulty) {
  std::vector<pair_result> out;
  for (std::size_t i = 0; i < faulty.size(); ++i) {
    out.push_back(classify(static_cast<std::uint32_t>(golden.setup().first + i), golden.probabilities()[i],
                           golden.probabilities_of(faulty[i])));
  }
  return out;
}

std::vector<pair_result> failed_run(const golden_reference& golden, outcome why) {
  std::vector<pair_result> out;
  const auto labels = golden.labels();
  for (std::size_t i = 0; i < golden.logits().size(); ++i) {
    pair_result r;
    r.image = static_cast<std::uint32_t>(golden.setup().first + i);
    r.result = why;
    r.golden_label = labels[i];
    r.faulty_label = -1;
    r.ratio = std::nan("");
    out.push_back(r);
  }
  return out;
}

}  // namespace axsa::faults
