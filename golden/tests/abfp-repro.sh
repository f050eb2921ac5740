#!/usr/bin/env bash
# abfp-repro.sh LIB_DUMP OUT_DIR: ABFP is bit-reproducible. Builds golden/tests/abfp_dump.c with
# the ABFP source and what it calls by gcc and clang at -O0 and -O2 (-ffp-contract=off, as
# golden.mk builds the library) and with -DMPQ_NO_SIMD (the plain C twins of the SSE2 loops),
# runs each and LIB_DUMP (the same driver linked with the library's own -O3 build), and
# compares their output bytes: every case of golden/tests/abfp_ref.py, noise included.
set -euo pipefail
lib_dump=$1 out=$2
mkdir -p "$out"
srcs=(golden/tests/abfp_dump.c golden/arith/mpq_abfp.c golden/arith/mpq_arith.c golden/arith/mpq_conv.c
      golden/arith/mpq_mac.c golden/arith/mpq_mac_tile.c golden/arith/mpq_layer.c golden/arith/mpq_requant.c
      golden/arith/mpq_bits.c golden/arith/mpq_status.c)
"$lib_dump" >"$out/lib.txt"
fail=0
# compiler, flags: the SSE2 loops at -O0 and -O2, and their plain C twins (-DMPQ_NO_SIMD).
for v in "gcc -O0" "gcc -O2" "clang -O0" "clang -O2" "gcc -O2 -DMPQ_NO_SIMD" "clang -O2 -DMPQ_NO_SIMD"; do
  read -r cc flags <<<"$v"
  name=$(tr ' ' '_' <<<"$v")
  bin=$out/dump-$name
  # shellcheck disable=SC2086
  # -Wno-unused-function: clang flags inline helpers of mpq_mac_tile.c that one SIMD level leaves unused.
  "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L $flags -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-function \
    -Igolden "${srcs[@]}" -lm -o "$bin"
  "$bin" >"$out/$name.txt"
  if cmp -s "$out/lib.txt" "$out/$name.txt"; then
    echo "abfp-repro: $v: same bytes as the library's build ($(wc -c <"$out/lib.txt") bytes)"
  else
    echo "abfp-repro: $v: DIFFERENT from the library's build: $(cmp "$out/lib.txt" "$out/$name.txt" | head -1)"
    fail=1
  fi
done
exit $fail
