#!/usr/bin/env bash
# test-map-rtl.sh MPQ_TB MPQ_GOLDEN MODELS_DIR WORK: make test's check of `mpq-tb net --map` on
# the int8 RTL (a mapping per MAC layer, as mpq-golden explore search chooses them).
#  1. image_classification and keyword_spotting whole on the RTL, several layers at a mapping
#     other than the driver's: taps packed into channels and cut in row and column bands (a
#     thin first layer), bands of rows and of columns of k x k layers with padding on both
#     sides, the search's one-column bands of the stride-2 1x1 layers, a packed depthwise layer
#     in column bands, a plain depthwise layer in row bands, channels-outer order. Each run
#     must pass (every port every cycle, every layer's output and the final output equal to
#     the golden model's), and every layer's RTL cycles and part count must equal the point's
#     closed form as the search computes it (mpq-golden explore model --map: the layer's shape
#     and mapping, mpq_xp_point_cost). No model has batches > 1 or an FC layer of more than one
#     row, so images per part and FC row bands are left to golden/test_explore.
#  2. Refusals, exit 2 with nothing run: a malformed item, an unknown field, the wrong number
#     of items, mappings the layer cannot run (packing a layer that does not pack, columns of a
#     fully-connected layer).
set -u
tb=${1:?usage: test-map-rtl.sh MPQ_TB MPQ_GOLDEN MODELS_DIR WORK}; golden=${2:?}; dir=${3:?}; work=${4:?}
rm -rf "$work" && mkdir -p "$work"
fail=0
. "$(dirname "$0")/net-checks.sh"

# run_map MODEL MAP: the model on the RTL with --map MAP, each layer's cycles against the closed form.
run_map() {
    local m=$1 map=$2 rc
    "$tb" net "$dir/$m.tflite" --map "$map" --timing-seed 1 --json "$work/$m.json" --trace-dir "$work/traces" \
        >"$work/$m.txt" 2>&1
    rc=$?
    if [ $rc != 0 ] || ! grep -q '^mpq-tb net: passed: .* final output equal to the golden model' "$work/$m.txt"; then
        bad "$m --map: exit $rc, want 0 with every layer and the final output equal"; tail -5 "$work/$m.txt"
        return
    fi
    "$golden" explore model "$dir/$m.tflite" --config int8 --map "$map" >"$work/$m.points" 2>&1 ||
        { bad "$m: explore model --map exit $?"; tail -3 "$work/$m.points"; return; }
    python3 - "$work/$m.json" "$work/$m.points" "$m" <<'PY' || fail=1
import json, re, sys
r, m = json.load(open(sys.argv[1])), sys.argv[3]
pts = {}
for line in open(sys.argv[2]):
    x = re.match(r'op (\d+) point (\S+) (.*): closed form cycles (\d+) hw_layers (\d+), cycle model (\d+) in (\d+) parts', line)
    if x:
        pts[int(x[1])] = (x[3], int(x[4]), int(x[5]))
bad, mapped = [], 0
for L in r['layers']:
    want = pts.get(L['op'])
    if want is None or (L['mapping'], L['cycles'], L['parts']) != want:
        bad.append(f"op {L['op']}: RTL {L['mapping']} {L['cycles']} cycles in {L['parts']} parts, closed form {want}")
    mapped += L['parts'] > 1
if bad or not r['rtl_passed'] or len(pts) != len(r['layers']):
    print(f"FAIL: {m} --map: " + "; ".join(bad or ['not every layer passed or has a point']))
    sys.exit(1)
total = sum(L['cycles'] for L in r['layers'])
print(f"{m} --map: {len(r['layers'])} layers passed on the RTL, {mapped} of them in several parts; every layer's "
      f"cycles and parts equal to its point's closed form ({total} cycles)")
for L in r['layers']:
    if L['parts'] > 1 or 'pack=1' in L['mapping']:
        print(f"  op {L['op']} {L['shape']}: {L['mapping']}: {L['parts']} parts, {L['cycles']} cycles")
PY
}

# 1. Two models, layers cut otherwise than the driver would.
#    image_classification: 0 conv 32x32x3 k3 (thin: packed, 3 x 2 bands), 1 2 default,
#    4 conv 32x32x16>16x16x32 k3 s2 (3 x 3 bands), 5 (channels outer), 6 and 10 (1x1 stride 2,
#    the search's 16 and 8 one-column bands), 8 default, 9 conv 8x8x64 k3 (3 row bands), 14 FC.
run_map image_classification \
    "rows=11/cols=16/pack=1;default;default;rows=6/cols=6;order=outer;cols=1;default;rows=3;cols=1;default"
#    keyword_spotting: 1 conv 50x10x1 k10x4 s2 (thin: packed, 4 row bands), 2 dw packed in 2
#    column bands, 3 default, 4 dw unpacked in 9-row bands, 5.. default, the FC last.
run_map keyword_spotting \
    "img=1 rows=7 cols=0 pack=1 order=inner;cols=3/pack=1;default;rows=9;default;default;default;default;default;default"

# 2. Refusals: exit 2, the message naming the option and the item or layer, no layer run.
m=image_classification
refuse_map() {
    local what=$1 pat=$2 map=$3 out rc
    out=$("$tb" net "$dir/$m.tflite" --map "$map" 2>&1); rc=$?
    if [ $rc != 2 ] || ! grep -q -- "$pat" <<<"$out" || grep -q '^op  *type' <<<"$out"; then
        bad "$what: exit $rc, want 2 with '$pat' and nothing run: $out"
    else
        echo "refused ($what): $(grep -m1 -- "$pat" <<<"$out")"
    fi
}
D="default;default;default;default;default;default;default;default;default"
refuse_map "a malformed item" "--map: item 2 \`cols=x\`: .*cols is a number" "default;cols=x;$D"
refuse_map "an unknown field" "--map: item 1 \`colz=3\`: .*expected key=value" "colz=3;$D"
refuse_map "an empty item" "--map: item 2 of .*: empty" "default;;$D"
refuse_map "too few items" "--map names 3 layers; the model has 10" "default;default;cols=1"
refuse_map "packing a layer that does not pack" "op 1 (CONV_2D): mapping img=1 rows=32 cols=32 pack=1 .*pack=1: the host packs" \
    "default;pack=1;default;default;default;default;default;default;default;default"
refuse_map "columns of a fully-connected layer" "op 14 (FULLY_CONNECTED): mapping img=1 rows=1 cols=2 .*fully-connected layer has img=1 and cols=1" \
    "$D;cols=2"
[ $fail = 0 ] && echo "models/map-rtl: passed"
exit $fail
