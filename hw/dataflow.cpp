#include "hw/dataflow.h"

namespace axsa::hw {

dataflow::dataflow(const array_config& cfg, const gemm_shape& shape)
    : m_rows(cfg.rows), m_cols(cfg.cols), m_hop(cfg.weight_hop), m_shape(shape) {
  m_folds_m = (shape.m + m_rows - 1) / m_rows;
  m_folds_n = (shape.n + m_cols - 1) / m_cols;
  // The last pair, k = K-1, reaches PE (R-1, C-1) in cycle K-1 + hop*(R-1) + C-1.
  m_fill = std::uint64_t{m_hop} * (m_rows - 1) + (m_cols - 1);
  m_compute = shape.k + m_fill;
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
