// Behavioural models of the rtl/mult multipliers; see behavioural.h for the
// definitions and sources.  Everything is plain integer arithmetic on the
// operand values (no bit-level circuit emulation).
#include "behavioural.h"

#include <stdexcept>
#include <string>

namespace axsa::hw::mult {

namespace {

constexpr int kMinWidth = 2;
constexpr int kMaxWidth = 32;

void check_width(int n) {
  if (n < kMinWidth || n > kMaxWidth) {
    throw std::invalid_argument("axsa::hw::mult: width n=" + std::to_string(n) +
                                " outside [2, 32]");
  }
}

void check_operand(int n, std::int32_t v) {
  const std::int64_t lo = -(std::int64_t{1} << (n - 1));
  const std::int64_t hi = (std::int64_t{1} << (n - 1)) - 1;
  if (v < lo || v > hi) {
    throw std::invalid_argument("axsa::hw::mult: operand " + std::to_string(v) +
                                " is not an " + std::to_string(n) + "-bit signed value");
  }
}

void check_operands(int n, std::int32_t a, std::int32_t b) {
  check_width(n);
  check_operand(n, a);
  check_operand(n, b);
}

void check_param(bool ok, const char* what) {
  if (!ok) {
    throw std::invalid_argument(std::string("axsa::hw::mult: invalid parameter: ") + what);
  }
}

// Interpret the low 2n bits of v as a two's-complement number (what the
// 2n-bit output port means).  None of the models is expected to need the
// wrap for valid parameters; it is here so the models match the port width
// by construction.
std::int64_t wrap_to_output(int n, std::int64_t v) {
  const int w = 2 * n;
  if (w >= 64) {
    return v;
  }
  const std::uint64_t mask = (std::uint64_t{1} << w) - 1;
  const std::uint64_t sign = std::uint64_t{1} << (w - 1);
  const std::uint64_t u = static_cast<std::uint64_t>(v) & mask;
  return (u & sign) != 0 ? static_cast<std::int64_t>(u) - (std::int64_t{1} << (w - 1)) * 2
                         : static_cast<std::int64_t>(u);
}

// Bit i of the n-bit two's-complement pattern of v.
int bit(std::int32_t v, int i) {
  return static_cast<int>((static_cast<std::uint32_t>(v) >> i) & 1U);
}

// Signed partial-product term s_ij * a_i * b_j * 2^(i+j) of the n x n
// two's-complement product (the sign bits carry weight -2^(n-1)).
std::int64_t pp_term(int n, int i, int j, std::int32_t a, std::int32_t b) {
  if ((bit(a, i) & bit(b, j)) == 0) {
    return 0;
  }
  const bool negative = (i == n - 1) != (j == n - 1);
  const std::int64_t weight = std::int64_t{1} << (i + j);
  return negative ? -weight : weight;
}

std::uint64_t magnitude(std::int32_t v) {
  return v < 0 ? static_cast<std::uint64_t>(-static_cast<std::int64_t>(v))
               : static_cast<std::uint64_t>(v);
}

std::int64_t apply_sign(std::int32_t a, std::int32_t b, std::uint64_t mag) {
  const std::int64_t m = static_cast<std::int64_t>(mag);
  return ((a < 0) != (b < 0)) ? -m : m;
}

// Position of the most significant 1 of m (m > 0).
int leading_one(std::uint64_t m) {
  int t = 0;
  while ((m >> 1) != 0) {
    m >>= 1;
    ++t;
  }
  return t;
}

// Kulkarni recursive unsigned multiplier on w-bit operands, w a power of two.
std::uint64_t kulkarni_unsigned(std::uint64_t x, std::uint64_t y, int w) {
  if (w == 2) {
    return (x == 3 && y == 3) ? 7 : x * y;
  }
  const int h = w / 2;
  const std::uint64_t low = (std::uint64_t{1} << h) - 1;
  const std::uint64_t xl = x & low;
  const std::uint64_t xh = x >> h;
  const std::uint64_t yl = y & low;
  const std::uint64_t yh = y >> h;
  return (kulkarni_unsigned(xh, yh, h) << w) +
         ((kulkarni_unsigned(xh, yl, h) + kulkarni_unsigned(xl, yh, h)) << h) +
         kulkarni_unsigned(xl, yl, h);
}

// DRUM operand approximation with k-bit segments.
std::uint64_t drum_operand(std::uint64_t m, int k) {
  if (m < (std::uint64_t{1} << k)) {
    return m;
  }
  const int s = leading_one(m) - k + 1;
  return ((m >> s) | 1U) << s;
}

}  // namespace

std::int64_t exact(int n, std::int32_t a, std::int32_t b) {
  check_operands(n, a, b);
  return static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
}

std::int64_t truncated(int n, int k, std::int32_t a, std::int32_t b) {
  check_operands(n, a, b);
  check_param(k >= 0 && k <= 2 * n - 1, "truncated: need 0 <= k <= 2n-1");
  std::int64_t dropped = 0;
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n && i + j < k; ++i) {
      dropped += pp_term(n, i, j, a, b);
    }
  }
  return wrap_to_output(n, static_cast<std::int64_t>(a) * b - dropped);
}

std::int64_t broken_array(int n, int hbl, int vbl, std::int32_t a, std::int32_t b) {
  check_operands(n, a, b);
  check_param(hbl >= 0 && hbl <= n - 1, "broken_array: need 0 <= hbl <= n-1");
  check_param(vbl >= 0 && vbl <= 2 * n - 1, "broken_array: need 0 <= vbl <= 2n-1");
  std::int64_t sum = 0;
  for (int j = hbl; j < n; ++j) {
    for (int i = 0; i < n; ++i) {
      if (i + j >= vbl) {
        sum += pp_term(n, i, j, a, b);
      }
    }
  }
  return wrap_to_output(n, sum);
}

std::int64_t kulkarni(int n, std::int32_t a, std::int32_t b) {
  check_operands(n, a, b);
  int w = 2;
  while (w < n) {
    w *= 2;
  }
  return wrap_to_output(n, apply_sign(a, b, kulkarni_unsigned(magnitude(a), magnitude(b), w)));
}

std::int64_t drum(int n, int k, std::int32_t a, std::int32_t b) {
  check_operands(n, a, b);
  check_param(k >= 3 && k <= n - 1, "drum: need 3 <= k <= n-1");
  const std::uint64_t p = drum_operand(magnitude(a), k) * drum_operand(magnitude(b), k);
  return wrap_to_output(n, apply_sign(a, b, p));
}

std::int64_t mitchell(int n, std::int32_t a, std::int32_t b) {
  check_operands(n, a, b);
  const std::uint64_t x = magnitude(a);
  const std::uint64_t y = magnitude(b);
  if (x == 0 || y == 0) {
    return 0;
  }
  const int k1 = leading_one(x);
  const int k2 = leading_one(y);
  // (f1 + f2) * 2^(k1+k2), an integer because f1 = (x - 2^k1) / 2^k1 etc.
  const std::uint64_t fsum = ((x - (std::uint64_t{1} << k1)) << k2) +
                             ((y - (std::uint64_t{1} << k2)) << k1);
  const std::uint64_t one = std::uint64_t{1} << (k1 + k2);
  const std::uint64_t p = fsum < one ? one + fsum : 2 * fsum;
  return wrap_to_output(n, apply_sign(a, b, p));
}

}  // namespace axsa::hw::mult
