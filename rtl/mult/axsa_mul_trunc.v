// axsa_mul_trunc -- truncated signed array multiplier (Baugh-Wooley partial
// products, K least-significant columns removed, no error compensation).
//
// Partial-product matrix (modified Baugh-Wooley form, rows j = 0..N-1, the bit
// of row j in column c = i + j uses A[i] and B[j]):
//   i <  N-1, j <  N-1 :  A[i] & B[j]          value +a_i*b_j*2^c
//   i == N-1, j <  N-1 : ~(A[i] & B[j])        value -a_i*b_j*2^c
//   i <  N-1, j == N-1 : ~(A[i] & B[j])        value -a_i*b_j*2^c
//   i == N-1, j == N-1 :  A[i] & B[j]          value +a_i*b_j*2^c
// A complemented bit ~x at column c stands for -x*2^c because ~x*2^c - 2^c =
// -x*2^c; the "-2^c" parts of all complemented bits that are present are
// summed at elaboration time into the correction constant CORR (mod 2^2N).
//
// Truncation: every partial-product bit in a column c < K is removed (no cell,
// no AND gate).  CORR only accounts for the complemented bits that remain, so
//   O = sum over i+j >= K of s_ij * a_i * b_j * 2^(i+j)      (mod 2^2N)
// where s_ij = -1 when exactly one of i, j equals N-1 and +1 otherwise.
// There is NO compensation constant: for K <= N-1 only positive terms are
// dropped, so the result is never larger than the exact product.
// For K <= N-1 CORR is the usual Baugh-Wooley constant 2^(2N-1) + 2^N.
//
// Zero operand: every remaining term contains a_i*b_j, so A == 0 or B == 0
// gives O == 0 for every K.
//
// Structure: the remaining bits of each row are accumulated row by row with a
// 2N-bit adder (a row-ripple array; the adder type is left to synthesis).
//
// Parameters: N >= 2, 0 <= K <= 2N-1 (K = 0 is exact).
module axsa_mul_trunc #(parameter N = 8, parameter K = 4) (A, B, O);
  input  [N-1:0]   A;
  input  [N-1:0]   B;
  output [2*N-1:0] O;

  localparam W = 2 * N;

  // -(sum of 2^c over the complemented bits that survive truncation), mod 2^W.
  // Complemented bits sit in columns N-1 .. 2N-3, two per column.
  function [W-1:0] bw_corr;
    input integer kcut;
    integer c;
    reg [W-1:0] acc;
    begin
      acc = {W{1'b0}};
      for (c = N - 1; c <= 2 * N - 3; c = c + 1)
        if (c >= kcut)
          acc = acc + ({{(W-1){1'b0}}, 1'b1} << (c + 1));  // two bits of weight 2^c
      bw_corr = -acc;
    end
  endfunction

  localparam [W-1:0] CORR = bw_corr(K);

  // rows[j*W +: W] holds partial-product row j already placed at its columns.
  wire [W*N-1:0] rows;

  genvar j, c;
  generate
    for (j = 0; j < N; j = j + 1) begin : g_row
      for (c = 0; c < W; c = c + 1) begin : g_col
        if (c < j || c > j + N - 1 || c < K) begin : g_none
          assign rows[j*W + c] = 1'b0;
        end else if ((c - j == N - 1) != (j == N - 1)) begin : g_neg
          assign rows[j*W + c] = ~(A[c-j] & B[j]);
        end else begin : g_pos
          assign rows[j*W + c] = A[c-j] & B[j];
        end
      end
    end
  endgenerate

  // Row accumulation: stage j adds row j to the running sum of stage j-1
  // (stage 0 starts from CORR).  One wire per stage keeps the chain acyclic
  // for Verilator (a single packed vector would be flagged UNOPTFLAT).
  generate
    for (j = 0; j < N; j = j + 1) begin : g_add
      wire [W-1:0] sum;
      if (j == 0) begin : g_first
        assign sum = CORR + rows[0 +: W];
      end else begin : g_next
        assign sum = g_add[j-1].sum + rows[j*W +: W];
      end
    end
  endgenerate

  assign O = g_add[N-1].sum;

  // For large K some operand bits feed no remaining partial product. Reading
  // them here keeps Verilator's UNUSED lint quiet through its default
  // "*unused*" name rule; the wire drives nothing and is removed by synthesis.
  wire unused_ok = &{1'b0, A, B};
endmodule
