#!/usr/bin/env bash
# coverage.sh OUTDIR: Verilator line + toggle coverage of rtl/ over the co-simulation
# regression (make coverage). For every configuration: a coverage build of the model, the
# committed vectors of that configuration, and lockstep layers with light and heavy
# back-pressure. The per-model counters are merged with verilator_coverage; the lcov report
# goes to OUTDIR/html/index.html; the line coverage of rtl/ is printed with the lines that
# were never executed (OUTDIR/uncovered.txt).
#
# Environment (set by make): VERILATOR (its verilator_coverage), COVERAGE_CONFIGS (default:
# every rtl/cfg/*.cfg), COVERAGE_RUNS (lockstep layers per step, default 80; each layer writes its own counters).
# COVERAGE_VL: the folder of the coverage models make built (DIR/CONFIG/cov/mpq-tb).
set -euo pipefail
out=${1:?usage: scripts/coverage/coverage.sh OUTDIR}
: "${COVERAGE_VL:?set by make}" "${VERILATOR:=verilator}"
configs=${COVERAGE_CONFIGS:-$(ls rtl/cfg/*.cfg | sed "s#rtl/cfg/\(.*\)\.cfg#\1#" | xargs)}
runs=${COVERAGE_RUNS:-80}
vcov=${VERILATOR}_coverage
command -v "$vcov" >/dev/null || vcov=verilator_coverage
rm -rf "$out" && mkdir -p "$out/raw"

for cfg in $configs; do
    # make coverage built it first, as BUILD/vl/CONFIG/cov/mpq-tb (the farm's coverage model
    # too): one build for every user of it.
    bin="$COVERAGE_VL/$cfg/cov/mpq-tb"
    [ -x "$bin" ] || { echo "coverage.sh: no coverage model $bin (make coverage builds it)" >&2; exit 1; }
    raw="$out/raw/$cfg"
    mkdir -p "$raw"
    common=(--config "rtl/cfg/$cfg.cfg" --trace-dir "$out/traces" -q)
    vecs=(vectors/regress/"$cfg"-*.vec)
    if [ -e "${vecs[0]}" ]; then
        MPQ_COV_DIR=$raw "$bin" replay "${vecs[@]}" "${common[@]}" | tail -n 1 | sed "s/^/coverage: $cfg: replay: /"
    fi
    MPQ_COV_DIR=$raw "$bin" lockstep --seed 1 --runs "$runs" "${common[@]}" | tail -n 1 | sed "s/^/coverage: $cfg: lockstep: /"
    MPQ_COV_DIR=$raw "$bin" lockstep --seed 5001 --runs "$runs" --p-valid 0.4 --p-ready 0.25 "${common[@]}" \
        | tail -n 1 | sed "s/^/coverage: $cfg: back-pressure: /"
    # Merge this configuration's per-model files at once (there is one per layer).
    find "$raw" -name 'cov-*.dat' -print0 | xargs -0 "$vcov" --write "$out/$cfg.dat" >/dev/null
    rm -rf "$raw"
done

"$vcov" --write "$out/merged.dat" "$out"/*.dat >/dev/null 2>&1 || "$vcov" --write "$out/merged.dat" $(ls "$out"/*.dat | grep -v merged.dat)
# Split the points by kind (the page field: v_line/..., v_branch/..., v_toggle/...): line
# coverage counts statements and branches, toggle coverage every bit of every signal.
grep -v 'v_toggle/' "$out/merged.dat" >"$out/line.dat"
{ head -n 1 "$out/merged.dat"; grep 'v_toggle/' "$out/merged.dat"; } >"$out/toggle.dat"
"$vcov" --write-info "$out/line.info" "$out/line.dat"
"$vcov" --write-info "$out/toggle.info" "$out/toggle.dat"
"$vcov" --write-info "$out/coverage.info" "$out/merged.dat"
# Only the RTL sources (absolute or relative paths as Verilator recorded them).
for k in line toggle coverage; do
    lcov --quiet --extract "$out/$k.info" '*rtl/*.sv' --output-file "$out/rtl-$k.info" 2>/dev/null \
        || cp "$out/$k.info" "$out/rtl-$k.info"
done
cp "$out/rtl-line.info" "$out/rtl.info"
genhtml --quiet --output-directory "$out/html" --title "mpq rtl/ coverage (line + toggle)" \
    "$out/rtl-coverage.info" >/dev/null 2>&1 || genhtml --output-directory "$out/html" "$out/rtl-coverage.info"

# Line coverage per file, from the lcov records (DA:line,count; LF/LH per file).
awk -F'[:,]' '
    /^SF:/ { f = substr($0, 4); sub(/.*\/rtl\//, "rtl/", f) }
    /^DA:/ { key = f ":" $2; if (!(key in seen)) { seen[key] = 1; total[f]++ } if ($3 > 0 && !(key in hit)) { hit[key] = 1; cov[f]++ } }
    END {
        for (f in total) { T += total[f]; C += cov[f]; printf "  %-22s %5d / %5d lines  %6.2f%%\n", f, cov[f], total[f], 100 * cov[f] / total[f] }
        printf "TOTAL %d / %d = %.2f%%\n", C, T, 100 * C / T
    }' "$out/rtl.info" | sort >"$out/summary.txt"
awk -F'[:,]' '/^SF:/ { f = substr($0, 4); sub(/.*\/rtl\//, "rtl/", f) }
    /^DA:/ { c[f ":" $2] += $3 } END { for (k in c) if (c[k] == 0) print k }' "$out/rtl.info" \
    | sort -t: -k1,1 -k2,2n >"$out/uncovered.txt"

echo "coverage of rtl/ (Verilator line + toggle points, merged over: $configs)"
grep -v '^TOTAL' "$out/summary.txt"
total=$(sed -n 's/^TOTAL .* = \(.*\)%/\1/p' "$out/summary.txt")
toggle=$(awk -F'[:,]' '/^DA:/ { t++; if ($3 > 0) h++ } END { printf "%.2f", t ? 100 * h / t : 0 }' "$out/rtl-toggle.info")
echo "line coverage of rtl/: ${total}%   toggle coverage: ${toggle}% of the lines with signals"
echo "report: $out/html/index.html"
# The top bits of the lanes' exact intermediates (mpq_lane.sv's MPQ_COVERAGE probes cov_*: the
# ternary sum, the sparse sum, the product, the step's sum): does the stimulus drive them?
python3 - "$out/top-bits.txt" $(for c in $configs; do echo "$out/$c.dat"; done) <<'PYEOF'
import collections, os, re, sys
outf = open(sys.argv[1], "w")
for path in sys.argv[2:]:
  cfg = os.path.basename(path)[:-4]
  bits = collections.defaultdict(dict)  # (signal, instance) -> {bit: count}
  for line in open(path, encoding="latin-1"):
      m = re.match(r"C '(.*)' (\d+)$", line.rstrip("\n"))
      if not m:
          continue
      f = dict(kv.split("\x02", 1) for kv in m.group(1).split("\x01") if "\x02" in kv)
      if not f.get("page", "").startswith("v_toggle/"):
          continue
      o = re.match(r"(cov_\w+)(?:\[(\d+)\])?(?::.*)?$", f.get("o", ""))
      if not o:
          continue
      b = int(o.group(2) or 0)
      key = (o.group(1), f.get("h", ""))
      bits[key][b] = bits[key].get(b, 0) + int(m.group(2))
  per = collections.defaultdict(lambda: [0, 0, 0])  # signal -> [instances, top bit toggled, width]
  for (sig, _), d in bits.items():
      top = max(d)
      per[sig][0] += 1
      per[sig][1] += d[top] > 0
      per[sig][2] = top + 1
  for sig in sorted(per):
      n, hit, w = per[sig]
      outf.write("  %-8s %-12s %2d bits: top bit [%d] toggled in %d of %d lanes\n" % (cfg, sig, w, w - 1, hit, n))
PYEOF
if [ -s "$out/top-bits.txt" ]; then
    echo "top bits of the lanes' exact intermediates (toggle coverage of the MPQ_COVERAGE probes, per configuration):"
    cat "$out/top-bits.txt"
else
    echo "top bits of the lanes' exact intermediates: no cov_* toggle points found in the merged counters"
fi
n=$(wc -l <"$out/uncovered.txt")
if [ "$n" -gt 0 ]; then
    echo "lines never covered ($n), with the source:"
    while IFS=: read -r f l; do
        printf '  %s:%s: %s\n' "$f" "$l" "$(sed -n "${l}p" "$f" | sed 's/^[ \t]*//')"
    done <"$out/uncovered.txt"
else
    echo "every line covered"
fi
