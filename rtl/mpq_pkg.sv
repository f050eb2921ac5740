// SPDX-License-Identifier: Apache-2.0
//
// mpq_pkg: constants and width arithmetic of the mpq accelerator (docs/timing.md).
// Every width below is derived from the module parameters of mpq_top, whose values live in
// rtl/cfg/<name>.cfg. The functions size the exact (non-wrapping) datapath of a lane.

package mpq_pkg;

  // Version of docs/timing.md this RTL implements, reported on hwcfg_o[7:0].
  localparam int unsigned CONTRACT_VERSION = 1;

  // Field offsets of the configuration beat (docs/timing.md, "Configuration beat").
  localparam int unsigned CFG_K_LEN_LSB = 0;
  localparam int unsigned CFG_M_ROWS_LSB = 16;
  localparam int unsigned CFG_ACC_SAT_BIT = 32;
  localparam int unsigned CFG_IN_OFFSET_LSB = 48;
  localparam int unsigned CFG_OUT_OFFSET_LSB = 64;
  localparam int unsigned CFG_ACT_MIN_LSB = 80;
  localparam int unsigned CFG_ACT_MAX_LSB = 96;
  localparam int unsigned CFG_LANE_BASE = 128;
  localparam int unsigned CFG_LANE_W = 96;
  // Offsets inside one lane's 96-bit field.
  localparam int unsigned CFG_BIAS_OFS = 0;
  localparam int unsigned CFG_MULT_OFS = 32;
  localparam int unsigned CFG_ALPHA_OFS = 64;
  localparam int unsigned CFG_SHIFT_OFS = 80;

  // Ceiling of log2, at least 1 (a 1-entry index still needs a bit).
  function automatic int unsigned clog2_min1(input int unsigned n);
    clog2_min1 = (n <= 2) ? 1 : $clog2(n);
  endfunction

  // xr = x + in_offset: x in ActBits signed, in_offset in ActBits+1 signed.
  function automatic int unsigned xr_w(input int unsigned act_bits);
    xr_w = act_bits + 2;
  endfunction

  // tsum = sum of KLanes terms +-xr, |xr| <= 2^(ActBits+1): |tsum| <= 2^(ActBits+1+IdxW),
  // and the positive extreme needs one more bit than the magnitude.
  function automatic int unsigned tsum_w(input int unsigned act_bits, input int unsigned idx_w);
    tsum_w = act_bits + idx_w + 3;
  endfunction

  // hsum = sum of HpPerGroup products xr*val, |xr*val| <= 2^(ActBits+HpBits).
  function automatic int unsigned hsum_w(input int unsigned act_bits, input int unsigned hp_bits,
                                         input int unsigned hp_per_group);
    hsum_w = act_bits + hp_bits + 2 + clog2_min1(hp_per_group + 1);
  endfunction

  // p = alpha*tsum + hsum, exact.
  function automatic int unsigned p_w(input int unsigned act_bits, input int unsigned hp_bits,
                                      input int unsigned alpha_bits, input int unsigned idx_w,
                                      input int unsigned hp_per_group);
    int unsigned prod_w, h_w;
    prod_w = alpha_bits + tsum_w(act_bits, idx_w);
    h_w = hsum_w(act_bits, hp_bits, hp_per_group);
    p_w = ((prod_w > h_w) ? prod_w : h_w) + 1;
  endfunction

  // base + p, where base is fit(bias) or acc (<= 32 bits): exact in max(p, 32) + 1 bits.
  function automatic int unsigned sum_w(input int unsigned p_width);
    sum_w = ((p_width > 32) ? p_width : 32) + 1;
  endfunction

endpackage
