// SPDX-License-Identifier: Apache-2.0
//
// osa_top: an int8 output-stationary systolic array with AXI4-Stream ports, the example
// accelerator that mpq verifies from its description (examples/osa/osa.dut, docs/own-dut.md).
// It computes a layer as a matrix product: every output pixel is the dot product of an im2col
// row of K activations (the host forms the windows) with each output channel's K weights, plus
// the channel's bias, requantized per channel as TFLite does.
//
// A layer, on four streams of its own:
//   s_axis_cfg  32-bit words: K, N, P, in_offset, out_offset, act_min, act_max (tlast on the
//               last), then per channel bias, mult, shift (tlast on the last);
//   s_axis_wgt  the weights, 8 int8 per beat: channel after channel, each channel's K padded to
//               whole beats (tlast on the last beat);
//   s_axis_act  the im2col rows, 8 int8 per beat, each row padded to whole beats (tlast on the
//               last beat of each row);
//   m_axis_out  the outputs, 8 int8 per beat: pixel after pixel, each pixel's N channels padded
//               with zeros to whole beats (tlast on the last beat of each pixel).
// The weights of a whole layer stay in Cols weight banks (at most NMax channels of KMax); the
// array then takes Rows im2col rows at a time (a tile), computes them Cols channels at a time
// (a channel tile: K + Rows + Cols - 1 cycles), while the requantizer drains the previous
// channel tile's accumulators into the output buffer, one per cycle; the tile's pixels leave
// when every channel is done, and the next tile's rows are taken.

