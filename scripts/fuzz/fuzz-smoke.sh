#!/usr/bin/env bash
# fuzz-smoke.sh NAME BUILD SECONDS: run one libFuzzer target, BUILD/fuzz/fuzz_NAME (make
# fuzz/smoke-NAME builds it first, clang installed by its fuzz-deps), briefly on a copy of its
# seed corpus.
set -u
name=$1; build=$2; secs=$3
[ -x "$build/fuzz/fuzz_$name" ] || { echo "fuzz $name: no $build/fuzz/fuzz_$name (make fuzz/smoke-$name builds it)"; exit 1; }
work=$build/fuzz/smoke-$name
rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
cp golden/fuzz/corpus/"$name"/* "$work/corpus/" 2>/dev/null
"$build/fuzz/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -seed=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
rc=$?
tail -n 5 "$work/log"
if [ $rc -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
  echo "fuzz $name: failure (exit $rc); inputs in $work/artifacts"; exit 1
fi
echo "fuzz $name: $secs s without a crash"
