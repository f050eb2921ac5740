#!/usr/bin/env bash
# abfp-repro.sh LIB_DUMP OUT_DIR: ABFP is bit-reproducible. Builds golden/tests/abfp_dump.c with
# the ABFP sources by gcc and clang at -O0 and -O2 (-ffp-contract=off, as golden.mk builds the
# library), runs each and LIB_DUMP (the same driver linked with the library's own -O3 build),
# and compares their output bytes: every case of golden/tests/abfp_ref.py, noise included.
set -euo pipefail
lib_dump=$1 out=$2
mkdir -p "$out"
srcs=(golden/tests/abfp_dump.c golden/arith/*.c)
"$lib_dump" >"$out/lib.txt"
fail=0
for cc in gcc clang; do
  for opt in -O0 -O2; do
    bin=$out/dump-$cc$opt
    "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L $opt -ffp-contract=off -Wall -Wextra -Werror -Igolden "${srcs[@]}" -lm -o "$bin"
    "$bin" >"$out/$cc$opt.txt"
    if cmp -s "$out/lib.txt" "$out/$cc$opt.txt"; then
      echo "abfp-repro: $cc $opt: same bytes as the library's build ($(wc -c <"$out/lib.txt") bytes)"
    else
      echo "abfp-repro: $cc $opt: DIFFERENT from the library's build: $(cmp "$out/lib.txt" "$out/$cc$opt.txt" | head -1)"
      fail=1
    fi
  done
done
exit $fail
