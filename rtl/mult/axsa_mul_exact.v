// axsa_mul_exact -- exact N x N signed multiplier (reference design).
//
// Interface (shared by every multiplier in rtl/mult, EvoApprox-compatible):
//   A, B : N-bit two's-complement operands (plain vectors, no `signed` ports)
//   O    : 2N-bit two's-complement product
//
// Both operands are sign-extended to 2N bits and multiplied; the low 2N bits of
// that product are the exact signed product (it always fits: |A*B| <= 2^(2N-2)).
// The implementation is left to the synthesis tool.
//
// Parameters: N >= 2 (N = 8, 12, 16 are used by axsa).
module axsa_mul_exact #(parameter N = 8) (A, B, O);
  input  [N-1:0]   A;
  input  [N-1:0]   B;
  output [2*N-1:0] O;

  // Explicit sign extension: gives the multiplication a 2N-bit context without
  // relying on implicit (and lint-visible) width extension.
  wire signed [2*N-1:0] a_ext = $signed({{N{A[N-1]}}, A});
  wire signed [2*N-1:0] b_ext = $signed({{N{B[N-1]}}, B});
  wire signed [2*N-1:0] prod  = a_ext * b_ext;

  assign O = prod;
endmodule
