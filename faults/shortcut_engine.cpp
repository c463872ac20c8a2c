// The campaign shortcut (faults/campaign.h): one fault's effect carried through the network as the
// difference from the golden run. A GEMM layer starts from the golden accumulator sums and adds, for
// every changed input activation, the change of each product it enters, and for every product the
// fault alters (fault_rectangles), the faulty product's difference; only the rows so touched are
// requantised and compared with the golden activations. ReLUs and pools recompute only the outputs
// whose inputs changed. Where a layer's changed inputs are many, the whole GEMM runs on the twin.
// Activation faults change the products of one row instead of one column; accumulator faults change
// sums (acc_fault_outputs in faults/campaign.cpp), including the corrupted zeros a drain leaves for
// the next fold or job. Every step uses the twin's products and the accumulator's wrap, so the
// result equals the full run.
#include <algorithm>

#include "faults/campaign.h"
#include "hw/array_config.h"

namespace axsa::faults {

namespace {

bool is_gemm(sw::layer_kind k) { return k == sw::layer_kind::conv || k == sw::layer_kind::dense; }

// The sparse update costs about this many times more per product than the twin's GEMM (scalar
// products against its blocked, vectorised loop); above that share of changed products the layer
// runs whole.
constexpr std::size_t sparse_cost_factor = 4;

}  // namespace

shortcut_engine::shortcut_engine(const golden_reference& golden)
    : m_golden(golden), m_twin(golden.setup().cfg, golden.setup().mult), m_work(golden.inputs()) {
  if (golden.setup().cfg.dataflow != hw::dataflow_kind::output_stationary) {
    throw config_error("the campaign shortcut models the output-stationary dataflow; run weight-stationary "
                       "campaigns on the full simulation");
  }
  m_twin.set_counting(false);
  const sw::qnetwork& net = *golden.setup().net;
  const std::size_t batch = golden.setup().batch;
  std::size_t most_sums = 0, most_rows = 0, most_outs = 0;
  m_im2col.resize(net.layers.size());
  for (std::size_t li = 0; li < net.layers.size(); ++li) {
    const sw::qlayer& l = net.layers[li];
    most_outs = std::max(most_outs, batch * l.out.size());
    if (!is_gemm(l.kind)) continue;
    const std::size_t pix = l.kind == sw::layer_kind::conv ? std::size_t{l.out.h} * l.out.w : 1;
    if (l.kind == sw::layer_kind::conv) m_im2col[li] = sw::im2col_offsets(l);
    most_rows = std::max(most_rows, batch * pix);
    most_sums = std::max(most_sums, batch * pix * l.gemm_n);
  }
  m_delta.assign(most_sums, 0);
  m_row_marked.assign(most_rows, 0);
  m_out_marked.assign(most_outs, 0);
}

std::vector<std::vector<std::int64_t>> shortcut_engine::run(const fault& f) {
  if (!shortcut_site(f.site)) {
    throw config_error(std::string("the shortcut engine does not compute ") + to_string(f.site) +
                       " faults; they run the full simulation (docs/faults.md)");
  }
  const campaign_setup& s = m_golden.setup();
  std::vector<std::vector<std::int64_t>> out = m_golden.logits();
  std::vector<const job_span*> touched;
  const std::vector<job_span>& jobs = m_golden.jobs();
  // An accumulator fault may leave corrupted zeros in the array for the job after it (whatever batch
  // or layer that is): those jobs are touched too. The leftovers depend on the window alone.
  const bool acc = f.site == fault_site::acc;
  if (acc) {
    m_leftover.resize(jobs.size());
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      if (j == 0) m_leftover[j].clear();
      else m_leftover[j] = acc_leftover(jobs[j - 1], f, s.cfg);
    }
  } else {
    m_leftover.clear();
  }
  // Jobs are laid out batch by batch.
  for (std::size_t j = 0; j < jobs.size();) {
    const std::size_t b = jobs[j].batch;
    touched.clear();
    for (; j < jobs.size() && jobs[j].batch == b; ++j)
      if (may_touch(jobs[j], f, s.cfg) || (acc && !m_leftover[j].empty())) touched.push_back(&jobs[j]);
    if (!touched.empty()) run_batch(b, touched, f, out);  // else the whole batch stays golden
  }
  return out;
}

