// SPDX-License-Identifier: Apache-2.0
//
// Two-state models of the three user-defined primitives of the OSU 0.18 um cell library
// (osu018_stdcells.v: udp_dff, udp_tlat, udp_mux2), for Verilator, which cannot parse UDP
// tables. scripts/ppa/gls-cells.sh replaces each UDP instance of the library by one of these
// modules and leaves every other line of the cell models as it is. Each model follows its
// UDP's table for 0/1 inputs (the x rows and the timing-check NOTIFIER do not exist in a
// two-state simulation); the gate-level replay of the vector files is what checks them.

// udp_dff(out, in, clk, clr, set, NOTIFIER): rising-edge flop; set wins over clr, both
// asynchronous and active high.
module mpq_gls_udp_dff (out, in, clk, clr, set, NOTIFIER);
  output reg out;
  input in, clk, clr, set, NOTIFIER;
  always @(posedge clk or posedge clr or posedge set) begin
    if (set) out <= 1'b1;
    else if (clr) out <= 1'b0;
    else out <= in;
  end
endmodule

// udp_tlat(out, in, enable, clr, set, NOTIFIER): transparent while enable is 1; set wins
// over clr.
module mpq_gls_udp_tlat (out, in, enable, clr, set, NOTIFIER);
  output reg out;
  input in, enable, clr, set, NOTIFIER;
  always @* begin
    if (set) out = 1'b1;
    else if (clr) out = 1'b0;
    else if (enable) out = in;
  end
endmodule

// udp_mux2(out, in0, in1, sel): in1 when sel is 1, in0 when 0.
module mpq_gls_udp_mux2 (out, in0, in1, sel);
  output out;
  input in0, in1, sel;
  assign out = sel ? in1 : in0;
endmodule
