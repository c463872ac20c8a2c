#include "hw/activity.h"

#include <algorithm>
#include <vector>

#include "hw/dataflow.h"

namespace axsa::hw {

activity activity::since(const activity& e) const {
  activity d;
  d.cycles = cycles - e.cycles;
  d.macs = macs - e.macs;
  d.zero_macs = zero_macs - e.zero_macs;
  d.act_reg_writes = act_reg_writes - e.act_reg_writes;
  d.weight_reg_writes = weight_reg_writes - e.weight_reg_writes;
  d.acc_writes = acc_writes - e.acc_writes;
  d.drain_moves = drain_moves - e.drain_moves;
  d.act_buffer_reads = act_buffer_reads - e.act_buffer_reads;
  d.weight_buffer_reads = weight_buffer_reads - e.weight_buffer_reads;
  d.out_buffer_writes = out_buffer_writes - e.out_buffer_writes;
  d.out_buffer_reads = out_buffer_reads - e.out_buffer_reads;
  d.bus_transactions = bus_transactions - e.bus_transactions;
  d.bus_beats = bus_beats - e.bus_beats;
  d.bus_write_bytes = bus_write_bytes - e.bus_write_bytes;
  d.bus_read_bytes = bus_read_bytes - e.bus_read_bytes;
  return d;
}

bool activity::operator==(const activity& o) const {
  return cycles == o.cycles && macs == o.macs && zero_macs == o.zero_macs && act_reg_writes == o.act_reg_writes &&
         weight_reg_writes == o.weight_reg_writes && acc_writes == o.acc_writes && drain_moves == o.drain_moves &&
         act_buffer_reads == o.act_buffer_reads && weight_buffer_reads == o.weight_buffer_reads &&
         out_buffer_writes == o.out_buffer_writes && out_buffer_reads == o.out_buffer_reads &&
         bus_transactions == o.bus_transactions && bus_beats == o.bus_beats && bus_write_bytes == o.bus_write_bytes &&
         bus_read_bytes == o.bus_read_bytes;
}

// The derivation is in docs/energy.md: every fold clocks all R*C activation registers each cycle,
// the R*hop*C weight registers in the stages whose weights advance and the R*C accumulators in the
// stages whose sums advance (plus each MAC of a stage where they stay); the feeders read each
// operand once per fold that uses it; the drain ports deliver every output of a fold.
activity gemm_activity(const array_config& cfg, const gemm_shape& s) {
  const dataflow df(cfg, s);
  const std::uint64_t R = cfg.rows, C = cfg.cols, hop = df.weight_hop();
  const std::uint64_t M = s.m, K = s.k, N = s.n;
  const std::uint64_t folds = df.folds();
  const std::uint64_t folds_n = (N + C - 1) / C;
  const std::uint64_t folds_a = folds / folds_n;  // over M (os) or K (ws)
  std::uint64_t weight_cycles = 0, pass_cycles = 0;
  for (const stage st : {stage::preload, stage::compute, stage::drain}) {
    if (df.weights_advance(st)) weight_cycles += df.stage_cycles(st);
    if (df.sums_advance(st)) pass_cycles += df.stage_cycles(st);
  }
  activity a;
  a.cycles = df.cycles();
  a.macs = M * K * N;
  a.act_reg_writes = R * C * a.cycles;
  a.weight_reg_writes = R * hop * C * folds * weight_cycles;
  a.acc_writes = (df.sums_advance(stage::compute) ? 0 : a.macs) + R * C * folds * pass_cycles;
  a.act_buffer_reads = M * K * folds_n;
  if (df.output_stationary()) {
    a.weight_buffer_reads = K * N * folds_a;
    a.drain_moves = M * N;
  } else {
    a.weight_buffer_reads = K * N;
    a.drain_moves = M * N * folds_a;
    a.out_buffer_reads = M * N * (folds_a - 1);
  }
  a.out_buffer_writes = a.drain_moves;
  return a;
}

std::uint64_t zero_operand_macs(const gemm_shape& s, const std::int16_t* act, const std::int16_t* weight) {
  // 16-bit counters vectorise best; they are folded into 64-bit totals before they can overflow.
  std::vector<std::uint64_t> zero_act(s.k, 0);
  std::vector<std::uint16_t> part(s.k, 0);
  for (std::size_t m = 0; m < s.m; ++m) {
    const std::int16_t* __restrict row = act + m * s.k;
    std::uint16_t* __restrict p = part.data();
    for (std::size_t k = 0; k < s.k; ++k) p[k] = static_cast<std::uint16_t>(p[k] + (row[k] == 0));
    if ((m + 1) % 65535 == 0 || m + 1 == s.m) {
      for (std::size_t k = 0; k < s.k; ++k) zero_act[k] += part[k];
      std::fill(part.begin(), part.end(), std::uint16_t{0});
    }
  }
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < s.k; ++k) {
    const std::int16_t* row = weight + k * s.n;
    std::uint64_t zero_w = 0;
    for (std::size_t n = 0; n < s.n; ++n) zero_w += row[n] == 0;
    total += zero_act[k] * s.n + zero_w * s.m - zero_act[k] * zero_w;
  }
  return total;
}

}  // namespace axsa::hw
