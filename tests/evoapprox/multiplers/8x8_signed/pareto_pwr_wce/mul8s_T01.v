// Test circuit in the EvoApprox file convention (written for axsa's tests, not from the library):
// the exact signed product, except that the two lowest output bits come from a half adder fed
// with the exact product's bits 0 and 1: O[0] = P[0] ^ P[1], O[1] = P[0] & P[1].
module mul8s_T01(A, B, O);
  input [7:0] A;
  input [7:0] B;
  output [15:0] O;
  wire [15:0] P;
  assign P = $signed(A) * $signed(B);
  PDKGENHAX1 U0 (.A(P[0]), .B(P[1]), .YS(O[0]), .YC(O[1]));
  assign O[15:2] = P[15:2];
endmodule

module PDKGENHAX1(input A, input B, output YS, output YC);
  assign YS = A ^ B;
  assign YC = A & B;
endmodule

module PDKGENFAX1(input A, input B, input C, output YS, output YC);
  assign YS = (A ^ B) ^ C;
  assign YC = (A & B) | (B & C) | (A & C);
endmodule
