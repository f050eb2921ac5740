# shellcheck shell=bash
# flow-lib.sh: what flow.sh (the MLP) and cnn-flow.sh (the CNN) check alike; sourced by both.

# flow_start WORKDIR: the dataset package installed (or named, and the test fails), WORKDIR
# empty with the two output folders a/ and b/.
flow_start() {
    scripts/install-deps.sh data || { echo "the Fashion-MNIST data is needed (scripts/install-deps.sh data)"; exit 1; }
    rm -rf "$1" && mkdir -p "$1/a" "$1/b" || exit 1
}

# flow_train_twice WORKDIR MODEL BIN ARGS...: BIN ARGS --train-only into WORKDIR/a and WORKDIR/b;
# the two models (file MODEL) are the same bytes: training is deterministic.
flow_train_twice() {
    local work=$1 model=$2
    shift 2
    "$@" --out "$work/a" --train-only || exit 1
    "$@" --out "$work/b" --train-only || exit 1
    cmp "$work/a/$model" "$work/b/$model" || { echo "training is not deterministic"; exit 1; }
}

# flow_study WORKDIR MARGIN BIN ARGS...: the study (BIN ARGS --out WORKDIR/a) into
# WORKDIR/golden.txt; its files complete; a model trained this little still beats chance by
# far (float > 60%) and dense int8 stays within MARGIN points of float.
flow_study() {
    local work=$1 margin=$2
    shift 2
    "$@" --out "$work/a" >"$work/golden.txt" || { cat "$work/golden.txt"; exit 1; }
    cat "$work/golden.txt"
    for f in results.md density.tsv accbits.tsv; do [ -s "$work/a/$f" ] || { echo "no $f"; exit 1; }; done
    local float dense
    float=$(awk '/^float \(reference\)/ { sub(/%/, "", $3); print $3 }' "$work/golden.txt")
    dense=$(awk '/^dense int8/ { sub(/%/, "", $4); print $4 }' "$work/golden.txt")
    awk -v f="$float" -v d="$dense" -v m="$margin" 'BEGIN { exit !(f > 60 && d > f - m) }' ||
        { echo "float $float%, dense int8 $dense%"; exit 1; }
}

# flow_rtl WORKDIR RTL_BIN ARGS...: the network through the RTL (every port every cycle); its
# outputs equal the golden model's.
flow_rtl() {
    local work=$1
    shift
    "$@" | tee "$work/rtl.txt" || exit 1
    grep -q "final outputs identical" "$work/rtl.txt" || exit 1
}