void shortcut_engine::mark_row(std::size_t m) {
  if (m_row_marked[m]) return;
  m_row_marked[m] = 1;
  m_rows.push_back(m);
}

void shortcut_engine::run_batch(std::size_t b, const std::vector<const job_span*>& touched, const fault& f,
                                std::vector<std::vector<std::int64_t>>& out) {
  const sw::qnetwork& net = *m_golden.setup().net;
  const std::size_t L = net.layers.size();
  const std::size_t last_touched = touched.back()->layer;
  std::vector<change> cur, next;
  std::vector<const job_span*> jobs;
  std::vector<std::pair<std::size_t, std::size_t>> patched;  // (layer, index) of m_work to restore
  for (std::size_t li = touched.front()->layer; li < L; ++li) {
    if (cur.empty() && li > last_touched) break;  // back on the golden path for good
    const sw::qlayer& l = net.layers[li];
    next.clear();
    static const std::vector<std::int16_t> none;
    const std::vector<std::int16_t>& golden_next = li + 1 < L ? m_golden.input(b, li + 1) : none;
    switch (l.kind) {
      case sw::layer_kind::conv:
      case sw::layer_kind::dense: {
        jobs.clear();
        for (const job_span* j : touched)
          if (j->layer == li) jobs.push_back(j);
        if (cur.empty() && jobs.empty()) break;
        gemm_changes(b, li, cur, jobs, f);
        const std::size_t pix = l.kind == sw::layer_kind::conv ? std::size_t{l.out.h} * l.out.w : 1;
        const std::size_t N = l.gemm_n, out_size = l.out.size();
        const std::vector<std::int64_t>& sums = m_golden.sums(b, li);
        const double factor = l.acc_scale / l.out_scale;
        const unsigned acc_bits = m_golden.setup().cfg.acc_bits;
        for (const std::size_t m : m_rows) {
          m_row_marked[m] = 0;
          const std::size_t img = m / pix, p = m % pix;
          for (std::size_t n = 0; n < N; ++n) {
            std::int64_t acc = 0;
            if (m_dense) {
              acc = m_full[m * N + n];
              if (acc == sums[m * N + n]) continue;  // the golden sum: the golden output
            } else {
              const std::int64_t d = m_delta[m * N + n];
              if (d == 0) continue;
              m_delta[m * N + n] = 0;
              acc = hw::wrap_signed(static_cast<std::uint64_t>(sums[m * N + n]) + static_cast<std::uint64_t>(d), acc_bits);
            }
            if (l.produces_logits) {
              out[m_golden.batch_first(b) + img][n] = acc + l.bias_acc[n];  // logits layers have one row per image
              continue;
            }
            const std::int16_t q = sw::requantize(acc + l.bias_acc[n], factor, l.out_lo, l.out_hi);
            const std::size_t idx = img * out_size + n * pix + p;
            if (q != golden_next[idx]) next.push_back({idx, q});
          }
        }
        m_rows.clear();
        break;
      }
      case sw::layer_kind::relu:
        for (const change& c : cur) {
          const auto v = std::max<std::int16_t>(c.value, 0);
          if (v != golden_next[c.index]) next.push_back({c.index, v});
        }
        break;
      case sw::layer_kind::max_pool:
      case sw::layer_kind::avg_pool: {
        const std::size_t in_size = l.in.size(), out_size = l.out.size(), plane = std::size_t{l.in.h} * l.in.w;
        const long kh = l.kh, kw = l.kw, sh = l.stride_h, sw_ = l.stride_w;
        for (const change& c : cur) {
          const std::size_t img = c.index / in_size, e = c.index % in_size;
          const std::size_t ch = e / plane;
          const long y = static_cast<long>((e % plane) / l.in.w) + l.pad_top, x = static_cast<long>(e % l.in.w) + l.pad_left;
          // Outputs whose window [o * s, o * s + k) covers the (padded) input position.
          const long oy_lo = std::max(0L, (y - kh + sh) / sh), oy_hi = std::min<long>(l.out.h - 1, y / sh);
          const long ox_lo = std::max(0L, (x - kw + sw_) / sw_), ox_hi = std::min<long>(l.out.w - 1, x / sw_);
          for (long oy = oy_lo; oy <= oy_hi; ++oy) {
            for (long ox = ox_lo; ox <= ox_hi; ++ox) {
              const std::size_t o = img * out_size + (ch * l.out.h + static_cast<std::size_t>(oy)) * l.out.w + static_cast<std::size_t>(ox);
              if (m_out_marked[o]) continue;
              m_out_marked[o] = 1;
              m_outs.push_back(o);
            }
          }
        }
        const std::int16_t* in = m_work[b][li].data();
        for (const std::size_t o : m_outs) {
          m_out_marked[o] = 0;
          const std::size_t img = o / out_size, e = o % out_size, oplane = std::size_t{l.out.h} * l.out.w;
          const auto v = sw::pool_output(l, in + img * in_size, static_cast<unsigned>(e / oplane),
                                         static_cast<unsigned>((e % oplane) / l.out.w), static_cast<unsigned>(e % l.out.w));
          if (v != golden_next[o]) next.push_back({o, v});
        }
        m_outs.clear();
        break;
      }
      case sw::layer_kind::flatten:
      case sw::layer_kind::softmax:
        next = cur;  // the same activations in the same order
        break;
    }
    if (li + 1 < L) {
      std::vector<std::int16_t>& work = m_work[b][li + 1];
      for (const change& c : next) {
        work[c.index] = c.value;
        patched.emplace_back(li + 1, c.index);
      }
    }
    cur.swap(next);
  }
  for (const auto& [layer, index] : patched) m_work[b][layer][index] = m_golden.input(b, layer)[index];
}

