#!/usr/bin/env bash
# bad-input.sh MPQ_MNIST WORKDIR: damaged dataset files and model files are refused with a
# message naming the file, exit 2.
set -u
mn=$1 work=$2
data=/usr/share/datasets/fashion-mnist
scripts/install-deps.sh data || { echo "the Fashion-MNIST data is needed (scripts/install-deps.sh data)"; exit 1; }
rm -rf "$work" && mkdir -p "$work" || exit 1
fails=0
check() { # DIR WORDS: mpq-mnist on the data in DIR must exit 2 naming a file of DIR
    local dir=$1 words=$2
    "$mn" --data "$dir" --out "$work/out" --quick >"$work/out.txt" 2>"$work/err.txt"
    local rc=$?
    if [ $rc -ne 2 ] || ! grep -q "$dir/" "$work/err.txt" || ! grep -qi -- "$words" "$work/err.txt"; then
        echo "FAIL $dir: exit $rc: $(cat "$work/err.txt")"; fails=$((fails + 1))
    else echo "ok   $(head -n 1 "$work/err.txt")"; fi
}
mk() { mkdir -p "$work/$1"; for f in "$data"/*.gz; do ln -sf "$f" "$work/$1/"; done; }
mk missing; rm "$work/missing/train-labels-idx1-ubyte.gz"; check "$work/missing" "cannot open"
mk trunc; rm "$work/trunc/t10k-images-idx3-ubyte.gz"; head -c 100000 "$data/t10k-images-idx3-ubyte.gz" >"$work/trunc/t10k-images-idx3-ubyte.gz"
check "$work/trunc" "truncated\|corrupted"
mk corrupt; rm "$work/corrupt/train-labels-idx1-ubyte.gz"; cp "$data/train-labels-idx1-ubyte.gz" "$work/corrupt/"
printf '\xff\xff\xff\xff' | dd of="$work/corrupt/train-labels-idx1-ubyte.gz" bs=1 seek=2000 conv=notrunc 2>/dev/null
check "$work/corrupt" "corrupted"
mk magic; rm "$work/magic/t10k-labels-idx1-ubyte.gz"; zcat "$data/t10k-images-idx3-ubyte.gz" | gzip -1 >"$work/magic/t10k-labels-idx1-ubyte.gz"
check "$work/magic" "not an IDX file"
mk count; rm "$work/count/t10k-labels-idx1-ubyte.gz"; zcat "$data/t10k-labels-idx1-ubyte.gz" | head -c 5008 | \
    perl -0777 -pe 'substr($_, 4, 4) = pack("N", 5000)' | gzip -1 >"$work/count/t10k-labels-idx1-ubyte.gz"
check "$work/count" "labels"
# A damaged cached model is reported and trained again, never used.
mkdir -p "$work/model"
"$mn" --seed 3 --epochs 1 --train-count 500 --out "$work/model" --train-only >/dev/null || exit 1
m="$work/model/mlp-s3-e1-n500.bin"
head -c 5000 "$m" >"$m.cut" && mv "$m.cut" "$m"
"$mn" --seed 3 --epochs 1 --train-count 500 --out "$work/model" --train-only >"$work/out.txt" 2>&1 || exit 1
if grep -q "cached model is unusable (.*mlp-s3-e1-n500.bin: truncated" "$work/out.txt"; then
    echo "ok   $(grep unusable "$work/out.txt")"
else echo "FAIL truncated model: $(cat "$work/out.txt")"; fails=$((fails + 1)); fi
[ $fails -eq 0 ]
