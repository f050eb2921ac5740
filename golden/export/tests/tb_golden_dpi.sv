// SPDX-License-Identifier: Apache-2.0
//
// tb_golden_dpi: the golden model as the scoreboard of a SystemVerilog testbench, through
// mpq_golden_pkg (DPI-C). Run by `make golden/export-sv` with Verilator --binary --timing.
//   1. The package's constants against the C side's names of them.
//   2. Layers and helpers checked by hand: FC, conv2d (SAME padding, groups, stride with
//      dilation), depthwise, both pools, ternary + sparse weights, an 8-bit accumulator's
//      overflow, every requantization kind, QuantizeMultiplier, padding, refusals.
//   3. Random layers of every kind from +cases=FILE (golden/export/tests/dpi_cases.c, which
//      computed them with direct calls of the C library): outputs, accumulators, overflow
//      flags and counts, and the report of a wrong output, through the class's chunked
//      transfers (ints and bytes).
//   4. rtl/mpq_requant.sv driven on a clock, a monitor and a scoreboard class that predicts
//      each output with mpq_dpi_requant_value: random transactions, then a whole FC layer's
//      accumulators checked as one output tensor, and an injected error that must be found.
// Random choices come from +seed=N (printed). Ends with "tb_golden_dpi: N checks, M failed"
// and exits non-zero when M > 0.

