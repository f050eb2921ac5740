// SPDX-License-Identifier: Apache-2.0
//
// mpq_tb_top: the traced co-simulation top. It instantiates the accelerator unchanged as
// `dut` (built with its white-box ports, MPQ_WHITEBOX) and adds inputs that the C testbench
// drives every cycle with the golden model's expected outputs and registers (accumulators,
// rq1, rq2), a mismatch flag with a bit per port, and the cycle number, so that a waveform
// shows expected and actual side by side. Only the mismatch-trace build uses it.
module mpq_tb_top #(
  parameter int unsigned Lanes = mpq_layout_pkg::LANES_DEFAULT,
  parameter int unsigned KLanes = mpq_layout_pkg::KLANES_DEFAULT,
  parameter int unsigned HpPerGroup = mpq_layout_pkg::HP_PER_GROUP_DEFAULT,
  parameter int unsigned ActBits = mpq_layout_pkg::ACT_BITS_DEFAULT,
  parameter int unsigned HpBits = mpq_layout_pkg::HP_BITS_DEFAULT,
  parameter int unsigned AlphaBits = mpq_layout_pkg::ALPHA_BITS_DEFAULT,
  parameter int unsigned AccBits = mpq_layout_pkg::ACC_BITS_DEFAULT,
  parameter int unsigned OutBits = mpq_layout_pkg::OUT_BITS_DEFAULT,
  parameter int unsigned KMax = mpq_layout_pkg::KMAX_DEFAULT,
  parameter int unsigned ActDepth = mpq_layout_pkg::ACT_DEPTH_DEFAULT,
  localparam int unsigned CfgW = mpq_layout_pkg::cfg_w(Lanes),
  localparam int unsigned WgtW = mpq_layout_pkg::wgt_w(Lanes, KLanes, HpPerGroup, HpBits),
  localparam int unsigned ActW = mpq_layout_pkg::act_w(KLanes, ActBits),
  localparam int unsigned OutW = mpq_layout_pkg::out_w(Lanes, OutBits)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              cfg_valid_i,
  output logic              cfg_ready_o,
  input  logic [CfgW-1:0]   cfg_data_i,
  input  logic              wgt_valid_i,
  output logic              wgt_ready_o,
  input  logic [WgtW-1:0]   wgt_data_i,
  input  logic              act_valid_i,
  output logic              act_ready_o,
  input  logic [ActW-1:0]   act_data_i,
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic [OutW-1:0]   out_data_o,
  output logic              busy_o,
  output logic              done_o,
  output logic [Lanes-1:0]  ovf_o,
  output logic [127:0]      hwcfg_o,
  // The DUT's white-box registers (its dbg_* ports), for the testbench's white-box check
  output logic [Lanes*AccBits-1:0] dbg_acc_o,
  output logic [Lanes*AccBits-1:0] dbg_rq1_o,
  output logic                     dbg_rq1_valid_o,
  output logic [Lanes*32-1:0]      dbg_rq2_o,
  output logic                     dbg_rq2_valid_o,
  // Golden model, this cycle
  input  logic              exp_cfg_ready,
  input  logic              exp_wgt_ready,
  input  logic              exp_act_ready,
  input  logic              exp_out_valid,
  input  logic [OutW-1:0]   exp_out_data,
  input  logic              exp_busy,
  input  logic              exp_done,
  input  logic [Lanes-1:0]  exp_ovf,
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

  mpq_top #(
    .Lanes     (Lanes),
    .KLanes    (KLanes),
    .HpPerGroup(HpPerGroup),
    .ActBits   (ActBits),
    .HpBits    (HpBits),
    .AlphaBits (AlphaBits),
    .AccBits   (AccBits),
    .OutBits   (OutBits),
    .KMax      (KMax),
    .ActDepth  (ActDepth)
  ) dut (
    .clk_i,
    .rst_ni,
    .cfg_valid_i,
    .cfg_ready_o,
    .cfg_data_i,
    .wgt_valid_i,
    .wgt_ready_o,
    .wgt_data_i,
    .act_valid_i,
    .act_ready_o,
    .act_data_i,
    .out_valid_o,
    .out_ready_i,
    .out_data_o,
    .busy_o,
    .done_o,
    .ovf_o,
    .dbg_acc_o,
    .dbg_rq1_o,
    .dbg_rq1_valid_o,
    .dbg_rq2_o,
    .dbg_rq2_valid_o,
    .hwcfg_o
  );

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
