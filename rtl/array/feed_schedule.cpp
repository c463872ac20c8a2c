#include "rtl/array/feed_schedule.h"

#include <algorithm>

namespace axsa::rtl {

feed_schedule::feed_schedule(unsigned rows, unsigned cols, const hw::gemm_shape& shape, const std::int16_t* act,
                             const std::int16_t* weight)
    : m_rows(rows), m_cols(cols), m_shape(shape), m_act(act), m_weight(weight) {
  shape.validate();
  m_folds_m = (shape.m + rows - 1) / rows;
  m_folds_n = (shape.n + cols - 1) / cols;
  m_compute_len = shape.k + rows + cols - 2;
  m_fold_len = m_compute_len + rows;
}

feed_schedule::position feed_schedule::locate(std::uint64_t cycle) const {
  const std::uint64_t fold = cycle / m_fold_len;
  position p;
  p.t = cycle % m_fold_len;
  p.m0 = static_cast<std::size_t>(fold / m_folds_n) * m_rows;
  p.n0 = static_cast<std::size_t>(fold % m_folds_n) * m_cols;
  p.rows_used = static_cast<unsigned>(std::min<std::size_t>(m_rows, m_shape.m - p.m0));
  p.cols_used = static_cast<unsigned>(std::min<std::size_t>(m_cols, m_shape.n - p.n0));
  return p;
}

void feed_schedule::inputs(std::uint64_t cycle, edges& out) const {
  out.west.assign(m_rows, 0);
  out.west_valid.assign(m_rows, 0);
  out.north.assign(m_cols, 0);
  out.north_valid.assign(m_cols, 0);
  out.drain = false;
  if (cycle >= cycles()) return;
  const position p = locate(cycle);
  if (p.t >= m_compute_len) {
    out.drain = true;
    return;
  }
  const std::uint64_t k = m_shape.k;
  for (unsigned i = 0; i < p.rows_used; ++i) {
    if (p.t < i || p.t - i >= k) continue;
    out.west[i] = m_act[(p.m0 + i) * k + (p.t - i)];
    out.west_valid[i] = 1;
  }
  for (unsigned j = 0; j < p.cols_used; ++j) {
    if (p.t < j || p.t - j >= k) continue;
    out.north[j] = m_weight[(p.t - j) * m_shape.n + p.n0 + j];
    out.north_valid[j] = 1;
  }
}

std::optional<feed_schedule::drained_row> feed_schedule::drained(std::uint64_t cycle) const {
  if (cycle >= cycles()) return std::nullopt;
  const position p = locate(cycle);
  if (p.t < m_compute_len) return std::nullopt;
  const std::uint64_t local_row = m_rows - 1 - (p.t - m_compute_len);
  if (local_row >= p.rows_used) return std::nullopt;
  return drained_row{p.m0 + static_cast<std::size_t>(local_row), p.n0, p.cols_used};
}

}  // namespace axsa::rtl
