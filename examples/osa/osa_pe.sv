// SPDX-License-Identifier: Apache-2.0
//
// osa_pe: one processing element of the output-stationary array. The activation enters from
// the left and leaves to the right, the weight enters from above and leaves downwards, each
// through one register; in the cycle both are at its inputs the PE adds their product to its
// own accumulator (32 bits, two's complement wrap: TFLite's int32). clear_i starts a new output
// (the accumulator restarts from this cycle's product). Latency: 1 cycle per hop.

module osa_pe #(
  parameter int unsigned XsW = osa_pkg::XsW
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  input  logic                  clear_i,
  input  logic signed [XsW-1:0] x_i,
  input  logic signed [7:0]     w_i,
  output logic signed [XsW-1:0] x_o,
  output logic signed [7:0]     w_o,
  output logic signed [31:0]    acc_o
);

  logic signed [XsW-1:0] x_q;
  logic signed [7:0] w_q;
  logic signed [31:0] acc_d, acc_q;
  logic signed [XsW+7:0] prod;

  always_comb begin
    prod = x_i * w_i;
    acc_d = (clear_i ? 32'sd0 : acc_q) + 32'(prod);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      x_q <= '0;
      w_q <= '0;
      acc_q <= '0;
    end else begin
      x_q <= x_i;
      w_q <= w_i;
      acc_q <= acc_d;
    end
  end

  assign x_o = x_q;
  assign w_o = w_q;
  assign acc_o = acc_q;

endmodule
