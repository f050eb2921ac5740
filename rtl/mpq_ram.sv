// SPDX-License-Identifier: Apache-2.0
//
// mpq_ram: a memory of Depth entries of Width bits, one write port and one combinational read
// port (read-during-write of one entry returns the old value). mpq_top has two: the weight
// buffer u_wbuf (KMax/KLanes slices of all lanes' weights, written in LOAD, read at the step's
// entry) and the activation ring u_abuf (ActDepth activation slices, written by the activation
// stream, read at the window generator's slice).
// No reset: an entry is only read after it has been written in the same tile.

module mpq_ram #(
  parameter int unsigned Depth = 64,
  parameter int unsigned Width = 8,
  localparam int unsigned AddrW = (Depth <= 2) ? 1 : $clog2(Depth)
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [AddrW-1:0] waddr_i,
  input  logic [Width-1:0] wdata_i,
  input  logic [AddrW-1:0] raddr_i,
  output logic [Width-1:0] rdata_o
);

  logic [Width-1:0] mem_q [Depth];

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
  end

  assign rdata_o = mem_q[raddr_i];

endmodule
