// SPDX-License-Identifier: Apache-2.0
//
// mpq_wbuf: the weight buffer, one entry of Width bits per k slice (NSlices entries).
// Written once per tile in LOAD (one slice per wgt handshake), read in RUN at the slice the
// array is accumulating. Read is combinational (zero latency): the lanes consume the entry
// of slice `slice` in the same cycle as the activation beat of that slice.
// No reset: the contents are only read after being written in the same tile.

module mpq_wbuf #(
  parameter int unsigned NSlices = 64,
  parameter int unsigned Width = 8,
  localparam int unsigned AddrW = (NSlices <= 2) ? 1 : $clog2(NSlices)
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [AddrW-1:0] waddr_i,
  input  logic [Width-1:0] wdata_i,
  input  logic [AddrW-1:0] raddr_i,
  output logic [Width-1:0] rdata_o
);

  logic [Width-1:0] mem_q [NSlices];

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
  end

  assign rdata_o = mem_q[raddr_i];

endmodule
