#include "sw/functional_engine.h"

#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hw/cycle_model.h"

namespace axsa::sw {

namespace {

#if defined(__SSE2__)
// Exact native products summed modulo 2^32: out[m][n] = sum_k act[m][k] * wt[n][k] for an M x K
// activation matrix and the weights transposed (N rows of kp >= K, zero past K). pmaddwd (SSE2) forms
// eight 16 x 16-bit products and adds them in pairs into four 32-bit lanes; a pair sum wraps only
// as the accumulator does (modulo 2^32), so the result is exact for accumulators of up to 32 bits.
// Blocks of 4 rows x 2 columns keep 8 sums, 4 activations and 2 weights in the 16 registers.
std::uint32_t lane_sum(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4E));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xB1));
  return static_cast<std::uint32_t>(_mm_cvtsi128_si32(v));
}

void gemm_pairs(std::size_t M, std::size_t K, std::size_t N, const std::int16_t* act, const std::int16_t* wt,
                std::size_t kp, std::uint32_t* out) {
  const std::size_t k8 = K / 8 * 8;
  alignas(16) std::int16_t tail[4][8];
  for (std::size_t m0 = 0; m0 < M; m0 += 4) {
    const std::size_t mr = std::min<std::size_t>(4, M - m0);
    const std::int16_t* a[4];
    for (std::size_t i = 0; i < 4; ++i) {
      a[i] = act + (m0 + std::min(i, mr - 1)) * K;  // a ragged block repeats its last row, unused
      std::fill(tail[i], tail[i] + 8, std::int16_t{0});
      std::copy(a[i] + k8, a[i] + K, tail[i]);
    }
    for (std::size_t n0 = 0; n0 < N; n0 += 2) {
      const std::size_t nr = std::min<std::size_t>(2, N - n0);
      const std::int16_t* w0 = wt + n0 * kp;
      const std::int16_t* w1 = wt + (n0 + nr - 1) * kp;
      __m128i s[4][2];
      for (auto& row : s) row[0] = row[1] = _mm_setzero_si128();
      auto step = [&](const __m128i* x, const std::int16_t* p0, const std::int16_t* p1) {
        const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p0));
        const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1));
        for (int i = 0; i < 4; ++i) {
          s[i][0] = _mm_add_epi32(s[i][0], _mm_madd_epi16(x[i], b0));
          s[i][1] = _mm_add_epi32(s[i][1], _mm_madd_epi16(x[i], b1));
        }
      };
      for (std::size_t k = 0; k < k8; k += 8) {
        __m128i x[4];
        for (int i = 0; i < 4; ++i) x[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a[i] + k));
        step(x, w0 + k, w1 + k);
      }
      if (k8 < K) {
        __m128i x[4];
        for (int i = 0; i < 4; ++i) x[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(tail[i]));
        step(x, w0 + k8, w1 + k8);
      }
      for (std::size_t i = 0; i < mr; ++i)
        for (std::size_t j = 0; j < nr; ++j) out[(m0 + i) * N + n0 + j] = lane_sum(s[i][j]);
    }
  }
}
#endif

}  // namespace

functional_engine::functional_engine(const hw::array_config& cfg, std::shared_ptr<const hw::multiplier> mult)
    : m_cfg(cfg), m_mult(std::move(mult)) {
  m_cfg.validate();
  m_native = !m_mult || m_mult->is_exact();
  hw::check_multiplier_slot(m_mult.get(), m_cfg);
  if (m_native) return;
  m_table = m_mult->product_table(m_cfg.data_bits);
  const unsigned w = m_cfg.data_bits;
  const std::int32_t lo = m_cfg.data_min(), hi = m_cfg.data_max();
  for (std::int32_t x = lo; x <= hi; ++x) {
    m_zero_act_is_zero = m_zero_act_is_zero && m_mult->multiply(0, x) == 0;
    m_zero_wgt_is_zero = m_zero_wgt_is_zero && m_mult->multiply(x, 0) == 0;
  }
  if (m_table) {
    const std::size_t side = std::size_t{1} << w;
    m_table_t.resize(side * side);
    for (std::size_t a = 0; a < side; ++a)
      for (std::size_t b = 0; b < side; ++b) m_table_t[(b << w) | a] = m_table[(a << w) | b];
  }
}

functional_engine::resident_layer& functional_engine::resident(const void* weight_id, std::size_t count) {
  const auto it = m_memory.find(weight_id);
  if (it == m_memory.end()) throw config_error("weight memory: the layer is not resident (write its weights first)");
  if (it->second.words.size() != count) {
    throw config_error("weight memory: the layer holds " + std::to_string(it->second.words.size()) + " weights, not " +
                       std::to_string(count));
  }
  return it->second;
}

