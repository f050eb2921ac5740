// SPDX-License-Identifier: Apache-2.0
//
// osa_array: a Rows x Cols output-stationary systolic array. PE (r, c) accumulates the dot
// product of row r's activations and column c's weights: output pixel r, output channel c of
// the tile. Each cycle the feeders give one element k of every row (x_i) and of every column
// (w_i); row r enters the array r cycles late and column c c cycles late (the skew), so that
// x[r][k] and w[c][k] meet in PE (r, c), k + r + c cycles after they were fed. The feeders give
// zeros outside a tile's K steps; clear_i (with zeros at every input) starts the next tile.
// Latency: the last product of a tile is added Rows + Cols - 2 cycles after it was fed.

module osa_array #(
  parameter int unsigned Rows = 4,
  parameter int unsigned Cols = 4,
  parameter int unsigned XsW = osa_pkg::XsW
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  input  logic                  clear_i,
  input  logic signed [XsW-1:0] x_i [Rows],
  input  logic signed [7:0]     w_i [Cols],
  output logic signed [31:0]    acc_o [Rows][Cols]
);

  // The skewed edges of the array: row r's activation into column 0, column c's weight into
  // row 0.
  logic signed [XsW-1:0] x_edge [Rows];
  logic signed [7:0] w_edge [Cols];

  for (genvar r = 0; r < Rows; r++) begin : g_row_skew
    if (r == 0) begin : g_direct
      assign x_edge[r] = x_i[r];
    end else begin : g_delay
      logic signed [XsW-1:0] line_q [r];
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          for (int i = 0; i < r; i++) line_q[i] <= '0;
        end else begin
          line_q[0] <= x_i[r];
          for (int i = 1; i < r; i++) line_q[i] <= line_q[i-1];
        end
      end
      assign x_edge[r] = line_q[r-1];
    end
  end

  for (genvar c = 0; c < Cols; c++) begin : g_col_skew
    if (c == 0) begin : g_direct
      assign w_edge[c] = w_i[c];
    end else begin : g_delay
      logic signed [7:0] line_q [c];
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          for (int i = 0; i < c; i++) line_q[i] <= '0;
        end else begin
          line_q[0] <= w_i[c];
          for (int i = 1; i < c; i++) line_q[i] <= line_q[i-1];
        end
      end
      assign w_edge[c] = line_q[c-1];
    end
  end

  // The grid: x_h[r][c] enters PE (r, c) from the left, w_v[r][c] from above.
  logic signed [XsW-1:0] x_h [Rows][Cols+1];
  logic signed [7:0] w_v [Rows+1][Cols];

  for (genvar r = 0; r < Rows; r++) begin : g_r
    assign x_h[r][0] = x_edge[r];
    for (genvar c = 0; c < Cols; c++) begin : g_c
      if (r == 0) begin : g_top
        assign w_v[0][c] = w_edge[c];
      end
      osa_pe #(.XsW(XsW)) u_pe (
        .clk_i   (clk_i),
        .rst_ni  (rst_ni),
        .clear_i (clear_i),
        .x_i     (x_h[r][c]),
        .w_i     (w_v[r][c]),
        .x_o     (x_h[r][c+1]),
        .w_o     (w_v[r+1][c]),
        .acc_o   (acc_o[r][c])
      );
    end
  end

endmodule