void shortcut_engine::gemm_changes(std::size_t b, std::size_t li, const std::vector<change>& in_changes,
                                   const std::vector<const job_span*>& jobs, const fault& f) {
  const campaign_setup& s = m_golden.setup();
  const sw::qlayer& l = s.net->layers[li];
  const bool conv = l.kind == sw::layer_kind::conv;
  const std::size_t nb = m_golden.batch_size(b);
  const std::size_t pix = conv ? std::size_t{l.out.h} * l.out.w : 1;
  const std::size_t M = nb * pix, K = l.gemm_k, N = l.gemm_n, in_size = l.in.size();
  const std::int16_t* W = l.weight_kn.data();
  const std::int16_t* in = m_work[b][li].data();
  const std::int32_t* offsets = conv ? m_im2col[li].data() : nullptr;
  const bool native = m_twin.native_products();
  const auto act_at = [&](std::size_t m, std::size_t k) -> std::int16_t {
    if (!conv) return in[m * in_size + k];
    const std::int32_t off = offsets[(m % pix) * K + k];
    return off < 0 ? std::int16_t{0} : in[(m / pix) * in_size + static_cast<std::size_t>(off)];
  };

  // Dense: the whole GEMM of the faulty input on the twin, the fault's products corrected in it.
  const std::size_t fan_out = conv ? ((l.kh + l.stride_h - 1) / l.stride_h) * ((l.kw + l.stride_w - 1) / l.stride_w) : 1;
  m_dense = in_changes.size() * fan_out * sparse_cost_factor > M * K;
  ++(m_dense ? m_dense_layers : m_sparse_layers);
  if (m_dense) {
    const std::int16_t* act = in;
    if (conv) {
      m_act.resize(M * K);
      for (std::size_t m = 0; m < M; ++m)
        for (std::size_t k = 0; k < K; ++k) m_act[m * K + k] = act_at(m, k);
      act = m_act.data();
    }
    m_full.assign(M * N, 0);
    m_twin.gemm({M, K, N}, act, W, m_full.data(), &l);
    for (const job_span* j : jobs) apply_fault_to_job(*j, f, s.cfg, act, W, m_full.data(), m_twin);
    if (f.site == fault_site::acc) dense_acc_changes(jobs, f, act, W, K, N);
    const std::vector<std::int64_t>& sums = m_golden.sums(b, li);
    for (std::size_t m = 0; m < M; ++m)
      if (!std::equal(m_full.begin() + static_cast<std::ptrdiff_t>(m * N), m_full.begin() + static_cast<std::ptrdiff_t>((m + 1) * N),
                      sums.begin() + static_cast<std::ptrdiff_t>(m * N)))
        mark_row(m);
    return;
  }

  // Sparse: every product a changed input enters changes by mult(new, w) - mult(old, w).
  const std::vector<std::int16_t>& golden_in = m_golden.input(b, li);
  const auto add_row = [&](std::size_t m, std::size_t k, std::int16_t now, std::int16_t was) {
    std::int64_t* d = m_delta.data() + m * N;
    const std::int16_t* w = W + k * N;
    if (native) {
      const std::int64_t diff = std::int64_t{now} - was;
      for (std::size_t n = 0; n < N; ++n) d[n] += diff * w[n];
    } else if (const std::int32_t* row_now = m_twin.product_row(now)) {
      const std::int32_t* row_was = m_twin.product_row(was);
      const std::uint32_t mask = m_twin.operand_mask();
      for (std::size_t n = 0; n < N; ++n) {
        const std::uint32_t i = static_cast<std::uint32_t>(w[n]) & mask;
        d[n] += std::int64_t{row_now[i]} - row_was[i];
      }
    } else {
      for (std::size_t n = 0; n < N; ++n) d[n] += std::int64_t{m_twin.product(now, w[n])} - m_twin.product(was, w[n]);
    }
    mark_row(m);
  };
  for (const change& c : in_changes) {
    const std::size_t img = c.index / in_size, e = c.index % in_size;
    const std::int16_t was = golden_in[c.index];
    if (!conv) {
      add_row(img, e, c.value, was);
      continue;
    }
    const std::size_t plane = std::size_t{l.in.h} * l.in.w, ch = e / plane;
    const long y = static_cast<long>((e % plane) / l.in.w) + l.pad_top, x = static_cast<long>(e % l.in.w) + l.pad_left;
    for (unsigned dy = 0; dy < l.kh; ++dy) {
      const long ty = y - dy;
      if (ty < 0 || ty % l.stride_h) continue;
      const long oy = ty / l.stride_h;
      if (oy >= static_cast<long>(l.out.h)) continue;
      for (unsigned dx = 0; dx < l.kw; ++dx) {
        const long tx = x - dx;
        if (tx < 0 || tx % l.stride_w) continue;
        const long ox = tx / l.stride_w;
        if (ox >= static_cast<long>(l.out.w)) continue;
        const std::size_t k = (ch * l.kh + dy) * l.kw + dx;
        add_row(img * pix + static_cast<std::size_t>(oy) * l.out.w + static_cast<std::size_t>(ox), k, c.value, was);
      }
    }
  }
  // Activation and accumulator faults: out of line, so that this loop's code stays as it was.
  if (!is_weight_site(f.site)) {
    non_weight_changes(b, li, jobs, f);
    return;
  }
  // A weight fault's own products, on the (possibly changed) activations.
  struct altered {
    std::size_t k;
    std::int16_t w, bad;
  };
  const bool tabled = !native && m_twin.product_row(0) != nullptr;
  const std::uint32_t mask = m_twin.operand_mask();
  std::vector<altered> ks;
  for (const job_span* j : jobs) {
    for (const fault_rectangle& r : fault_rectangles(*j, f, s.cfg)) {
      ks.clear();
      for (std::size_t k = r.k_lo; k <= r.k_hi; ++k) {
        const std::int16_t w = W[k * N + r.n_begin];
        const auto bad = static_cast<std::int16_t>(f.apply(w, s.cfg.data_bits));
        if (bad != w) ks.push_back({k, w, bad});
      }
      if (ks.empty()) continue;
      for (std::size_t m = r.m_begin; m < r.m_end; ++m) {
        // The row's activations: one image's input through the im2col offsets of its pixel.
        const std::int16_t* image = in + (m / pix) * in_size;
        const std::int32_t* off = conv ? offsets + (m % pix) * K : nullptr;
        std::int64_t d = 0;
        for (const altered& a : ks) {
          const std::int16_t x = !conv ? image[a.k] : off[a.k] < 0 ? std::int16_t{0} : image[off[a.k]];
          if (native) {
            d += std::int64_t{x} * (a.bad - a.w);
          } else if (tabled) {
            const std::int32_t* row = m_twin.product_row(x);
            d += std::int64_t{row[static_cast<std::uint32_t>(a.bad) & mask]} - row[static_cast<std::uint32_t>(a.w) & mask];
          } else {
            d += std::int64_t{m_twin.product(x, a.bad)} - m_twin.product(x, a.w);
          }
        }
        m_delta[m * N + r.n_begin] += d;
        mark_row(m);
      }
    }
  }
}

