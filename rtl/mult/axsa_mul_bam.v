// axsa_mul_bam -- signed broken-array multiplier (BAM).
//
// Source: H. R. Mahdiani, A. Ahmadi, S. M. Fakhraie, C. Lucas, "Bio-inspired
// imprecise computational blocks for efficient VLSI implementation of
// soft-computing applications", IEEE TCAS-I 57(4), 2010.  The BAM starts from
// a carry-save array multiplier and removes whole carry-save cells on the
// cheap side of a horizontal and a vertical break line.
//
// Signed version defined here (Baugh-Wooley array):
//   * Cell (j, c) sits in partial-product row j (the row of B[j]) and column
//     c = i + j, j <= c <= j+N-1, and adds the partial-product bit of A[i],
//     B[j] to the sum and carry arriving from row j-1.  The bit is
//     A[i]&B[j], or ~(A[i]&B[j]) when exactly one of i, j equals N-1
//     (a negatively weighted term, see axsa_mul_trunc.v).
//   * Horizontal break HBL: all cells of rows j < HBL are omitted, i.e. the
//     HBL least-significant partial-product rows (B[0] .. B[HBL-1]).
//     HBL = 0 means no horizontal break (convention of the EvoApprox library).
//   * Vertical break VBL: all cells in columns c < VBL are omitted.
//     VBL = 0 means no vertical break.
//   * The Baugh-Wooley correction constant is computed at elaboration for the
//     complemented bits that still have a cell, so the constant never
//     re-introduces the value of an omitted cell.
// Carries only travel towards more significant columns and later rows, and
// every carry leaving a kept cell lands in another kept cell, so no kept
// information is lost and the circuit computes exactly
//   O = sum over j >= HBL, i+j >= VBL of s_ij * a_i * b_j * 2^(i+j)  (mod 2^2N)
// with s_ij = -1 when exactly one of i, j equals N-1, else +1.  HBL = 0,
// VBL = K is the truncated multiplier.  A zero operand always gives O = 0.
// Output bits below max(HBL, VBL) are constant 0.
//
// Structure: N carry-save rows (cell = full adder, constant inputs simplify
// during synthesis), then a vector-merging adder that also adds the
// correction constant.
//
// Parameters: N >= 2, 0 <= HBL <= N-1, 0 <= VBL <= 2N-1.
module axsa_mul_bam #(parameter N = 8, parameter HBL = 0, parameter VBL = 0) (A, B, O);
  input  [N-1:0]   A;
  input  [N-1:0]   B;
  output [2*N-1:0] O;

  localparam W = 2 * N;

  // -(sum of 2^c over complemented bits whose cell is kept), mod 2^W.
  function [W-1:0] bw_corr;
    input integer hbl;
    input integer vbl;
    integer t;
    reg [W-1:0] acc;
    begin
      acc = {W{1'b0}};
      for (t = 0; t < N - 1; t = t + 1) begin
        // row t (t < N-1), column N-1+t: ~(A[N-1] & B[t])
        if (t >= hbl && N - 1 + t >= vbl)
          acc = acc + ({{(W-1){1'b0}}, 1'b1} << (N - 1 + t));
        // row N-1, column t+N-1: ~(A[t] & B[N-1])
        if (N - 1 >= hbl && t + N - 1 >= vbl)
          acc = acc + ({{(W-1){1'b0}}, 1'b1} << (t + N - 1));
      end
      bw_corr = -acc;
    end
  endfunction

  localparam [W-1:0] CORR = bw_corr(HBL, VBL);

  // g_row[j].s / g_row[j].cy: sum vector and carry vector leaving row j
  // (cy bit c is a carry INTO column c).  Row -1 is all zero.
  genvar j, c;
  generate
    for (j = 0; j < N; j = j + 1) begin : g_row
      wire [W-1:0] s;
      wire [W-1:0] cy;
      wire [W-1:0] s_in;
      wire [W-1:0] cy_in;
      if (j == 0) begin : g_top
        assign s_in  = {W{1'b0}};
        assign cy_in = {W{1'b0}};
      end else begin : g_link
        assign s_in  = g_row[j-1].s;
        assign cy_in = g_row[j-1].cy;
      end

      for (c = 0; c < W; c = c + 1) begin : g_col
        if (j >= HBL && c >= VBL && c >= j && c <= j + N - 1) begin : g_cell
          // Kept carry-save cell: full adder on (pp bit, sum in, carry in).
          wire pp;
          if ((c - j == N - 1) != (j == N - 1)) begin : g_neg
            assign pp = ~(A[c-j] & B[j]);
          end else begin : g_pos
            assign pp = A[c-j] & B[j];
          end
          assign s[c] = pp ^ s_in[c] ^ cy_in[c];
          // c <= 2N-2 here, so the carry always has a column to go to.
          assign cy[c+1] = (pp & s_in[c]) | (pp & cy_in[c]) | (s_in[c] & cy_in[c]);
        end else begin : g_gap
          // No cell: the sum bit passes straight down.  No carry ever reaches
          // a missing cell (the cell that would produce it is missing too), so
          // cy_in[c] is constant 0 here; it is read into an "unused" wire only
          // to satisfy Verilator's UNUSED lint.
          assign s[c] = s_in[c];
          wire unused_cin = cy_in[c];
        end
        // Carry into column c of the next row: driven by cell (j, c-1) if that
        // cell exists, otherwise constant 0.
        if (!(c >= 1 && j >= HBL && c - 1 >= VBL && c - 1 >= j && c - 1 <= j + N - 1)) begin : g_nocarry
          assign cy[c] = 1'b0;
        end
      end
    end
  endgenerate

  // Vector-merging adder plus Baugh-Wooley correction constant.
  assign O = g_row[N-1].s + g_row[N-1].cy + CORR;

  // With HBL > 0 or a large VBL some operand bits feed no kept cell; reading
  // them here keeps Verilator's UNUSED lint quiet (default "*unused*" rule).
  wire unused_ok = &{1'b0, A, B};
endmodule
