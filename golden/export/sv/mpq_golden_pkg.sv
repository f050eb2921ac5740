// SPDX-License-Identifier: Apache-2.0
//
// mpq_golden_pkg: mpq's bit-exact golden model as the scoreboard of a SystemVerilog or UVM
// testbench, on any simulator with DPI-C (docs/scoreboard.md).
//
//   * `import "DPI-C"` declarations of golden/export/sv/mpq_golden_dpi.c, a thin adapter over
//     the golden library's scoreboard API (golden/export/mpq_sb.h, whose comments are the
//     manual of each call): declare a layer (FC, conv2d with groups/stride/padding/dilation,
//     depthwise, average and max pooling), give its tensors and quantization parameters,
//     run it, read its output tensor, accumulators and overflow report, compare the DUT's
//     outputs and describe a mismatch; and the stateless helpers (TFLite's QuantizeMultiplier,
//     one requantized value, an accumulator fit, TFLite padding).
//   * mpq_golden_layer, a class over one layer handle that takes and returns dynamic arrays
//     (what transactions carry) and moves them through the DPI calls in pieces of CHUNK
//     elements held in fixed-size arrays: simulators need not pass dynamic arrays to open
//     arrays (Verilator 5.006 to 5.048 cannot), fixed ones they all can.
//
// Every function returns a status, 0 (MPQ_OK) or negative (MPQ_EPARAM, MPQ_ENOMEM), with the
// reason in error(); nothing prints or stops the simulation: the testbench decides.
// Link: build/libmpq_dpi.so (`make export`; -sv_lib on most simulators), or compile
// mpq_golden_dpi.c with -I golden and link build/libmpq.a (Verilator: give both files).

