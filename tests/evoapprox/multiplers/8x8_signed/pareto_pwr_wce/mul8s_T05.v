// Broken test circuit (a syntax error): the slot must skip it with Verilator's reason.
module mul8s_T05(A, B, O);
  input [7:0] A;
  input [7:0] B;
  output [15:0] O;
  assign O = A * ;
endmodule
