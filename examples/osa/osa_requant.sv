// SPDX-License-Identifier: Apache-2.0
//
// osa_requant: TFLite's per-channel requantization of one accumulator to int8 (its default,
// double rounding: MultiplyByQuantizedMultiplier, then the output zero point and the clamp):
//   s  = (acc + bias) << max(shift, 0)                 32-bit wrap
//   hi = SaturatingRoundingDoublingHighMul(s, mult)    (s*mult + nudge) / 2^31, toward zero
//   q  = RoundingDivideByPOT(hi, max(-shift, 0))       half away from zero
//   y  = clamp(out_offset + q, act_min, act_max)
// Combinational.

module osa_requant (
  input  logic signed [31:0] acc_i,
  input  logic signed [31:0] bias_i,
  input  logic signed [31:0] mult_i,       // Q31, 0..2^31-1
  input  logic signed [31:0] shift_i,      // -31..30, left positive
  input  logic signed [31:0] out_offset_i,
  input  logic signed [31:0] act_min_i,
  input  logic signed [31:0] act_max_i,
  output logic signed [7:0]  y_o
);

  logic signed [31:0] sum, shifted, hi, q, mask, rem, thr;
  logic [4:0] left, right;
  logic signed [63:0] prod, nudged, mag;
  logic signed [32:0] y_wide, y_clamped;
  logic unused_y_high; // the clamp keeps y within int8

  always_comb begin
    sum = acc_i + bias_i;
    left = shift_i > 0 ? shift_i[4:0] : 5'd0;
    right = shift_i >= 0 ? 5'd0 : shift_i < -32'sd31 ? 5'd31 : 5'(-shift_i);
    shifted = sum <<< left;
    prod = 64'(shifted) * 64'(mult_i);
    nudged = prod + (prod >= 0 ? 64'sd1073741824 : 64'sd1 - 64'sd1073741824);
    // Division by 2^31 truncating toward zero: of the magnitude, the sign put back.
    mag = nudged >= 0 ? nudged : -nudged;
    hi = nudged >= 0 ? 32'(mag >>> 31) : -32'(mag >>> 31);
    if (shifted == 32'sh8000_0000 && mult_i == 32'sh8000_0000) begin
      hi = 32'sh7fff_ffff;
    end
    mask = (32'sd1 <<< right) - 32'sd1;
    rem = hi & mask;
    thr = (mask >>> 1) + (hi < 0 ? 32'sd1 : 32'sd0);
    q = (hi >>> right) + (rem > thr ? 32'sd1 : 32'sd0);
    y_wide = 33'(out_offset_i) + 33'(q);
    y_clamped = y_wide < 33'(act_min_i) ? 33'(act_min_i) : y_wide > 33'(act_max_i) ? 33'(act_max_i) : y_wide;
    y_o = y_clamped[7:0];
  end
  assign unused_y_high = ^y_clamped[32:8];

endmodule
