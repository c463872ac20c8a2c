// Activity counts: the events an energy model charges (docs/energy.md). The engines count the array's
// events as they step (array_core when counting is on, pe_array always, each PE for itself); the TLM
// target adds its bus traffic; the functional twin derives the same numbers in closed form
// (fold_activity() below, from the dataflow descriptor, plus the zero operands of the data).
//
// Conventions (the design has no clock gating on its links; the valid bits gate only the MAC):
//  - an activation register (each PE's east register) and a weight register (each of its
//    weight_hop stages) counts one write per cycle in which it is clocked with load enabled:
//    activations every cycle of a job, weights when load_weight is high (os: every cycle; ws:
//    preloading);
//  - an accumulator counts one write per cycle in which it takes a product or a sum (mac_en or
//    pass_sum);
//  - buffer reads are the operands the feeders present (valid ones), buffer writes the results
//    the drain ports deliver, buffer reads of the output the earlier partial sums a weight-
//    stationary fold adds to;
//  - the bus counts what the host moves (b_transport; DMI and debug accesses are not bus traffic).
#pragma once

#include <cstdint>

#include "hw/array_config.h"

namespace axsa::hw {

struct activity {
  // The array.
  std::uint64_t cycles = 0;             // array cycles spent on jobs
  std::uint64_t macs = 0;               // products accumulated (mac_en)
  std::uint64_t zero_macs = 0;          // of those, with a zero activation or weight operand
  std::uint64_t act_reg_writes = 0;     // W-bit activation link registers clocked
  std::uint64_t weight_reg_writes = 0;  // W-bit weight registers loaded
  std::uint64_t acc_writes = 0;         // A-bit accumulator writes (a product added or a sum moved)
  std::uint64_t drain_moves = 0;        // results leaving through the drain ports
  // The on-chip buffers, as the array uses them (W-bit operand words, A-bit results).
  std::uint64_t act_buffer_reads = 0;
  std::uint64_t weight_buffer_reads = 0;
  std::uint64_t out_buffer_writes = 0;
  std::uint64_t out_buffer_reads = 0;
  // The bus (the TLM target's socket): transactions, 64-bit beats and the buffer bytes they carry.
  std::uint64_t bus_transactions = 0;
  std::uint64_t bus_beats = 0;
  std::uint64_t bus_write_bytes = 0;  // host to accelerator buffers
  std::uint64_t bus_read_bytes = 0;   // accelerator buffers to host

  activity& operator+=(const activity& o) {
    cycles += o.cycles;
    macs += o.macs;
    zero_macs += o.zero_macs;
    act_reg_writes += o.act_reg_writes;
    weight_reg_writes += o.weight_reg_writes;
    acc_writes += o.acc_writes;
    drain_moves += o.drain_moves;
    act_buffer_reads += o.act_buffer_reads;
    weight_buffer_reads += o.weight_buffer_reads;
    out_buffer_writes += o.out_buffer_writes;
    out_buffer_reads += o.out_buffer_reads;
    bus_transactions += o.bus_transactions;
    bus_beats += o.bus_beats;
    bus_write_bytes += o.bus_write_bytes;
    bus_read_bytes += o.bus_read_bytes;
    return *this;
  }
  // The difference of two snapshots of running totals (later - earlier).
  activity since(const activity& earlier) const;
  bool operator==(const activity& o) const;
  bool operator!=(const activity& o) const { return !(*this == o); }
};

// The array's counts of one GEMM job on `cfg` in closed form, except zero_macs (data) and the bus
// fields (the host's): what the engines count when they step it.
activity gemm_activity(const array_config& cfg, const gemm_shape& shape);

// Operands with a zero among the MACs of out = act * weight: for every k, the zero activations of
// column k meet all N weights of row k and the zero weights of row k all M activations, minus the
// pairs counted twice. O(M*K + K*N).
std::uint64_t zero_operand_macs(const gemm_shape& shape, const std::int16_t* act, const std::int16_t* weight);

}  // namespace axsa::hw
