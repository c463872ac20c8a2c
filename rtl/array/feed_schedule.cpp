#include "rtl/array/feed_schedule.h"

namespace axsa::rtl {

feed_schedule::feed_schedule(unsigned rows, unsigned cols, const hw::gemm_shape& shape, const std::int16_t* act,
                             const std::int16_t* weight)
    : m_flow((shape.validate(), hw::dataflow(rows, cols, shape))), m_act(act), m_weight(weight) {}

namespace {

// Every edge zero and invalid, no drain: the idle array's inputs.
void clear(feed_schedule::edges& out, unsigned rows, unsigned cols) {
  out.west.assign(rows, 0);
  out.west_valid.assign(rows, 0);
  out.north.assign(cols, 0);
  out.north_valid.assign(cols, 0);
  out.drain = false;
}

}  // namespace

void feed_schedule::inputs(std::uint64_t cycle, edges& out) const {
  if (cycle >= cycles()) {
    clear(out, m_flow.rows(), m_flow.cols());
    return;
  }
  const auto p = m_flow.locate(cycle);
  inputs_at(p, out);
  out.drain = m_flow.sums_advance(p.stage);
}

void feed_schedule::inputs_at(const hw::dataflow::position& p, edges& out) const {
  const unsigned rows = m_flow.rows(), cols = m_flow.cols();
  clear(out, rows, cols);
  const auto tile = m_flow.fold_tile(p.fold);
  const std::size_t k = m_flow.shape().k, n = m_flow.shape().n;
  for (unsigned i = 0; i < rows; ++i) {
    if (const auto a = m_flow.west_operand(tile, p.stage, p.t, i)) {
      out.west[i] = m_act[a->row * k + a->col];
      out.west_valid[i] = 1;
    }
  }
  for (unsigned j = 0; j < cols; ++j) {
    if (const auto w = m_flow.north_operand(tile, p.stage, p.t, j)) {
      out.north[j] = m_weight[w->row * n + w->col];
      out.north_valid[j] = 1;
    }
  }
}

std::optional<feed_schedule::drained_row> feed_schedule::drained(std::uint64_t cycle) const {
  if (cycle >= cycles()) return std::nullopt;
  return drained_at(m_flow.locate(cycle));
}

std::optional<feed_schedule::drained_row> feed_schedule::drained_at(const hw::dataflow::position& p) const {
  const auto tile = m_flow.fold_tile(p.fold);
  const auto o = m_flow.output(tile, p.stage, p.t, 0);
  if (!o) return std::nullopt;
  return drained_row{o->m, tile.n0, tile.cols_used};
}

}  // namespace axsa::rtl
