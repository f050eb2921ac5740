// SPDX-License-Identifier: Apache-2.0
//
// mpq_requant: TFLite double-rounding requantization of one lane (docs/timing.md),
// as two combinational halves that mpq_top places between its pipeline registers:
//   mul half (rq1 -> rq2): a  = wrap32(acc << max(shift, 0))
//                          hi = SaturatingRoundingDoublingHighMul(a, mult)   (gemmlowp)
//   out half (rq2 -> out): rq = RoundingDivideByPOT(hi, max(-shift, 0))      (gemmlowp)
//                          y  = clamp(out_offset + rq, act_min, act_max), low OutBits bits
// The C counterpart is mpq_requant_double() and mpq_requant_one() in golden/.
// shift must lie in -31..30 (asserted on the configuration beat in mpq_top).

module mpq_requant #(
  parameter int unsigned AccBits = mpq_layout_pkg::ACC_BITS_DEFAULT,
  parameter int unsigned OutBits = mpq_layout_pkg::OUT_BITS_DEFAULT
) (
  // mul half
  input  logic signed [AccBits-1:0] acc_i,
  input  logic signed [31:0]        mult_i,
  input  logic signed [15:0]        shift_i,
  output logic signed [31:0]        hi_o,
  // out half (uses shift_i too)
  input  logic signed [31:0]        hi_i,
  input  logic signed [15:0]        out_offset_i,
  input  logic signed [15:0]        act_min_i,
  input  logic signed [15:0]        act_max_i,
  output logic signed [OutBits-1:0] y_o
);

  localparam logic signed [31:0] INT32_MIN = 32'sh8000_0000;
  localparam logic signed [31:0] INT32_MAX = 32'sh7fff_ffff;

  // ---- mul half ----
  logic [15:0] left_amt;
  logic signed [31:0] acc32, a;
  logic signed [63:0] ab, ab_nudged, ab_biased;

  assign left_amt = shift_i[15] ? 16'd0 : shift_i;
  if (AccBits < 32) begin : g_acc_sext
    assign acc32 = {{(32 - AccBits){acc_i[AccBits-1]}}, acc_i};
  end else begin : g_acc_full
    assign acc32 = acc_i;
  end
  // Left shift in 32 bits drops the high bits: the wrap of TFLite's int32 shift.
  assign a = acc32 << left_amt;
  assign ab = a * mult_i;
  // gemmlowp's nudge: round half up on the doubled product (1 - 2^30 below zero).
  assign ab_nudged = ab + (ab[63] ? 64'sd1 - 64'sd1073741824 : 64'sd1073741824);
  // Division by 2^31 truncating toward zero, as C's integer division.
  assign ab_biased = ab_nudged + (ab_nudged[63] ? 64'sd2147483647 : 64'sd0);

  always_comb begin
    // gemmlowp's one overflow case, kept for bit-exactness with the reference. Unreachable
    // here: the contract keeps mult_i non-negative (mpq_top asserts it), so coverage skips it.
    if (a == INT32_MIN && mult_i == INT32_MIN) begin
      // verilator coverage_off
      hi_o = INT32_MAX;
      // verilator coverage_on
    end else begin
      hi_o = ab_biased[62:31];
    end
  end

  // ---- out half ----
  logic [4:0] right_amt;
  logic [15:0] neg_shift;
  logic signed [31:0] mask, remainder, threshold, rq;
  logic signed [33:0] y_wide, y_lo, y_clamped;

  // -shift for shift in -31..-1; only the low 5 bits are meaningful in the legal range.
  assign neg_shift = -shift_i;
  assign right_amt = shift_i[15] ? neg_shift[4:0] : 5'd0;
  assign mask = (32'sd1 <<< right_amt) - 32'sd1;
  assign remainder = hi_i & mask;
  assign threshold = (mask >>> 1) + (hi_i[31] ? 32'sd1 : 32'sd0);
  assign rq = (hi_i >>> right_amt) + ((remainder > threshold) ? 32'sd1 : 32'sd0);

  // Exact clamp: out_offset + rq needs 34 bits (all operands signed: signed compares).
  logic signed [33:0] out_offset_ext, rq_ext, act_min_ext, act_max_ext;
  assign out_offset_ext = {{18{out_offset_i[15]}}, out_offset_i};
  assign rq_ext = {{2{rq[31]}}, rq};
  assign act_min_ext = {{18{act_min_i[15]}}, act_min_i};
  assign act_max_ext = {{18{act_max_i[15]}}, act_max_i};
  assign y_wide = out_offset_ext + rq_ext;
  // TFLite order: max with act_min first, then min with act_max.
  assign y_lo = (y_wide < act_min_ext) ? act_min_ext : y_wide;
  assign y_clamped = (y_lo > act_max_ext) ? act_max_ext : y_lo;
  assign y_o = y_clamped[OutBits-1:0];

  // Bits that are provably constant or dropped by design: ab_biased[63] and [30:0] (the
  // quotient is bits 62:31), the high bits of -shift (legal range 1..31), the clamped
  // value's high bits (within the OutBits range after the clamp).
  logic unused_bits;
  assign unused_bits = ^{ab_biased[63], ab_biased[30:0], neg_shift[15:5], y_clamped[33:OutBits]};

endmodule
