// Behavioural (arithmetic) models of the signed multipliers in rtl/mult.
//
// Every function takes N-bit two's-complement operands already sign-extended
// into int32_t and returns what the circuit's 2N-bit output O means as a
// signed number, sign-extended into int64_t.  The models are written from the
// published algorithm descriptions, independently of the Verilog; the checker
// in tests/mult compares both bit-exactly.
//
// Common conventions
//   * Valid widths: 2 <= n <= 32.  Operands outside [-2^(n-1), 2^(n-1)-1] and
//     parameters outside the documented range throw std::invalid_argument.
//   * "Sign-magnitude" designs (kulkarni, drum, mitchell) approximate
//     |a| * |b| on unsigned magnitudes and negate the result when the signs
//     differ.  The magnitude of -2^(n-1) is 2^(n-1); it is processed like any
//     other magnitude (no saturation, no special case), and no result
//     overflows the 2n-bit output.
//   * A zero operand gives 0 in every design and for every parameter value.
//   * Partial-product bit a_i is bit i of the n-bit two's-complement pattern
//     of a (a_{n-1} is the sign bit, weight -2^(n-1)).
#ifndef AXSA_HW_MULT_BEHAVIOURAL_H
#define AXSA_HW_MULT_BEHAVIOURAL_H

#include <cstdint>

namespace axsa::hw::mult {

// Exact signed product a * b (reference; "exact" Verilog module).
std::int64_t exact(int n, std::int32_t a, std::int32_t b);

// Truncated signed array multiplier, no error compensation.
// Source: fixed-width / truncated array multipliers, e.g. M. J. Schulte and
// E. E. Swartzlander, "Truncated multiplication with correction constant",
// VLSI Signal Processing VI, 1993 (here used WITHOUT the correction constant);
// signed partial products from C. R. Baugh and B. A. Wooley, "A two's
// complement parallel array multiplication algorithm", IEEE Trans. Computers,
// 1973.
// Definition: with s_ij = -1 if exactly one of i, j equals n-1, else +1,
//   a * b = sum_{i,j=0}^{n-1} s_ij a_i b_j 2^(i+j);
//   truncated = a * b - sum_{i+j < k} s_ij a_i b_j 2^(i+j),
// i.e. every signed partial-product term in the k least significant columns
// is dropped (the Baugh-Wooley sign-correction constant is adjusted so that it
// does not re-introduce dropped terms).  For k <= n-1 all dropped terms are
// positive, so the result never exceeds the exact product.
// Valid: 0 <= k <= 2n-1 (k = 0 is exact).
std::int64_t truncated(int n, int k, std::int32_t a, std::int32_t b);

// Broken-array multiplier (BAM).
// Source: H. R. Mahdiani, A. Ahmadi, S. M. Fakhraie, C. Lucas, "Bio-inspired
// imprecise computational blocks for efficient VLSI implementation of
// soft-computing applications", IEEE TCAS-I, 2010.
// Definition (signed, Baugh-Wooley array, s_ij as for truncated()): the
// carry-save cells of partial-product rows j < hbl (rows of b_0..b_{hbl-1})
// and of columns i+j < vbl are removed, giving
//   broken_array = sum_{j >= hbl, i+j >= vbl} s_ij a_i b_j 2^(i+j).
// hbl = 0 / vbl = 0 mean no horizontal / vertical break;
// broken_array(n, 0, k, ...) == truncated(n, k, ...).
// Valid: 0 <= hbl <= n-1, 0 <= vbl <= 2n-1.
std::int64_t broken_array(int n, int hbl, int vbl, std::int32_t a, std::int32_t b);

// Recursive multiplier from Kulkarni's underdesigned 2x2 block.
// Source: P. Kulkarni, P. Gupta, M. Ercegovac, "Trading accuracy for power
// with an underdesigned multiplier architecture", VLSI Design, 2011.
// Definition: the 2x2 block returns x*y for x, y in 0..3 except 3*3 -> 7.
// A w x w unsigned product (w a power of two >= 4) is built from four
// (w/2) x (w/2) products H*H*2^w + (H*L + L*H)*2^(w/2) + L*L, added exactly.
// The magnitudes are zero-extended to w = smallest power of two >= n;
// sign-magnitude as above.  Never overestimates |a*b|.
std::int64_t kulkarni(int n, std::int32_t a, std::int32_t b);

// DRUM: dynamic range unbiased multiplier.
// Source: S. Hashemi, R. I. Bahar, S. Reda, "DRUM: A dynamic range unbiased
// multiplier for approximate applications", ICCAD 2015.
// Definition, per magnitude m with leading-one position t: if m < 2^k the
// magnitude is used exactly; otherwise s = t-k+1 and m is replaced by
// m' = ((m >> s) | 1) << s (k bits from the leading one, LSB forced to 1).
// Result = |a|' * |b|' with the sign applied (sign-magnitude).
// Valid: 3 <= k <= n-1.
std::int64_t drum(int n, int k, std::int32_t a, std::int32_t b);

// Mitchell's logarithmic multiplier.
// Source: J. N. Mitchell, "Computer multiplication and division using binary
// logarithms", IRE Trans. Electronic Computers, 1962.
// Definition, on magnitudes x, y > 0 with x = 2^k1 (1+f1), y = 2^k2 (1+f2):
//   f1 + f2 <  1:  2^(k1+k2) (1 + f1 + f2)
//   f1 + f2 >= 1:  2^(k1+k2+1) (f1 + f2)
// (both exact integers, computed without rounding); 0 if x or y is 0;
// sign-magnitude as above.  Never overestimates |a*b|.
std::int64_t mitchell(int n, std::int32_t a, std::int32_t b);

}  // namespace axsa::hw::mult

#endif  // AXSA_HW_MULT_BEHAVIOURAL_H
