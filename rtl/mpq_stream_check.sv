// SPDX-License-Identifier: Apache-2.0
//
// mpq_stream_check: the stream rules of docs/timing.md for one valid/ready/data stream, as
// hwpe-stream states them once for every stream: a source that raised valid keeps it high,
// and keeps data stable, until the handshake (valid && ready at a rising edge). Checked with
// immediate assertions at the clock edge (Verilator --assert) outside reset; nothing is left
// in synthesis.
// The previous cycle's "waiting" flag and data are plain registers rather than $past/$stable,
// for which Verilator 5.006 emits uncompilable C++ when the ports are very wide (dense:
// 1792-bit weight beats).

module mpq_stream_check #(
  parameter int unsigned Width = 1,
  parameter string ValidName = "valid_i",  // the ports' names, for messages
  parameter string DataName = "data_i"
) (
  input logic             clk_i,
  input logic             rst_ni,
  input logic             valid_i,
  input logic             ready_i,
  input logic [Width-1:0] data_i
);

`ifndef SYNTHESIS
  logic wait_q;
  logic [Width-1:0] data_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wait_q <= 1'b0;
    end else begin
      wait_q <= valid_i && !ready_i;
    end
  end
  always_ff @(posedge clk_i) begin
    data_q <= data_i;
  end

  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      ValidHeldUntilReady_A: assert (!wait_q || valid_i)
        else $error("mpq_top: %s dropped before the handshake", ValidName);
      DataStableUntilReady_A: assert (!wait_q || data_i == data_q)
        else $error("mpq_top: %s changed before the handshake", DataName);
    end
  end
`else
  logic unused_ports;
  assign unused_ports = ^{clk_i, rst_ni, valid_i, ready_i, data_i};
`endif

endmodule
