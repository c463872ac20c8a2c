// axsa_mul_mitchell -- signed Mitchell logarithmic multiplier.
//
// Source: J. N. Mitchell, "Computer multiplication and division using binary
// logarithms", IRE Trans. Electronic Computers EC-11(4), 1962.
//
// Definition used (on magnitudes x, y > 0):
//   x = 2^k1 * (1 + f1), y = 2^k2 * (1 + f2), k = leading-one position
//   (characteristic), 0 <= f < 1 the remaining bits read as a binary fraction
//   (mantissa).  log2 x ~= k1 + f1, so log2(x*y) ~= (k1 + k2) + (f1 + f2), and
//   the piecewise-linear antilogarithm gives
//     f1 + f2 <  1 :  x*y ~= 2^(k1+k2)   * (1 + f1 + f2)
//     f1 + f2 >= 1 :  x*y ~= 2^(k1+k2+1) * (f1 + f2)
//   Both values are integers (2^k1*f1 and 2^k2*f2 are integers), so no
//   rounding is involved; the approximation never exceeds x*y.
// Hardware: each fraction is left-aligned to F = N-1 bits, the fractions are
// added (the carry out is the "f1 + f2 >= 1" case and bumps the exponent),
// then 1.fraction is shifted left by k1 + k2 (+1) and the F fraction bits are
// dropped (they are always 0, see above).
//
// Signed handling (sign-magnitude): magnitudes are N-bit unsigned values, so
// -2^(N-1) has magnitude 2^(N-1) (k = N-1, f = 0) and needs no special case.
// The result is negated when the operand signs differ.  Zero has no
// logarithm: if either magnitude is 0 the result is forced to exactly 0.
//
// Parameters: 2 <= N <= 63.
module axsa_mul_mitchell #(parameter N = 8) (A, B, O);
  input  [N-1:0]   A;
  input  [N-1:0]   B;
  output [2*N-1:0] O;

  localparam F = N - 1;   // fraction bits

  // Leading-one position (characteristic); 0 for m = 0 (handled separately).
  function [6:0] lead_one;
    input [N-1:0] m;
    integer   t;
    reg [6:0] pos;
    begin
      lead_one = 7'd0;
      pos      = 7'd0;
      for (t = 0; t < N; t = t + 1) begin
        if (m[t]) lead_one = pos;
        pos = pos + 7'd1;
      end
    end
  endfunction

  // Sign-magnitude conversion.
  wire         neg = A[N-1] ^ B[N-1];
  wire [N-1:0] ma  = A[N-1] ? -A : A;
  wire [N-1:0] mb  = B[N-1] ? -B : B;
  wire         zero = (ma == {N{1'b0}}) | (mb == {N{1'b0}});

  // Characteristics and left-aligned mantissas.
  wire [6:0]   ka = lead_one(ma);
  wire [6:0]   kb = lead_one(mb);
  wire [N-1:0] na = ma << (F[6:0] - ka);   // leading one moved to bit N-1
  wire [N-1:0] nb = mb << (F[6:0] - kb);
  wire [F:0]   fsum = {1'b0, na[F-1:0]} + {1'b0, nb[F-1:0]};
  // na[F]/nb[F] are the (implicit) leading ones; they are read only to keep
  // the UNUSED lint of Verilator quiet (its default "*unused*" name rule).
  wire unused_lead = na[F] & nb[F];

  // Antilogarithm: 1.fraction shifted by the characteristic sum (+1 when the
  // mantissa sum overflowed), then the F fraction bits are dropped.
  wire [N-1:0]   mant  = {1'b1, fsum[F-1:0]};
  wire [6:0]     shamt = ka + kb + {6'd0, fsum[F]};
  wire [3*N-2:0] wide  = {{(2*N-1){1'b0}}, mant} << shamt;
  wire [2*N-1:0] pmag  = zero ? {(2*N){1'b0}} : wide[F +: 2*N];
  // wide[F-1:0] is always 0 (see header); read only for Verilator UNUSED.
  wire unused_frac = |wide[F-1:0];

  assign O = neg ? -pmag : pmag;
endmodule
