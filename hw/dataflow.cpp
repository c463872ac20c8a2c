#include "hw/dataflow.h"

namespace axsa::hw {

dataflow::dataflow(const array_config& cfg, const gemm_shape& shape)
    : m_kind(cfg.dataflow), m_rows(cfg.rows), m_cols(cfg.cols), m_hop(cfg.weight_hop), m_shape(shape) {
  m_folds_n = (shape.n + m_cols - 1) / m_cols;
  // The last pair reaches PE (R-1, C-1) in cycle L-1 + hop*(R-1) + C-1 of the compute stage, L = K (os)
  // or M (ws).
  m_fill = std::uint64_t{m_hop} * (m_rows - 1) + (m_cols - 1);
  if (output_stationary()) {
    m_folds_a = (shape.m + m_rows - 1) / m_rows;
    m_preload = 0;
    m_compute = shape.k + m_fill;
    m_drain = m_rows;
  } else {
    // ws: the last partial sum (m = M-1) leaves the bottom of column C-1 one cycle after PE (R-1, C-1)
    // adds to it, from the bottom row's accumulator register.
    m_folds_a = (shape.k + m_rows - 1) / m_rows;
    m_preload = m_rows;
    m_compute = shape.m + m_fill + 1;
    m_drain = 0;
  }
}

dataflow::dataflow(unsigned rows, unsigned cols, const gemm_shape& shape)
    : dataflow(
          [&] {
            array_config c;
            c.rows = rows;
            c.cols = cols;
            return c;
          }(),
          shape) {}

}  // namespace axsa::hw
