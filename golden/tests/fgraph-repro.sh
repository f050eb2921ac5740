#!/usr/bin/env bash
# fgraph-repro.sh LIB_DUMP MODELS_DIR OUT_DIR: real models on ABFP arrays are bit-reproducible.
# Builds golden/tests/fgraph_dump.c with the float runner, the ABFP source and what they call
# by gcc and clang at -O0 and -O2 (-ffp-contract=off, as golden.mk builds them) and with
# -DMPQ_NO_SIMD (-Wno-unused-function: clang flags inline helpers of mpq_mac_tile.c), runs each on keyword_spotting (conv, depthwise, pools, FC) and
# keyword_spotting_on_off_v3 (ADD, 107 operators) and compares the bytes with LIB_DUMP (the
# driver linked with the library's build): the float logits, the logits on noisy ABFP arrays,
# every layer's counts and SQNR sums.
set -euo pipefail
lib_dump=$1 models=$2 out=$3
mkdir -p "$out"
srcs=(golden/tests/fgraph_dump.c golden/net/mpq_fgraph.c golden/net/mpq_tflite.c golden/net/mpq_netops.c
      golden/arith/mpq_abfp.c golden/arith/mpq_arith.c golden/arith/mpq_conv.c golden/arith/mpq_mac.c
      golden/arith/mpq_mac_tile.c golden/arith/mpq_layer.c golden/arith/mpq_requant.c
      golden/arith/mpq_bits.c golden/arith/mpq_status.c)
set -- keyword_spotting keyword_spotting_on_off_v3
for m in "$@"; do "$lib_dump" "$models/$m.tflite" 2 >"$out/lib-$m.txt"; done
fail=0
for v in "gcc -O0" "gcc -O2" "clang -O0" "clang -O2" "clang -O2 -DMPQ_NO_SIMD"; do
  read -r cc flags <<<"$v"
  name=$(tr ' ' '_' <<<"$v")
  bin=$out/dump-$name
  # shellcheck disable=SC2086
  "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L $flags -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-function -Igolden "${srcs[@]}" -lm -o "$bin"
  for m in "$@"; do
    "$bin" "$models/$m.tflite" 2 >"$out/$name-$m.txt"
    if cmp -s "$out/lib-$m.txt" "$out/$name-$m.txt"; then
      echo "fgraph-repro: $v, $m: same bytes as the library's build ($(wc -c <"$out/lib-$m.txt") bytes)"
    else
      echo "fgraph-repro: $v, $m: DIFFERENT from the library's build: $(cmp "$out/lib-$m.txt" "$out/$name-$m.txt" | head -1)"
      fail=1
    fi
  done
done
exit $fail
