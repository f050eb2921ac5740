// SPDX-License-Identifier: Apache-2.0
//
// mpq_pkg: the width arithmetic of the lanes' exact (non-wrapping) datapath, derived from the
// module parameters of mpq_top (values in rtl/cfg/<name>.cfg). The facts the RTL shares with
// the C side (beat layout, port widths, parameter ranges) are in mpq_layout_pkg, generated from
// golden/contract/mpq_layout.c.

package mpq_pkg;

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
