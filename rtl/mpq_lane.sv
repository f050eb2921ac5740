// SPDX-License-Identifier: Apache-2.0
//
// mpq_lane: one output channel of the array. On every step (activation handshake) it
// computes, exactly (docs/timing.md, "Arithmetic"):
//   tsum = sum_j xr[j] * t[j]                 ternary codes 00 = 0, 01 = +1, 11 = -1, 10 = 0
//   hsum = sum_e xr[idx_e] * val_e            sparse entries: index mux + signed product
//   p    = alpha * tsum + hsum
//   acc  = fit((first ? fit(bias) : acc) + p) wrap or saturate to AccBits
// and sets its sticky overflow flag when a fit changes its value. The masked, offset
// activations xr are computed once in mpq_top and shared by all lanes.
// Latency: acc_o is combinational (the value the accumulator takes at this edge).

module mpq_lane #(
  parameter int unsigned KLanes = 16,
  parameter int unsigned HpPerGroup = 1,
  parameter int unsigned ActBits = 8,
  parameter int unsigned HpBits = 8,
  parameter int unsigned AlphaBits = 8,
  parameter int unsigned AccBits = 32,
  localparam int unsigned IdxW = $clog2(KLanes),
  localparam int unsigned EntW = IdxW + HpBits,
  localparam int unsigned LaneW = 2 * KLanes + HpPerGroup * EntW,
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
  input  logic                       ovf_clr_i,  // configuration handshake: clear the flag
  output logic signed [AccBits-1:0]  acc_o,      // accumulator after this step
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
  logic signed [TSumW-1:0] tsum;
  always_comb begin
    tsum = '0;
    for (int unsigned j = 0; j < KLanes; j++) begin
      logic signed [XrW-1:0] xr_j;
      logic signed [TSumW-1:0] xr_ext;
      xr_j = xr_i[j*XrW +: XrW];
      xr_ext = {{(TSumW - XrW){xr_j[XrW-1]}}, xr_j};
      unique case (wgt_i[2*j +: 2])
        2'b01:   tsum = tsum + xr_ext;
        2'b11:   tsum = tsum - xr_ext;
        default: tsum = tsum;  // 00 = 0; 10 is reserved and counts as 0 (asserted in mpq_top)
      endcase
    end
  end

  // Sparse high-precision sum: each entry selects one xr of the slice by index.
  logic signed [HSumW-1:0] hsum;
  if (HpPerGroup > 0) begin : g_sparse
    localparam int unsigned ProdW = XrW + HpBits;
    always_comb begin
      hsum = '0;
      for (int unsigned e = 0; e < HpPerGroup; e++) begin
        logic [IdxW-1:0] idx;
        logic signed [HpBits-1:0] val;
        logic signed [XrW-1:0] xr_sel;
        logic signed [ProdW-1:0] prod;
        idx = wgt_i[2*KLanes + e*EntW +: IdxW];
        val = wgt_i[2*KLanes + e*EntW + IdxW +: HpBits];
        xr_sel = xr_i[idx*XrW +: XrW];
        prod = xr_sel * val;  // signed operands: sign-extended to ProdW by context
        hsum = hsum + {{(HSumW - ProdW){prod[ProdW-1]}}, prod};
      end
    end
  end else begin : g_no_sparse
    assign hsum = '0;
  end

  // p = alpha * tsum + hsum, then the step of the accumulator.
  logic signed [PW-1:0] p;
  logic signed [SumW-1:0] bias_ext, base, sum;
  logic [AccBits:0] bias_fit, acc_fit;
  logic signed [AccBits-1:0] acc_q;
  logic ovf_q, ovf_step;

  // Signed operands, widened to PW by the assignment context: an AlphaBits x TSumW multiplier.
  assign p = alpha_i * tsum + $signed({{(PW - HSumW){hsum[HSumW-1]}}, hsum});

  assign bias_ext = {{(SumW - 32){bias_i[31]}}, bias_i};
  assign bias_fit = fit(bias_ext, acc_sat_i);
  assign base = first_i ? {{(SumW - AccBits){bias_fit[AccBits-1]}}, bias_fit[AccBits-1:0]}
                        : {{(SumW - AccBits){acc_q[AccBits-1]}}, acc_q};
  assign sum = base + {{(SumW - PW){p[PW-1]}}, p};
  assign acc_fit = fit(sum, acc_sat_i);
  assign acc_o = acc_fit[AccBits-1:0];
  assign ovf_step = acc_fit[AccBits] | (first_i & bias_fit[AccBits]);

  // The accumulator takes the step on an activation handshake; the flag is sticky until the
  // next configuration handshake.
  logic signed [AccBits-1:0] acc_d;
  logic ovf_d;
  assign acc_d = step_i ? acc_o : acc_q;
  assign ovf_d = ovf_clr_i ? 1'b0 : (ovf_q | (step_i & ovf_step));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q <= '0;
      ovf_q <= 1'b0;
    end else begin
      acc_q <= acc_d;
      ovf_q <= ovf_d;
    end
  end

  assign ovf_o = ovf_q;

endmodule
