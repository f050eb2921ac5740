#!/usr/bin/env bash
# flow.sh MPQ_MNIST MPQ_MNIST_RTL WORKDIR: the Fashion-MNIST flow end to end, small. The
# dataset package is installed first (or named, and the test fails).
set -u
mn=$1 rtl=$2 work=$3
. mnist/tests/flow-lib.sh
flow_start "$work"
opts=(--seed 7 --epochs 1 --train-count 3000)
model=mlp-s7-e1-n3000.bin
flow_train_twice "$work" "$model" "$mn" "${opts[@]}"
# Quantized accuracies with the golden model (int8 within 2 points of float).
flow_study "$work" 2 "$mn" "${opts[@]}" --quick
# 30 images through the RTL.
flow_rtl "$work" "$rtl" --model "$work/a/$model" --images 30
