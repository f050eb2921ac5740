// SPDX-License-Identifier: Apache-2.0
//
// mpq_top: the mpq accelerator, a Lanes x KLanes array that computes convolutions (a
// fully-connected layer is the 1x1 case) of a dense ternary layer ({-1,0,+1} x per-lane alpha)
// plus a sparse high-precision layer (HpPerGroup int entries per lane and KLanes-channel
// slice), accumulates in AccBits with wrap or saturation, and requantizes with TFLite double
// rounding.
//
// docs/timing.md is the contract: ports, beats, arithmetic and every output in every cycle.
// Summary: IDLE takes one configuration beat, LOAD takes kh*kw*ceil(c_len/KLanes) weight
// slices into the weight buffer; from LOAD on, every activation slice of the tile enters once,
// into the activation ring; in RUN the window generator (mpq_win) steps the lanes through every
// output pixel's window, one slice per cycle (padding taps add nothing), each finished pixel
// goes through the rq1 -> rq2 -> out pipeline (a pixel whose last step is taken at the edge
// ending cycle c is on out_data_o in cycle c+3), DRAIN waits for the last beats and the
// pipeline to empty and pulses done_o. Every output is a function of the registers only.

`include "mpq_top.svh"

module mpq_top #(
  `MPQ_PARAMS, // rtl/mpq_top.svh (generated): Lanes ... ActDepth
  localparam int unsigned IdxW = mpq_layout_pkg::idx_w(KLanes),
  localparam int unsigned NSlicesMax = KMax / KLanes,
  localparam int unsigned LaneW = mpq_layout_pkg::lane_w(KLanes, HpPerGroup, HpBits),
  localparam int unsigned CfgW = mpq_layout_pkg::cfg_w(Lanes),
  localparam int unsigned WgtW = mpq_layout_pkg::wgt_w(Lanes, KLanes, HpPerGroup, HpBits),
  localparam int unsigned ActW = mpq_layout_pkg::act_w(KLanes, ActBits),
  localparam int unsigned OutW = mpq_layout_pkg::out_w(Lanes, OutBits)
) (
  // rtl/mpq_top.svh (generated; docs/timing.md, "Ports"): clk_i, rst_ni; the cfg, wgt and act
  // input streams and the out stream (NAME_valid, NAME_ready, NAME_data); busy_o, done_o,
  // ovf_o, hwcfg_o.
  `MPQ_PORTS
`ifdef MPQ_WHITEBOX
  // White-box builds only (tb/build-model.sh kinds wb and trace): the registers the testbench
  // compares with the golden cycle model's every cycle (mpq-tb --whitebox) and shows beside
  // them in a waveform: dbg_acc_o (acc_q of every lane), dbg_rq1_o / dbg_rq1_valid_o (rq1,
  // the lanes' row_q), dbg_rq2_o / dbg_rq2_valid_o (rq2, the requantizer's high products).
  // Absent from the plain build and from synthesis.
  , `MPQ_WB_PORTS
`endif
);

  localparam int unsigned XrW = mpq_pkg::xr_w(ActBits);
  localparam int unsigned WAddrW = (NSlicesMax <= 2) ? 1 : $clog2(NSlicesMax);
  localparam int unsigned AAddrW = (ActDepth <= 2) ? 1 : $clog2(ActDepth);

  // Parameter legality (docs/timing.md, "Parameters"): elaboration-time $fatal, written from
  // the same table as the C side's checks.
  mpq_params_check #(`MPQ_PARAMS_PASS) u_params_check ();

  // The configuration this RTL was built with (docs/timing.md, hwcfg_o).
  assign hwcfg_o = mpq_layout_pkg::hwcfg(Lanes, KLanes, HpPerGroup, ActBits, HpBits, AlphaBits,
                                         AccBits, OutBits, KMax, ActDepth);

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
  logic [15:0] wslice_q, wslice_d;  // the weight slice LOAD takes next

  // Result pipeline: rq1 holds accumulators (its data registers sit in the lanes, which write
  // them on the step of a row's last slice), rq2 the high products, out the outputs.
  logic [Lanes*AccBits-1:0] rq1_q;
  logic [Lanes*AccBits-1:0] lane_acc;  // the lanes' accumulators (white-box ports only)
  logic [Lanes*32-1:0] rq2_q, rq2_d;
  logic [OutW-1:0] out_q, out_d;
  logic rq1_valid_q, rq1_valid_d, rq2_valid_q, rq2_valid_d, out_valid_q, out_valid_d;

  // Tile-wide fields of the configuration beat (mpq_layout_pkg::cfg_tile_t).
  mpq_layout_pkg::cfg_tile_t tile;
  logic [15:0] c_len, last_wslice;
  logic acc_sat;
  logic signed [ActBits:0] in_offset;
  logic signed [15:0] out_offset, act_min, act_max;

  assign tile = cfg_q[mpq_layout_pkg::CFG_TILE_W-1:0];
  assign c_len = tile.c_len;
  assign acc_sat = tile.acc_sat;
  assign in_offset = tile.in_offset[ActBits:0];  // low ActBits+1 bits used
  assign out_offset = tile.out_offset;
  assign act_min = tile.act_min;
  assign act_max = tile.act_max;
  // The reserved fields are zero (asserted below) and unused by the hardware.
  logic unused_tile;
  assign unused_tile = ^{tile.reserved_161, tile.reserved_240};
  // The weight slices of the tile: kh * kw taps of ceil(c_len / KLanes) slices (the
  // configuration rules keep it within the weight buffer).
  assign last_wslice = 16'(32'(tile.kh) * 32'(tile.kw) * ((32'(c_len) + KLanes - 1) >> IdxW) - 1);

  // ---------------------------------------------------------------------------
  // Handshakes, the pipeline's free chain, the window generator
  // ---------------------------------------------------------------------------
  logic out_free, rq2_free, rq1_free, cfg_ready, cfg_hs, wgt_hs, act_hs, row_done;
  logic step, first, last, pad, win_read_done, win_done, abuf_we;
  logic [AAddrW-1:0] abuf_waddr, abuf_raddr;
  logic [WAddrW-1:0] wslot;
  logic [15:0] slice, win_b, win_oy, win_ox;
  logic [7:0] win_ky, win_kx;

  assign out_free = !out_valid_q || out_ready_i;
  assign rq2_free = !rq2_valid_q || out_free;
  assign rq1_free = !rq1_valid_q || rq2_free;

  // During reset the state is IDLE but no ready may be high.
  assign cfg_ready = (state_q == IDLE);
  assign cfg_ready_o = rst_ni && cfg_ready;
  assign wgt_ready_o = (state_q == LOAD);

  assign cfg_hs = cfg_valid_i && cfg_ready;
  assign wgt_hs = wgt_valid_i && wgt_ready_o;
  assign act_hs = act_valid_i && act_ready_o;
  assign row_done = step && last;

  mpq_win #(
    .KLanes  (KLanes),
    .KMax    (KMax),
    .ActDepth(ActDepth)
  ) u_win (
    .clk_i,
    .rst_ni,
    .start_i    (cfg_hs),
    .tile_i     (tile),
    .write_en_i (state_q != IDLE),
    .read_en_i  (state_q == RUN),
    .act_valid_i,
    .act_ready_o,
    .we_o       (abuf_we),
    .waddr_o    (abuf_waddr),
    .rq1_free_i (rq1_free),
    .step_o     (step),
    .first_o    (first),
    .last_o     (last),
    .raddr_o    (abuf_raddr),
    .wslot_o    (wslot),
    .slice_o    (slice),
    .pad_o      (pad),
    .read_done_o(win_read_done),
    .done_o     (win_done),
    .b_o        (win_b),
    .oy_o       (win_oy),
    .ox_o       (win_ox),
    .ky_o       (win_ky),
    .kx_o       (win_kx)
  );
  // Where the window generator is: shown in waveforms, not used by the logic.
  logic unused_win_pos;
  assign unused_win_pos = ^{win_b, win_oy, win_ox, win_ky, win_kx, abuf_we && act_hs};

  // ---------------------------------------------------------------------------
  // Control: FSM and counters
  // ---------------------------------------------------------------------------
  always_comb begin
    state_d = state_q;
    cfg_d = cfg_q;
    wslice_d = wslice_q;
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
          if (wslice_q == last_wslice) begin
            state_d = RUN;
          end else begin
            wslice_d = wslice_q + 16'd1;
          end
        end
      end
      RUN: begin
        if (win_read_done) begin
          state_d = DRAIN;
        end
      end
      DRAIN: begin
        if (win_done && !rq1_valid_q && !rq2_valid_q && !out_valid_q) begin
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
  logic [ActW-1:0] act_slice;

  // The weight buffer: LOAD writes the tile's slices in order, each step reads its own.
  mpq_ram #(
    .Depth(NSlicesMax),
    .Width(WgtW)
  ) u_wbuf (
    .clk_i,
    .we_i   (wgt_hs),
    .waddr_i(wslice_q[WAddrW-1:0]),
    .wdata_i(wgt_data_i),
    .raddr_i(wslot),
    .rdata_o(wgt_slice)
  );

  // The activation ring: every activation beat enters once; each step reads its slice.
  mpq_ram #(
    .Depth(ActDepth),
    .Width(ActW)
  ) u_abuf (
    .clk_i,
    .we_i   (abuf_we),
    .waddr_i(abuf_waddr),
    .wdata_i(act_data_i),
    .raddr_i(abuf_raddr),
    .rdata_o(act_slice)
  );

  // xr[j] = x[j] + in_offset for the step's slice (shared by all lanes): a padding tap's x is
  // the input zero point (-in_offset), so xr = 0; channels c = slice*KLanes + j at or past c_len
  // are masked to 0.
  logic [KLanes*XrW-1:0] xr;
  always_comb begin
    for (int unsigned j = 0; j < KLanes; j++) begin
      logic [15+IdxW:0] c;
      logic signed [ActBits-1:0] x;
      logic signed [XrW-1:0] x_ext, off_ext;
      c = {slice, IdxW'(j)};
      x = act_slice[j*ActBits +: ActBits];
      off_ext = {in_offset[ActBits], in_offset};
      x_ext = pad ? -off_ext : {{2{x[ActBits-1]}}, x};
      xr[j*XrW +: XrW] = (c < {{IdxW{1'b0}}, c_len}) ? x_ext + off_ext : '0;
    end
  end

  logic [Lanes*32-1:0] hi_row;
  logic [OutW-1:0] y_row;
  logic [Lanes-1:0] ovf;

  for (genvar l = 0; l < Lanes; l++) begin : g_lane
    // This lane's part of the configuration beat (mpq_layout_pkg::cfg_lane_t).
    mpq_layout_pkg::cfg_lane_t lane_cfg;
    assign lane_cfg = cfg_q[mpq_layout_pkg::CFG_TILE_W + mpq_layout_pkg::CFG_LANE_W * l +:
                            mpq_layout_pkg::CFG_LANE_W];

    mpq_lane #(`MPQ_PARAMS_PASS) u_lane (
      .clk_i,
      .rst_ni,
      .wgt_i    (wgt_slice[l*LaneW +: LaneW]),
      .xr_i     (xr),
      .alpha_i  (lane_cfg.alpha[AlphaBits-1:0]),  // low AlphaBits bits used
      .bias_i   (lane_cfg.bias),
      .acc_sat_i(acc_sat),
      .step_i   (step),
      .first_i  (first),
      .last_i   (last),
      .ovf_clr_i(cfg_hs),
      .row_o    (rq1_q[l*AccBits +: AccBits]),
      .acc_o    (lane_acc[l*AccBits +: AccBits]),
      .ovf_o    (ovf[l])
    );

    mpq_requant #(
      .AccBits(AccBits),
      .OutBits(OutBits)
    ) u_requant (
      .acc_i       (rq1_q[l*AccBits +: AccBits]),
      .mult_i      (lane_cfg.mult),
      .shift_i     (lane_cfg.shift),
      .hi_o        (hi_row[l*32 +: 32]),
      .hi_i        (rq2_q[l*32 +: 32]),
      .out_offset_i(out_offset),
      .act_min_i   (act_min),
      .act_max_i   (act_max),
      .y_o         (y_row[l*OutBits +: OutBits])
    );
  end

  assign ovf_o = ovf;

`ifdef MPQ_WHITEBOX
  assign dbg_acc_o = lane_acc;
  assign dbg_rq1_o = rq1_q;
  assign dbg_rq1_valid_o = rq1_valid_q;
  assign dbg_rq2_o = rq2_q;
  assign dbg_rq2_valid_o = rq2_valid_q;

  // The access counters (white-box builds only; docs/timing.md, "White-box counters"): what
  // each cycle did to the ports, the two memories, the lanes and the requantizers, counted
  // since reset, 64 bits each, in the order of mpq_layout_pkg::CNT_* (the contract's
  // MPQ_WB_COUNT_LIST, which the golden cycle model counts too). Not in synthesis.
  localparam int unsigned NCnt = mpq_layout_pkg::CNT_COUNT;
  localparam int HpEntries = HpPerGroup;  // signed: with HpPerGroup = 0 the loop is empty
  logic [63:0] cnt_q [NCnt];
  logic [63:0] live_ch;
  // Channels of the step's slice below c_len (the rest are masked).
  always_comb begin
    logic [31:0] c0, c_rest;
    c0 = 32'({slice, IdxW'(0)});
    c_rest = 32'(c_len) - c0;
    live_ch = (32'(c_len) >= c0 + KLanes) ? 64'(KLanes) : (32'(c_len) > c0) ? 64'(c_rest) : 64'd0;
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int unsigned i = 0; i < NCnt; i++) cnt_q[i] <= '0;
    end else begin
      cnt_q[mpq_layout_pkg::CNT_TILE_CYCLES] <= cnt_q[mpq_layout_pkg::CNT_TILE_CYCLES] + 64'(cfg_hs || busy_o);
      cnt_q[mpq_layout_pkg::CNT_TILES] <= cnt_q[mpq_layout_pkg::CNT_TILES] + 64'(cfg_hs);
      cnt_q[mpq_layout_pkg::CNT_WGT_BEATS] <= cnt_q[mpq_layout_pkg::CNT_WGT_BEATS] + 64'(wgt_hs);
      cnt_q[mpq_layout_pkg::CNT_ACT_BEATS] <= cnt_q[mpq_layout_pkg::CNT_ACT_BEATS] + 64'(act_hs);
      cnt_q[mpq_layout_pkg::CNT_WBUF_WRITES] <= cnt_q[mpq_layout_pkg::CNT_WBUF_WRITES] + 64'(wgt_hs);
      cnt_q[mpq_layout_pkg::CNT_WBUF_READS] <= cnt_q[mpq_layout_pkg::CNT_WBUF_READS] + 64'(step);
      cnt_q[mpq_layout_pkg::CNT_RING_WRITES] <= cnt_q[mpq_layout_pkg::CNT_RING_WRITES] + 64'(abuf_we);
      cnt_q[mpq_layout_pkg::CNT_RING_READS] <= cnt_q[mpq_layout_pkg::CNT_RING_READS] + 64'(step);
      cnt_q[mpq_layout_pkg::CNT_RING_READS_USED] <= cnt_q[mpq_layout_pkg::CNT_RING_READS_USED] + 64'(step && !pad);
      cnt_q[mpq_layout_pkg::CNT_PAD_STEPS] <= cnt_q[mpq_layout_pkg::CNT_PAD_STEPS] + 64'(step && pad);
      cnt_q[mpq_layout_pkg::CNT_ROWS] <= cnt_q[mpq_layout_pkg::CNT_ROWS] + 64'(row_done);
      if (rq2_valid_q && out_free)
        cnt_q[mpq_layout_pkg::CNT_REQUANTS] <= cnt_q[mpq_layout_pkg::CNT_REQUANTS] + 64'(Lanes);
      if (step) begin
        cnt_q[mpq_layout_pkg::CNT_MAC_SLOTS_TERN] <= cnt_q[mpq_layout_pkg::CNT_MAC_SLOTS_TERN] + 64'(Lanes * KLanes);
        cnt_q[mpq_layout_pkg::CNT_MAC_SLOTS_HP] <= cnt_q[mpq_layout_pkg::CNT_MAC_SLOTS_HP] + 64'(Lanes * HpPerGroup);
      end
      // Each counter updated here, in the clocked block, and the sparse entries looked at only
      // on non-padding steps: as continuous logic (an array of increments and this loop in
      // every evaluation) they cost the default white-box model 3% more instructions per cycle.
      if (step && !pad) begin
        // The sparse entries of every lane's part of the step's weight slice with a non-zero
        // value at a live channel.
        logic [63:0] hp_nz;
        hp_nz = '0;
        for (int unsigned l = 0; l < Lanes; l++) begin
          for (int e = 0; e < HpEntries; e++) begin
            logic [IdxW-1:0] idx;
            logic [HpBits-1:0] val;
            idx = wgt_slice[l*LaneW + mpq_layout_pkg::wgt_entry_lsb(KLanes, HpBits, e) +: IdxW];
            val = wgt_slice[l*LaneW + mpq_layout_pkg::wgt_entry_lsb(KLanes, HpBits, e) + IdxW +: HpBits];
            if (val != '0 && 64'(idx) < live_ch) hp_nz = hp_nz + 64'd1;
          end
        end
        cnt_q[mpq_layout_pkg::CNT_MACS_LIVE] <= cnt_q[mpq_layout_pkg::CNT_MACS_LIVE] + 64'(Lanes) * live_ch;
        cnt_q[mpq_layout_pkg::CNT_MACS_HP_NZ] <= cnt_q[mpq_layout_pkg::CNT_MACS_HP_NZ] + hp_nz;
      end
    end
  end
  for (genvar i = 0; i < NCnt; i++) begin : g_cnt
    assign dbg_counts_o[64*i +: 64] = cnt_q[i];
  end
`else
  logic unused_lane_acc;
  assign unused_lane_acc = ^lane_acc;
`endif

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
      rq1_valid_q <= 1'b0;
      rq2_q <= '0;
      rq2_valid_q <= 1'b0;
      out_q <= '0;
      out_valid_q <= 1'b0;
    end else begin
      state_q <= state_d;
      cfg_q <= cfg_d;
      wslice_q <= wslice_d;
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
  // Stream rules (docs/timing.md, AXI-Stream): one checker per stream, the three input
  // streams and the result stream.
  mpq_stream_check #(.Width(CfgW), .ValidName("cfg_valid_i"), .DataName("cfg_data_i"))
    u_cfg_stream_check (.clk_i, .rst_ni, .valid_i(cfg_valid_i), .ready_i(cfg_ready_o),
                        .data_i(cfg_data_i));
  mpq_stream_check #(.Width(WgtW), .ValidName("wgt_valid_i"), .DataName("wgt_data_i"))
    u_wgt_stream_check (.clk_i, .rst_ni, .valid_i(wgt_valid_i), .ready_i(wgt_ready_o),
                        .data_i(wgt_data_i));
  mpq_stream_check #(.Width(ActW), .ValidName("act_valid_i"), .DataName("act_data_i"))
    u_act_stream_check (.clk_i, .rst_ni, .valid_i(act_valid_i), .ready_i(act_ready_o),
                        .data_i(act_data_i));
  mpq_stream_check #(.Width(OutW), .ValidName("out_valid_o"), .DataName("out_data_o"))
    u_out_stream_check (.clk_i, .rst_ni, .valid_i(out_valid_o), .ready_i(out_ready_i),
                        .data_i(out_data_o));

`ifndef SYNTHESIS
  // Ternary code 10 is reserved: never in a weight beat. One wide AND instead of a loop over
  // every code: a code's high bit (TernHiMask) set and its low bit clear. The assertion below
  // tests it on weight handshakes only: tested in every evaluation, its 352-bit shift
  // (default) cost the model 3% of its instructions per cycle.
  // tern_hi_mask is evaluated at elaboration (a constant), never simulated: not counted by
  // coverage.
  // verilator coverage_off
  function automatic logic [WgtW-1:0] tern_hi_mask();
    logic [WgtW-1:0] m;
    m = '0;
    for (int unsigned l = 0; l < Lanes; l++) begin
      for (int unsigned j = 0; j < KLanes; j++) m[l*LaneW + mpq_layout_pkg::wgt_tern_lsb(j) + 1] = 1'b1;
    end
    return m;
  endfunction
  // verilator coverage_on
  localparam logic [WgtW-1:0] TernHiMask = tern_hi_mask();
  logic wgt_reserved;
  assign wgt_reserved = |(wgt_data_i & ~(wgt_data_i << 1) & TernHiMask);

  // The configuration beat's value ranges (docs/timing.md, "Configuration beat"): the legality
  // functions written from the same table as the C side's check. Evaluated in the clocked block
  // below on configuration handshakes only: as continuous logic of an input port they were
  // computed in every evaluation, some 10% of the default model's instructions per cycle.
  function automatic logic cfg_lanes_legal(input logic [CfgW-1:0] beat);
    cfg_lanes_legal = 1'b1;
    for (int unsigned l = 0; l < Lanes; l++) begin
      if (!mpq_layout_pkg::cfg_lane_legal(beat[mpq_layout_pkg::CFG_TILE_W + mpq_layout_pkg::CFG_LANE_W * l +:
                                               mpq_layout_pkg::CFG_LANE_W], AlphaBits)) begin
        cfg_lanes_legal = 1'b0;
      end
    end
  endfunction

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
      // A finished row only enters rq1 when rq1 is free: no row is ever overwritten.
      a_rq1_free: assert (!row_done || rq1_free)
        else $error("mpq_top: finished row entered a busy rq1");
      // done_o only in DRAIN with an empty pipeline.
      a_done: assert (!done_o || (state_q == DRAIN && !rq1_valid_q && !rq2_valid_q &&
                                  !out_valid_q))
        else $error("mpq_top: done_o outside an empty DRAIN");
      // Only a taken beat is tested: the wide test runs on weight handshakes alone.
      if (wgt_hs) begin
        a_tern_code: assert (!wgt_reserved)
          else $error("mpq_top: reserved ternary code 10 in weight slice %0d", wslice_q);
      end
      if (cfg_hs) begin
        a_cfg_tile: assert (mpq_layout_pkg::cfg_tile_legal(cfg_data_i[mpq_layout_pkg::CFG_TILE_W-1:0],
                                                           KLanes, ActBits, OutBits, KMax, ActDepth))
          else $error("mpq_top: cfg beat out of range (geometry, in_offset, act_min/act_max, %s",
                      "or a tile rule: weights fit the weight buffer, window rows the ring)");
        a_cfg_lanes: assert (cfg_lanes_legal(cfg_data_i))
          else $error("mpq_top: cfg beat lane field out of range (mult 0..2^31-1, alpha, %s",
                      "shift -31..30)");
      end
    end
  end
`endif

endmodule
