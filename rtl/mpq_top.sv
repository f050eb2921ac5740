// SPDX-License-Identifier: Apache-2.0
//
// mpq_top: the mpq accelerator, a Lanes x KLanes array that computes, per row of
// activations, a dense ternary layer ({-1,0,+1} x per-lane alpha) plus a sparse
// high-precision layer (HpPerGroup int entries per lane and KLanes-wide slice), accumulates
// in AccBits with wrap or saturation, and requantizes with TFLite double rounding.
//
// docs/timing.md is the contract: ports, beats, arithmetic and every output in every cycle.
// Summary: IDLE takes one configuration beat, LOAD takes ceil(k_len/KLanes) weight slices
// into mpq_wbuf, RUN takes m_rows x n_slices activation beats (one slice per cycle), each
// finished row goes through the rq1 -> rq2 -> out pipeline (a row whose last slice is
// accepted at the edge ending cycle c is on out_data_o in cycle c+3), DRAIN waits for the
// pipeline to empty and pulses done_o. act_ready_o = !last || rq1_free is the only Mealy
// output (it depends on out_ready_i through the pipeline's free chain).

module mpq_top #(
  parameter int unsigned Lanes = 8,
  parameter int unsigned KLanes = 16,
  parameter int unsigned HpPerGroup = 1,
  parameter int unsigned ActBits = 8,
  parameter int unsigned HpBits = 8,
  parameter int unsigned AlphaBits = 8,
  parameter int unsigned AccBits = 32,
  parameter int unsigned OutBits = 8,
  parameter int unsigned KMax = 1024,
  localparam int unsigned IdxW = $clog2(KLanes),
  localparam int unsigned NSlicesMax = KMax / KLanes,
  localparam int unsigned LaneW = 2 * KLanes + HpPerGroup * (IdxW + HpBits),
  localparam int unsigned CfgW = mpq_pkg::CFG_LANE_BASE + mpq_pkg::CFG_LANE_W * Lanes,
  localparam int unsigned WgtW = Lanes * LaneW,
  localparam int unsigned ActW = KLanes * ActBits,
  localparam int unsigned OutW = Lanes * OutBits
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // Tile configuration stream
  input  logic              cfg_valid_i,
  output logic              cfg_ready_o,
  input  logic [CfgW-1:0]   cfg_data_i,
  // Weight stream: one slice of all lanes per beat
  input  logic              wgt_valid_i,
  output logic              wgt_ready_o,
  input  logic [WgtW-1:0]   wgt_data_i,
  // Activation stream: one slice of one row per beat
  input  logic              act_valid_i,
  output logic              act_ready_o,
  input  logic [ActW-1:0]   act_data_i,
  // Result stream: one row of Lanes outputs per beat
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic [OutW-1:0]   out_data_o,
  // Status
  output logic              busy_o,
  output logic              done_o,
  output logic [Lanes-1:0]  ovf_o,
  output logic [127:0]      hwcfg_o
);

  localparam int unsigned XrW = mpq_pkg::xr_w(ActBits);
  localparam int unsigned WAddrW = (NSlicesMax <= 2) ? 1 : $clog2(NSlicesMax);

  // ---------------------------------------------------------------------------
  // Parameter legality (docs/timing.md, "Parameters"): elaboration-time $fatal, which stops
  // the lint, the simulation build and Yosys alike. (An initial block would only fire at time 0
  // of a simulation, after a successful build, and never in lint or synthesis.)
  // ---------------------------------------------------------------------------
  if (Lanes < 1 || Lanes > 64) begin : g_bad_lanes
    $fatal(1, "mpq_top: Lanes=%0d, legal 1..64", Lanes);
  end
  if (KLanes < 2 || KLanes > 64 || (KLanes & (KLanes - 1)) != 0) begin : g_bad_klanes
    $fatal(1, "mpq_top: KLanes=%0d, legal: a power of two in 2..64", KLanes);
  end
  if (HpPerGroup > KLanes) begin : g_bad_hp_per_group
    $fatal(1, "mpq_top: HpPerGroup=%0d, legal 0..KLanes (%0d)", HpPerGroup, KLanes);
  end
  if (ActBits < 2 || ActBits > 8) begin : g_bad_act_bits
    $fatal(1, "mpq_top: ActBits=%0d, legal 2..8", ActBits);
  end
  if (HpBits < 2 || HpBits > 8) begin : g_bad_hp_bits
    $fatal(1, "mpq_top: HpBits=%0d, legal 2..8", HpBits);
  end
  if (AlphaBits < 2 || AlphaBits > 16) begin : g_bad_alpha_bits
    $fatal(1, "mpq_top: AlphaBits=%0d, legal 2..16", AlphaBits);
  end
  if (AccBits < 16 || AccBits > 32) begin : g_bad_acc_bits
    $fatal(1, "mpq_top: AccBits=%0d, legal 16..32", AccBits);
  end
  if (OutBits < 2 || OutBits > 16) begin : g_bad_out_bits
    $fatal(1, "mpq_top: OutBits=%0d, legal 2..16", OutBits);
  end
  if (KMax < KLanes || KMax > 65535 || (KMax % KLanes) != 0) begin : g_bad_kmax
    $fatal(1, "mpq_top: KMax=%0d, legal: a multiple of KLanes (%0d) in KLanes..65535", KMax,
           KLanes);
  end

  // The configuration this RTL was built with (docs/timing.md, hwcfg_o).
  localparam int unsigned CV = mpq_pkg::CONTRACT_VERSION;
  assign hwcfg_o = {32'd0, KMax[23:0], OutBits[7:0], AccBits[7:0], AlphaBits[7:0],
                    HpBits[7:0], ActBits[7:0], HpPerGroup[7:0], KLanes[7:0], Lanes[7:0],
                    CV[7:0]};

  // ---------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------
  typedef enum logic [1:0] {
    IDLE  = 2'd0,
    LOAD  = 2'd1,
    RUN   = 2'd2,
    DRAIN = 2'd3
  } state_e;

  state_e state_q, state_d;
  logic [CfgW-1:0] cfg_q, cfg_d;  // the tile's configuration beat
  logic [15:0] wslice_q, wslice_d, slice_q, slice_d, row_q, row_d;

  // Result pipeline: rq1 holds accumulators (its data registers sit in the lanes, which write
  // them on the step of a row's last slice), rq2 the high products, out the outputs.
  logic [Lanes*AccBits-1:0] rq1_q;
  logic [Lanes*32-1:0] rq2_q, rq2_d;
  logic [OutW-1:0] out_q, out_d;
  logic rq1_valid_q, rq1_valid_d, rq2_valid_q, rq2_valid_d, out_valid_q, out_valid_d;

  // Tile-wide fields of the configuration beat.
  logic [15:0] k_len, m_rows, last_slice;
  logic acc_sat;
  logic signed [ActBits:0] in_offset;
  logic signed [15:0] out_offset, act_min, act_max;

  assign k_len = cfg_q[mpq_pkg::CFG_K_LEN_LSB +: 16];
  assign m_rows = cfg_q[mpq_pkg::CFG_M_ROWS_LSB +: 16];
  assign acc_sat = cfg_q[mpq_pkg::CFG_ACC_SAT_BIT];
  assign in_offset = cfg_q[mpq_pkg::CFG_IN_OFFSET_LSB +: ActBits + 1];
  assign out_offset = cfg_q[mpq_pkg::CFG_OUT_OFFSET_LSB +: 16];
  assign act_min = cfg_q[mpq_pkg::CFG_ACT_MIN_LSB +: 16];
  assign act_max = cfg_q[mpq_pkg::CFG_ACT_MAX_LSB +: 16];
  // n_slices - 1 = ceil(k_len / KLanes) - 1, for k_len >= 1.
  assign last_slice = (k_len - 16'd1) >> IdxW;

  // ---------------------------------------------------------------------------
  // Handshakes and the pipeline's free chain
  // ---------------------------------------------------------------------------
  logic out_free, rq2_free, rq1_free, last, cfg_ready, cfg_hs, wgt_hs, act_hs, row_done;

  assign out_free = !out_valid_q || out_ready_i;
  assign rq2_free = !rq2_valid_q || out_free;
  assign rq1_free = !rq1_valid_q || rq2_free;
  assign last = (slice_q == last_slice);

  // During reset the state is IDLE but no ready may be high.
  assign cfg_ready = (state_q == IDLE);
  assign cfg_ready_o = rst_ni && cfg_ready;
  assign wgt_ready_o = (state_q == LOAD);
  assign act_ready_o = (state_q == RUN) && (!last || rq1_free);

  assign cfg_hs = cfg_valid_i && cfg_ready;
  assign wgt_hs = wgt_valid_i && wgt_ready_o;
  assign act_hs = act_valid_i && act_ready_o;
  assign row_done = act_hs && last;

  // ---------------------------------------------------------------------------
  // Control: FSM and counters
  // ---------------------------------------------------------------------------
  always_comb begin
    state_d = state_q;
    cfg_d = cfg_q;
    wslice_d = wslice_q;
    slice_d = slice_q;
    row_d = row_q;
    done_o = 1'b0;
    unique case (state_q)
      IDLE: begin
        if (cfg_hs) begin
          cfg_d = cfg_data_i;
          wslice_d = '0;
          state_d = LOAD;
        end
      end
      LOAD: begin
        if (wgt_hs) begin
          if (wslice_q == last_slice) begin
            slice_d = '0;
            row_d = '0;
            state_d = RUN;
          end else begin
            wslice_d = wslice_q + 16'd1;
          end
        end
      end
      RUN: begin
        if (act_hs) begin
          if (last) begin
            slice_d = '0;
            if (row_q == m_rows - 16'd1) begin
              state_d = DRAIN;
            end else begin
              row_d = row_q + 16'd1;
            end
          end else begin
            slice_d = slice_q + 16'd1;
          end
        end
      end
      DRAIN: begin
        if (!rq1_valid_q && !rq2_valid_q && !out_valid_q) begin
          done_o = 1'b1;
          state_d = IDLE;
        end
      end
      // Every 2-bit state is named above: unreachable, not counted by coverage.
      // verilator coverage_off
      default: state_d = IDLE;
      // verilator coverage_on
    endcase
  end

  assign busy_o = (state_q != IDLE);

  // ---------------------------------------------------------------------------
  // Datapath: weight buffer, shared activation preprocessing, lanes, requantizers
  // ---------------------------------------------------------------------------
  logic [WgtW-1:0] wgt_slice;

  mpq_wbuf #(
    .NSlices(NSlicesMax),
    .Width  (WgtW)
  ) u_wbuf (
    .clk_i,
    .we_i   (wgt_hs),
    .waddr_i(wslice_q[WAddrW-1:0]),
    .wdata_i(wgt_data_i),
    .raddr_i(slice_q[WAddrW-1:0]),
    .rdata_o(wgt_slice)
  );

  // xr[j] = x[j] + in_offset when k = slice*KLanes + j < k_len, else 0 (shared by all lanes).
  logic [KLanes*XrW-1:0] xr;
  always_comb begin
    for (int unsigned j = 0; j < KLanes; j++) begin
      logic [15+IdxW:0] k;
      logic signed [ActBits-1:0] x;
      logic signed [XrW-1:0] x_ext, off_ext;
      k = {slice_q, IdxW'(j)};
      x = act_data_i[j*ActBits +: ActBits];
      x_ext = {{2{x[ActBits-1]}}, x};
      off_ext = {in_offset[ActBits], in_offset};
      xr[j*XrW +: XrW] = (k < {{IdxW{1'b0}}, k_len}) ? x_ext + off_ext : '0;
    end
  end

  logic [Lanes*32-1:0] hi_row;
  logic [OutW-1:0] y_row;
  logic [Lanes-1:0] ovf;

  for (genvar l = 0; l < Lanes; l++) begin : g_lane
    localparam int unsigned Base = mpq_pkg::CFG_LANE_BASE + mpq_pkg::CFG_LANE_W * l;

    mpq_lane #(
      .KLanes    (KLanes),
      .HpPerGroup(HpPerGroup),
      .ActBits   (ActBits),
      .HpBits    (HpBits),
      .AlphaBits (AlphaBits),
      .AccBits   (AccBits)
    ) u_lane (
      .clk_i,
      .rst_ni,
      .wgt_i    (wgt_slice[l*LaneW +: LaneW]),
      .xr_i     (xr),
      .alpha_i  (cfg_q[Base + mpq_pkg::CFG_ALPHA_OFS +: AlphaBits]),
      .bias_i   (cfg_q[Base + mpq_pkg::CFG_BIAS_OFS +: 32]),
      .acc_sat_i(acc_sat),
      .step_i   (act_hs),
      .first_i  (slice_q == 16'd0),
      .last_i   (last),
      .ovf_clr_i(cfg_hs),
      .row_o    (rq1_q[l*AccBits +: AccBits]),
      .ovf_o    (ovf[l])
    );

    mpq_requant #(
      .AccBits(AccBits),
      .OutBits(OutBits)
    ) u_requant (
      .acc_i       (rq1_q[l*AccBits +: AccBits]),
      .mult_i      (cfg_q[Base + mpq_pkg::CFG_MULT_OFS +: 32]),
      .shift_i     (cfg_q[Base + mpq_pkg::CFG_SHIFT_OFS +: 16]),
      .hi_o        (hi_row[l*32 +: 32]),
      .hi_i        (rq2_q[l*32 +: 32]),
      .out_offset_i(out_offset),
      .act_min_i   (act_min),
      .act_max_i   (act_max),
      .y_o         (y_row[l*OutBits +: OutBits])
    );
  end

  assign ovf_o = ovf;

  // Pipeline moves (docs/timing.md, "Pipeline"): each stage advances into a free successor.
  always_comb begin
    rq1_valid_d = rq1_valid_q;
    rq2_d = rq2_q;
    rq2_valid_d = rq2_valid_q;
    out_d = out_q;
    out_valid_d = out_valid_q;

    if (rq2_valid_q && out_free) begin
      out_d = y_row;
      out_valid_d = 1'b1;
    end else if (out_valid_q && out_ready_i) begin
      out_valid_d = 1'b0;
    end

    if (rq1_valid_q && rq2_free) begin
      rq2_d = hi_row;
      rq2_valid_d = 1'b1;
    end else if (rq2_valid_q && out_free) begin
      rq2_valid_d = 1'b0;
    end

    if (row_done) begin
      rq1_valid_d = 1'b1;
    end else if (rq1_valid_q && rq2_free) begin
      rq1_valid_d = 1'b0;
    end
  end

  assign out_valid_o = out_valid_q;
  assign out_data_o = out_q;

  // ---------------------------------------------------------------------------
  // Registers
  // ---------------------------------------------------------------------------
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= IDLE;
      cfg_q <= '0;
      wslice_q <= '0;
      slice_q <= '0;
      row_q <= '0;
      rq1_valid_q <= 1'b0;
      rq2_q <= '0;
      rq2_valid_q <= 1'b0;
      out_q <= '0;
      out_valid_q <= 1'b0;
    end else begin
      state_q <= state_d;
      cfg_q <= cfg_d;
      wslice_q <= wslice_d;
      slice_q <= slice_d;
      row_q <= row_d;
      rq1_valid_q <= rq1_valid_d;
      rq2_q <= rq2_d;
      rq2_valid_q <= rq2_valid_d;
      out_q <= out_d;
      out_valid_q <= out_valid_d;
    end
  end

  // The reserved fields, the high bits of in_offset and of each alpha are not used by the
  // hardware (docs/timing.md); reading the whole beat here keeps the lint waiver in one place.
  logic unused_cfg;
  assign unused_cfg = ^cfg_q;

  // ---------------------------------------------------------------------------
  // Assertions (Verilator --assert): stream rules on the inputs, the output stream, the
  // configuration beat's legal ranges, reserved ternary codes, outputs in reset.
  // ---------------------------------------------------------------------------
`ifndef SYNTHESIS
  // A source keeps valid high and data stable until the handshake (AXI-Stream rules of
  // docs/timing.md); the result stream obeys the same rule. The previous cycle's "waiting"
  // flag and data are kept in plain registers rather than with $past/$stable: Verilator 5.006
  // emits uncompilable C++ for the sampled copies of very wide ports (dense: 1792-bit wgt).
  logic cfg_wait_q, wgt_wait_q, act_wait_q, out_wait_q;
  logic [CfgW-1:0] cfg_data_prev_q;
  logic [WgtW-1:0] wgt_data_prev_q;
  logic [ActW-1:0] act_data_prev_q;
  logic [OutW-1:0] out_data_prev_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cfg_wait_q <= 1'b0;
      wgt_wait_q <= 1'b0;
      act_wait_q <= 1'b0;
      out_wait_q <= 1'b0;
    end else begin
      cfg_wait_q <= cfg_valid_i && !cfg_ready_o;
      wgt_wait_q <= wgt_valid_i && !wgt_ready_o;
      act_wait_q <= act_valid_i && !act_ready_o;
      out_wait_q <= out_valid_o && !out_ready_i;
    end
  end
  always_ff @(posedge clk_i) begin
    cfg_data_prev_q <= cfg_data_i;
    wgt_data_prev_q <= wgt_data_i;
    act_data_prev_q <= act_data_i;
    out_data_prev_q <= out_data_o;
  end
  logic cfg_hold_ok, wgt_hold_ok, act_hold_ok, out_hold_ok;
  assign cfg_hold_ok = !cfg_wait_q || (cfg_valid_i && cfg_data_i == cfg_data_prev_q);
  assign wgt_hold_ok = !wgt_wait_q || (wgt_valid_i && wgt_data_i == wgt_data_prev_q);
  assign act_hold_ok = !act_wait_q || (act_valid_i && act_data_i == act_data_prev_q);
  assign out_hold_ok = !out_wait_q || (out_valid_o && out_data_o == out_data_prev_q);

  // Ternary code 10 is reserved: never in a weight beat. One wide AND instead of a loop over
  // every code (this runs in every evaluation of the model): the high bit of a code set and
  // its low bit clear.
  // Evaluated at elaboration (a constant), never simulated: not counted by coverage.
  // verilator coverage_off
  function automatic logic [WgtW-1:0] tern_hi_mask();
    logic [WgtW-1:0] m;
    m = '0;
    for (int unsigned l = 0; l < Lanes; l++) begin
      for (int unsigned j = 0; j < KLanes; j++) m[l*LaneW + 2*j + 1] = 1'b1;
    end
    return m;
  endfunction
  // verilator coverage_on
  localparam logic [WgtW-1:0] TernHiMask = tern_hi_mask();
  logic wgt_reserved;
  assign wgt_reserved = |(wgt_data_i & ~(wgt_data_i << 1) & TernHiMask);

  // The configuration beat's value ranges (docs/timing.md, "Configuration beat").
  logic signed [15:0] cfg_in_offset, cfg_act_min, cfg_act_max;
  logic cfg_tile_ok, cfg_lanes_ok;
  assign cfg_in_offset = cfg_data_i[mpq_pkg::CFG_IN_OFFSET_LSB +: 16];
  assign cfg_act_min = cfg_data_i[mpq_pkg::CFG_ACT_MIN_LSB +: 16];
  assign cfg_act_max = cfg_data_i[mpq_pkg::CFG_ACT_MAX_LSB +: 16];
  always_comb begin
    int k, m;
    k = int'(cfg_data_i[mpq_pkg::CFG_K_LEN_LSB +: 16]);
    m = int'(cfg_data_i[mpq_pkg::CFG_M_ROWS_LSB +: 16]);
    cfg_tile_ok = k >= 1 && k <= int'(KMax) && m >= 1 &&
        int'(cfg_in_offset) >= -(1 <<< ActBits) && int'(cfg_in_offset) < (1 <<< ActBits) &&
        int'(cfg_act_min) >= -(1 <<< (OutBits - 1)) && cfg_act_min <= cfg_act_max &&
        int'(cfg_act_max) < (1 <<< (OutBits - 1));
    cfg_lanes_ok = 1'b1;
    for (int unsigned l = 0; l < Lanes; l++) begin
      logic signed [15:0] alpha, shift;
      int unsigned b;
      b = mpq_pkg::CFG_LANE_BASE + mpq_pkg::CFG_LANE_W * l;
      alpha = cfg_data_i[b + mpq_pkg::CFG_ALPHA_OFS +: 16];
      shift = cfg_data_i[b + mpq_pkg::CFG_SHIFT_OFS +: 16];
      if (cfg_data_i[b + mpq_pkg::CFG_MULT_OFS + 31] ||
          int'(alpha) < -(1 <<< (AlphaBits - 1)) || int'(alpha) >= (1 <<< (AlphaBits - 1)) ||
          shift < -16'sd31 || shift > 16'sd30) begin
        cfg_lanes_ok = 1'b0;
      end
    end
  end

  // The checks, as immediate assertions at the clock edge (they see the pre-edge values, as
  // concurrent assertions would; concurrent ones would make Verilator keep sampled copies of
  // the wide ports, see above).
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      // While in reset every ready, out_valid_o, busy_o, done_o and ovf_o are 0.
      a_reset_quiet: assert (!(cfg_ready_o || wgt_ready_o || act_ready_o || out_valid_o ||
                               busy_o || done_o || (|ovf_o)))
        else $error("mpq_top: an output is active during reset");
    end else begin
      a_cfg_hold: assert (cfg_hold_ok)
        else $error("mpq_top: cfg_valid_i dropped or cfg_data_i changed before the handshake");
      a_wgt_hold: assert (wgt_hold_ok)
        else $error("mpq_top: wgt_valid_i dropped or wgt_data_i changed before the handshake");
      a_act_hold: assert (act_hold_ok)
        else $error("mpq_top: act_valid_i dropped or act_data_i changed before the handshake");
      a_out_hold: assert (out_hold_ok)
        else $error("mpq_top: out_valid_o dropped or out_data_o changed before the handshake");
      // A finished row only enters rq1 when rq1 is free: no row is ever overwritten.
      a_rq1_free: assert (!row_done || rq1_free)
        else $error("mpq_top: finished row entered a busy rq1");
      // done_o only in DRAIN with an empty pipeline.
      a_done: assert (!done_o || (state_q == DRAIN && !rq1_valid_q && !rq2_valid_q &&
                                  !out_valid_q))
        else $error("mpq_top: done_o outside an empty DRAIN");
      a_tern_code: assert (!wgt_hs || !wgt_reserved)
        else $error("mpq_top: reserved ternary code 10 in weight slice %0d", wslice_q);
      a_cfg_tile: assert (!cfg_hs || cfg_tile_ok)
        else $error("mpq_top: cfg beat out of range (k_len 1..KMax, m_rows >= 1, in_offset, %s",
                    "act_min/act_max)");
      a_cfg_lanes: assert (!cfg_hs || cfg_lanes_ok)
        else $error("mpq_top: cfg beat lane field out of range (mult 0..2^31-1, alpha, %s",
                    "shift -31..30)");
    end
  end
`endif

endmodule
