// SPDX-License-Identifier: Apache-2.0
//
// osa_pkg: the constants of the output-stationary array (osa_top): the configuration words in
// the order the cfg stream carries them, the widths of the datapath, the controller's states.

package osa_pkg;

  // The layer's configuration words (32 bits each, one per cfg beat; examples/osa/osa.dut):
  // K (the im2col row length: elements of one output's dot product), N (output channels), P
  // (output pixels), then the TFLite quantization: the input offset (-input zero point), the
  // output offset (the output zero point) and the output clamp.
  localparam int unsigned CfgK = 0;
  localparam int unsigned CfgN = 1;
  localparam int unsigned CfgP = 2;
  localparam int unsigned CfgInOffset = 3;
  localparam int unsigned CfgOutOffset = 4;
  localparam int unsigned CfgActMin = 5;
  localparam int unsigned CfgActMax = 6;
  localparam int unsigned CfgWords = 7;
  // Then, per output channel, its bias, multiplier and shift (three words).
  localparam int unsigned ParamWords = 3;

  // An activation with the input offset added: int8 + [-256, 255] (the description's limit).
  localparam int unsigned XsW = 10;
  // Elements of a 64-bit weight, activation or output beat.
  localparam int unsigned BeatBytes = 8;

  typedef enum logic [2:0] {
    StCfg,    // taking the configuration words
    StParam,  // taking the per-channel parameters
    StWgt,    // taking the weights of every output channel into the weight banks
    StAct,    // taking the im2col rows of a tile of Rows output pixels
    StRun,    // the array computes the tile, Cols channels at a time; the requantizer drains it
    StOut     // the tile's pixels leave on the output stream
  } state_e;

endpackage