module tb_golden_dpi;
  import mpq_golden_pkg::*;

  int checks = 0, failures = 0;
  int unsigned seed = 1;

  function automatic void check(bit ok, string what);
    checks++;
    if (!ok) begin
      failures++;
      if (failures <= 30) $display("FAIL: %s", what);
    end
  endfunction

  function automatic void check_eq(longint got, longint want, string what);
    check(got == want, $sformatf("%s: got %0d, want %0d", what, got, want));
  endfunction

  function automatic bit contains(string s, string sub);
    for (int i = 0; i + sub.len() <= s.len(); i++)
      if (s.substr(i, i + sub.len() - 1) == sub) return 1;
    return 0;
  endfunction

  // Arrays from text, "1 -2 3": literal arrays as arguments are beyond some Verilators.
  typedef int int_da[];
  typedef byte byte_da[];
  function automatic int_da ints(string text);
    int v[$];
    int acc = 0;
    bit neg = 0, in_num = 0;
    byte c;
    v.delete();
    for (int i = 0; i <= text.len(); i++) begin
      c = i < text.len() ? text[i] : " ";
      if (c == "-") neg = 1;
      else if (c >= "0" && c <= "9") begin
        acc = acc * 10 + int'(c) - int'("0");
        in_num = 1;
      end else if (in_num) begin
        v.push_back(neg ? -acc : acc);
        acc = 0;
        neg = 0;
        in_num = 0;
      end
    end
    return v;
  endfunction

  function automatic byte_da bytes(int v[]);
    byte b[] = new[v.size()];
    foreach (v[i]) b[i] = byte'(v[i]);
    return b;
  endfunction

  function automatic bit same(int a[], int b[]);
    if (a.size() != b.size()) return 0;
    foreach (a[i]) if (a[i] != b[i]) return 0;
    return 1;
  endfunction

  function automatic string fmt(int a[]);
    string s = "{";
    // a constant format: Verilator printed other words for a conditional one
    foreach (a[i]) s = {s, i != 0 ? ", " : "", $sformatf("%0d", a[i])};
    return {s, "}"};
  endfunction

  function automatic void check_ok(int st, mpq_golden_layer l, string what);
    check(st == MPQ_OK, $sformatf("%s: status %0d: %s", what, st, l.error()));
  endfunction

  // ---- 1. constants -------------------------------------------------------------------------
  function automatic void constants();
    string layers[5] = '{"fc", "conv2d", "depthwise", "avgpool", "maxpool"};
    string tensors[11] = '{"x", "w", "t", "alpha", "hp", "bias", "mult", "shift", "y", "ovf",
                           "first"};
    string rounds[6] = '{"floor", "zero", "half_up", "half_down", "half_away", "half_even"};
    string ovfs[3] = '{"sat", "sat_sym", "wrap"};
    mpq_layer_e k = k.first();
    mpq_tensor_e t = t.first();
    mpq_round_e r = r.first();
    mpq_ovf_mode_e o = o.first();
    for (int i = 0; i < 5; i++, k = k.next())
      check(mpq_dpi_name(0, k) == layers[i], $sformatf("%s = %0d is '%s' in C", k.name(),
            k, mpq_dpi_name(0, k)));
    for (int i = 0; i < 11; i++, t = t.next())
      check(mpq_dpi_name(1, t) == tensors[i], $sformatf("%s = %0d is '%s' in C", t.name(),
            t, mpq_dpi_name(1, t)));
    for (int i = 0; i < 6; i++, r = r.next())
      check(mpq_dpi_name(2, r) == rounds[i], $sformatf("%s = %0d is '%s' in C", r.name(),
            r, mpq_dpi_name(2, r)));
    for (int i = 0; i < 3; i++, o = o.next())
      check(mpq_dpi_name(3, o) == ovfs[i], $sformatf("%s = %0d is '%s' in C", o.name(),
            o, mpq_dpi_name(3, o)));
    check(mpq_dpi_strerror(MPQ_EPARAM) == "impossible or out-of-range parameter",
          "MPQ_EPARAM");
  endfunction

  // ---- 2. by hand ---------------------------------------------------------------------------
  // Requantization by x1 (mult 2^30 = 0.5, shift 1) or x0.5 (shift 0), per tensor.
  function automatic int times(mpq_golden_layer l, int shift);
    int st = l.put(MPQ_SB_MULT, ints("1073741824"));
    if (st == MPQ_OK) st = l.put(MPQ_SB_SHIFT, ints($sformatf("%0d", shift)));
    return st;
  endfunction

  function automatic void expect_y(mpq_golden_layer l, int want[], string what);
    int y[];
    check_ok(l.run(), l, {what, ": run"});
    check_ok(l.get(MPQ_SB_Y, y), l, {what, ": get y"});
    check(same(y, want), $sformatf("%s: y = %s, want %s", what, fmt(y), fmt(want)));
  endfunction

  // The declared layer's x and w, requantized by times(shift), then its y checked against
  // want: the steps named "<tag> x", wwhat, "<tag> requant" and what.
  function automatic void x_w_y(mpq_golden_layer l, string tag, string x, string w, string wwhat,
                                int shift, string want, string what);
    check_ok(l.put(MPQ_SB_X, ints(x)), l, {tag, " x"});
    check_ok(l.put(MPQ_SB_W, ints(w)), l, wwhat);
    check_ok(times(l, shift), l, {tag, " requant"});
    expect_y(l, ints(want), what);
  endfunction

  function automatic void by_hand();
    mpq_golden_layer l = new();
    int y[], mult, shift, pad, out_size, v;
    longint acc[], fitted;
    int flags[], first[];
    check_ok(l.ok(), l, "new");

    // FC: W x + b = {1+2+3+10, 1-2+6} = {16, 5}, times 0.5 with gemmlowp's rounding: {8, 3}.
    check_ok(l.fc(1, 3, 2), l, "fc");
    check_ok(l.put(MPQ_SB_X, ints("1 2 3")), l, "fc x");
    check_ok(l.put(MPQ_SB_W, ints("1 1 1 1 -1 2")), l, "fc w");
    check_ok(l.put(MPQ_SB_BIAS, ints("10 0")), l, "fc bias");
    check_ok(times(l, 0), l, "fc requant");
    expect_y(l, ints("8 3"), "fc");
    check_ok(l.get_acc(acc), l, "fc acc");
    check(acc.size() == 2 && acc[0] == 16 && acc[1] == 5, "fc accumulators");
    check_eq(l.compare(ints("8 4")), 1, "fc: one output wrong");
    check(contains(l.report(), "first: fc y[row=0,c=1] (element 1): expected 3, got 4"),
          {"fc report: ", l.report()});

    // Convolution of ones with SAME padding: window positions inside the input.
    check_eq(mpq_dpi_padding(3, 3, 1, 1, 1, pad, out_size), MPQ_OK, "padding");
    check(pad == 1 && out_size == 3, $sformatf("SAME 3/3/1: pad %0d out %0d", pad, out_size));
    check_ok(l.conv(MPQ_LAYER_CONV2D, 1, 3, 3, 1, 1, 3, 3, 1, 1, pad, pad, 1, 1, 1, 3, 3), l,
             "conv");
    x_w_y(l, "conv", "1 1 1 1 1 1 1 1 1", "1 1 1 1 1 1 1 1 1", "conv w", 1, "4 6 4 6 9 6 4 6 4",
          "conv SAME");

    // A 2x2 two-channel input (NHWC), one 2x2 window: depthwise and conv2d with 2 groups
    // compute c0 = 1+2+3+4 = 10 and c1 = 10*1 + 20*(-1) + 30*0 + 40*2 = 70.
    check_ok(l.conv(MPQ_LAYER_DEPTHWISE, 1, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1, 1, 1), l,
             "depthwise");
    x_w_y(l, "dw", "1 10 2 20 3 30 4 40", "1 1 1 -1 1 0 1 2", "dw w [kh][kw][out_c]", 1, "10 70",
          "depthwise");
    check_ok(l.conv(MPQ_LAYER_CONV2D, 1, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 2, 1, 1), l,
             "grouped conv");
    x_w_y(l, "grouped", "1 10 2 20 3 30 4 40", "1 1 1 1 1 -1 0 2", "grouped w OHWI", 1, "10 70",
          "conv2d with 2 groups");

    // Stride 2 and dilation 2 along a row of 5: taps x[0], x[2] and x[2], x[4].
    check_eq(mpq_dpi_padding(5, 2, 2, 2, 0, pad, out_size), MPQ_OK, "VALID dilated");
    check(pad == 0 && out_size == 2, $sformatf("VALID 5/2/2/2: pad %0d out %0d", pad, out_size));
    check_ok(l.conv(MPQ_LAYER_CONV2D, 1, 1, 5, 1, 1, 1, 2, 1, 2, 0, 0, 1, 2, 1, 1, 2), l,
             "strided dilated conv");
    x_w_y(l, "strided", "1 2 3 4 5", "1 10", "strided w", 1, "31 53", "stride 2, dilation 2");

    // Pools of 1..9, 2x2 windows, stride 1.
    check_ok(l.conv(MPQ_LAYER_MAXPOOL, 1, 3, 3, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, 2, 2), l,
             "maxpool");
    check_ok(l.put(MPQ_SB_X, ints("1 2 3 4 5 6 7 8 9")), l, "maxpool x");
    check_ok(l.output_clamp(0, -128, 8), l, "maxpool clamp");
    expect_y(l, ints("5 6 8 8"), "maxpool clamped at 8");
    check_ok(l.conv(MPQ_LAYER_AVGPOOL, 1, 3, 3, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, 2, 2), l,
             "avgpool");
    check_ok(l.put_i8(MPQ_SB_X, bytes(ints("1 2 3 4 5 6 7 8 9"))), l, "avgpool x as bytes");
    expect_y(l, ints("3 4 6 7"), "avgpool");

    // Ternary + sparse: c0 = 3*(1 - 3 + 4) + 7*2 = 20 (x1); c1 = 5*(3 - 4) - 2*1 = -7,
    // times 0.5 = -3.5, which SRDHM rounds half up: -3.
    check_ok(l.fc(1, 4, 2), l, "ternary fc");
    check_ok(l.put(MPQ_SB_X, ints("1 2 3 4")), l, "ternary x");
    check_ok(l.put(MPQ_SB_T, ints("1 0 -1 1 0 0 1 -1")), l, "t");
    check_ok(l.put(MPQ_SB_ALPHA, ints("3 5")), l, "alpha");
    check_ok(l.put(MPQ_SB_HP, ints("0 7 0 0 -2 0 0 0")), l, "hp");
    check_ok(l.requant(MPQ_RQ_DOUBLE, 2), l, "per-channel requant");
    check_ok(l.put(MPQ_SB_MULT, ints("1073741824 1073741824")), l, "mult");
    check_ok(l.put(MPQ_SB_SHIFT, ints("1 0")), l, "shift");
    expect_y(l, ints("20 -3"), "ternary + sparse");

    // An 8-bit wrapping accumulator: 100 + 100 overflows at k = 1 and wraps to -56.
    check_ok(l.fc(1, 2, 1), l, "overflow fc");
    check_ok(l.acc(8, MPQ_ACC_WRAP, MPQ_ORDER_SEQ, 1), l, "acc 8");
    x_w_y(l, "ovf", "100 100", "1 1", "ovf w", 1, "-56", "8-bit wrap");
    check_ok(l.get(MPQ_SB_OVF, flags), l, "ovf flags");
    check_ok(l.get(MPQ_SB_FIRST, first), l, "ovf first");
    check(flags.size() == 1 && flags[0] == (MPQ_OVF_FINAL | MPQ_OVF_ANY) && first.size() == 1
          && first[0] == 1, $sformatf("overflow flags %s first %s", fmt(flags), fmt(first)));
    check_eq(l.ovf_count(MPQ_OVF_FINAL), 1, "overflow count");
    check(contains(l.ovf_describe(), "first: y[row=0,c=0] at k=1"), l.ovf_describe());

    // Refusals carry their reason.
    check_eq(l.put(MPQ_SB_X, ints("1 2 3")), MPQ_EPARAM, "x past its end");
    check(contains(l.error(), "outside its 2 elements"), l.error());
    check_eq(l.conv(MPQ_LAYER_CONV2D, 1, 3, 3, 4, 6, 1, 1, 1, 1, 0, 0, 1, 1, 3, 3, 3),
             MPQ_EPARAM, "groups");
    check(contains(l.error(), "groups 3 do not divide in_c 4 and out_c 6"), l.error());
    check_eq(l.run(), MPQ_EPARAM, "run without a layer");
    check(contains(l.error(), "no layer declared"), l.error());

    // Stateless helpers. 0.25 of 1: double rounding gives 1 (0.5, then 0.5 again), single
    // rounding and the int16 path 0; 2.5 by a right shift of 2: half even 2, half away 3;
    // 2^40 wraps to 0 in int32, the 64-bit path saturates it.
    check_eq(mpq_dpi_requant_value(MPQ_RQ_DOUBLE, 1, 1 << 30, -1, 0, 0, 0, -128, 127, v),
             MPQ_OK, "double");
    check_eq(v, 1, "double rounding of 0.25");
    void'(mpq_dpi_requant_value(MPQ_RQ_SINGLE, 1, 1 << 30, -1, 0, 0, 0, -128, 127, v));
    check_eq(v, 0, "single rounding of 0.25");
    void'(mpq_dpi_requant_value(MPQ_RQ_S64_REDUCED, 1, 1 << 30, -1, 0, 0, 0, -128, 127, v));
    check_eq(v, 0, "int16 path of 0.25");
    void'(mpq_dpi_requant_value(MPQ_RQ_GENERIC, 10, 1, 2, MPQ_ROUND_HALF_EVEN, MPQ_OVF_SAT, 0,
                                -128, 127, v));
    check_eq(v, 2, "half even of 2.5");
    void'(mpq_dpi_requant_value(MPQ_RQ_GENERIC, 10, 1, 2, MPQ_ROUND_HALF_AWAY, MPQ_OVF_SAT, 0,
                                -128, 127, v));
    check_eq(v, 3, "half away of 2.5");
    void'(mpq_dpi_requant_value(MPQ_RQ_DOUBLE, 64'sd1 << 40, 1 << 30, 0, 0, 0, 0,
                                -2147483647 - 1, 2147483647, v));
    check_eq(v, 0, "double rounding wraps 2^40 to 0");
    void'(mpq_dpi_requant_value(MPQ_RQ_S64_REDUCED, 64'sd1 << 40, 1 << 30, 0, 0, 0, 0,
                                -2147483647 - 1, 2147483647, v));
    check_eq(v, 2147483647, "the int16 path saturates 2^39");
    check_eq(mpq_dpi_requant_value(MPQ_RQ_DOUBLE, 1, 1 << 30, 31, 0, 0, 0, -1, 1, v),
             MPQ_EPARAM, "shift 31 refused");
    check_eq(mpq_dpi_quantize_multiplier(0.5, mult, shift), MPQ_OK, "QuantizeMultiplier");
    check(mult == 1 << 30 && shift == 0, $sformatf("0.5: %0d %0d", mult, shift));
    check_eq(mpq_dpi_quantize_scale(3.0, 0.5, 2.0, mult, shift), MPQ_OK, "scale");
    check(mult == 1610612736 && shift == 0, $sformatf("0.75: %0d %0d", mult, shift));
    check_eq(mpq_dpi_acc_fit(64'sd1 << 19, 20, MPQ_ACC_WRAP, fitted, v), MPQ_OK, "acc_fit");
    check(fitted == -(64'sd1 << 19) && v == 1, $sformatf("2^19 in 20 bits: %0d %0d", fitted, v));
    l.free();
  endfunction

  // ---- 3. the cases file --------------------------------------------------------------------
  function automatic int read_int(int fd);
    int v = 0;
    if ($fscanf(fd, "%d", v) != 1) check(0, "cases file: an integer expected");
    return v;
  endfunction

  function automatic void read_list(int fd, output int v[]);
    v = new[read_int(fd)];
    foreach (v[i]) v[i] = read_int(fd);
  endfunction

  function automatic void file_cases(string path);
    mpq_golden_layer l = new();
    int fd, kind = 0, tensor, cases = 0, ran = 0, v[], s[16], sc[14];
    int version = 0, file_seed = 0, want_cases = 0;
    longint acc[], want_acc[];
    string tok, line, what;
    fd = $fopen(path, "r");
    if (fd == 0) begin
      check(0, {"cannot open the cases file ", path});
      return;
    end
    if ($fscanf(fd, "%s %d %d %d", tok, version, file_seed, want_cases) != 4 ||
        tok != "mpq-dpi-cases" || version != 1) begin
      check(0, {path, ": not an mpq-dpi-cases 1 file"});
      return;
    end
    while ($fscanf(fd, "%s", tok) == 1) begin
      what = $sformatf("%s case %0d (%s)", path, cases, mpq_dpi_name(0, kind));
      if (tok == "case") begin
        kind = read_int(fd);
        ran = 0;
      end else if (tok == "fc") begin
        int m = read_int(fd), k = read_int(fd);
        check_ok(l.fc(m, k, read_int(fd)), l, what);
      end else if (tok == "shape") begin
        foreach (s[i]) s[i] = read_int(fd);
        check_ok(l.conv(mpq_layer_e'(kind), s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
                        s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]), l, what);
      end else if (tok == "scalars") begin
        foreach (sc[i]) sc[i] = read_int(fd);
        if (kind != MPQ_LAYER_AVGPOOL && kind != MPQ_LAYER_MAXPOOL) begin
          check_ok(l.offsets(sc[0], sc[1]), l, {what, ": offsets"});
          check_ok(l.acc(sc[2], mpq_acc_mode_e'(sc[3]), mpq_order_e'(sc[4]), sc[5]), l,
                   {what, ": acc"});
          check_ok(l.requant(mpq_rq_e'(sc[6]), sc[7]), l, {what, ": requant"});
          check_ok(l.requant_generic(mpq_round_e'(sc[8]), mpq_ovf_mode_e'(sc[9])), l,
                   {what, ": generic"});
          check_ok(l.alpha_per_tensor(sc[13] != 0), l, {what, ": alpha"});
        end
        check_ok(l.output_clamp(sc[10], sc[11], sc[12]), l, {what, ": output"});
      end else if (tok == "put") begin
        tensor = read_int(fd);
        read_list(fd, v);
        // Odd cases give the activations as bytes (they are int8), through put_i8.
        if (tensor == MPQ_SB_X && cases % 2) begin
          byte b[] = new[v.size()];
          foreach (v[i]) b[i] = byte'(v[i]);
          check_ok(l.put_i8(MPQ_SB_X, b), l, {what, ": put_i8 x"});
        end else begin
          check_ok(l.put(mpq_tensor_e'(tensor), v), l, {what, ": put"});
        end
      end else if (tok == "want") begin
        int got[];
        tensor = read_int(fd);
        read_list(fd, v);
        if (!ran) check_ok(l.run(), l, {what, ": run"});
        ran = 1;
        check_ok(l.get(mpq_tensor_e'(tensor), got), l, {what, ": get"});
        check(same(got, v), $sformatf("%s: %s differs", what, mpq_dpi_name(1, tensor)));
        if (tensor == MPQ_SB_Y) begin
          if (cases % 2) begin
            byte b[] = new[v.size()];
            foreach (v[i]) b[i] = byte'(v[i]);
            check_eq(l.compare_i8(b), 0, {what, ": compare_i8 of the expected outputs"});
          end else begin
            check_eq(l.compare(v), 0, {what, ": compare of the expected outputs"});
          end
        end
      end else if (tok == "want_acc") begin
        want_acc = new[read_int(fd)];
        foreach (want_acc[i]) if ($fscanf(fd, "%d", want_acc[i]) != 1) check(0, "acc value");
        check_ok(l.get_acc(acc), l, {what, ": get_acc"});
        check(acc.size() == want_acc.size(), {what, ": accumulator count"});
        foreach (acc[i]) if (acc[i] != want_acc[i]) begin
          check(0, $sformatf("%s: accumulator %0d is %0d, want %0d", what, i, acc[i], want_acc[i]));
          break;
        end
      end else if (tok == "want_novf") begin
        int n_final = read_int(fd), n_any = read_int(fd);
        check_eq(l.ovf_count(MPQ_OVF_FINAL), n_final, {what, ": final overflows"});
        check_eq(l.ovf_count(MPQ_OVF_ANY), n_any, {what, ": overflows"});
      end else if (tok == "describe") begin
        int index = read_int(fd), got = read_int(fd);
        check_ok(l.run(), l, {what, ": run again"});
        check_eq(l.compare(ints($sformatf("%0d", got)), index), 1, {what, ": one wrong output"});
        void'($fgets(line, fd));   // the end of the describe line
        void'($fgets(line, fd));
        line = line.substr(0, line.len() - 2);
        check(l.report() == line, {what, ": report\n  ", l.report(), "\nwant\n  ", line});
      end else if (tok == "end") begin
        cases++;
      end else begin
        check(0, {path, ": unknown item ", tok});
        break;
      end
    end
    $fclose(fd);
    check_eq(cases, want_cases, {path, ": cases read"});
    $display("tb_golden_dpi: %0d layers of %s (seed %0d) checked", cases, path, file_seed);
    l.free();
  endfunction

  // ---- 4. the RTL requantizer under the golden scoreboard -----------------------------------
  logic clk = 1'b0;
  initial forever #5 clk = ~clk;

  logic signed [31:0] acc_d, mult_d, hi, hi_q;
  logic signed [15:0] shift_d, out_offset_d, act_min_d, act_max_d;
  logic signed [7:0]  y_rtl;

  mpq_requant #(.AccBits(32), .OutBits(8)) u_dut (
    .acc_i(acc_d), .mult_i(mult_d), .shift_i(shift_d), .hi_o(hi),
    .hi_i(hi_q), .out_offset_i(out_offset_d), .act_min_i(act_min_d), .act_max_i(act_max_d),
    .y_o(y_rtl)
  );
  // The pipeline register between the two halves, as in mpq_top.
  always_ff @(posedge clk) hi_q <= hi;

  // The transaction and scoreboard classes belong to this testbench alone: they live in it.
  /* verilator lint_off DECLFILENAME */
  class requant_txn;
    int acc, mult, shift, out_offset, act_min, act_max;
    int y;  // the DUT's output, filled by the monitor
  endclass

  // The scoreboard: predicts each transaction with the golden model and counts mismatches.
  class requant_scoreboard;
    int seen = 0, bad = 0;
    string first_bad = "";
    function void write(requant_txn t);
      int want = 0;
      int st = mpq_dpi_requant_value(MPQ_RQ_DOUBLE, t.acc, t.mult, t.shift, 0, 0, t.out_offset,
                                     t.act_min, t.act_max, want);
      seen++;
      if (st != MPQ_OK || want != t.y) begin
        bad++;
        if (first_bad == "")
          first_bad = $sformatf("acc %0d mult %0d shift %0d out_offset %0d clamp [%0d, %0d]: DUT %0d, golden %0d (status %0d)",
                                t.acc, t.mult, t.shift, t.out_offset, t.act_min, t.act_max,
                                t.y, want, st);
      end
    endfunction
  endclass
  /* verilator lint_on DECLFILENAME */

  // Drives one transaction per cycle (inputs change on the falling edge, the rising edge
  // loads the pipeline register, the output settles by the next falling edge) and hands each,
  // with the DUT's output, to the monitor's mailbox.
  task automatic drive(requant_txn q[$], mailbox #(requant_txn) mon);
    foreach (q[i]) begin
      @(negedge clk);
      acc_d = q[i].acc;
      mult_d = q[i].mult;
      shift_d = 16'(q[i].shift);
      out_offset_d = 16'(q[i].out_offset);
      act_min_d = 16'(q[i].act_min);
      act_max_d = 16'(q[i].act_max);
      @(negedge clk);
      q[i].y = int'(y_rtl);
      mon.put(q[i]);
    end
  endtask

  function automatic int urange(int lo, int top);
    return lo + int'($urandom_range(32'(top - lo), 0));
  endfunction

  task automatic requant_rtl();
    mailbox #(requant_txn) mon = new();
    requant_scoreboard sb = new();
    requant_txn q[$], t;
    mpq_golden_layer l = new();
    int m = 4, k = 48, n = 16, x[], w[], bias[], y[];
    real w_scale[];
    longint acc[];
    int mults[], shifts[];
    byte got[];

    // Random transactions over the whole legal range.
    for (int i = 0; i < 3000; i++) begin
      t = new();
      t.acc = int'($urandom());
      t.mult = urange(1 << 30, 32'h7fffffff);
      t.shift = urange(-31, 30);
      t.out_offset = urange(-128, 127);
      t.act_min = urange(-128, 0);
      t.act_max = urange(t.act_min, 127);
      q.push_back(t);
    end
    fork
      drive(q, mon);
      repeat (q.size()) begin
        requant_txn r;
        mon.get(r);
        sb.write(r);
      end
    join
    check_eq(sb.seen, q.size(), "requant transactions seen");
    check(sb.bad == 0, $sformatf("rtl/mpq_requant.sv: %0d of %0d transactions differ; first: %s",
                                 sb.bad, sb.seen, sb.first_bad));

    // A whole FC layer: the golden accumulators through the RTL requantizer with the
    // per-channel parameters of TFLite's float scales, checked as one output tensor.
    x = new[m * k];
    w = new[n * k];
    bias = new[n];
    w_scale = new[n];
    foreach (x[i]) x[i] = urange(-128, 127);
    foreach (w[i]) w[i] = urange(-127, 127);
    foreach (bias[i]) bias[i] = urange(-20000, 20000);
    foreach (w_scale[i]) w_scale[i] = 0.0005 + 0.0001 * urange(0, 40);
    check_ok(l.fc(m, k, n), l, "rtl fc");
    check_ok(l.offsets(3, 0), l, "rtl fc offsets");
    check_ok(l.put(MPQ_SB_X, x), l, "rtl fc x");
    check_ok(l.put(MPQ_SB_W, w), l, "rtl fc w");
    check_ok(l.put(MPQ_SB_BIAS, bias), l, "rtl fc bias");
    check_ok(l.requant_scales(MPQ_RQ_DOUBLE, 0.0235, w_scale, 0.0713), l, "rtl fc scales");
    check_ok(l.output_clamp(-5, -128, 127), l, "rtl fc clamp");
    check_ok(l.run(), l, "rtl fc run");
    check_ok(l.get_acc(acc), l, "rtl fc acc");
    check_ok(l.get(MPQ_SB_MULT, mults), l, "rtl fc mult");
    check_ok(l.get(MPQ_SB_SHIFT, shifts), l, "rtl fc shift");
    q.delete();
    foreach (acc[i]) begin
      t = new();
      t.acc = int'(acc[i]);
      t.mult = mults[i % n];
      t.shift = shifts[i % n];
      t.out_offset = -5;
      t.act_min = -128;
      t.act_max = 127;
      q.push_back(t);
    end
    drive(q, mon);
    got = new[q.size()];
    foreach (got[i]) begin
      mon.get(t);
      got[i] = byte'(t.y);
    end
    check_eq(l.compare_i8(got), 0, {"rtl fc layer: ", l.report()});
    check_ok(l.get(MPQ_SB_Y, y), l, "rtl fc y");
    check(y.size() == m * n, "rtl fc output count");
    // An injected error is found and described.
    check_ok(l.run(), l, "rtl fc run again");
    got[5] = got[5] + 8'sd1;
    check_eq(l.compare_i8(got), 1, "rtl fc: the injected error");
    check(contains(l.report(), {"1 of 64 compared outputs differ (of 64); first: ",
                                "fc y[row=0,c=5] (element 5)"}),
          {"injected error report: ", l.report()});
    $display("tb_golden_dpi: rtl/mpq_requant.sv: %0d transactions and a %0dx%0dx%0d FC layer checked by the golden scoreboard",
             sb.seen, m, k, n);
    l.free();
  endtask

  initial begin
    string path;
    if (!$value$plusargs("seed=%d", seed)) seed = 1;
    void'($urandom(seed));
    $display("tb_golden_dpi: seed %0d (+seed=%0d reproduces)", seed, seed);
    constants();
    by_hand();
    if ($value$plusargs("cases=%s", path)) file_cases(path);
    else check(0, "no +cases=FILE");
    requant_rtl();
    $display("tb_golden_dpi: %0d checks, %0d failed", checks, failures);
    if (failures) $fatal(1, "tb_golden_dpi: %0d checks failed", failures);
    $finish;
  end

endmodule
