#!/usr/bin/env bash
# explore-rtl.sh MPQ_TB MODELS_DIR OUT MODEL...: make explore-models' check of the search on the
# RTL. For each model, a point of its front (OUT/<model>.json from mpq-golden explore search): the
# least-energy point at 20 dB or more whose top class agrees on every input (a classifier), else
# the front's most faithful point that decomposes a layer. It runs on the Verilated configuration
# MPQ_TB was built for through `mpq-tb net MODEL --decomp LIST --map LIST` (each layer at the
# search's precision and cut into the hardware layers of the search's mapping; every layer in
# lockstep with the golden cycle model, every port every cycle; each decomposed layer equal to its
# functional model, each int8 one to the golden model's operator), and its per-layer cycles are
# set beside the search's: every one must be equal. Writes OUT/rtl.md; exit 1 when a run fails, a
# layer ran at another mapping than the search's or its cycles differ.
set -u
tb=${1:?usage: explore-rtl.sh MPQ_TB MODELS_DIR OUT MODEL...} dir=${2:?} out=${3:?}; shift 3
fail=0
rm -f "$out/rtl.md.tmp"
for m in "$@"; do
    j=$out/$m.json
    spec=$(python3 - "$j" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
db = lambda p: float('inf') if p['sqnr_db'] == 'inf' else p['sqnr_db']
mixed = [p for p in d['front'] if any(x != 'int8' for x in p['precisions'])]
ok = [p for p in mixed if db(p) >= 20 and (not d['classifier'] or p['top1_agree'] == d['inputs'])]
pick = min(ok, key=lambda p: p['energy_pj']) if ok else max(mixed, key=db)
# the mapping of each layer at its chosen precision (mpq-tb net --map reads the text as it is)
maps = [L['choices'][d['precisions'].index(p)]['map'] for L, p in zip(d['layers'], pick['precisions'])]
print(pick['decomp'] + '\t' + ';'.join(maps))
PY
) || { echo "explore-rtl: $m: no point to run"; fail=1; continue; }
    maps=${spec#*$'\t'} spec=${spec%%$'\t'*}
    "$tb" net "$dir/$m.tflite" --decomp "$spec" --map "$maps" --json "$out/$m-rtl.json" >"$out/$m-rtl.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || { echo "explore-rtl: $m: mpq-tb net exit $rc (see $out/$m-rtl.log)"; fail=1; continue; }
    python3 - "$j" "$out/$m-rtl.json" "$spec" "$m" >>"$out/rtl.md.tmp" <<'PY' || fail=1
import json, sys
d, r, spec, m = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
pick = next(p for p in d['front'] if p['decomp'] == spec)
names = d['precisions']
rows = {x['op']: x for x in r['layers']}
same = differ = 0
bad = []
lines = []
for L, prec in zip(d['layers'], pick['precisions']):
    c = L['choices'][names.index(prec)]
    x = rows[L['op']]
    # the RTL ran the search's mapping (--map), so its cycles must be the closed form's
    if x['mapping'] != c['map']:
        differ += 1
        bad.append(L['op'])
        lines.append(f"| {m} | {L['op']} | {L['shape']} | {prec} | {c['cycles']} ({c['map']}) | {x['cycles']} ({x['mapping']}) |")
    elif c['cycles'] == x['cycles'] and c['hw_layers'] == x['parts']:
        same += 1
    else:
        bad.append(L['op'])
        lines.append(f"| {m} | {L['op']} | {L['shape']} | {prec} | {c['cycles']} in {c['hw_layers']} parts | {x['cycles']} in {x['parts']} |")
total = sum(x['cycles'] for x in r['layers'])
top1 = f"{pick['top1_agree']}/{d['inputs']}" if d['classifier'] else 'n/a'
print(f"| {m} | {len(d['layers'])} | {pick['sqnr_db']} | {top1} | {pick['cycles']:.0f} | "
      f"{total} | {same} | {differ} | {'yes' if r['rtl_passed'] else 'NO'} |")
for l in lines:
    print(l, file=sys.stderr)
if bad:
    print(f"explore-rtl: {m}: ops {bad}: the RTL's mapping or cycles differ from the search's (above: the "
          "search's, then the RTL's)", file=sys.stderr)
    sys.exit(1)
PY
done
{
    echo "| model | layers | SQNR dB | top-1 | search's cycles | RTL cycles | layers equal | layers mapped otherwise | every layer passed |"
    echo "|---|---|---|---|---|---|---|---|---|"
    cat "$out/rtl.md.tmp" 2>/dev/null
} >"$out/rtl.md" && rm -f "$out/rtl.md.tmp"
cat "$out/rtl.md"
exit $fail
