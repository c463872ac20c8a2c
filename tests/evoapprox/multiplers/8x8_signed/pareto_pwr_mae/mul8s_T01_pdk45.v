// Gate netlist stand-in: instantiates a PDK45 cell that is not available, as the library's netlists do.
module mul8s_T01(A, B, O);
  input [7:0] A;
  input [7:0] B;
  output [15:0] O;
  NAND2X1 U0 (.A(A[0]), .B(B[0]), .Y(O[0]));
endmodule