void functional_engine::write_weights(const void* weight_id, const std::int16_t* w, std::size_t count, gemm_stats& cost) {
  if (m_counting && m_host) {
    uploaded_region& u = place(weight_id, count);
    u.pinned = true;
    u.source.clear();
    bus_transfer(cost.activity, 2 * count, true);
  }
  resident_layer& r = m_memory[weight_id];
  if (r.words.size() != count) {
    if (!r.stuck.empty()) throw config_error("weight memory: a layer with stuck bits cannot change its size");
    r.words.assign(count, 0);
  }
  std::copy(w, w + count, r.words.begin());
  for (const stuck_weight_bit& b : r.stuck) r.words[b.index] = stick_bit(r.words[b.index], b.bit, b.value, m_cfg.data_bits);
}

void functional_engine::read_weights(const void* weight_id, std::int16_t* out, std::size_t count, gemm_stats& cost) {
  const resident_layer& r = resident(weight_id, count);
  if (m_counting && m_host) bus_transfer(cost.activity, 2 * count, false);
  std::copy(r.words.begin(), r.words.end(), out);
}

void functional_engine::stick_weight_bits(const void* weight_id, const std::vector<stuck_weight_bit>& bits) {
  const auto it = m_memory.find(weight_id);
  if (it == m_memory.end()) throw config_error("weight memory: bits can only stick in a resident layer");
  resident_layer& r = it->second;
  for (const stuck_weight_bit& b : bits) {
    if (b.index >= r.words.size() || b.bit >= m_cfg.data_bits) {
      throw config_error("weight memory: stuck bit " + std::to_string(b.bit) + " of weight " + std::to_string(b.index) +
                         " lies outside the layer's " + std::to_string(r.words.size()) + " " +
                         std::to_string(m_cfg.data_bits) + "-bit weights");
    }
    r.stuck.push_back(b);
    r.words[b.index] = stick_bit(r.words[b.index], b.bit, b.value, m_cfg.data_bits);
  }
}

gemm_stats functional_engine::gemm(const hw::gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight,
                                   std::int64_t* out, const void* weight_id) {
  shape.validate();
  // A resident layer is multiplied as the memory holds it (stuck bits and all).
  if (!m_memory.empty()) {
    const auto it = m_memory.find(weight_id);
    if (it != m_memory.end()) weight = resident(weight_id, shape.k * shape.n).words.data();
  }
  if (m_cfg.acc_bits <= 32) run<std::uint32_t>(shape, act, weight, out);
  else run<std::uint64_t>(shape, act, weight, out);
  gemm_stats st;
  st.gemms = 1;
  const std::size_t rows = m_rows_per_job ? std::max<std::size_t>(1, m_rows_per_job(shape)) : shape.m;
  hw::activity& a = st.activity;
  if (m_counting && m_host) {
    // As host_driver::gemm: the weights unless resident or unchanged, K, N and three offsets.
    uploaded_region& r = place(weight_id, shape.k * shape.n);
    const std::size_t count = shape.k * shape.n;
    if (!r.pinned && (r.source.size() != count || !std::equal(r.source.begin(), r.source.end(), weight))) {
      bus_transfer(a, 2 * count, true);
      if (weight_id != nullptr) r.source.assign(weight, weight + count);
    }
    bus_registers(a, 5);
  }
  for (std::size_t m0 = 0; m0 < shape.m; m0 += rows) {
    const hw::gemm_shape part{std::min(rows, shape.m - m0), shape.k, shape.n};
    st.array_cycles += hw::gemm_cycles(part, m_cfg);
    if (!m_counting) continue;
    a += hw::gemm_activity(m_cfg, part);
    if (m_host) {
      // Per job: the activations, M and START; STATUS and CYCLES; the results; CLEAR.
      bus_transfer(a, 2 * part.m * part.k, true);
      bus_registers(a, 5);
      bus_transfer(a, 8 * part.m * part.n, false);
      bus_registers(a, 1);
    }
  }
  if (m_counting) a.zero_macs = hw::zero_operand_macs(shape, act, weight);
  st.macs = static_cast<std::uint64_t>(shape.m) * shape.k * shape.n;
  return st;
}

void functional_engine::set_host_model(host_model model) {
  if (!model.rows_per_job || model.beat_bytes == 0) throw config_error("host model without job split or bus beat");
  m_rows_per_job = model.rows_per_job;
  m_host = std::move(model);
}

void functional_engine::bus_transfer(hw::activity& a, std::uint64_t bytes, bool write) const {
  a.bus_transactions += 1;
  a.bus_beats += (bytes + m_host->beat_bytes - 1) / m_host->beat_bytes;
  (write ? a.bus_write_bytes : a.bus_read_bytes) += bytes;
}

void functional_engine::bus_registers(hw::activity& a, unsigned accesses) {
  a.bus_transactions += accesses;
  a.bus_beats += accesses;
}

