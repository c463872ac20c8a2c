// The baseline of the array benchmark: the same registers and the same per-cycle semantics as
// the model (west/north links registered per PE, a valid bit travelling with the activation,
// accumulate, then an R-cycle drain shifting south), written as the plain double-buffered loop
// one would write without SystemC: every PE, every cycle, next state from current state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "hw/array_config.h"

namespace axsa::bench {

// Acc: std::uint32_t for accumulators of up to 32 bits (as the model), std::uint64_t beyond.
template <class Acc>
class plain_loop_array {
 public:
  plain_loop_array(unsigned rows, unsigned cols, unsigned acc_bits)
      : m_r(rows), m_c(cols), m_acc_bits(acc_bits), m_a(rows * cols), m_w(rows * cols), m_v(rows * cols),
        m_acc(rows * cols), m_na(rows * cols), m_nw(rows * cols), m_nv(rows * cols) {}

  // out = act * weight; returns the cycles taken.
  std::uint64_t run(const hw::gemm_shape& s, const std::int16_t* act, const std::int16_t* weight, std::int64_t* out) {
    std::uint64_t cycles = 0;
    for (std::size_t m0 = 0; m0 < s.m; m0 += m_r) {
      for (std::size_t n0 = 0; n0 < s.n; n0 += m_c) {
        const std::uint64_t compute = s.k + m_r + m_c - 2;
        for (std::uint64_t t = 0; t < compute + m_r; ++t, ++cycles) {
          const bool feeding = t < compute;
          if (!feeding) drain(s, m0, n0, static_cast<unsigned>(t - compute), out);
          for (unsigned i = 0; i < m_r; ++i) {
            for (unsigned j = 0; j < m_c; ++j) {
              const std::size_t p = i * m_c + j;
              std::int16_t a, w;
              std::uint8_t v;
              if (j == 0) {  // west feeder
                const bool live = feeding && m0 + i < s.m && t >= i && t - i < s.k;
                a = live ? act[(m0 + i) * s.k + (t - i)] : 0;
                v = live;
              } else {
                a = m_a[p - 1];
                v = m_v[p - 1];
              }
              if (i == 0) {  // north feeder
                const bool live = feeding && n0 + j < s.n && t >= j && t - j < s.k;
                w = live ? weight[(t - j) * s.n + n0 + j] : 0;
              } else {
                w = m_w[p - m_c];
              }
              if (v && n0 + j < s.n) m_acc[p] += static_cast<Acc>(std::int32_t{a} * w);
              m_na[p] = a;
              m_nw[p] = w;
              m_nv[p] = v;
            }
          }
          m_a.swap(m_na);
          m_w.swap(m_nw);
          m_v.swap(m_nv);
        }
      }
    }
    return cycles;
  }

 private:
  // Bottom row leaves; rows shift south; zeros enter at the top.
  void drain(const hw::gemm_shape& s, std::size_t m0, std::size_t n0, unsigned d, std::int64_t* out) {
    const std::size_t row = m_r - 1 - d;
    for (unsigned j = 0; j < m_c; ++j) {
      if (m0 + row < s.m && n0 + j < s.n) {
        out[(m0 + row) * s.n + n0 + j] = hw::wrap_signed(m_acc[(m_r - 1) * m_c + j], m_acc_bits);
      }
    }
    for (unsigned i = m_r - 1; i > 0; --i)
      for (unsigned j = 0; j < m_c; ++j) m_acc[i * m_c + j] = m_acc[(i - 1) * m_c + j];
    std::fill(m_acc.begin(), m_acc.begin() + m_c, Acc{0});
  }

  unsigned m_r, m_c, m_acc_bits;
  std::vector<std::int16_t> m_a, m_w;
  std::vector<std::uint8_t> m_v;
  std::vector<Acc> m_acc;
  std::vector<std::int16_t> m_na, m_nw;
  std::vector<std::uint8_t> m_nv;
};

}  // namespace axsa::bench
