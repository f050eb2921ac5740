// SPDX-License-Identifier: Apache-2.0
//
// mpq_lane: one output channel of the array. On every step (activation handshake) it
// computes, exactly (docs/timing.md, "Arithmetic"):
//   tsum = sum_j xr[j] * t[j]                 ternary codes 00 = 0, 01 = +1, 11 = -1, 10 = 0
//   hsum = sum_e xr[idx_e] * val_e            sparse entries: index mux + signed product
//   p    = alpha * tsum + hsum
//   acc  = fit((first ? fit(bias) : acc) + p) wrap or saturate to AccBits
// and sets its sticky overflow flag when a fit changes its value. The masked, offset
// activations xr are computed once in mpq_top and shared by all lanes. On the step of a
// row's last slice the new accumulator also enters row_q, this lane's part of mpq_top's rq1
// pipeline stage.
// Latency: the accumulator and row_o are registers (row_o holds the row finished at the
// last edge that had step_i && last_i).
//
// The step is combinational logic into the registers' D inputs, written as functions called
// from the clocked block: Verilator then evaluates the datapath once per clock edge and only
// on a handshake. (As always_comb it depends on both input ports and registers, so Verilator
// evaluated it twice per cycle: after the inputs change and again after the edge.)

`include "mpq_top.svh"

module mpq_lane #(
  // mpq_top's whole set (rtl/mpq_top.svh); a lane reads KLanes, HpPerGroup, ActBits,
  // HpBits, AlphaBits and AccBits.
  `MPQ_PARAMS,
  localparam int unsigned IdxW = mpq_layout_pkg::idx_w(KLanes),
  localparam int unsigned LaneW = mpq_layout_pkg::lane_w(KLanes, HpPerGroup, HpBits),
  localparam int unsigned XrW = mpq_pkg::xr_w(ActBits)
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  input  logic [LaneW-1:0]           wgt_i,      // this lane's part of the current weight slice
  input  logic [KLanes*XrW-1:0]      xr_i,       // masked x + in_offset, element j at j*XrW
  input  logic signed [AlphaBits-1:0] alpha_i,
  input  logic signed [31:0]         bias_i,
  input  logic                       acc_sat_i,
  input  logic                       step_i,     // activation handshake: take one step
  input  logic                       first_i,    // the step is slice 0: start from fit(bias)
  input  logic                       last_i,     // the step is the row's last slice: to rq1
  input  logic                       ovf_clr_i,  // configuration handshake: clear the flag
  output logic signed [AccBits-1:0]  row_o,      // rq1: the accumulator of the last finished row
  output logic signed [AccBits-1:0]  acc_o,      // the accumulator (white-box checks, waveforms)
  output logic                       ovf_o       // sticky overflow flag
);

  localparam int unsigned TSumW = mpq_pkg::tsum_w(ActBits, IdxW);
  localparam int unsigned HSumW = mpq_pkg::hsum_w(ActBits, HpBits, HpPerGroup);
  localparam int unsigned PW = mpq_pkg::p_w(ActBits, HpBits, AlphaBits, IdxW, HpPerGroup);
  localparam int unsigned SumW = mpq_pkg::sum_w(PW);

  localparam logic signed [SumW-1:0] ACC_MAX = SumW'((64'sd1 <<< (AccBits - 1)) - 64'sd1);
  localparam logic signed [SumW-1:0] ACC_MIN = SumW'(-(64'sd1 <<< (AccBits - 1)));

  // fit(v): {overflow, AccBits result}.
  function automatic logic [AccBits:0] fit(input logic signed [SumW-1:0] v, input logic sat);
    logic signed [AccBits-1:0] r;
    logic signed [SumW-1:0] r_ext;
    if (sat) begin
      if (v > ACC_MAX) begin
        r = ACC_MAX[AccBits-1:0];
      end else if (v < ACC_MIN) begin
        r = ACC_MIN[AccBits-1:0];
      end else begin
        r = v[AccBits-1:0];
      end
    end else begin
      r = v[AccBits-1:0];
    end
    r_ext = {{(SumW - AccBits){r[AccBits-1]}}, r};
    fit = {r_ext != v, r};
  endfunction

  // Ternary sum over the slice.
  function automatic logic signed [TSumW-1:0] tern_sum(input logic [LaneW-1:0] wgt,
                                                       input logic [KLanes*XrW-1:0] xr);
    logic signed [TSumW-1:0] tsum;
    tsum = '0;
    for (int unsigned j = 0; j < KLanes; j++) begin
      logic signed [XrW-1:0] xr_j;
      logic signed [TSumW-1:0] xr_ext;
      logic [1:0] code;
      xr_j = xr[j*XrW +: XrW];
      xr_ext = {{(TSumW - XrW){xr_j[XrW-1]}}, xr_j};
      code = wgt[mpq_layout_pkg::wgt_tern_lsb(j) +: 2];
      unique case (code)
        2'b01:   tsum = tsum + xr_ext;
        2'b11:   tsum = tsum - xr_ext;
        default: tsum = tsum;  // 00 = 0; 10 is reserved and counts as 0 (asserted in mpq_top)
      endcase
    end
    tern_sum = tsum;
  endfunction

  // Sparse high-precision sum: each entry selects one xr of the slice by index.
  localparam int unsigned ProdW = XrW + HpBits;
  // A signed loop bound: with HpPerGroup = 0 the loop is simply empty (an unsigned bound would
  // make `e < 0` a constant comparison, which lint rejects).
  localparam int HpEntries = HpPerGroup;
  function automatic logic signed [HSumW-1:0] sparse_sum(input logic [LaneW-1:0] wgt,
                                                         input logic [KLanes*XrW-1:0] xr);
    logic signed [HSumW-1:0] hsum;
    hsum = '0;
    for (int e = 0; e < HpEntries; e++) begin
      logic [IdxW-1:0] idx;
      logic signed [HpBits-1:0] val;
      logic signed [XrW-1:0] xr_sel;
      logic signed [ProdW-1:0] prod;
      idx = wgt[mpq_layout_pkg::wgt_entry_lsb(KLanes, HpBits, e) +: IdxW];
      val = wgt[mpq_layout_pkg::wgt_entry_lsb(KLanes, HpBits, e) + IdxW +: HpBits];
      xr_sel = xr[idx*XrW +: XrW];
      prod = xr_sel * val;  // signed operands: sign-extended to ProdW by context
      hsum = hsum + {{(HSumW - ProdW){prod[ProdW-1]}}, prod};
    end
    sparse_sum = hsum;
  endfunction

  // p = alpha * tsum + hsum, exact.
  function automatic logic signed [PW-1:0] product(input logic [LaneW-1:0] wgt,
                                                   input logic [KLanes*XrW-1:0] xr);
    logic signed [TSumW-1:0] tsum;
    logic signed [HSumW-1:0] hsum;
    tsum = tern_sum(wgt, xr);
    hsum = sparse_sum(wgt, xr);
    // Signed operands, widened to PW by the assignment context: an AlphaBits x TSumW multiplier.
    product = alpha_i * tsum + $signed({{(PW - HSumW){hsum[HSumW-1]}}, hsum});
  endfunction

  // {fit(bias) overflowed, base + p exactly}: base is fit(bias) on a row's first slice, else acc.
  function automatic logic [SumW:0] step_sum(input logic [LaneW-1:0] wgt,
                                             input logic [KLanes*XrW-1:0] xr,
                                             input logic signed [AccBits-1:0] acc);
    logic signed [PW-1:0] p;
    logic signed [SumW-1:0] bias_ext, base;
    logic [AccBits:0] bias_fit;
    p = product(wgt, xr);
    bias_ext = {{(SumW - 32){bias_i[31]}}, bias_i};
    bias_fit = fit(bias_ext, acc_sat_i);
    base = first_i ? {{(SumW - AccBits){bias_fit[AccBits-1]}}, bias_fit[AccBits-1:0]}
                   : {{(SumW - AccBits){acc[AccBits-1]}}, acc};
    step_sum = {bias_fit[AccBits], base + {{(SumW - PW){p[PW-1]}}, p}};
  endfunction

  // One step: {overflow of this step, accumulator after it}.
  function automatic logic [AccBits:0] acc_step(input logic [LaneW-1:0] wgt,
                                                input logic [KLanes*XrW-1:0] xr,
                                                input logic signed [AccBits-1:0] acc);
    logic [SumW:0] bias_ovf_sum;
    logic [AccBits:0] acc_fit;
    bias_ovf_sum = step_sum(wgt, xr, acc);
    acc_fit = fit(bias_ovf_sum[SumW-1:0], acc_sat_i);
    acc_step = {acc_fit[AccBits] | (first_i & bias_ovf_sum[SumW]), acc_fit[AccBits-1:0]};
  endfunction

  // The accumulator takes the step on an activation handshake, and row_q takes it on the
  // row's last slice; the flag is sticky until the next configuration handshake.
  logic signed [AccBits-1:0] acc_q, row_q;
  logic ovf_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q <= '0;
      row_q <= '0;
      ovf_q <= 1'b0;
    end else begin
      logic [AccBits:0] step_r;
      logic ovf_step;
      step_r = '0;
      if (step_i) begin
        step_r = acc_step(wgt_i, xr_i, acc_q);
        acc_q <= step_r[AccBits-1:0];
      end
      if (step_i && last_i) begin
        row_q <= step_r[AccBits-1:0];
      end
      ovf_step = step_r[AccBits];
      ovf_q <= ovf_clr_i ? 1'b0 : (ovf_q | (step_i & ovf_step));
    end
  end

  assign row_o = row_q;
  assign acc_o = acc_q;

`ifdef MPQ_COVERAGE
  // Coverage builds only (make coverage): the step's exact intermediates as registers, taken
  // on every step from the very functions of the step, so that toggle coverage shows whether
  // the stimulus drives their top bits (scripts/coverage/coverage.sh reports those bits). Probes: read
  // by the coverage counters, by no logic.
  /* verilator lint_off UNUSEDSIGNAL */
  logic signed [TSumW-1:0] cov_tsum_q;
  logic signed [HSumW-1:0] cov_hsum_q;
  logic signed [PW-1:0] cov_p_q;
  logic signed [SumW-1:0] cov_sum_q;
  always_ff @(posedge clk_i) begin
    if (step_i) begin
      logic [SumW:0] bias_ovf_sum;
      bias_ovf_sum = step_sum(wgt_i, xr_i, acc_q);
      cov_tsum_q <= tern_sum(wgt_i, xr_i);
      cov_hsum_q <= sparse_sum(wgt_i, xr_i);
      cov_p_q <= product(wgt_i, xr_i);
      cov_sum_q <= bias_ovf_sum[SumW-1:0];
    end
  end
  /* verilator lint_on UNUSEDSIGNAL */
`endif
  assign ovf_o = ovf_q;

endmodule
