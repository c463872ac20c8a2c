// axsa_pe -- one processing element of the output-stationary systolic array (RTL twin of
// hw::array_core's PE; docs/rtl.md maps every register to the model).
//
// Registers (all update on the rising edge of clk while en is high; rst is synchronous, takes
// precedence and clears them all; en low holds every register, as between jobs):
//   out_act / out_act_valid : the activation (after act-link faults) and its valid bit received last cycle, towards the east
//   out_wgt / out_wgt_valid : the weight (after link faults) and its valid bit, towards the south
//   out_acc                 : A-bit accumulator, two's complement, wraps
// Combinational: mac_en = act_valid' & wgt_valid' & ~drain & en, the valid bits through the valid masks.
// Edge: out_act <= act_link; out_wgt <= wgt_link;
//       out_acc <= acc_masks(drain ? in_acc : out_acc + (mac_en ? product : 0)).
//
// Faults as masks (v' = ((v & ~clear) | set) ^ flip):
//   link_* : on the weight arriving from the north: multiplied and forwarded south;
//   mult_* : applied after the link masks, to the multiplier's weight operand only;
//   act_link_*, act_mult_* : the same on the activation arriving from the west (forwarded east);
//   acc_* (A bits) : on the value the accumulator register takes at the edge, in every cycle;
//   valid_* (2 bits): on the valid bits where they enter the MAC-enable gate (bit 0 the
//                    activation's, bit 1 the weight's); the registered valid bits stay intact.
//
// Multiplier: the module named by `AXSA_MULT_MODULE (ports A, B: N bits, O: 2N bits) with the
// parameter list `AXSA_MULT_PARAMS, both chosen at verilation; default axsa_mul_exact #(.N(N)).
// Operand alignment (align_high, a strap held for a whole run; docs/quantization.md): low (0)
// sign-extends the W-bit operands to N bits; high (1) places them in the top W bits with N-W zeros
// below and takes the product's top 2W bits (an arithmetic shift right by 2(N-W): floor), dropping
// its low 2(N-W) bits. The 2N-bit result is sign-extended (or truncated) to A bits before the addition.
`ifndef AXSA_MULT_MODULE
`define AXSA_MULT_MODULE axsa_mul_exact
`endif
`ifndef AXSA_MULT_PARAMS
`define AXSA_MULT_PARAMS #(.N(N))
`endif

module axsa_pe #(
  parameter W = 8,   // data width of activations and weights, 2..16
  parameter A = 32,  // accumulator width, 2..64
  parameter N = 8    // operand width of the multiplier, N >= W
) (
  input              clk,
  input              rst,
  input              en,            // the controller runs a job: the registers take their inputs
  input      [W-1:0] in_act,
  input              in_act_valid,
  input      [W-1:0] in_wgt,
  input              in_wgt_valid,
  input              drain,
  input              align_high,    // operand alignment: 0 low (sign-extended), 1 high (top bits)
  input      [A-1:0] in_acc,        // accumulator of the PE to the north (zero for row 0)
  input      [W-1:0] link_clear,
  input      [W-1:0] link_set,
  input      [W-1:0] link_flip,
  input      [W-1:0] mult_clear,
  input      [W-1:0] mult_set,
  input      [W-1:0] mult_flip,
  input      [W-1:0] act_link_clear,
  input      [W-1:0] act_link_set,
  input      [W-1:0] act_link_flip,
  input      [W-1:0] act_mult_clear,
  input      [W-1:0] act_mult_set,
  input      [W-1:0] act_mult_flip,
  input      [A-1:0] acc_clear,
  input      [A-1:0] acc_set,
  input      [A-1:0] acc_flip,
  input      [1:0]   valid_clear,
  input      [1:0]   valid_set,
  input      [1:0]   valid_flip,
  // The registers and mac_en are readable from a verilated model (rtl/array/rtl_array.h) by name;
  // the metacomment is a comment to every other tool.
  output reg [W-1:0] out_act       /*verilator public_flat_rd*/,
  output reg         out_act_valid /*verilator public_flat_rd*/,
  output reg [W-1:0] out_wgt       /*verilator public_flat_rd*/,
  output reg         out_wgt_valid /*verilator public_flat_rd*/,
  output reg [A-1:0] out_acc       /*verilator public_flat_rd*/,
  output             mac_en        /*verilator public_flat_rd*/
);

  wire [W-1:0] wgt_link = ((in_wgt & ~link_clear) | link_set) ^ link_flip;
  wire [W-1:0] wgt_mult = ((wgt_link & ~mult_clear) | mult_set) ^ mult_flip;
  wire [W-1:0] act_link = ((in_act & ~act_link_clear) | act_link_set) ^ act_link_flip;
  wire [W-1:0] act_mult = ((act_link & ~act_mult_clear) | act_mult_set) ^ act_mult_flip;

  // Operands: sign-extended from W to N bits (low), or W bits on top of N-W zeros (high).
  wire [N-1:0] op_a;
  wire [N-1:0] op_b;
  wire [2*N-1:0] product;
  wire [2*N-1:0] scaled;  // the product on the data's scale
  `AXSA_MULT_MODULE `AXSA_MULT_PARAMS u_mult (.A(op_a), .B(op_b), .O(product));
  generate
    if (N > W) begin : g_extend_ops
      localparam integer S = N - W;
      assign op_a = align_high ? {act_mult, {S{1'b0}}} : {{S{act_mult[W-1]}}, act_mult};
      assign op_b = align_high ? {wgt_mult, {S{1'b0}}} : {{S{wgt_mult[W-1]}}, wgt_mult};
      assign scaled = align_high ? {{(2 * S){product[2*N-1]}}, product[2*N-1:2*S]} : product;
    end else begin : g_same_ops
      assign op_a = act_mult;
      assign op_b = wgt_mult;
      assign scaled = product;  // N == W: high is low
      wire unused_align_high = align_high;
    end
  endgenerate

  // The 2N-bit result in the accumulator's A bits: sign-extended, or its low A bits (which is
  // what wrapping the sum to A bits keeps anyway).
  wire [A-1:0] addend;
  generate
    if (A > 2 * N) begin : g_extend_product
      assign addend = {{(A - 2 * N){scaled[2*N-1]}}, scaled};
    end else if (A == 2 * N) begin : g_same_product
      assign addend = scaled;
    end else begin : g_truncate_product
      assign addend = scaled[A-1:0];
      wire unused_product_msbs = ^scaled[2*N-1:A];
    end
  endgenerate

  wire [1:0] valid_in = {in_wgt_valid, in_act_valid};
  wire [1:0] valid_gate = ((valid_in & ~valid_clear) | valid_set) ^ valid_flip;
  assign mac_en = valid_gate[0] & valid_gate[1] & ~drain & en;

  // The accumulator's next value, through the acc fault masks on its way into the register.
  wire [A-1:0] acc_next = drain ? in_acc : (mac_en ? out_acc + addend : out_acc);
  wire [A-1:0] acc_d = ((acc_next & ~acc_clear) | acc_set) ^ acc_flip;

  always @(posedge clk) begin
    if (rst) begin
      out_act       <= {W{1'b0}};
      out_act_valid <= 1'b0;
      out_wgt       <= {W{1'b0}};
      out_wgt_valid <= 1'b0;
      out_acc       <= {A{1'b0}};
    end else if (en) begin
      out_act       <= act_link;
      out_act_valid <= in_act_valid;
      out_wgt       <= wgt_link;
      out_wgt_valid <= in_wgt_valid;
      out_acc       <= acc_d;
    end
  end

endmodule
