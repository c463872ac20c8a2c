// axsa_array -- R x C output-stationary systolic array of axsa_pe, the RTL twin of hw::array_core
// (docs/rtl.md; timing in docs/cycle-model.md). The edge inputs are the feeder registers of the
// model: west_act/west_valid of row i during cycle t reach PE (i, j) during cycle t + j, and
// north_wgt/north_valid of column j reach PE (i, j) during cycle t + i; the skew itself is the
// driver's job. A PE accumulates when both valid bits it receives are set. While `drain` is high
// every accumulator takes the value of the PE to its north (zeros enter row 0) and the bottom row
// shows on drain_out; the links keep shifting every cycle. rst (synchronous) clears every register;
// en low (no job: the controller is idle) holds them all and no PE accumulates.
//
// The ports are what the hardware has: edge inputs, fault masks, drain outputs and the links
// leaving the east and south edges (for tiling arrays). The PEs' registers are not ports; a
// verilated model reads them by hierarchical name (g_row[r].g_col[c].u_pe, axsa_pe.v), because
// flattening R*C registers into wide output ports costs Verilator a tenfold slowdown.
//
// Vectors are flattened: PE (r, c) owns bits [(r*C + c)*W +: W] of a mask vector ([(r*C + c)*A +: A] of an acc_* one,
// [(r*C + c)*2 +: 2] of a valid_* one), row r bits
// [r*X +: X] of a per-row vector, column c bits [c*X +: X] of a per-column vector.
module axsa_array #(
  parameter R = 4,   // PE rows
  parameter C = 4,   // PE columns
  parameter W = 8,   // data width
  parameter A = 32,  // accumulator width
  parameter N = 8    // multiplier operand width (N >= W)
) (
  input              clk,
  input              rst,
  input              en,
  input  [R*W-1:0]   west_act,
  input  [R-1:0]     west_valid,
  input  [C*W-1:0]   north_wgt,
  input  [C-1:0]     north_valid,
  input              drain,
  // Operand alignment of every PE's multiplier (axsa_pe): 0 low, 1 high. A strap: held for a run.
  input              align_high,
  // Fault masks of each PE (axsa_pe): on the weight arriving from the north (link_*, mult_*), the
  // activation arriving from the west (act_link_*, act_mult_*) and the accumulator's input (acc_*).
  input  [R*C*W-1:0] link_clear,
  input  [R*C*W-1:0] link_set,
  input  [R*C*W-1:0] link_flip,
  input  [R*C*W-1:0] mult_clear,
  input  [R*C*W-1:0] mult_set,
  input  [R*C*W-1:0] mult_flip,
  input  [R*C*W-1:0] act_link_clear,
  input  [R*C*W-1:0] act_link_set,
  input  [R*C*W-1:0] act_link_flip,
  input  [R*C*W-1:0] act_mult_clear,
  input  [R*C*W-1:0] act_mult_set,
  input  [R*C*W-1:0] act_mult_flip,
  input  [R*C*A-1:0] acc_clear,
  input  [R*C*A-1:0] acc_set,
  input  [R*C*A-1:0] acc_flip,
  // Valid masks of each PE (2 bits: activation, weight) on its MAC-enable gate (valid site).
  input  [R*C*2-1:0] valid_clear,
  input  [R*C*2-1:0] valid_set,
  input  [R*C*2-1:0] valid_flip,
  // The bottom row's accumulators while draining, else zero.
  output [C*A-1:0]   drain_out,
  // What leaves the array: the east registers of column C-1, the south registers of row R-1.
  output [R*W-1:0]   east_act,
  output [R-1:0]     east_valid,
  output [C*W-1:0]   south_wgt,
  output [C-1:0]     south_valid
);

  // Every PE's registers, row-major, as the links between neighbours.
  wire [R*C*W-1:0] act_q;
  wire [R*C-1:0]   act_valid_q;
  wire [R*C*W-1:0] wgt_q;
  wire [R*C-1:0]   wgt_valid_q;
  wire [R*C*A-1:0] acc_q;
  wire [R*C-1:0]   mac_en;

  genvar r, c;
  generate
    for (r = 0; r < R; r = r + 1) begin : g_row
      for (c = 0; c < C; c = c + 1) begin : g_col
        localparam integer P = r * C + c;
        wire [W-1:0] in_act;
        wire         in_act_valid;
        wire [W-1:0] in_wgt;
        wire         in_wgt_valid;
        wire [A-1:0] in_acc;
        if (c == 0) begin : g_west_edge
          assign in_act       = west_act[r*W +: W];
          assign in_act_valid = west_valid[r];
        end else begin : g_west_pe
          assign in_act       = act_q[(P-1)*W +: W];
          assign in_act_valid = act_valid_q[P-1];
        end
        if (r == 0) begin : g_north_edge
          assign in_wgt       = north_wgt[c*W +: W];
          assign in_wgt_valid = north_valid[c];
          assign in_acc       = {A{1'b0}};
        end else begin : g_north_pe
          assign in_wgt       = wgt_q[(P-C)*W +: W];
          assign in_wgt_valid = wgt_valid_q[P-C];
          assign in_acc       = acc_q[(P-C)*A +: A];
        end
        axsa_pe #(.W(W), .A(A), .N(N)) u_pe (
          .clk          (clk),
          .rst          (rst),
          .en           (en),
          .in_act       (in_act),
          .in_act_valid (in_act_valid),
          .in_wgt       (in_wgt),
          .in_wgt_valid (in_wgt_valid),
          .drain        (drain),
          .align_high   (align_high),
          .in_acc       (in_acc),
          .link_clear   (link_clear[P*W +: W]),
          .link_set     (link_set[P*W +: W]),
          .link_flip    (link_flip[P*W +: W]),
          .mult_clear   (mult_clear[P*W +: W]),
          .mult_set     (mult_set[P*W +: W]),
          .mult_flip    (mult_flip[P*W +: W]),
          .act_link_clear(act_link_clear[P*W +: W]),
          .act_link_set (act_link_set[P*W +: W]),
          .act_link_flip(act_link_flip[P*W +: W]),
          .act_mult_clear(act_mult_clear[P*W +: W]),
          .act_mult_set (act_mult_set[P*W +: W]),
          .act_mult_flip(act_mult_flip[P*W +: W]),
          .acc_clear    (acc_clear[P*A +: A]),
          .acc_set      (acc_set[P*A +: A]),
          .acc_flip     (acc_flip[P*A +: A]),
          .valid_clear  (valid_clear[P*2 +: 2]),
          .valid_set    (valid_set[P*2 +: 2]),
          .valid_flip   (valid_flip[P*2 +: 2]),
          .out_act      (act_q[P*W +: W]),
          .out_act_valid(act_valid_q[P]),
          .out_wgt      (wgt_q[P*W +: W]),
          .out_wgt_valid(wgt_valid_q[P]),
          .out_acc      (acc_q[P*A +: A]),
          .mac_en       (mac_en[P])
        );
      end
      assign east_act[r*W +: W] = act_q[(r*C + C-1)*W +: W];
      assign east_valid[r]      = act_valid_q[r*C + C-1];
    end
    for (c = 0; c < C; c = c + 1) begin : g_bottom
      assign drain_out[c*A +: A]  = drain ? acc_q[((R-1)*C + c)*A +: A] : {A{1'b0}};
      assign south_wgt[c*W +: W]  = wgt_q[((R-1)*C + c)*W +: W];
      assign south_valid[c]       = wgt_valid_q[(R-1)*C + c];
    end
  endgenerate

  // mac_en drives each PE's accumulator inside the PE; out here it is only observed.
  wire unused_mac_en = ^mac_en;

endmodule
