// SPDX-License-Identifier: Apache-2.0
//
// mpq_win: the window generator and the activation ring's control (docs/timing.md, "The
// activation ring and the window generator").
//
// Writer: every activation beat of the tile (one KLanes-channel slice of one input pixel;
// pixels in raster order, image after image, ceil(c_len/KLanes) slices each) is written once
// into the ring (mpq_ram u_abuf in mpq_top), at slice count modulo ActDepth. act_ready_o is
// high while beats remain and the ring has room: the slices of input rows that no output row
// still to come can read are free (the oldest protected row is the first input row of the
// current output row's windows).
//
// Reader: the output pixels in raster order, image after image; for each, its window's taps
// (ky, kx) in order and at each tap the channel slices s: one step of the lanes per cycle.
// A tap outside the input is padding (the step's activations are the zero point: xr = 0);
// any other tap's slice must have been written (its global slice count below the writer's).
// The last step of a pixel finishes it (the lanes' row goes to rq1), so it also waits for rq1.
// The weight buffer is read at the step's index within the pixel (tap * slices + s).
// A fully-connected layer is the 1x1 case: in_h = M rows, in_w = 1, c_len = K.
//
// Latency: none (every output is a function of the registers and of rq1_free_i, act_valid_i).

module mpq_win #(
  parameter int unsigned KLanes = mpq_layout_pkg::KLANES_DEFAULT,
  parameter int unsigned KMax = mpq_layout_pkg::KMAX_DEFAULT,
  parameter int unsigned ActDepth = mpq_layout_pkg::ACT_DEPTH_DEFAULT,
  localparam int unsigned IdxW = mpq_layout_pkg::idx_w(KLanes),
  localparam int unsigned NSlicesMax = KMax / KLanes,
  localparam int unsigned WAddrW = (NSlicesMax <= 2) ? 1 : $clog2(NSlicesMax),
  localparam int unsigned AAddrW = (ActDepth <= 2) ? 1 : $clog2(ActDepth)
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      start_i,     // configuration handshake: a tile begins
  input  mpq_layout_pkg::cfg_tile_t tile_i,      // the tile's fields (latched beat)
  input  logic                      write_en_i,  // the writer may take beats (LOAD, RUN, DRAIN)
  input  logic                      read_en_i,   // the reader may step (RUN)
  // writer
  input  logic                      act_valid_i,
  output logic                      act_ready_o,
  output logic                      we_o,        // write the beat into the ring at waddr_o
  output logic [AAddrW-1:0]         waddr_o,
  // reader
  input  logic                      rq1_free_i,  // rq1 can take a finished pixel
  output logic                      step_o,      // the lanes take a step this cycle
  output logic                      first_o,     // the step is its pixel's first (start from bias)
  output logic                      last_o,      // the step is its pixel's last (to rq1)
  output logic [AAddrW-1:0]         raddr_o,     // ring address of the step's slice
  output logic [WAddrW-1:0]         wslot_o,     // weight-buffer entry of the step
  output logic [15:0]               slice_o,     // the step's channel slice s (its elements
                                                 // s*KLanes + j at or past c_len are masked)
  output logic                      pad_o,       // the step's tap lies outside the input
  output logic                      read_done_o, // every pixel of the tile read
  output logic                      done_o,      // every pixel read and every beat written
  // where the reader is (reports, white-box)
  output logic [15:0]               b_o,
  output logic [15:0]               oy_o,
  output logic [15:0]               ox_o,
  output logic [7:0]                ky_o,
  output logic [7:0]                kx_o
);

  // ---------------------------------------------------------------------------
  // Geometry of the tile (constant while it runs)
  // ---------------------------------------------------------------------------
  logic [15:0] n_slices;  // ceil(c_len / KLanes): slices per pixel
  logic [47:0] total;     // slices of the tile: batches * in_h * in_w * n_slices
  assign n_slices = 16'((32'(tile_i.c_len) + KLanes - 1) >> IdxW);
  assign total = 48'(tile_i.batches) * 48'(tile_i.in_h) * 48'(tile_i.in_w) * 48'(n_slices);

  // ---------------------------------------------------------------------------
  // Registers: the writer's count, the reader's position
  // ---------------------------------------------------------------------------
  logic [31:0] wcount_q, wcount_d;          // slices written in this tile
  logic [15:0] b_q, b_d, oy_q, oy_d, ox_q, ox_d, s_q, s_d;
  logic [7:0] ky_q, ky_d, kx_q, kx_d;
  logic [WAddrW-1:0] wslot_q, wslot_d;      // the step's index within its pixel
  logic rdone_q, rdone_d;                   // the reader has finished the tile

  // ---------------------------------------------------------------------------
  // The reader's tap: input row and column, padding, and its slice's global count
  // ---------------------------------------------------------------------------
  logic signed [24:0] iy, ix;               // oy*sy - py + ky*dy (and x), exact
  logic signed [24:0] iy_lo;                // oy*sy - py: first input row of this output row
  logic [47:0] need;                        // global slice count of the step's slice
  logic [47:0] oldest;                      // first slice an unread window may still need
  logic pad, ready, last;

  // The input's height and width as signed values, so that every comparison below is
  // signed (a comparison with an unsigned operand would be unsigned and a negative row
  // would count as past the bottom).
  logic signed [24:0] in_h_s, in_w_s;
  assign in_h_s = 25'(tile_i.in_h);
  assign in_w_s = 25'(tile_i.in_w);
  assign iy_lo = 25'(oy_q) * 25'(tile_i.sy) - 25'(tile_i.py);
  assign iy = iy_lo + 25'(ky_q) * 25'(tile_i.dy);
  assign ix = 25'(ox_q) * 25'(tile_i.sx) - 25'(tile_i.px) + 25'(kx_q) * 25'(tile_i.dx);
  assign pad = iy < 0 || iy >= in_h_s || ix < 0 || ix >= in_w_s;

  always_comb begin
    logic [47:0] row, lo;
    // Only meaningful when the tap lies inside the input (0 <= iy < in_h, 0 <= ix < in_w).
    row = 48'(b_q) * 48'(tile_i.in_h) + 48'(iy[23:0]);
    need = (row * 48'(tile_i.in_w) + 48'(ix[23:0])) * 48'(n_slices) + 48'(s_q);
    // The ring keeps the input rows from this output row's first on (clamped to the image).
    lo = (iy_lo < 0) ? 48'd0 : (iy_lo > in_h_s) ? 48'(tile_i.in_h) : 48'(iy_lo[23:0]);
    oldest = rdone_q ? total : (48'(b_q) * 48'(tile_i.in_h) + lo) * 48'(tile_i.in_w) * 48'(n_slices);
  end

  assign last = (s_q == n_slices - 16'd1) && (kx_q == tile_i.kw - 8'd1) &&
                (ky_q == tile_i.kh - 8'd1);
  assign ready = pad || (need < 48'(wcount_q));
  assign step_o = read_en_i && !rdone_q && ready && (!last || rq1_free_i);
  assign first_o = (wslot_q == '0);
  assign last_o = last;
  assign raddr_o = need[AAddrW-1:0];
  assign wslot_o = wslot_q;
  assign slice_o = s_q;
  assign pad_o = pad;

  // ---------------------------------------------------------------------------
  // The writer: a beat when slices remain and the ring has room
  // ---------------------------------------------------------------------------
  assign act_ready_o = write_en_i && (48'(wcount_q) < total) &&
                       (48'(wcount_q) < oldest + 48'(ActDepth));
  assign we_o = act_valid_i && act_ready_o;
  assign waddr_o = wcount_q[AAddrW-1:0];
  assign read_done_o = rdone_q;
  assign done_o = rdone_q && (48'(wcount_q) == total);

  // ---------------------------------------------------------------------------
  // Next state: the reader's loops (s innermost, then kx, ky, ox, oy, b)
  // ---------------------------------------------------------------------------
  always_comb begin
    wcount_d = wcount_q + (we_o ? 32'd1 : 32'd0);
    b_d = b_q;
    oy_d = oy_q;
    ox_d = ox_q;
    ky_d = ky_q;
    kx_d = kx_q;
    s_d = s_q;
    wslot_d = wslot_q;
    rdone_d = rdone_q;
    if (step_o) begin
      wslot_d = last ? '0 : wslot_q + 1'b1;
      if (s_q != n_slices - 16'd1) begin
        s_d = s_q + 16'd1;
      end else begin
        s_d = '0;
        if (kx_q != tile_i.kw - 8'd1) begin
          kx_d = kx_q + 8'd1;
        end else begin
          kx_d = '0;
          if (ky_q != tile_i.kh - 8'd1) begin
            ky_d = ky_q + 8'd1;
          end else begin
            ky_d = '0;
            if (ox_q != tile_i.out_w - 16'd1) begin
              ox_d = ox_q + 16'd1;
            end else begin
              ox_d = '0;
              if (oy_q != tile_i.out_h - 16'd1) begin
                oy_d = oy_q + 16'd1;
              end else begin
                oy_d = '0;
                if (b_q != tile_i.batches - 16'd1) begin
                  b_d = b_q + 16'd1;
                end else begin
                  rdone_d = 1'b1;
                end
              end
            end
          end
        end
      end
    end
    if (start_i) begin
      wcount_d = '0;
      b_d = '0;
      oy_d = '0;
      ox_d = '0;
      ky_d = '0;
      kx_d = '0;
      s_d = '0;
      wslot_d = '0;
      rdone_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wcount_q <= '0;
      b_q <= '0;
      oy_q <= '0;
      ox_q <= '0;
      ky_q <= '0;
      kx_q <= '0;
      s_q <= '0;
      wslot_q <= '0;
      rdone_q <= 1'b0;
    end else begin
      wcount_q <= wcount_d;
      b_q <= b_d;
      oy_q <= oy_d;
      ox_q <= ox_d;
      ky_q <= ky_d;
      kx_q <= kx_d;
      s_q <= s_d;
      wslot_q <= wslot_d;
      rdone_q <= rdone_d;
    end
  end

  // The tile's arithmetic fields (acc_sat, offsets, clamp) are mpq_top's, not the window's.
  logic unused_tile;
  assign unused_tile = ^{tile_i.acc_sat, tile_i.reserved_161, tile_i.in_offset, tile_i.out_offset,
                         tile_i.act_min, tile_i.act_max, tile_i.reserved_240};

  assign b_o = b_q;
  assign oy_o = oy_q;
  assign ox_o = ox_q;
  assign ky_o = ky_q;
  assign kx_o = kx_q;

endmodule
