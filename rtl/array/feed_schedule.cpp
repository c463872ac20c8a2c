#include "rtl/array/feed_schedule.h"

namespace axsa::rtl {

feed_schedule::feed_schedule(unsigned rows, unsigned cols, const hw::gemm_shape& shape, const std::int16_t* act,
                             const std::int16_t* weight)
    : m_flow((shape.validate(), hw::dataflow(rows, cols, shape))), m_act(act), m_weight(weight) {}

void feed_schedule::inputs(std::uint64_t cycle, edges& out) const {
  const unsigned rows = m_flow.rows(), cols = m_flow.cols();
  out.west.assign(rows, 0);
  out.west_valid.assign(rows, 0);
  out.north.assign(cols, 0);
  out.north_valid.assign(cols, 0);
  out.drain = false;
  if (cycle >= cycles()) return;
  const auto p = m_flow.locate(cycle);
  if (p.draining) {
    out.drain = true;
    return;
  }
  const auto tile = m_flow.fold_tile(p.fold);
  const std::size_t k = m_flow.shape().k, n = m_flow.shape().n;
  for (unsigned i = 0; i < rows; ++i) {
    if (!m_flow.west_valid(tile, p.t, i)) continue;
    out.west[i] = m_act[(tile.m0 + i) * k + static_cast<std::size_t>(m_flow.west_k(p.t, i))];
    out.west_valid[i] = 1;
  }
  for (unsigned j = 0; j < cols; ++j) {
    if (!m_flow.north_valid(tile, p.t, j)) continue;
    out.north[j] = m_weight[static_cast<std::size_t>(m_flow.north_k(p.t, j)) * n + tile.n0 + j];
    out.north_valid[j] = 1;
  }
}

std::optional<feed_schedule::drained_row> feed_schedule::drained(std::uint64_t cycle) const {
  if (cycle >= cycles()) return std::nullopt;
  const auto p = m_flow.locate(cycle);
  if (!p.draining) return std::nullopt;
  const auto tile = m_flow.fold_tile(p.fold);
  const unsigned local_row = m_flow.drained_row(p.drain_cycle());
  if (local_row >= tile.rows_used) return std::nullopt;
  return drained_row{tile.m0 + local_row, tile.n0, tile.cols_used};
}

}  // namespace axsa::rtl
