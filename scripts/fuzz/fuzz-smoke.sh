#!/usr/bin/env bash
# fuzz-smoke.sh NAME BUILD SECONDS: build one libFuzzer target and run it briefly on a copy
# of its seed corpus. clang and its libFuzzer are installed first (or named, and the test fails).
set -u
name=$1; build=$2; secs=$3
scripts/install-deps.sh fuzz || { echo "fuzz $name: clang with libFuzzer is needed (scripts/install-deps.sh fuzz)"; exit 1; }
make --no-print-directory -s BUILD="$build" "$build/fuzz/fuzz_$name" || exit 1
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
