// axsa_mul_kulkarni -- signed multiplier built from Kulkarni's approximate
// 2x2 multiplier block.
//
// Source: P. Kulkarni, P. Gupta, M. Ercegovac, "Trading accuracy for power
// with an underdesigned multiplier architecture", VLSI Design 2011.  The 2x2
// block returns the exact product for every input pair except 3 x 3, which
// yields 7 (binary 111) instead of 9, so the block needs only 3 output bits:
//   P[0] = a0 & b0,  P[1] = (a1 & b0) | (a0 & b1),  P[2] = a1 & b1.
// Larger unsigned multipliers are built recursively: an M x M multiplier is
// four M/2 x M/2 multipliers (AH*BH, AH*BL, AL*BH, AL*BL) whose results are
// shifted and added exactly, down to the 2x2 blocks.  Hence
//   |A|*|B| ~= sum over base-4 digits p, q of blk(x_p, y_q) * 4^(p+q).
//
// Signed handling (sign-magnitude):
//   * Magnitudes are taken as N-bit unsigned values; -2^(N-1) has magnitude
//     2^(N-1), which is representable, so it is handled without saturation.
//   * The unsigned core has width M = smallest power of two >= N (N = 12 uses
//     a 16x16 core whose upper digits are tied to 0; synthesis removes them).
//   * The approximate magnitude product (<= exact, so < 2^(2N-1)) is negated
//     when the operand signs differ.  A zero operand gives O = 0.
//
// Structure: level 0 holds all 2x2 blocks; level l combines four products of
// level l-1 (sub-multipliers of width 2^l) into products of width 2^(l+1).
//
// Parameters: 2 <= N <= 32.
module axsa_mul_kulkarni #(parameter N = 8) (A, B, O);
  input  [N-1:0]   A;
  input  [N-1:0]   B;
  output [2*N-1:0] O;

  localparam M  = (N <= 2) ? 2 : (N <= 4) ? 4 : (N <= 8) ? 8 : (N <= 16) ? 16 : 32;
  localparam LV = (M == 2) ? 0 : (M == 4) ? 1 : (M == 8) ? 2 : (M == 16) ? 3 : 4;

  // Sign-magnitude conversion.
  wire         neg = A[N-1] ^ B[N-1];
  wire [N-1:0] ma  = A[N-1] ? -A : A;
  wire [N-1:0] mb  = B[N-1] ? -B : B;

  // Zero-extend the magnitudes to the core width M.
  wire [M-1:0] xa;
  wire [M-1:0] xb;
  generate
    if (M > N) begin : g_pad
      assign xa = {{(M-N){1'b0}}, ma};
      assign xb = {{(M-N){1'b0}}, mb};
    end else begin : g_nopad
      assign xa = ma;
      assign xb = mb;
    end
  endgenerate

  // g_lvl[l].prod: (M/SW)^2 products of SW x SW sub-multipliers, SW = 2^(l+1),
  // each 2*SW bits wide; product (p, q) = A-part p times B-part q lives at
  // [(p*CNT + q)*2*SW +: 2*SW].
  genvar l, p, q;
  generate
    for (l = 0; l <= LV; l = l + 1) begin : g_lvl
      localparam SW  = 2 << l;
      localparam CNT = M / SW;
      wire [CNT*CNT*2*SW-1:0] prod;
      for (p = 0; p < CNT; p = p + 1) begin : g_p
        for (q = 0; q < CNT; q = q + 1) begin : g_q
          if (l == 0) begin : g_blk
            // Kulkarni 2x2 block on digit p of A and digit q of B.
            wire [1:0] x = xa[2*p +: 2];
            wire [1:0] y = xb[2*q +: 2];
            assign prod[(p*CNT+q)*4 +: 4] = {1'b0,
                                            x[1] & y[1],
                                            (x[1] & y[0]) | (x[0] & y[1]),
                                            x[0] & y[0]};
          end else begin : g_node
            // Four half-width products from the level below (2*CNT parts per
            // operand there, each SW bits wide).
            localparam CB = 2 * CNT;
            localparam H  = SW / 2;
            wire [SW-1:0] ll = g_lvl[l-1].prod[((2*p  )*CB + 2*q  )*SW +: SW];
            wire [SW-1:0] lh = g_lvl[l-1].prod[((2*p  )*CB + 2*q+1)*SW +: SW];
            wire [SW-1:0] hl = g_lvl[l-1].prod[((2*p+1)*CB + 2*q  )*SW +: SW];
            wire [SW-1:0] hh = g_lvl[l-1].prod[((2*p+1)*CB + 2*q+1)*SW +: SW];
            assign prod[(p*CNT+q)*2*SW +: 2*SW] =
                {{SW{1'b0}}, ll}
              + {{H{1'b0}}, lh, {H{1'b0}}}
              + {{H{1'b0}}, hl, {H{1'b0}}}
              + {hh, {SW{1'b0}}};
          end
        end
      end
    end
  endgenerate

  // Magnitude product: the approximation never exceeds the exact product, so
  // it fits in the low 2N bits of the 2M-bit core result.
  wire [2*M-1:0] core = g_lvl[LV].prod;
  wire [2*N-1:0] pmag = core[2*N-1:0];
  generate
    if (M > N) begin : g_hi
      // Bits 2N .. 2M-1 are always 0; read only to satisfy Verilator UNUSED.
      wire unused_hi = |core[2*M-1:2*N];
    end
  endgenerate

  assign O = neg ? -pmag : pmag;
endmodule