module osa_top #(
  parameter int unsigned Rows = 4,     // output pixels per tile
  parameter int unsigned Cols = 4,     // output channels per channel tile
  parameter int unsigned KMax = 1024,  // the longest im2col row (a multiple of 8)
  parameter int unsigned NMax = 64     // the most output channels (a multiple of 8 and of Cols)
) (
  input  logic        aclk,
  input  logic        aresetn,
  input  logic        s_axis_cfg_tvalid,
  output logic        s_axis_cfg_tready,
  input  logic [31:0] s_axis_cfg_tdata,
  input  logic        s_axis_cfg_tlast,
  input  logic        s_axis_wgt_tvalid,
  output logic        s_axis_wgt_tready,
  input  logic [63:0] s_axis_wgt_tdata,
  input  logic        s_axis_wgt_tlast,
  input  logic        s_axis_act_tvalid,
  output logic        s_axis_act_tready,
  input  logic [63:0] s_axis_act_tdata,
  input  logic        s_axis_act_tlast,
  output logic        m_axis_out_tvalid,
  input  logic        m_axis_out_tready,
  output logic [63:0] m_axis_out_tdata,
  output logic        m_axis_out_tlast,
  output logic        busy_o
);

  import osa_pkg::*;

  localparam int unsigned KWords = KMax / BeatBytes;       // beats of the longest row
  localparam int unsigned Groups = NMax / Cols;            // channel tiles of the most channels
  localparam int unsigned NWords = NMax / BeatBytes;       // output beats of the widest pixel
  localparam int unsigned KW = $clog2(KMax + 1);
  localparam int unsigned NW = $clog2(NMax + 1);
  localparam int unsigned NAddrW = $clog2(NMax);
  localparam int unsigned WAddrW = $clog2(Groups * KWords);
  localparam int unsigned KWordW = $clog2(KWords);
  localparam int unsigned GroupW = Groups > 1 ? $clog2(Groups) : 1;
  localparam int unsigned BankW = Cols > 1 ? $clog2(Cols) : 1;
  localparam int unsigned RowW = Rows > 1 ? $clog2(Rows) : 1;
  localparam int unsigned NWordW = NWords > 1 ? $clog2(NWords) : 1;
  localparam int unsigned StepW = $clog2(KMax + Rows + Cols + 1);

  if (KMax % BeatBytes != 0 || NMax % BeatBytes != 0 || NMax % Cols != 0 || Rows < 1 || Cols < 1) begin : g_bad
    $fatal(1, "osa_top: KMax and NMax must be multiples of 8, NMax a multiple of Cols");
  end

  logic clk, rst_n;
  assign clk = aclk;
  assign rst_n = aresetn;

  state_e state_q, state_d;

  // ---- The configuration: words into registers, per-channel parameters into their memories.
  logic [KW-1:0] k_q;
  logic [NW-1:0] n_q;
  logic [31:0] p_q;
  logic signed [XsW-1:0] in_off_q; // [-256, 255] (the description's limit)
  logic signed [31:0] out_off_q, act_min_q, act_max_q;
  logic signed [31:0] bias_mem [NMax], mult_mem [NMax], shift_mem [NMax];
  logic [2:0] cfg_idx_q;           // configuration word being taken
  logic [NW-1:0] par_ch_q;         // the channel whose parameters are being taken
  logic [1:0] par_slot_q;          // bias, mult, shift
  logic cfg_hs;

  assign s_axis_cfg_tready = state_q == StCfg || state_q == StParam;
  assign cfg_hs = s_axis_cfg_tvalid && s_axis_cfg_tready;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      cfg_idx_q <= '0;
      par_ch_q <= '0;
      par_slot_q <= '0;
      k_q <= '0;
      n_q <= '0;
      p_q <= '0;
      in_off_q <= '0;
      out_off_q <= '0;
      act_min_q <= '0;
      act_max_q <= '0;
    end else if (cfg_hs && state_q == StCfg) begin
      unique case (32'(cfg_idx_q))
        CfgK:         k_q <= KW'(s_axis_cfg_tdata);
        CfgN:         n_q <= NW'(s_axis_cfg_tdata);
        CfgP:         p_q <= s_axis_cfg_tdata;
        CfgInOffset:  in_off_q <= XsW'(s_axis_cfg_tdata);
        CfgOutOffset: out_off_q <= s_axis_cfg_tdata;
        CfgActMin:    act_min_q <= s_axis_cfg_tdata;
        CfgActMax:    act_max_q <= s_axis_cfg_tdata;
        default:      ;
      endcase
      cfg_idx_q <= 32'(cfg_idx_q) == CfgWords - 1 ? '0 : cfg_idx_q + 3'd1;
      par_ch_q <= '0;
      par_slot_q <= '0;
    end else if (cfg_hs) begin
      par_slot_q <= par_slot_q == 2'(ParamWords - 1) ? 2'd0 : par_slot_q + 2'd1;
      par_ch_q <= par_slot_q == 2'(ParamWords - 1) ? par_ch_q + 1'b1 : par_ch_q;
    end
  end

  always_ff @(posedge clk) begin
    if (cfg_hs && state_q == StParam) begin
      unique case (par_slot_q)
        2'd0:    bias_mem[NAddrW'(par_ch_q)] <= s_axis_cfg_tdata;
        2'd1:    mult_mem[NAddrW'(par_ch_q)] <= s_axis_cfg_tdata;
        default: shift_mem[NAddrW'(par_ch_q)] <= s_axis_cfg_tdata;
      endcase
    end
  end

  // ---- Weights: channel ch's beat j into bank ch % Cols, word (ch / Cols) * KWords + j.
  logic [63:0] wmem [Cols][Groups * KWords];
  logic [BankW-1:0] w_bank_q;
  logic [GroupW-1:0] w_group_q;
  logic [KWordW:0] w_word_q;
  logic [NW-1:0] w_ch_q;
  logic [KWordW:0] k_words;        // beats of a row: ceil(K / 8)
  logic wgt_hs, w_row_end;

  assign k_words = (KWordW + 1)'((32'(k_q) + BeatBytes - 1) / BeatBytes);
  assign s_axis_wgt_tready = state_q == StWgt;
  assign wgt_hs = s_axis_wgt_tvalid && s_axis_wgt_tready;
  assign w_row_end = w_word_q == k_words - 1'b1;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      w_bank_q <= '0;
      w_group_q <= '0;
      w_word_q <= '0;
      w_ch_q <= '0;
    end else if (state_q != StWgt) begin
      w_bank_q <= '0;
      w_group_q <= '0;
      w_word_q <= '0;
      w_ch_q <= '0;
    end else if (wgt_hs) begin
      w_word_q <= w_row_end ? '0 : w_word_q + 1'b1;
      if (w_row_end) begin
        w_ch_q <= w_ch_q + 1'b1;
        w_bank_q <= 32'(w_bank_q) == Cols - 1 ? '0 : w_bank_q + 1'b1;
        w_group_q <= 32'(w_bank_q) == Cols - 1 ? w_group_q + 1'b1 : w_group_q;
      end
    end
  end

  always_ff @(posedge clk) begin
    if (wgt_hs) begin
      wmem[w_bank_q][WAddrW'(32'(w_group_q) * KWords + 32'(w_word_q))] <= s_axis_wgt_tdata;
    end
  end

  // ---- Activations: the tile's row r, beat j into bank r, word j.
  logic [63:0] amem [Rows][KWords];
  logic [RowW-1:0] a_row_q;
  logic [KWordW:0] a_word_q;
  logic [31:0] pix0_q;             // the tile's first output pixel
  logic [RowW:0] rows;             // the tile's pixels: min(Rows, P - pix0)
  logic act_hs, a_row_end;

  assign rows = p_q - pix0_q >= 32'(Rows) ? (RowW + 1)'(Rows) : (RowW + 1)'(p_q - pix0_q);
  assign s_axis_act_tready = state_q == StAct;
  assign act_hs = s_axis_act_tvalid && s_axis_act_tready;
  assign a_row_end = a_word_q == k_words - 1'b1;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      a_row_q <= '0;
      a_word_q <= '0;
    end else if (state_q != StAct) begin
      a_row_q <= '0;
      a_word_q <= '0;
    end else if (act_hs) begin
      a_word_q <= a_row_end ? '0 : a_word_q + 1'b1;
      a_row_q <= a_row_end ? a_row_q + 1'b1 : a_row_q;
    end
  end

  always_ff @(posedge clk) begin
    if (act_hs) begin
      amem[a_row_q][a_word_q[KWordW-1:0]] <= s_axis_act_tdata;
    end
  end

  // ---- The array: step s of a channel tile reads element s (< K) of every row and of every
  // column's channel (a registered read, so the feeders give it one cycle later); after
  // K + Rows + Cols - 1 steps the tile's products are all in, and at step T the accumulators
  // move to the requantizer's registers (res_q) when those are free, and the array is cleared.
  logic [StepW-1:0] step_q, t_last;
  logic [GroupW:0] ct_q;           // the channel tile (n_tiles once the last is done)
  logic [GroupW:0] n_tiles;        // ceil(N / Cols)
  logic rd_valid_q;
  logic [2:0] rd_byte_q;
  logic [63:0] a_rd_q [Rows], w_rd_q [Cols];
  logic signed [XsW-1:0] x_feed [Rows];
  logic signed [7:0] w_feed [Cols];
  logic signed [31:0] acc [Rows][Cols];
  logic copy;                      // the accumulators move to res_q (and the array clears)
  logic res_valid_q, drain_last;

  assign n_tiles = (GroupW + 1)'((32'(n_q) + Cols - 1) / Cols);
  assign t_last = StepW'(32'(k_q) + Rows + Cols - 1);
  assign copy = state_q == StRun && ct_q < n_tiles && step_q == t_last && !res_valid_q;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      step_q <= '0;
      ct_q <= '0;
      rd_valid_q <= 1'b0;
      rd_byte_q <= '0;
    end else begin
      rd_valid_q <= state_q == StRun && 32'(step_q) < 32'(k_q);
      rd_byte_q <= step_q[2:0];
      if (state_q != StRun) begin
        step_q <= '0;
        ct_q <= '0;
      end else if (copy) begin
        step_q <= '0;
        ct_q <= ct_q + 1'b1;
      end else if (step_q != t_last && ct_q < n_tiles) begin
        step_q <= step_q + 1'b1;
      end
    end
  end

  for (genvar r = 0; r < Rows; r++) begin : g_arow
    always_ff @(posedge clk) begin
      a_rd_q[r] <= amem[r][KWordW'(32'(step_q) / BeatBytes)];
    end
    assign x_feed[r] = rd_valid_q ? XsW'($signed(a_rd_q[r][8*rd_byte_q +: 8])) + in_off_q : '0;
  end

  for (genvar c = 0; c < Cols; c++) begin : g_wcol
    logic ch_live_q;
    always_ff @(posedge clk) begin
      w_rd_q[c] <= wmem[c][WAddrW'(32'(ct_q) * KWords + 32'(step_q) / BeatBytes)];
      ch_live_q <= 32'(ct_q) * Cols + c < 32'(n_q);
    end
    assign w_feed[c] = rd_valid_q && ch_live_q ? $signed(w_rd_q[c][8*rd_byte_q +: 8]) : '0;
  end

  osa_array #(.Rows(Rows), .Cols(Cols), .XsW(XsW)) u_array (
    .clk_i   (clk),
    .rst_ni  (rst_n),
    .clear_i (copy),
    .x_i     (x_feed),
    .w_i     (w_feed),
    .acc_o   (acc)
  );

  // ---- The requantizer: one accumulator of res_q per cycle into the output buffer (pixel r,
  // channel ct * Cols + c), while the array computes the next channel tile.
  logic signed [31:0] res_q [Rows][Cols];
  logic [GroupW:0] res_ct_q;
  logic [RowW-1:0] dr_q;
  logic [BankW-1:0] dc_q;
  logic [NW-1:0] d_ch;
  logic signed [7:0] y;
  logic [63:0] obuf [Rows][NWords];

  assign d_ch = NW'(32'(res_ct_q) * Cols + 32'(dc_q));
  assign drain_last = 32'(dr_q) == Rows - 1 && 32'(dc_q) == Cols - 1;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      res_valid_q <= 1'b0;
      res_ct_q <= '0;
      dr_q <= '0;
      dc_q <= '0;
    end else if (copy) begin
      res_valid_q <= 1'b1;
      res_ct_q <= ct_q;
      dr_q <= '0;
      dc_q <= '0;
    end else if (res_valid_q) begin
      res_valid_q <= !drain_last;
      dc_q <= 32'(dc_q) == Cols - 1 ? '0 : dc_q + 1'b1;
      dr_q <= 32'(dc_q) == Cols - 1 ? dr_q + 1'b1 : dr_q;
    end
  end

  always_ff @(posedge clk) begin
    if (copy) begin
      res_q <= acc;
    end
  end

  osa_requant u_requant (
    .acc_i        (res_q[dr_q][dc_q]),
    .bias_i       (bias_mem[NAddrW'(d_ch)]),
    .mult_i       (mult_mem[NAddrW'(d_ch)]),
    .shift_i      (shift_mem[NAddrW'(d_ch)]),
    .out_offset_i (out_off_q),
    .act_min_i    (act_min_q),
    .act_max_i    (act_max_q),
    .y_o          (y)
  );

  always_ff @(posedge clk) begin
    if (res_valid_q && d_ch < n_q) begin
      obuf[dr_q][NWordW'(d_ch >> 3)][8*d_ch[2:0] +: 8] <= y;
    end
  end

  // ---- The tile's pixels out: pixel r's N channels in ceil(N / 8) beats, the bytes past N
  // zero.
  logic [RowW:0] o_row_q;
  logic [NWordW:0] o_word_q;
  logic [NWordW:0] n_words;
  logic out_valid_q, out_last_q, out_hs, out_load, out_done;
  logic [63:0] out_data_q, out_mask;

  assign n_words = (NWordW + 1)'((32'(n_q) + BeatBytes - 1) / BeatBytes);
  assign out_hs = out_valid_q && m_axis_out_tready;
  assign out_done = o_row_q == rows;
  assign out_load = state_q == StOut && !out_done && (!out_valid_q || m_axis_out_tready);

  always_comb begin
    out_mask = '1;
    for (int b = 0; b < BeatBytes; b++) begin
      if (32'(o_word_q) * BeatBytes + b >= 32'(n_q)) out_mask[8*b +: 8] = 8'h00;
    end
  end

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      out_valid_q <= 1'b0;
      out_data_q <= '0;
      out_last_q <= 1'b0;
      o_row_q <= '0;
      o_word_q <= '0;
    end else if (state_q != StOut) begin
      o_row_q <= '0;
      o_word_q <= '0;
      if (out_hs) out_valid_q <= 1'b0;
    end else if (out_load) begin
      out_valid_q <= 1'b1;
      out_data_q <= obuf[o_row_q[RowW-1:0]][o_word_q[NWordW-1:0]] & out_mask;
      out_last_q <= o_word_q == n_words - 1'b1;
      o_word_q <= o_word_q == n_words - 1'b1 ? '0 : o_word_q + 1'b1;
      o_row_q <= o_word_q == n_words - 1'b1 ? o_row_q + 1'b1 : o_row_q;
    end else if (out_hs) begin
      out_valid_q <= 1'b0;
    end
  end

  assign m_axis_out_tvalid = out_valid_q;
  assign m_axis_out_tdata = out_data_q;
  assign m_axis_out_tlast = out_last_q;

  // ---- The controller.
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      state_q <= StCfg;
      pix0_q <= '0;
    end else begin
      state_q <= state_d;
      if (state_q == StCfg) pix0_q <= '0;
      else if (state_q == StOut && state_d != StOut) pix0_q <= pix0_q + Rows;
    end
  end

  always_comb begin
    state_d = state_q;
    unique case (state_q)
      StCfg:   if (cfg_hs && 32'(cfg_idx_q) == CfgWords - 1) state_d = StParam;
      StParam: if (cfg_hs && par_ch_q == n_q - 1'b1 && 32'(par_slot_q) == ParamWords - 1) state_d = StWgt;
      StWgt:   if (wgt_hs && w_row_end && w_ch_q == n_q - 1'b1) state_d = StAct;
      StAct:   if (act_hs && a_row_end && (RowW + 1)'(a_row_q) == rows - 1'b1) state_d = StRun;
      StRun:   if (res_valid_q && drain_last && 32'(res_ct_q) == 32'(n_tiles) - 1) state_d = StOut;
      StOut:   if (out_done && (!out_valid_q || out_hs)) state_d = pix0_q + Rows >= p_q ? StCfg : StAct;
      default: state_d = StCfg;
    endcase
  end

  assign busy_o = state_q != StCfg || cfg_idx_q != '0;

  // ---- The stream rules and the configuration's ranges (Verilator --assert).
`ifndef SYNTHESIS
  logic out_wait_q;
  logic [63:0] out_held_q;
  logic out_held_last_q;
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      out_wait_q <= 1'b0;
    end else begin
      out_wait_q <= m_axis_out_tvalid && !m_axis_out_tready;
      out_held_q <= m_axis_out_tdata;
      out_held_last_q <= m_axis_out_tlast;
    end
  end
  always_ff @(posedge clk) begin
    if (rst_n) begin
      OutValidHeld_A: assert (!out_wait_q || m_axis_out_tvalid)
        else $error("osa_top: m_axis_out_tvalid dropped before the handshake");
      OutDataStable_A: assert (!out_wait_q || (m_axis_out_tdata == out_held_q && m_axis_out_tlast == out_held_last_q))
        else $error("osa_top: m_axis_out_tdata or tlast changed before the handshake");
      CfgInRange_A: assert (state_q != StParam || (k_q != '0 && 32'(k_q) <= KMax && n_q != '0 &&
                                                   32'(n_q) <= NMax && p_q != '0))
        else $error("osa_top: a layer of K=%0d N=%0d P=%0d does not fit (KMax %0d, NMax %0d)", k_q, n_q, p_q,
                    KMax, NMax);
      CfgLast_A: assert (!cfg_hs || s_axis_cfg_tlast == ((state_q == StCfg && 32'(cfg_idx_q) == CfgWords - 1) ||
                                                         (state_q == StParam && par_ch_q == n_q - 1'b1 &&
                                                          32'(par_slot_q) == ParamWords - 1)))
        else $error("osa_top: s_axis_cfg_tlast out of place");
      WgtLast_A: assert (!wgt_hs || s_axis_wgt_tlast == (w_row_end && w_ch_q == n_q - 1'b1))
        else $error("osa_top: s_axis_wgt_tlast out of place");
      ActLast_A: assert (!act_hs || s_axis_act_tlast == a_row_end)
        else $error("osa_top: s_axis_act_tlast out of place");
    end
  end
`endif

endmodule