package mpq_golden_pkg;

  // ---- Constants of golden/arith/mpq.h and golden/export/mpq_sb.h -------------------------
  // The same values as the C enums; mpq_dpi_name() returns the C side's name of each, which
  // the package's test compares (golden/export/tests/tb_golden_dpi.sv). They are offered to
  // the testbench, which uses some of them: unused ones are no lint finding.
  /* verilator lint_off UNUSEDPARAM */
  localparam int MPQ_OK = 0;
  localparam int MPQ_EPARAM = -1;
  localparam int MPQ_ENOMEM = -2;

  typedef enum int {
    MPQ_LAYER_FC        = 0,
    MPQ_LAYER_CONV2D    = 1,  // weights OHWI [out_c][kh][kw][in_c/groups]
    MPQ_LAYER_DEPTHWISE = 2,  // weights [kh][kw][out_c], out_c = in_c * channel multiplier
    MPQ_LAYER_AVGPOOL   = 3,
    MPQ_LAYER_MAXPOOL   = 4
  } mpq_layer_e;

  typedef enum int {
    MPQ_SB_X     = 0,   // activations: FC [m][k], spatial NHWC
    MPQ_SB_W     = 1,   // dense weights
    MPQ_SB_T     = 2,   // ternary weights -1/0/+1, layout of W
    MPQ_SB_ALPHA = 3,   // ternary scale per output channel
    MPQ_SB_HP    = 4,   // sparse high-precision weights, dense form, layout of W
    MPQ_SB_BIAS  = 5,
    MPQ_SB_MULT  = 6,   // requantization multipliers (1 or one per channel)
    MPQ_SB_SHIFT = 7,   // requantization shifts (TFLite's: left positive)
    MPQ_SB_Y     = 8,   // outputs (read only): FC [m][n], spatial NHWC
    MPQ_SB_OVF   = 9,   // per output: MPQ_OVF_FINAL | MPQ_OVF_ANY (read only)
    MPQ_SB_FIRST = 10   // per output: reduction index of the first overflowing fit, -1 none
  } mpq_tensor_e;

  typedef enum int {
    MPQ_RQ_DOUBLE      = 0,  // TFLite's double rounding (rtl/mpq_requant.sv)
    MPQ_RQ_SINGLE      = 1,  // TFLite's single rounding
    MPQ_RQ_S64_REDUCED = 2,  // TFLite's int16 path, 64-bit accumulator
    MPQ_RQ_GENERIC     = 3   // round(acc * mult / 2^shift), shift a right shift
  } mpq_rq_e;

  typedef enum int { MPQ_ACC_WRAP = 0, MPQ_ACC_SAT = 1 } mpq_acc_mode_e;
  typedef enum int { MPQ_ORDER_SEQ = 0, MPQ_ORDER_GROUPED = 1 } mpq_order_e;

  typedef enum int {
    MPQ_ROUND_FLOOR = 0, MPQ_ROUND_ZERO = 1, MPQ_ROUND_HALF_UP = 2, MPQ_ROUND_HALF_DOWN = 3,
    MPQ_ROUND_HALF_AWAY = 4, MPQ_ROUND_HALF_EVEN = 5
  } mpq_round_e;

  typedef enum int { MPQ_OVF_SAT = 0, MPQ_OVF_SAT_SYM = 1, MPQ_OVF_WRAP = 2 } mpq_ovf_mode_e;

  // Overflow flags of MPQ_SB_OVF and the `which` of ovf_count.
  localparam int MPQ_OVF_FINAL = 1;  // the exact sum does not fit the accumulator
  localparam int MPQ_OVF_ANY   = 2;  // some fit along the accumulation order changed the sum
  /* verilator lint_on UNUSEDPARAM */

  // ---- DPI-C imports (golden/export/sv/mpq_golden_dpi.c over golden/export/mpq_sb.h) --------
  // Handle of one layer; every call below on it leaves its message in mpq_dpi_error.
  import "DPI-C" function chandle mpq_dpi_new();
  import "DPI-C" function void mpq_dpi_free(input chandle h);
  import "DPI-C" function string mpq_dpi_error(input chandle h);
  import "DPI-C" function string mpq_dpi_strerror(input int status);
  // The C name of a constant: what 0 layer kinds, 1 tensors, 2 roundings, 3 overflow modes.
  import "DPI-C" function string mpq_dpi_name(input int what, input int value);

  // Declaring a layer forgets the previous one and resets the scalars to their defaults.
  import "DPI-C" function int mpq_dpi_fc(input chandle h, input int m, input int k, input int n);
  import "DPI-C" function int mpq_dpi_conv(input chandle h, input int kind, input int batches,
      input int in_h, input int in_w, input int in_c, input int out_c, input int kh,
      input int kw, input int sy, input int sx, input int py, input int px, input int dy,
      input int dx, input int groups, input int out_h, input int out_w);
  // TFLite's padding of one axis (same: SAME, else VALID): pad above/left and output size.
  import "DPI-C" function int mpq_dpi_padding(input int in_size, input int k, input int s,
      input int dil, input int same, output int pad, output int out_size);

  import "DPI-C" function int mpq_dpi_offsets(input chandle h, input int in_offset,
      input int w_offset);
  import "DPI-C" function int mpq_dpi_acc(input chandle h, input int bits, input int mode,
      input int order, input int group);
  import "DPI-C" function int mpq_dpi_requant(input chandle h, input int kind,
      input int nparams);
  import "DPI-C" function int mpq_dpi_requant_generic(input chandle h, input int round,
      input int ovf);
  import "DPI-C" function int mpq_dpi_output(input chandle h, input int out_offset,
      input int act_min, input int act_max);
  import "DPI-C" function int mpq_dpi_alpha_per_tensor(input chandle h, input int on);
  import "DPI-C" function longint mpq_dpi_count(input chandle h, input int tensor);

  // Tensor pieces: elements [offset, offset+count) from/to the first count elements of the
  // array (from its left). Fixed-size arrays work on every simulator.
  import "DPI-C" function int mpq_dpi_put(input chandle h, input int tensor, input int offset,
      input int count, input int v[]);
  import "DPI-C" function int mpq_dpi_put_i8(input chandle h, input int tensor,
      input int offset, input int count, input byte v[]);
  import "DPI-C" function int mpq_dpi_clear(input chandle h, input int tensor);
  import "DPI-C" function int mpq_dpi_run(input chandle h);
  import "DPI-C" function int mpq_dpi_get(input chandle h, input int tensor, input int offset,
      input int count, output int v[]);
  import "DPI-C" function int mpq_dpi_get_i8(input chandle h, input int tensor,
      input int offset, input int count, output byte v[]);
  import "DPI-C" function int mpq_dpi_get_acc(input chandle h, input int offset,
      input int count, output longint v[]);

  import "DPI-C" function longint mpq_dpi_ovf_count(input chandle h, input int which);
  import "DPI-C" function string mpq_dpi_ovf_describe(input chandle h);
  import "DPI-C" function longint mpq_dpi_compare(input chandle h, input int offset,
      input int count, input int got[]);
  import "DPI-C" function longint mpq_dpi_compare_i8(input chandle h, input int offset,
      input int count, input byte got[]);
  import "DPI-C" function longint mpq_dpi_mismatches(input chandle h);
  import "DPI-C" function string mpq_dpi_describe(input chandle h, input longint index,
      input int got);
  import "DPI-C" function string mpq_dpi_report(input chandle h);

  // Stateless helpers.
  import "DPI-C" function int mpq_dpi_quantize_multiplier(input real r, output int mult,
      output int shift);
  import "DPI-C" function int mpq_dpi_quantize_scale(input real in_scale, input real w_scale,
      input real out_scale, output int mult, output int shift);
  import "DPI-C" function int mpq_dpi_requant_value(input int kind, input longint acc,
      input int mult, input int shift, input int round, input int ovf, input int out_offset,
      input int act_min, input int act_max, output int y);
  import "DPI-C" function int mpq_dpi_acc_fit(input longint v, input int bits, input int mode,
      output longint fitted, output int overflowed);

  // ---- One layer under check ----------------------------------------------------------------
  // A scoreboard keeps one per layer it checks: declare the layer, set its parameters and
  // weights once, then per transaction put x, run(), compare(dut_outputs) and, when that is
  // non-zero, report its report(). Call free() when done (SystemVerilog has no destructor).
  // The class is the package's main export and lives in its file.
  /* verilator lint_off DECLFILENAME */
  class mpq_golden_layer;
    localparam int CHUNK = 1024;  // elements per DPI call
    protected chandle h;

    function new();
      h = mpq_dpi_new();
    endfunction

    // 0 when the handle exists (mpq_dpi_new ran out of memory otherwise).
    function int ok();
      return h == null ? MPQ_ENOMEM : MPQ_OK;
    endfunction

    function void free();
      mpq_dpi_free(h);
      h = null;
    endfunction

    // The reason of the last failed call, "" after a success.
    function string error();
      return mpq_dpi_error(h);
    endfunction

    function int fc(int m, int k, int n);
      return mpq_dpi_fc(h, m, k, n);
    endfunction

    // Any spatial kind; groups applies to conv2d (1 otherwise).
    function int conv(mpq_layer_e kind, int batches, int in_h, int in_w, int in_c, int out_c,
                      int kh, int kw, int sy, int sx, int py, int px, int dy, int dx,
                      int groups, int out_h, int out_w);
      return mpq_dpi_conv(h, kind, batches, in_h, in_w, in_c, out_c, kh, kw, sy, sx, py, px,
                          dy, dx, groups, out_h, out_w);
    endfunction

    function int offsets(int in_offset, int w_offset);
      return mpq_dpi_offsets(h, in_offset, w_offset);
    endfunction

    function int acc(int bits, mpq_acc_mode_e mode = MPQ_ACC_WRAP,
                     mpq_order_e order = MPQ_ORDER_SEQ, int group = 1);
      return mpq_dpi_acc(h, bits, mode, order, group);
    endfunction

    function int requant(mpq_rq_e kind, int nparams);
      return mpq_dpi_requant(h, kind, nparams);
    endfunction

    function int requant_generic(mpq_round_e round, mpq_ovf_mode_e ovf);
      return mpq_dpi_requant_generic(h, round, ovf);
    endfunction

    function int output_clamp(int out_offset, int act_min, int act_max);
      return mpq_dpi_output(h, out_offset, act_min, act_max);
    endfunction

    function int alpha_per_tensor(bit on);
      return mpq_dpi_alpha_per_tensor(h, int'(on));
    endfunction

    // TFLite's per-channel requantization from its float scales: mult and shift of channel c
    // from in_scale * w_scale[c] / out_scale (one entry: per tensor).
    function int requant_scales(mpq_rq_e kind, real in_scale, real w_scale[], real out_scale);
      int st, mult[], shift[];
      mult = new[w_scale.size()];
      shift = new[w_scale.size()];
      st = mpq_dpi_requant(h, kind, w_scale.size());
      foreach (w_scale[c]) begin
        int m = 0, s = 0;
        if (st != MPQ_OK) return st;
        st = mpq_dpi_quantize_scale(in_scale, w_scale[c], out_scale, m, s);
        mult[c] = m;
        shift[c] = s;
      end
      if (st == MPQ_OK) st = put(MPQ_SB_MULT, mult);
      if (st == MPQ_OK) st = put(MPQ_SB_SHIFT, shift);
      return st;
    endfunction

    // v's bytes sign-extended into w: the byte forms of put and compare pass them on as ints.
    local static function void widen(byte v[], output int w[]);
      w = new[v.size()];
      foreach (v[i]) w[i] = int'(v[i]);
    endfunction

    // Elements of a tensor for the declared layer (0 when the kind has none).
    function longint count(mpq_tensor_e t);
      return mpq_dpi_count(h, t);
    endfunction

    // v into elements [offset, offset + v.size()) of an input tensor.
    function int put(mpq_tensor_e t, int v[], int offset = 0);
      int piece[CHUNK];
      int st = MPQ_OK;
      for (int at = 0; at < v.size() && st == MPQ_OK; at += CHUNK) begin
        int n = v.size() - at < CHUNK ? v.size() - at : CHUNK;
        for (int i = 0; i < n; i++) piece[i] = v[at + i];
        st = mpq_dpi_put(h, t, offset + at, n, piece);
      end
      return st;
    endfunction

    // The same from bytes: put() of the same values (mpq_dpi_put_i8 stores them alike).
    function int put_i8(mpq_tensor_e t, byte v[], int offset = 0);
      int wide[];
      widen(v, wide);
      return put(t, wide, offset);
    endfunction

    function int clear(mpq_tensor_e t);
      return mpq_dpi_clear(h, t);
    endfunction

    function int run();
      return mpq_dpi_run(h);
    endfunction

    // The whole tensor (outputs, overflow flags or first indices after run(), or an input).
    function int get(mpq_tensor_e t, output int v[]);
      int piece[CHUNK];
      int st = MPQ_OK;
      longint n_all = mpq_dpi_count(h, t);
      if (n_all < 0) return int'(n_all);
      v = new[int'(n_all)];
      for (int at = 0; at < v.size() && st == MPQ_OK; at += CHUNK) begin
        int n = v.size() - at < CHUNK ? v.size() - at : CHUNK;
        st = mpq_dpi_get(h, t, at, n, piece);
        for (int i = 0; i < n && st == MPQ_OK; i++) v[at + i] = piece[i];
      end
      return st;
    endfunction

    // The same as bytes: every element must fit (outputs clamped to an int8 range do).
    function int get_i8(mpq_tensor_e t, output byte v[]);
      byte piece[CHUNK];
      int st = MPQ_OK;
      longint n_all = mpq_dpi_count(h, t);
      if (n_all < 0) return int'(n_all);
      v = new[int'(n_all)];
      for (int at = 0; at < v.size() && st == MPQ_OK; at += CHUNK) begin
        int n = v.size() - at < CHUNK ? v.size() - at : CHUNK;
        st = mpq_dpi_get_i8(h, t, at, n, piece);
        for (int i = 0; i < n && st == MPQ_OK; i++) v[at + i] = piece[i];
      end
      return st;
    endfunction

    // The accumulators after run() (convolutions and FC layers).
    function int get_acc(output longint v[]);
      longint piece[CHUNK];
      int st = MPQ_OK;
      longint n_all = mpq_dpi_count(h, MPQ_SB_Y);
      if (n_all < 0) return int'(n_all);
      v = new[int'(n_all)];
      for (int at = 0; at < v.size() && st == MPQ_OK; at += CHUNK) begin
        int n = v.size() - at < CHUNK ? v.size() - at : CHUNK;
        st = mpq_dpi_get_acc(h, at, n, piece);
        for (int i = 0; i < n && st == MPQ_OK; i++) v[at + i] = piece[i];
      end
      return st;
    endfunction

    // Compares the DUT's outputs got (output elements [offset, offset + got.size())) with the
    // last run's. Returns the number that differ (negative: an error); see report().
    function longint compare(int got[], int offset = 0);
      int piece[CHUNK];
      longint bad = 0, r;
      for (int at = 0; at < got.size(); at += CHUNK) begin
        int n = got.size() - at < CHUNK ? got.size() - at : CHUNK;
        for (int i = 0; i < n; i++) piece[i] = got[at + i];
        r = mpq_dpi_compare(h, offset + at, n, piece);
        if (r < 0) return r;
        bad += r;
      end
      return bad;
    endfunction

    // The same for byte outputs: compare() of the same values (as mpq_dpi_compare_i8 does).
    function longint compare_i8(byte got[], int offset = 0);
      int wide[];
      widen(got, wide);
      return compare(wide, offset);
    endfunction

    // Mismatches since run(), the first one described in the layer's coordinates.
    function string report();
      return mpq_dpi_report(h);
    endfunction

    function string describe(longint index, int got);
      return mpq_dpi_describe(h, index, got);
    endfunction

    function longint ovf_count(int which = MPQ_OVF_ANY);
      return mpq_dpi_ovf_count(h, which);
    endfunction

    function string ovf_describe();
      return mpq_dpi_ovf_describe(h);
    endfunction
  endclass
  /* verilator lint_on DECLFILENAME */

endpackage
