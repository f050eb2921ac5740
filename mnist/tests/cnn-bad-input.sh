#!/usr/bin/env bash
# cnn-bad-input.sh MPQ_CNN MPQ_MNIST_RTL WORKDIR: bad options, a missing dataset and damaged
# model files are refused with a message naming what is wrong, exit 2; a damaged cached model
# is reported and trained again, never used.
set -u
cnn=$1 rtl=$2 work=$3
data=/usr/share/datasets/fashion-mnist
scripts/install-deps.sh data || { echo "the Fashion-MNIST data is needed (scripts/install-deps.sh data)"; exit 1; }
rm -rf "$work" && mkdir -p "$work" || exit 1
fails=0
refuse() { # WORDS COMMAND...: must exit 2 with WORDS in its message
    local words=$1; shift
    "$@" >"$work/out.txt" 2>"$work/err.txt"
    local rc=$?
    if [ $rc -ne 2 ] || ! grep -qi -- "$words" "$work/err.txt"; then
        echo "FAIL $*: exit $rc: $(cat "$work/err.txt")"; fails=$((fails + 1))
    else echo "ok   $(head -n 1 "$work/err.txt")"; fi
}
refuse "--arch: architecture \`c16,x3,f10\`: unknown layer" "$cnn" --arch c16,x3,f10 --out "$work/o"
refuse "must be the last layer" "$cnn" --arch c16,f10,c8 --out "$work/o"
refuse "must end with the classifier f10" "$cnn" --arch c16,p2 --out "$work/o"
refuse "pooling window 40" "$cnn" --arch p40,f10 --out "$work/o"
refuse "--epochs: \`0\` is not a number" "$cnn" --epochs 0 --out "$work/o"
refuse "--seed: \`abc\`" "$cnn" --seed abc --out "$work/o"
refuse "--train-count: \`-5\`" "$cnn" --train-count -5 --out "$work/o"
refuse "unknown or incomplete option \`--bogus\`" "$cnn" --bogus
refuse "$work/nodata/train-images-idx3-ubyte.gz: cannot open" "$cnn" --data "$work/nodata" --out "$work/o"
# A damaged cached model is reported and trained again, never used.
opts=(--seed 3 --epochs 1 --train-count 200 --out "$work/model" --train-only)
"$cnn" "${opts[@]}" >/dev/null || exit 1
m="$work/model/cnn-c16_p2_c32s2_c64s2v_f10-s3-e1-n200.bin"
head -c 5000 "$m" >"$m.cut" && mv "$m.cut" "$m"
"$cnn" "${opts[@]}" >"$work/out.txt" 2>&1 || exit 1
if grep -q "cached model is unusable (.*n200.bin: truncated" "$work/out.txt"; then
    echo "ok   $(grep unusable "$work/out.txt")"
else echo "FAIL truncated model: $(cat "$work/out.txt")"; fails=$((fails + 1)); fi
# A model of another architecture under this name is not used either.
"$cnn" --arch c8,p2,c16s2,c16s2v,f10 "${opts[@]}" >/dev/null || exit 1
cp "$work/model/cnn-c8_p2_c16s2_c16s2v_f10-s3-e1-n200.bin" "$m"
"$cnn" "${opts[@]}" >"$work/out.txt" 2>&1 || exit 1
if grep -q "unusable (.*holds architecture \`c8,p2,c16s2,c16s2v,f10\`" "$work/out.txt"; then
    echo "ok   $(grep unusable "$work/out.txt")"
else echo "FAIL model of another architecture: $(cat "$work/out.txt")"; fails=$((fails + 1)); fi
# The RTL runner refuses what is not a model, a truncated model, a bad scheme and a bad
# --save-vectors.
printf 'hello' >"$work/junk.bin"
refuse "junk.bin: neither an mpq MLP nor an mpq CNN file" "$rtl" --model "$work/junk.bin" --images 1
head -c 3000 "$m" >"$work/cut.bin"
refuse "cut.bin: truncated" "$rtl" --model "$work/cut.bin" --images 1
refuse "--scheme \`bogus\`" "$rtl" --model "$m" --scheme bogus
# --save-vectors (make ppa's CNN workload) refuses a missing or impossible directory.
refuse "--save-vectors needs a directory" "$rtl" --model "$m" --images 1 --save-vectors
refuse "--save-vectors: \`$work/junk.bin\` is not a directory" "$rtl" --model "$m" --images 1 --save-vectors "$work/junk.bin"
refuse "--save-vectors: cannot create \`$work/junk.bin/v\`" "$rtl" --model "$m" --images 1 --save-vectors "$work/junk.bin/v"
[ $fails -eq 0 ]
