// The multiply-accumulate loops of the array's hot path: acc[i] += product(act[i], wgt[i]) over
// n consecutive PEs, for the three ways a product can be had (native, product table, the slot's
// multiply()). Accumulators are modulo 2^32 or 2^64; the caller wraps them to the configured width.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hw/multiplier.h"

namespace axsa::hw::kernels {

void mac_native(std::uint32_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n);
void mac_native(std::uint64_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n);

// table[((a & mask) << bits) | (w & mask)], mask = 2^bits - 1. Uses AVX2 gathers where the CPU has them.
void mac_table(std::uint32_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
               const std::int32_t* table, unsigned bits);
void mac_table(std::uint64_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
               const std::int32_t* table, unsigned bits);

void mac_slot(std::uint32_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
              const multiplier& m);
void mac_slot(std::uint64_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
              const multiplier& m);

// Pairs among the n with a zero activation or a zero weight (activity counting).
std::uint64_t zero_pairs(const std::int16_t* act, const std::int16_t* wgt, std::size_t n);

// Which table loop this CPU runs ("avx2" or "scalar"), for benchmark reports.
const char* table_kernel_name();

}  // namespace axsa::hw::kernels