// The changes of an activation or accumulator fault in GEMM layer li of batch b, after the input
// changes (sparse path): m_delta and the marked rows, as gemm_changes keeps them.
__attribute__((noinline)) void shortcut_engine::non_weight_changes(std::size_t b, std::size_t li,
                                                                   const std::vector<const job_span*>& jobs, const fault& f) {
  const campaign_setup& s = m_golden.setup();
  const sw::qlayer& l = s.net->layers[li];
  const bool conv = l.kind == sw::layer_kind::conv;
  const std::size_t pix = conv ? std::size_t{l.out.h} * l.out.w : 1;
  const std::size_t K = l.gemm_k, N = l.gemm_n, in_size = l.in.size();
  const std::int16_t* W = l.weight_kn.data();
  const std::int16_t* in = m_work[b][li].data();
  const std::int32_t* offsets = conv ? m_im2col[li].data() : nullptr;
  const auto act_at = [&](std::size_t m, std::size_t k) -> std::int16_t {
    if (!conv) return in[m * in_size + k];
    const std::int32_t off = offsets[(m % pix) * K + k];
    return off < 0 ? std::int16_t{0} : in[(m / pix) * in_size + static_cast<std::size_t>(off)];
  };
  // An accumulator fault: the sums it changes, from the fault-free sums of the (possibly changed)
  // inputs, golden plus the changes so far.
  if (f.site == fault_site::acc) {
    const std::vector<std::int64_t>& sums = m_golden.sums(b, li);
    const auto clean = [&](std::size_t m, std::size_t n) {
      return static_cast<std::uint64_t>(sums[m * N + n]) + static_cast<std::uint64_t>(m_delta[m * N + n]);
    };
    const auto product = [&](std::size_t m, std::size_t k, std::size_t n) -> std::int64_t {
      return m_twin.product(act_at(m, k), W[k * N + n]);
    };
    m_acc_out.clear();
    for (const job_span* j : jobs) acc_fault_outputs(*j, f, s.cfg, leftover_of(j), clean, product, m_acc_out);
    for (const acc_output& o : m_acc_out) {
      m_delta[o.m * N + o.n] = static_cast<std::int64_t>(static_cast<std::uint64_t>(o.value) - static_cast<std::uint64_t>(sums[o.m * N + o.n]));
      mark_row(o.m);
    }
    return;
  }
  // An activation fault's own products: one row, the columns its activation reaches.
  for (const job_span* j : jobs) {
    for (const fault_rectangle& r : fault_rectangles(*j, f, s.cfg)) {
      const std::size_t m = r.m_begin;
      std::int64_t* d = m_delta.data() + m * N;
      bool changed = false;
      if (r.skip) {  // a valid fault: the PE's own products are not added
        for (std::size_t k = r.k_lo; k <= r.k_hi; ++k) d[r.n_begin] -= m_twin.product(act_at(m, k), W[k * N + r.n_begin]);
        if (r.k_lo <= r.k_hi) mark_row(m);
        continue;
      }
      for (std::size_t k = r.k_lo; k <= r.k_hi; ++k) {
        const std::int16_t x = act_at(m, k);
        const auto bad = static_cast<std::int16_t>(f.apply(x, s.cfg.data_bits));
        if (bad == x) continue;
        changed = true;
        const std::int16_t* w = W + k * N;
        for (std::size_t n = r.n_begin; n < r.n_end; ++n) d[n] += std::int64_t{m_twin.product(bad, w[n])} - m_twin.product(x, w[n]);
      }
      if (changed) mark_row(m);
    }
  }
}

// The dense path's outputs (m_full, on the whole faulty input act, M x K) with an accumulator fault's changes.
__attribute__((noinline)) void shortcut_engine::dense_acc_changes(const std::vector<const job_span*>& jobs, const fault& f,
                                                                  const std::int16_t* act, const std::int16_t* W,
                                                                  std::size_t K, std::size_t N) {
  const auto clean = [&](std::size_t m, std::size_t n) { return static_cast<std::uint64_t>(m_full[m * N + n]); };
  const auto product = [&](std::size_t m, std::size_t k, std::size_t n) -> std::int64_t {
    return m_twin.product(act[m * K + k], W[k * N + n]);
  };
  m_acc_out.clear();
  for (const job_span* j : jobs) acc_fault_outputs(*j, f, m_golden.setup().cfg, leftover_of(j), clean, product, m_acc_out);
  for (const acc_output& o : m_acc_out) m_full[o.m * N + o.n] = o.value;
}

}  // namespace axsa::faults
