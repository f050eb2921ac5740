// SPDX-License-Identifier: Apache-2.0
//
// mpq_ram_gls: a RAM macro of the PPA flow in the gate-level simulation (scripts/ppa/netlist.py
// gls appends one copy per macro of the netlist, named mpq_ram_<DEPTH>x<WIDTH> with DEPTH and
// WIDTH replaced). The function is the RTL's own memory, rtl/mpq_ram.sv; beside it, the access
// counts of scripts/ppa/ram.py's energy model, as nets whose toggles the testbench's shim
// counts: wr_tog_q toggles once per write, rd_tog_q once per cycle whose read address differs
// from the previous cycle's; the ports are public too (each write-data bit's toggles).
// Simulation only (not synthesized; OpenSTA sees the macro's liberty cell).

module mpq_ram_gls (clk_i, we_i, waddr_i, wdata_i, raddr_i, rdata_o);
  localparam int unsigned Depth = DEPTH;
  localparam int unsigned Width = WIDTH;
  localparam int unsigned AddrW = (Depth <= 2) ? 1 : $clog2(Depth);
  input  logic             clk_i;
  input  logic             we_i;
  input  logic [AddrW-1:0] waddr_i;
  input  logic [Width-1:0] wdata_i /*verilator public_flat_rd*/;
  input  logic [AddrW-1:0] raddr_i /*verilator public_flat_rd*/;
  output logic [Width-1:0] rdata_o;

  mpq_ram #(
    .Depth(Depth),
    .Width(Width)
  ) u_mem (
    .clk_i,
    .we_i,
    .waddr_i,
    .wdata_i,
    .raddr_i,
    .rdata_o
  );

  logic wr_tog_q /*verilator public_flat_rd*/;
  logic rd_tog_q /*verilator public_flat_rd*/;
  logic [AddrW-1:0] raddr_q;
  always_ff @(posedge clk_i) begin
    wr_tog_q <= wr_tog_q ^ we_i;
    rd_tog_q <= rd_tog_q ^ (raddr_i != raddr_q);
    raddr_q  <= raddr_i;
  end

endmodule
