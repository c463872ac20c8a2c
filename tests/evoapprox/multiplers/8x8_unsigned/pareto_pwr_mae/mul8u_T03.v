// Unsigned test circuit: the PEs multiply signed operands, so the slot must skip it.
module mul8u_T03(A, B, O);
  input [7:0] A;
  input [7:0] B;
  output [15:0] O;
  assign O = A * B;
endmodule
