// SPDX-License-Identifier: Apache-2.0
//
// tb_smoke: self-checking smoke test of mpq_top (temporary evidence until the C
// co-simulation in tb/ exists). Four tiles with K not a multiple of KLanes, values from a
// seeded xorshift32 (the seed is printed; the same seed gives the same run), a plain
// behavioural reference (loops, 64-bit integers, rounding written from its definition),
// output back-pressure and input gaps from tile 1 on. Tile 0 runs without stalls and checks
// the contract's latency (c+3) and the tile's cycle count (1 + n + M*n + 4).
// Prints PASS, or stops with $fatal naming the tile, row and lane.

module tb_smoke #(
  parameter int unsigned Lanes = 3,
  parameter int unsigned KLanes = 4,
  parameter int unsigned HpPerGroup = 1,
  parameter int unsigned ActBits = 6,
  parameter int unsigned HpBits = 6,
  parameter int unsigned AlphaBits = 5,
  parameter int unsigned AccBits = 16,
  parameter int unsigned OutBits = 10,
  parameter int unsigned KMax = 64,
  parameter int unsigned ActDepth = 64,
  parameter int unsigned Seed = 32'h6d70_7131
);
  localparam int unsigned IdxW = $clog2(KLanes);
  localparam int unsigned EntW = IdxW + HpBits;
  localparam int unsigned LaneW = 2 * KLanes + HpPerGroup * EntW;
  localparam int unsigned CfgW = 256 + 96 * Lanes;
  localparam int unsigned WgtW = Lanes * LaneW;
  localparam int unsigned ActW = KLanes * ActBits;
  localparam int unsigned OutW = Lanes * OutBits;
  localparam int unsigned NTiles = 4;
  localparam int unsigned MaxRows = 8;
  localparam int unsigned HpMax = (HpPerGroup > 0) ? HpPerGroup : 1;

  logic clk = 1'b0;
  logic rst_n = 1'b0;
  logic cfg_valid = 1'b0, cfg_ready;
  logic [CfgW-1:0] cfg_data = '0;
  logic wgt_valid = 1'b0, wgt_ready;
  logic [WgtW-1:0] wgt_data = '0;
  logic act_valid = 1'b0, act_ready;
  logic [ActW-1:0] act_data = '0;
  logic out_valid, out_ready = 1'b1;
  logic [OutW-1:0] out_data;
  logic busy, done;
  logic [Lanes-1:0] ovf;
  logic [127:0] hwcfg;

  mpq_top #(
    .Lanes(Lanes), .KLanes(KLanes), .HpPerGroup(HpPerGroup), .ActBits(ActBits),
    .HpBits(HpBits), .AlphaBits(AlphaBits), .AccBits(AccBits), .OutBits(OutBits), .KMax(KMax),
    .ActDepth(ActDepth)
  ) u_dut (
    .clk_i(clk), .rst_ni(rst_n),
    .cfg_valid_i(cfg_valid), .cfg_ready_o(cfg_ready), .cfg_data_i(cfg_data),
    .wgt_valid_i(wgt_valid), .wgt_ready_o(wgt_ready), .wgt_data_i(wgt_data),
    .act_valid_i(act_valid), .act_ready_o(act_ready), .act_data_i(act_data),
    .out_valid_o(out_valid), .out_ready_i(out_ready), .out_data_o(out_data),
    .busy_o(busy), .done_o(done), .ovf_o(ovf), .hwcfg_o(hwcfg)
  );

  always #5 clk = ~clk;

  // ---- seeded randomness ----
  int unsigned rng, seed;
  function automatic int unsigned rnd();
    rng = rng ^ (rng << 13);
    rng = rng ^ (rng >> 17);
    rng = rng ^ (rng << 5);
    return rng;
  endfunction
  // Uniform in [lo, hi] (hi - lo < 2^32).
  function automatic longint rnd_range(longint lo, longint hi);
    return lo + longint'(rnd()) % (hi - lo + 1);
  endfunction

  // ---- the plain reference ----
  function automatic longint fit(longint v, bit sat, output bit changed);
    longint lo = -(64'sd1 <<< (AccBits - 1));
    longint hi = (64'sd1 <<< (AccBits - 1)) - 1;
    longint r;
    if (sat) r = (v < lo) ? lo : (v > hi) ? hi : v;
    else begin
      r = v % (64'sd1 <<< AccBits);  // C-like remainder, sign of v
      if (r < lo) r += 64'sd1 <<< AccBits;
      if (r > hi) r -= 64'sd1 <<< AccBits;
    end
    changed = (r != v);
    return r;
  endfunction

  // TFLite double rounding, from the definitions: wrap32 left shift, doubled high product
  // rounded half up (nudge, truncating division), then division by 2^e rounded half away
  // from zero (computed as quotient/remainder, not with gemmlowp's mask trick).
  function automatic longint requant(longint acc, longint mult, int shift);
    longint a, ab, hi, q, r, d;
    int ls = (shift > 0) ? shift : 0;
    int rs = (shift > 0) ? 0 : -shift;
    a = (acc * (64'sd1 <<< ls)) % (64'sd1 <<< 32);
    if (a < -(64'sd1 <<< 31)) a += 64'sd1 <<< 32;
    if (a >= (64'sd1 <<< 31)) a -= 64'sd1 <<< 32;
    if (a == -(64'sd1 <<< 31) && mult == -(64'sd1 <<< 31)) hi = (64'sd1 <<< 31) - 1;
    else begin
      ab = a * mult;
      hi = (ab + ((ab >= 0) ? (64'sd1 <<< 30) : (64'sd1 - (64'sd1 <<< 30)))) / (64'sd1 <<< 31);
    end
    d = 64'sd1 <<< rs;
    q = hi / d;
    r = hi - q * d;
    if (2 * ((r < 0) ? -r : r) >= d && rs > 0) q += (hi < 0) ? -1 : 1;
    return q;
  endfunction

  // ---- stimulus and expected results, all tiles generated up front ----
  logic [CfgW-1:0] cfg_beats[$];
  logic [WgtW-1:0] wgt_beats[$];
  logic [ActW-1:0] act_beats[$];
  logic [OutW-1:0] exp_out[$];
  logic [Lanes-1:0] exp_ovf[NTiles];
  int unsigned tile_k[NTiles], tile_m[NTiles];
  int unsigned n_inside = 0;  // expected outputs strictly inside (act_min, act_max)

  task automatic gen_tile(int unsigned t, int unsigned k_len, int unsigned m_rows, bit sat,
                          longint bias_lim, int shift_lo, int shift_hi, int mult_drop);
    int unsigned ns = (k_len + KLanes - 1) / KLanes;
    longint in_off, out_off, act_min, act_max;
    longint bias[Lanes], mult[Lanes], alpha[Lanes];
    int shift[Lanes];
    int tw[Lanes][KMax];           // ternary weight of (lane, k)
    int hidx[Lanes][KMax][HpMax];  // sparse entries of (lane, slice)
    longint hval[Lanes][KMax][HpMax];
    longint x[KMax];
    logic [CfgW-1:0] c;
    c = '0;
    in_off = rnd_range(-(64'sd1 <<< ActBits), (64'sd1 <<< ActBits) - 1);
    // Tile 2 checks rounding of negative products: a zero offset keeps xr, and so the
    // accumulators of every lane, of both signs from row to row.
    if (t == 2) in_off = 0;
    // Tiles 1 and 3 use the extremes of the legal in_offset range.
    if (t == 1) in_off = (64'sd1 <<< ActBits) - 1;
    if (t == 3) in_off = -(64'sd1 <<< ActBits);
    out_off = rnd_range(-100, 100);
    act_min = rnd_range(-(64'sd1 <<< (OutBits - 1)), 0);
    act_max = rnd_range(0, (64'sd1 <<< (OutBits - 1)) - 1);
    // Contract version 2: the fully-connected layer as the 1x1 convolution of an m_rows x 1
    // image of k_len channels (docs/timing.md, "Configuration beat").
    c[15:0] = k_len[15:0];     // c_len
    c[31:16] = m_rows[15:0];   // in_h
    c[47:32] = 16'd1;          // in_w
    c[63:48] = 16'd1;          // batches
    c[79:64] = m_rows[15:0];   // out_h
    c[95:80] = 16'd1;          // out_w
    c[143:96] = {6{8'd1}};     // kh kw sy sx dy dx; py = px = 0
    c[160] = sat;
    c[191:176] = in_off[15:0];
    c[207:192] = out_off[15:0];
    c[223:208] = act_min[15:0];
    c[239:224] = act_max[15:0];
    for (int unsigned l = 0; l < Lanes; l++) begin
      // bias is an int32 field: never beyond its range, whatever AccBits.
      bias[l] = rnd_range(-bias_lim, bias_lim - 1);
      if (bias[l] < -(64'sd1 <<< 31)) bias[l] = -(64'sd1 <<< 31);
      if (bias[l] >= (64'sd1 <<< 31)) bias[l] = (64'sd1 <<< 31) - 1;
      mult[l] = longint'(rnd()) >>> mult_drop;  // mult_drop >= 1: 0..2^31-1
      alpha[l] = rnd_range(-(64'sd1 <<< (AlphaBits - 1)), (64'sd1 <<< (AlphaBits - 1)) - 1);
      shift[l] = int'(rnd_range(longint'(shift_lo), longint'(shift_hi)));
      c[256 + 96*l +: 32] = bias[l][31:0];
      c[256 + 96*l + 32 +: 32] = mult[l][31:0];
      c[256 + 96*l + 64 +: 16] = alpha[l][15:0];
      c[256 + 96*l + 80 +: 16] = shift[l][15:0];
    end
    cfg_beats.push_back(c);
    tile_k[t] = k_len;
    tile_m[t] = m_rows;

    for (int unsigned s = 0; s < ns; s++) begin
      logic [WgtW-1:0] w;
      w = '0;
      for (int unsigned l = 0; l < Lanes; l++) begin
        for (int unsigned j = 0; j < KLanes; j++) begin
          int code = int'(rnd() % 3);  // 0, +1, -1
          tw[l][s*KLanes + j] = (code == 2) ? -1 : code;
          w[l*LaneW + 2*j +: 2] = (code == 0) ? 2'b00 : (code == 1) ? 2'b01 : 2'b11;
        end
        for (int e = 0; e < int'(HpPerGroup); e++) begin
          logic [31:0] iv, vv;
          hidx[l][s][e] = int'(rnd() % KLanes);
          hval[l][s][e] = rnd_range(-(64'sd1 <<< (HpBits - 1)), (64'sd1 <<< (HpBits - 1)) - 1);
          iv = hidx[l][s][e];
          vv = hval[l][s][e][31:0];
          w[l*LaneW + 2*KLanes + e*EntW +: EntW] = {vv[HpBits-1:0], iv[IdxW-1:0]};
        end
      end
      wgt_beats.push_back(w);
    end

    exp_ovf[t] = '0;
    for (int unsigned r = 0; r < m_rows; r++) begin
      logic [OutW-1:0] y_row;
      // Every element of every beat is random, including k >= k_len (must be masked).
      for (int unsigned s = 0; s < ns; s++) begin
        logic [ActW-1:0] a;
        for (int unsigned j = 0; j < KLanes; j++) begin
          logic [31:0] xv;
          x[s*KLanes + j] = rnd_range(-(64'sd1 <<< (ActBits - 1)), (64'sd1 <<< (ActBits - 1)) - 1);
          xv = x[s*KLanes + j][31:0];
          a[j*ActBits +: ActBits] = xv[ActBits-1:0];
        end
        act_beats.push_back(a);
      end
      for (int unsigned l = 0; l < Lanes; l++) begin
        longint acc, y;
        bit of, changed;
        of = 1'b0;
        acc = 0;
        for (int unsigned s = 0; s < ns; s++) begin
          longint tsum = 0, hsum = 0, p;
          longint xr[KLanes];
          for (int unsigned j = 0; j < KLanes; j++) begin
            xr[j] = (s*KLanes + j < k_len) ? x[s*KLanes + j] + in_off : 0;
            tsum += xr[j] * tw[l][s*KLanes + j];
          end
          for (int e = 0; e < int'(HpPerGroup); e++) hsum += xr[hidx[l][s][e]] * hval[l][s][e];
          p = alpha[l] * tsum + hsum;
          if (s == 0) begin
            acc = fit(bias[l], sat, changed);
            of |= changed;
          end
          acc = fit(acc + p, sat, changed);
          of |= changed;
        end
        if (of) exp_ovf[t][l] = 1'b1;
        y = out_off + requant(acc, mult[l], shift[l]);
        if (y > act_min && y < act_max) n_inside++;
        if (y < act_min) y = act_min;
        if (y > act_max) y = act_max;
        y_row[l*OutBits +: OutBits] = y[OutBits-1:0];
      end
      exp_out.push_back(y_row);
    end
  endtask

  // ---- the clocked run ----
  int unsigned cycle = 0, n_done = 0, n_out = 0, tile_out = 0, row_slice = 0, row_in = 0;
  int unsigned cfg_cycle, last_slice_cycle[MaxRows];
  int unsigned wgt_in = 0;  // weight slices of the current tile accepted
  int unsigned act_in = 0;  // activation slices of the current tile accepted (the writer)
  int unsigned n_full = 0;  // cycles where a last slice waited for a full pipeline
  bit cfg_taken = 1'b0;     // the current tile's cfg beat was accepted, done_o not yet seen
  bit stress = 1'b0;
  logic [127:0] exp_hwcfg;

  initial begin
    if (!$value$plusargs("seed=%d", seed)) seed = Seed;
    if (seed == 0) seed = Seed;  // xorshift32 never leaves 0
    rng = seed;
    $display("tb_smoke: seed %0d (rerun with +seed=<n>)", seed);
    gen_tile(0, 3*KLanes + 2, 5, 1'b0, 1000, -12, 2, 1);
    gen_tile(1, 5*KLanes + 3, MaxRows - 1, 1'b1, (64'sd1 <<< (AccBits - 1)) + (64'sd1 <<< (AccBits - 3)),
             -14, 1, 1);
    // Tile 2: no right shift and small multipliers, so the doubled high product's rounding
    // (nudge, truncation toward zero) reaches the output unclamped.
    gen_tile(2, KMax - 1, 6, 1'b0, 2048, 0, 0, 5);
    gen_tile(3, KLanes + 1, 2, 1'b0, 64'sd1 <<< 31, -14, -6, 1);

    exp_hwcfg = {16'd0, ActDepth[15:0], KMax[23:0], OutBits[7:0], AccBits[7:0], AlphaBits[7:0],
                 HpBits[7:0], ActBits[7:0], HpPerGroup[7:0], KLanes[7:0], Lanes[7:0], 8'd2};
    repeat (3) @(posedge clk);
    if (cfg_ready || busy || out_valid || done || ovf != '0)
      $fatal(1, "tb_smoke: outputs active during reset");
    #1 rst_n = 1'b1;

    // +illegal_tile: one configuration beat whose window rows do not fit the activation ring
    // (a 3x3 kernel over rows of ActDepth pixels); the RTL's a_cfg_tile assertion must stop
    // the simulation at its handshake (rtl/smoke/illegal-tile expects the message).
    if ($test$plusargs("illegal_tile")) begin
      logic [CfgW-1:0] c;
      c = cfg_beats[0];
      c[47:32] = ActDepth[15:0];  // in_w: 3 rows of ActDepth slices > ActDepth
      c[95:80] = ActDepth[15:0];  // out_w
      c[111:96] = 16'h0303;       // kh = kw = 3
      c[159:144] = 16'h0101;      // py = px = 1
      cfg_data = c;
      cfg_valid = 1'b1;
      repeat (3) @(posedge clk);
      $fatal(1, "tb_smoke: an illegal configuration beat was taken without an assertion");
    end

    forever begin
      bit cfg_hs, wgt_hs, act_hs, out_hs, done_now, step;
      // Inputs of this cycle: a source raises valid at random (always in tile 0) and then
      // holds valid and data until the handshake.
      if (!cfg_valid && cfg_beats.size() > 0 && (!stress || rnd() % 4 != 0)) begin
        cfg_valid = 1'b1;
        cfg_data = cfg_beats.pop_front();
      end
      if (!wgt_valid && wgt_beats.size() > 0 && (!stress || rnd() % 4 != 0)) begin
        wgt_valid = 1'b1;
        wgt_data = wgt_beats.pop_front();
      end
      if (!act_valid && act_beats.size() > 0 && (!stress || rnd() % 5 != 0)) begin
        act_valid = 1'b1;
        act_data = act_beats.pop_front();
      end
      // Tiles 1 and 3: heavy back-pressure (the pipeline fills and act_ready_o drops on last
      // slices); tile 2: out_ready_i at random half of the time.
      out_ready = !stress || (rnd() % ((n_done == 2) ? 2 : 16) == 0);
      #3;  // let the combinational outputs settle (act_ready_o depends on out_ready_i)

      if (hwcfg != exp_hwcfg) $fatal(1, "tb_smoke: hwcfg_o %h, expected %h", hwcfg, exp_hwcfg);
      // Control outputs against the contract (docs/timing.md, version 2), from the streams'
      // positions alone. A fully-connected tile is the 1x1 convolution of an m x 1 image: in
      // LOAD until its ns weight beats are in, then in RUN until the reader has stepped
      // through every row. The writer takes activation beats from LOAD on while beats remain
      // and it is less than ActDepth slices ahead of the reader's row; the reader steps when
      // its slice was written in an earlier cycle and, on a row's last slice, when rq1 is free
      // (not free only when three finished rows wait and out_ready_i is low).
      begin
        int unsigned ns = (tile_k[n_done] + KLanes - 1) / KLanes;
        int unsigned total = tile_m[n_done] * ns;
        bit in_load = cfg_taken && wgt_in < ns;
        bit in_run = cfg_taken && wgt_in == ns && row_in < tile_m[n_done];
        bit last = row_slice == ns - 1;
        bit rq1_free = !(row_in - tile_out == 3 && !out_ready);
        int unsigned oldest = (row_in < tile_m[n_done]) ? row_in * ns : total;
        bit exp_act_ready = cfg_taken && act_in < total && act_in < oldest + ActDepth;
        step = in_run && (row_in * ns + row_slice < act_in) && (!last || rq1_free);
        if (in_run && (row_in * ns + row_slice < act_in) && last && !rq1_free) n_full++;
        if (busy != cfg_taken || cfg_ready != !cfg_taken || wgt_ready != in_load ||
            act_ready != exp_act_ready)
          $fatal(1, "tb_smoke: cycle %0d: busy %0d cfg_ready %0d wgt_ready %0d act_ready %0d, expected %0d %0d %0d %0d",
                 cycle, busy, cfg_ready, wgt_ready, act_ready, cfg_taken, !cfg_taken, in_load,
                 exp_act_ready);
      end
      cfg_hs = cfg_valid && cfg_ready;
      wgt_hs = wgt_valid && wgt_ready;
      act_hs = act_valid && act_ready;
      out_hs = out_valid && out_ready;
      done_now = done;
      if (cfg_hs) cfg_cycle = cycle;
      if (wgt_hs) wgt_in++;
      if (act_hs) act_in++;
      if (step) begin
        row_slice++;
        if (row_slice == (tile_k[n_done] + KLanes - 1) / KLanes) begin
          if (n_done == 0) last_slice_cycle[row_in] = cycle;
          row_slice = 0;
          row_in++;
        end
      end
      if (out_valid && n_done == 0 && cycle != last_slice_cycle[tile_out] + 3)
        $fatal(1, "tb_smoke: tile 0 row %0d on out_data_o in cycle %0d, its last step was taken in cycle %0d (expected +3)",
               tile_out, cycle, last_slice_cycle[tile_out]);
      if (out_hs) begin
        logic [OutW-1:0] e;
        if (exp_out.size() == 0) $fatal(1, "tb_smoke: unexpected output beat in cycle %0d", cycle);
        e = exp_out.pop_front();
        for (int unsigned l = 0; l < Lanes; l++) begin
          if (out_data[l*OutBits +: OutBits] != e[l*OutBits +: OutBits])
            $fatal(1, "tb_smoke: tile %0d row %0d lane %0d: got %0d, expected %0d (cycle %0d, seed %0d)",
                   n_done, tile_out, l, $signed(out_data[l*OutBits +: OutBits]),
                   $signed(e[l*OutBits +: OutBits]), cycle, seed);
        end
        n_out++;
        tile_out++;
      end
      if (done) begin
        if (ovf != exp_ovf[n_done])
          $fatal(1, "tb_smoke: tile %0d ovf_o %b, expected %b", n_done, ovf, exp_ovf[n_done]);
        if (tile_out != tile_m[n_done])
          $fatal(1, "tb_smoke: tile %0d done after %0d of %0d rows", n_done, tile_out, tile_m[n_done]);
        if (n_done == 0) begin
          int unsigned ns = (tile_k[0] + KLanes - 1) / KLanes;
          if (cycle - cfg_cycle + 1 != 1 + ns + tile_m[0] * ns + 4)
            $fatal(1, "tb_smoke: tile 0 took %0d cycles, the contract says %0d",
                   cycle - cfg_cycle + 1, 1 + ns + tile_m[0] * ns + 4);
        end
        $display("tb_smoke: tile %0d done in cycle %0d, %0d rows, ovf %b", n_done, cycle, tile_out, ovf);
        n_done++;
        tile_out = 0;
        row_in = 0;
        wgt_in = 0;
        act_in = 0;
        stress = 1'b1;
      end
      if (n_done == NTiles) begin
        if (exp_out.size() != 0) $fatal(1, "tb_smoke: %0d rows missing", exp_out.size());
        $display("tb_smoke: PASS (%0d tiles, %0d rows x %0d lanes, %0d outputs not clamped, %0d cycles, %0d with a full pipeline)",
                 NTiles, n_out, Lanes, n_inside, cycle, n_full);
        $finish;
      end
      if (cycle > 20000) $fatal(1, "tb_smoke: timeout in cycle %0d (state busy=%0d)", cycle, busy);

      @(posedge clk);
      #1;
      if (cfg_hs) cfg_valid = 1'b0;
      if (cfg_hs) cfg_taken = 1'b1;
      if (done_now) cfg_taken = 1'b0;
      if (wgt_hs) wgt_valid = 1'b0;
      if (act_hs) act_valid = 1'b0;
      cycle++;
    end
  end

endmodule
