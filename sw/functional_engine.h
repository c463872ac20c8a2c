// The functional twin of the array: the same products (the multiplier's table, or native when
// exact), the same accumulator width and wrap, without simulating cycles. Cycle counts it reports
// come from the documented cycle formula (hw/cycle_model.h), which the array is tested against.
// It is the inner loop of every campaign, so it is written for speed: table rows that stay in L1,
// the loop oriented along the longer of M and N, and zero operands skipped when the multiplier
// provably maps them to zero.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "hw/array_config.h"
#include "hw/multiplier.h"
#include "sw/gemm_backend.h"

namespace axsa::sw {

class functional_engine final : public gemm_backend {
 public:
  // mult: nullptr or exact -> native products; otherwise its product table for cfg.data_bits when it
  // has one, else multiply() per product.
  functional_engine(const hw::array_config& cfg, std::shared_ptr<const hw::multiplier> mult);

  gemm_stats gemm(const hw::gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight, std::int64_t* out,
                  const void* weight_id) override;
  std::string name() const override { return "functional"; }
  // One product exactly as the array forms it (native, table, or the multiplier's multiply()).
  std::int32_t product(std::int16_t a, std::int16_t w) const {
    if (m_native) return std::int32_t{a} * std::int32_t{w};
    if (m_table) {
      const std::uint32_t mask = (1u << m_cfg.data_bits) - 1;
      return m_table[((static_cast<std::uint32_t>(a) & mask) << m_cfg.data_bits) | (static_cast<std::uint32_t>(w) & mask)];
    }
    return m_mult->multiply(a, w);
  }
  const hw::array_config& config() const { return m_cfg; }
  // Whether product(a, w) is a * w (an exact multiplier, multiplied natively).
  bool native_products() const { return m_native; }
  // The product table's row of activation a, indexed by weight & operand_mask(), when products come
  // from a table (nullptr otherwise): product(a, w) == product_row(a)[w & operand_mask()].
  const std::int32_t* product_row(std::int16_t a) const {
    if (m_native || !m_table) return nullptr;
    return m_table + ((static_cast<std::uint32_t>(a) & operand_mask()) << m_cfg.data_bits);
  }
  std::uint32_t operand_mask() const { return (1u << m_cfg.data_bits) - 1; }
  // How many rows of M the host driver puts in one accelerator job (host_driver::rows_per_job for
  // the buffers in use): cycles are then counted job by job, as the array runs them, so the twin
  // reports the cycles of the TLM run. Unset: every GEMM is one job.
  void set_rows_per_job(std::function<std::size_t(const hw::gemm_shape&)> rows) { m_rows_per_job = std::move(rows); }
  // The TLM system the twin stands for: jobs split as the host driver splits them for these buffers,
  // and the bus traffic (activity's bus fields) the driver would cause, weight uploads included.
  void set_host_model(host_model model);
  // Activity counting (gemm_stats::activity): on from construction.
  void set_counting(bool on) { m_counting = on; }

  // The weight memory, without bus costs: resident layers and their stuck bits.
  void write_weights(const void* weight_id, const std::int16_t* w, std::size_t count, gemm_stats& cost) override;
  void read_weights(const void* weight_id, std::int16_t* out, std::size_t count, gemm_stats& cost) override;
  void stick_weight_bits(const void* weight_id, const std::vector<stuck_weight_bit>& bits) override;

 private:
  template <class Acc>
  void run(const hw::gemm_shape& s, const std::int16_t* act, const std::int16_t* weight, std::int64_t* out);

  hw::array_config m_cfg;
  std::shared_ptr<const hw::multiplier> m_mult;
  bool m_native;
  const std::int32_t* m_table = nullptr;      // [a][w], from the multiplier
  std::vector<std::int32_t> m_table_t;        // [w][a], transposed copy
  bool m_zero_act_is_zero = true;             // mult(0, w) == 0 for every w
  bool m_zero_wgt_is_zero = true;             // mult(a, 0) == 0 for every a
  std::vector<std::int16_t> m_scratch;        // transposed operand
  std::vector<std::uint32_t> m_sums;          // native sums modulo 2^32
  std::function<std::size_t(const hw::gemm_shape&)> m_rows_per_job;
  bool m_counting = true;
  // The host driver's bus traffic, mirrored (set_host_buffers): its weight regions (bytes placed,
  // the copy last uploaded) and where the next region goes.
  std::optional<host_model> m_host;
  struct uploaded_region {
    std::size_t count = 0;
    std::vector<std::int16_t> source;
    bool pinned = false;
  };
  std::map<const void*, uploaded_region> m_uploaded;
  std::uint64_t m_next_region = 0;
  uploaded_region& place(const void* weight_id, std::size_t count);
  void bus_transfer(hw::activity& a, std::uint64_t bytes, bool write) const;
  static void bus_registers(hw::activity& a, unsigned accesses);
  struct resident_layer {
    std::vector<std::int16_t> words;
    std::vector<stuck_weight_bit> stuck;  // in the order installed
  };
  std::map<const void*, resident_layer> m_memory;
  resident_layer& resident(const void* weight_id, std::size_t count);
};

}  // namespace axsa::sw
