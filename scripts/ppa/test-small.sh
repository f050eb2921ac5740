#!/usr/bin/env bash
# test-small.sh OUTDIR: make test's ppa/small. The whole flow (scripts/ppa/ppa.sh) on the
# small configuration, its workloads committed vector files: `basic` (small-basic.vec),
# `conv` (small-conv-1x1.vec), and `sampled`, a summary in mpq-tb net --vec-dir's format
# (make ppa-models' workload) of two layers: basic.vec as the sample of a layer three times
# its length, then conv.vec whole. Checks: area, fmax and power present and positive
# (report.py check); the sampled network's energy per inference (report.py summary) equals
# 3 x basic's cycles x basic's power + conv's cycles x conv's power, at fmax: each layer's
# activity weighed by its whole cycles, not by those replayed. Needs PPA_ENV's variables and
# GOLDEN_BIN.
set -euo pipefail
out=${1:?usage: test-small.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}
basic=vectors/regress/small-basic.vec conv=vectors/regress/small-conv-1x1.vec
cycles() { "${GOLDEN_BIN:?GOLDEN_BIN is not set}" vecinfo "$1" | awk '$1 == "cycles" { print $2 }'; }
nb=$(cycles "$basic") nc=$(cycles "$conv")
[ -n "$nb" ] && [ -n "$nc" ] || { echo "test-small.sh: no cycle count from mpq-golden vecinfo" >&2; exit 1; }
s=$out-sampled
mkdir -p "$s"
cp "$basic" "$s/basic.vec"
cp "$conv" "$s/conv.vec"
{
  printf '# ppa/small: layer 1 ran %d cycles, basic.vec its first %d; layer 2 conv.vec whole\n' $((3 * nb)) "$nb"
  printf 'network\tsmall, sampled\n'
  printf 'layer1\t4\t16\t3\t%d\t192\tbasic.vec\t%d\t%d\n' $((3 * nb)) "$nb" $((3 * nb))
  printf 'layer2\t20\t9\t7\t%d\t1260\tconv.vec\t%d\t%d\n' "$nc" "$nc" "$nc"
} >"$s/summary.tsv"
"$here/ppa.sh" small "$out" basic="$basic" conv="$conv" sampled="$s/summary.tsv"
"$py" "$here/report.py" check "$out"
"$py" "$here/report.py" summary "$(dirname "$out")" "$s/report.md" "$s" "$(basename "$out")" >/dev/null
"$py" - "$out/ppa.json" "$s/models-energy.json" <<'PY'
import json, sys
d, rows = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t = d["timing"]["min_period_ns"] * 1e-9
p = {r["mode"]: r["total_w"] for r in d["power"]
     if r["unit"] == "total" and abs(r["period_ns"] * 1e-9 - t) < 1e-6 * t}
n = {w["network"]: w["cycles"] for w in d["workloads"] if w["network"] in ("basic", "conv")}
want = (3 * n["basic"] * p["basic"] + n["conv"] * p["conv"]) * t
wrong = (n["basic"] * p["basic"] + n["conv"] * p["conv"]) / (n["basic"] + n["conv"]) * (3 * n["basic"] + n["conv"]) * t
r = rows[0]
got = r["nj_per_inf"] * 1e-9
ok = abs(got - want) <= 1e-5 * want and r["layers_sampled"] == 1 and r["cycles_replayed"] == n["basic"] + n["conv"]
print("ppa/small sampled: %.6g nJ; want %.6g nJ (3 x %d cycles at %.6g W + %d at %.6g W); weighed by the cycles "
      "replayed it would be %.6g nJ: %s" % (got * 1e9, want * 1e9, n["basic"], p["basic"], n["conv"], p["conv"],
                                            wrong * 1e9, "equal" if ok else "WRONG"))
sys.exit(0 if ok else 1)
PY
