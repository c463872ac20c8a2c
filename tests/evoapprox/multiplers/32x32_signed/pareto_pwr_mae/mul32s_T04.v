// 32-bit test circuit: wider than the PEs' 16-bit limit, so the slot must skip it.
module mul32s_T04(A, B, O);
  input [31:0] A;
  input [31:0] B;
  output [63:0] O;
  assign O = $signed(A) * $signed(B);
endmodule
