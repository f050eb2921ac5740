// SPDX-License-Identifier: Apache-2.0
//
// mpq_tb_top: the traced co-simulation top. It instantiates the accelerator unchanged as
// `dut` (built with its white-box ports, MPQ_WHITEBOX) and adds inputs that the C testbench
// drives every cycle with the golden model's expected outputs and registers (accumulators,
// rq1, rq2), a mismatch flag with a bit per port, and the cycle number, so that a waveform
// shows expected and actual side by side. Only the mismatch-trace build uses it.
`include "mpq_top.svh"

module mpq_tb_top #(
  `MPQ_PARAMS // rtl/mpq_top.svh (generated): Lanes ... ActDepth
) (
  // mpq_top's ports and its white-box registers (rtl/mpq_top.svh), connected to the DUT's
  `MPQ_PORTS,
  `MPQ_WB_PORTS,
  // Golden model, this cycle: exp_<port> for every compared output (rtl/mpq_top.svh)
  `MPQ_EXP_PORTS,
  // The golden cycle model's registers in this cycle, beside the DUT's (dbg_*): every lane's
  // accumulator, the finished row in rq1 and the requantizer's high products in rq2
  input  logic [Lanes*AccBits-1:0] exp_acc,
  input  logic [Lanes*AccBits-1:0] exp_rq1,
  input  logic                     exp_rq1_valid,
  input  logic [Lanes*32-1:0]      exp_rq2,
  input  logic                     exp_rq2_valid,
  // Where the golden model's window generator is in this cycle (beside dut.u_win's b_q,
  // oy_q, ox_q, ky_q, kx_q, s_q): output pixel, tap, channel slice, padding
  input  logic [15:0]       exp_win_b,
  input  logic [15:0]       exp_win_oy,
  input  logic [15:0]       exp_win_ox,
  input  logic [7:0]        exp_win_ky,
  input  logic [7:0]        exp_win_kx,
  input  logic [15:0]       exp_win_s,
  input  logic              exp_win_pad,
  // 1 in a cycle where some output differs; mismatch_ports has a bit per port:
  // 0 cfg_ready 1 wgt_ready 2 act_ready 3 out_valid 4 out_data 5 busy 6 done 7 ovf 8 assertion
  // 9 accumulators 10 rq1 11 rq2 (the white-box registers)
  input  logic              mismatch,
  input  logic [15:0]       mismatch_ports,
  input  logic [63:0]       tb_cycle
);

  // Every port of the DUT to this module's port of the same name.
  mpq_top #(`MPQ_PARAMS_PASS) dut (.*);

  // Per lane, for reading in a waveform: the golden model's and the DUT's accumulator, and the
  // requantizer's high product, side by side (an accumulate bug shows in acc first, a
  // requantization bug only in rq2 or the outputs).
  logic signed [AccBits-1:0] lane_acc_exp [Lanes], lane_acc_dut [Lanes];
  logic signed [31:0] lane_rq2_exp [Lanes], lane_rq2_dut [Lanes];
  for (genvar l = 0; l < Lanes; l++) begin : g_lane_view
    assign lane_acc_exp[l] = exp_acc[l*AccBits +: AccBits];
    assign lane_acc_dut[l] = dbg_acc_o[l*AccBits +: AccBits];
    assign lane_rq2_exp[l] = exp_rq2[l*32 +: 32];
    assign lane_rq2_dut[l] = dbg_rq2_o[l*32 +: 32];
  end

endmodule
