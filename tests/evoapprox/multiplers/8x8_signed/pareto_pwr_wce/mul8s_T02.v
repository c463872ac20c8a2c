// Test circuit in the EvoApprox file convention (written for axsa's tests, not from the library):
// the exact signed product with its three lowest bits replaced by a full adder over them:
// O[0] = P[0] ^ P[1] ^ P[2], O[1] = majority(P[0], P[1], P[2]), O[2] = 0.
module mul8s_T02(A, B, O);
  input [7:0] A;
  input [7:0] B;
  output [15:0] O;
  wire [15:0] P;
  assign P = $signed(A) * $signed(B);
  PDKGENFAX1 U0 (.A(P[0]), .B(P[1]), .C(P[2]), .YS(O[0]), .YC(O[1]));
  assign O[2] = 1'b0;
  assign O[15:3] = P[15:3];
endmodule

module PDKGENHAX1(input A, input B, output YS, output YC);
  assign YS = A ^ B;
  assign YC = A & B;
endmodule

module PDKGENFAX1(input A, input B, input C, output YS, output YC);
  assign YS = (A ^ B) ^ C;
  assign YC = (A & B) | (B & C) | (A & C);
endmodule
