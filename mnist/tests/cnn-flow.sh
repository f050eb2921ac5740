#!/usr/bin/env bash
# cnn-flow.sh MPQ_CNN CNN_CHECK MPQ_MNIST_RTL WORKDIR: the CNN flow end to end, small. The dataset
# package is installed first (scripts/install-deps.sh data).
set -u
cnn=$1 check=$2 rtl=$3 work=$4
. mnist/tests/flow-lib.sh
flow_start "$work"
opts=(--seed 7 --epochs 1 --train-count 1500)
model=cnn-c16_p2_c32s2_c64s2v_f10-s7-e1-n1500.bin
flow_train_twice "$work" "$model" "$cnn" "${opts[@]}"
# A second run reuses the cached model.
"$cnn" "${opts[@]}" --out "$work/a" --train-only | grep -q "from $work/a/$model" || { echo "the cached model was not reused"; exit 1; }
# Quantized inference in the golden model equals a plain recomputation, layer by layer, in
# every scheme, and each sparse residual has the structure its axis claims.
"$check" "$work/a/$model" 12 || exit 1
# Accuracies and the study on 300 test images (int8 within 3 points of float).
flow_study "$work" 3 "$cnn" "${opts[@]}" --quick --test-count 300
# 2 images through the RTL: every conv layer in the conv mode, every port every cycle; the
# pooling on the host; its outputs equal the golden model's.
flow_rtl "$work" "$rtl" --model "$work/a/$model" --images 2