// host_driver::place(), mirrored: a region per layer while they all fit, else start again at 0.
functional_engine::uploaded_region& functional_engine::place(const void* weight_id, std::size_t count) {
  const auto it = m_uploaded.find(weight_id);
  if (it != m_uploaded.end() && it->second.count == count) return it->second;
  if (it != m_uploaded.end()) m_uploaded.erase(it);
  const std::uint64_t bytes = (2 * std::uint64_t{count} + 7) / 8 * 8;
  if (m_next_region + bytes > m_host->weight_bytes) {
    m_uploaded.clear();
    m_next_region = 0;
  }
  uploaded_region& r = m_uploaded[weight_id];
  r.count = count;
  if (weight_id != nullptr) m_next_region += bytes;
  return r;
}

// Accumulates modulo 2^32 or 2^64 and wraps to acc_bits at the end: the same value as the
// array's register, whatever the order of the additions.
template <class Acc>
void functional_engine::run(const hw::gemm_shape& s, const std::int16_t* act, const std::int16_t* weight,
                            std::int64_t* out) {
  const std::size_t M = s.m, K = s.k, N = s.n;
  const unsigned wb = m_cfg.data_bits;
  const std::uint32_t mask = (1u << wb) - 1;
  static_assert(sizeof(Acc) <= sizeof(std::uint64_t));
  std::vector<Acc> acc;
#if defined(__SSE2__)
  // Native products into accumulators of up to 32 bits: the pmaddwd kernel over transposed weights.
  if (m_native && sizeof(Acc) == 4) {
    const std::size_t kp = (K + 7) / 8 * 8;
    m_scratch.assign(N * kp, 0);
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t n = 0; n < N; ++n) m_scratch[n * kp + k] = weight[k * N + n];
    m_sums.resize(M * N);
    gemm_pairs(M, K, N, act, m_scratch.data(), kp, m_sums.data());
    for (std::size_t i = 0; i < M * N; ++i) out[i] = hw::wrap_signed(m_sums[i], m_cfg.acc_bits);
    return;
  }
#endif
  if (N >= 16 || N >= M) {
    // Row by row of the output: for each act[m][k], a row of products along n.
    acc.assign(N, 0);
    for (std::size_t m = 0; m < M; ++m) {
      std::fill(acc.begin(), acc.end(), Acc{0});
      Acc* __restrict a_out = acc.data();
      for (std::size_t k = 0; k < K; ++k) {
        const std::int16_t a = act[m * K + k];
        const std::int16_t* __restrict wrow = weight + k * N;
        if (a == 0 && m_zero_act_is_zero) continue;
        if (m_native) {
          const std::int32_t av = a;
          for (std::size_t n = 0; n < N; ++n) a_out[n] += static_cast<Acc>(av * std::int32_t{wrow[n]});
        } else if (m_table) {
          const std::int32_t* __restrict trow = m_table + ((static_cast<std::uint32_t>(a) & mask) << wb);
          for (std::size_t n = 0; n < N; ++n) a_out[n] += static_cast<Acc>(trow[static_cast<std::uint32_t>(wrow[n]) & mask]);
        } else {
          for (std::size_t n = 0; n < N; ++n) a_out[n] += static_cast<Acc>(m_mult->multiply(a, wrow[n]));
        }
      }
      for (std::size_t n = 0; n < N; ++n) out[m * N + n] = hw::wrap_signed(acc[n], m_cfg.acc_bits);
    }
    return;
  }
  // Few output columns (convolutions: M pixels, N filters): column by column along m, over act^T.
  m_scratch.resize(K * M);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t k = 0; k < K; ++k) m_scratch[k * M + m] = act[m * K + k];
  acc.assign(M, 0);
  for (std::size_t n = 0; n < N; ++n) {
    std::fill(acc.begin(), acc.end(), Acc{0});
    Acc* __restrict a_out = acc.data();
    for (std::size_t k = 0; k < K; ++k) {
      const std::int16_t w = weight[k * N + n];
      const std::int16_t* __restrict acol = m_scratch.data() + k * M;
      if (w == 0 && m_zero_wgt_is_zero) continue;
      if (m_native) {
        const std::int32_t wv = w;
        for (std::size_t m = 0; m < M; ++m) a_out[m] += static_cast<Acc>(std::int32_t{acol[m]} * wv);
      } else if (m_table) {
        const std::int32_t* __restrict trow = m_table_t.data() + ((static_cast<std::uint32_t>(w) & mask) << wb);
        for (std::size_t m = 0; m < M; ++m) a_out[m] += static_cast<Acc>(trow[static_cast<std::uint32_t>(acol[m]) & mask]);
      } else {
        for (std::size_t m = 0; m < M; ++m) a_out[m] += static_cast<Acc>(m_mult->multiply(acol[m], w));
      }
    }
    for (std::size_t m = 0; m < M; ++m) out[m * N + n] = hw::wrap_signed(acc[m], m_cfg.acc_bits);
  }
}

}  // namespace axsa::sw
