// axsa_mul_drum -- signed DRUM (Dynamic Range Unbiased Multiplier).
//
// Source: S. Hashemi, R. I. Bahar, S. Reda, "DRUM: A dynamic range unbiased
// multiplier for approximate applications", ICCAD 2015.
//
// Definition used (per operand magnitude m, K-bit segments):
//   * t = position of the leading one of m.
//   * If m < 2^K (t < K) the operand already fits in K bits and is used
//     exactly: seg = m, sh = 0.
//   * Otherwise sh = t - K + 1, seg = the K bits m[t:sh] with its least
//     significant bit forced to 1 (the truncated tail m[sh-1:0] is replaced by
//     its expected value, which removes the bias of plain truncation).
//   * |A|*|B| ~= (seg_a * seg_b) << (sh_a + sh_b), a K x K exact multiply.
//
// Signed handling (sign-magnitude): magnitudes are N-bit unsigned values, so
// -2^(N-1) has magnitude 2^(N-1) and is handled like any other operand (no
// saturation).  The result is negated when the operand signs differ.  For
// K >= 3 the largest result, (2^(N-1) + 2^(N-K))^2 for A = B = -2^(N-1), is
// below 2^(2N-1), so O never overflows.  A zero operand gives seg = 0, O = 0.
//
// Parameters: N <= 63, 3 <= K <= N-1 (K = N would be the exact multiplier).
module axsa_mul_drum #(parameter N = 8, parameter K = 4) (A, B, O);
  input  [N-1:0]   A;
  input  [N-1:0]   B;
  output [2*N-1:0] O;

  // Segment shift for magnitude m: 0 if m < 2^K, else leading-one pos - K + 1.
  function [6:0] seg_shift;
    input [N-1:0] m;
    integer   t;
    reg [6:0] cand;   // shift that applies if bit t is the leading one
    begin
      seg_shift = 7'd0;
      cand      = 7'd1;
      for (t = K; t < N; t = t + 1) begin
        if (m[t]) seg_shift = cand;
        cand = cand + 7'd1;
      end
    end
  endfunction

  // Sign-magnitude conversion.
  wire         neg = A[N-1] ^ B[N-1];
  wire [N-1:0] ma  = A[N-1] ? -A : A;
  wire [N-1:0] mb  = B[N-1] ? -B : B;

  // Leading-one detection and segment selection.
  wire [6:0]   sha = seg_shift(ma);
  wire [6:0]   shb = seg_shift(mb);
  wire [N-1:0] alg_a = ma >> sha;   // segment aligned to bit 0
  wire [N-1:0] alg_b = mb >> shb;
  wire [K-1:0] seg_a = {alg_a[K-1:1], alg_a[0] | (sha != 7'd0)};
  wire [K-1:0] seg_b = {alg_b[K-1:1], alg_b[0] | (shb != 7'd0)};
  // alg_a/alg_b bits K and up are 0 by construction of the shift; read only to
  // satisfy Verilator UNUSED (default "*unused*" rule).
  wire unused_alg = |{alg_a[N-1:K], alg_b[N-1:K]};

  // K x K exact multiply, then shift back.
  wire [2*K-1:0] segp = {{K{1'b0}}, seg_a} * {{K{1'b0}}, seg_b};
  wire [2*N-1:0] pmag = {{(2*N-2*K){1'b0}}, segp} << (sha + shb);

  assign O = neg ? -pmag : pmag;
endmodule
