#include "hw/mac_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AXSA_X86 1
#endif

namespace axsa::hw::kernels {

namespace {

template <class Acc>
void mac_native_loop(Acc* __restrict acc, const std::int16_t* __restrict act, const std::int16_t* __restrict wgt,
                     std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += static_cast<Acc>(std::int32_t{act[i]} * std::int32_t{wgt[i]});
}

template <class Acc>
void mac_table_scalar(Acc* __restrict acc, const std::int16_t* __restrict act, const std::int16_t* __restrict wgt,
                      std::size_t n, const std::int32_t* __restrict table, unsigned bits) {
  const std::uint32_t mask = (1u << bits) - 1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t idx =
        ((static_cast<std::uint32_t>(act[i]) & mask) << bits) | (static_cast<std::uint32_t>(wgt[i]) & mask);
    acc[i] += static_cast<Acc>(table[idx]);
  }
}

#ifdef AXSA_X86
// Eight lookups per gather; the remainder (n mod 8) runs scalar.
__attribute__((target("avx2"))) void mac_table_avx2(std::uint32_t* acc, const std::int16_t* act,
                                                    const std::int16_t* wgt, std::size_t n,
                                                    const std::int32_t* table, unsigned bits) {
  const __m256i mask = _mm256_set1_epi32(static_cast<int>((1u << bits) - 1));
  const __m128i shift = _mm_cvtsi32_si128(static_cast<int>(bits));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i a = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(act + i)));
    const __m256i w = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wgt + i)));
    const __m256i idx = _mm256_or_si256(_mm256_sll_epi32(_mm256_and_si256(a, mask), shift), _mm256_and_si256(w, mask));
    const __m256i p = _mm256_i32gather_epi32(table, idx, 4);
    __m256i* dst = reinterpret_cast<__m256i*>(acc + i);
    _mm256_storeu_si256(dst, _mm256_add_epi32(_mm256_loadu_si256(dst), p));
  }
  mac_table_scalar(acc + i, act + i, wgt + i, n - i, table, bits);
}

const bool has_avx2 = __builtin_cpu_supports("avx2");
#else
const bool has_avx2 = false;
#endif

}  // namespace

void mac_native(std::uint32_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n) {
  mac_native_loop(acc, act, wgt, n);
}
void mac_native(std::uint64_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n) {
  mac_native_loop(acc, act, wgt, n);
}

void mac_table(std::uint32_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
               const std::int32_t* table, unsigned bits) {
#ifdef AXSA_X86
  if (has_avx2) {
    mac_table_avx2(acc, act, wgt, n, table, bits);
    return;
  }
#endif
  mac_table_scalar(acc, act, wgt, n, table, bits);
}
void mac_table(std::uint64_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
               const std::int32_t* table, unsigned bits) {
  mac_table_scalar(acc, act, wgt, n, table, bits);
}

template <class Acc>
static void mac_slot_loop(Acc* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
                          const multiplier& m) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += static_cast<Acc>(m.multiply(act[i], wgt[i]));
}
void mac_slot(std::uint32_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
              const multiplier& m) {
  mac_slot_loop(acc, act, wgt, n, m);
}
void mac_slot(std::uint64_t* acc, const std::int16_t* act, const std::int16_t* wgt, std::size_t n,
              const multiplier& m) {
  mac_slot_loop(acc, act, wgt, n, m);
}

const char* table_kernel_name() { return has_avx2 ? "avx2" : "scalar"; }

std::uint64_t zero_pairs(const std::int16_t* act, const std::int16_t* wgt, std::size_t n) {
  std::uint32_t zeros = 0;  // vectorises; n is at most R*C = 16384
  for (std::size_t i = 0; i < n; ++i) zeros += static_cast<std::uint32_t>((act[i] == 0) | (wgt[i] == 0));
  return zeros;
}

}  // namespace axsa::hw::kernels
