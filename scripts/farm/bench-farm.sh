#!/usr/bin/env bash
# bench-farm.sh OUTDIR: the farm's part of `make bench`, OUTDIR/farm.json (make merges it into
# build/bench.json as "farm"):
#  1. local backend: aggregate cycles per second of one plan (4 jobs of large layers, default
#     configuration) run as 1 shard on 1 core and as 2 shards on 2 cores; the rounds interleave
#     both, the speed-up is the median of the rounds' ratios (a shared host drifts);
#  2. slurm backend, on a one-node cluster of its own (scripts/farm/slurm-cluster.sh, stopped on
#     exit): the overhead per job from submission (before sbatch) to the start of the task's
#     shard runner, for tasks that wait for no CPU; and a 2-job plan end to end, slurm minus local;
#  3. the merge of 1,000 job results (regress.py bench-merge: synthetic results, median of 3).
# Environment from make: BUILD, PYTHON, REGRESS_BUILD_CMD, MPQ_GOLDEN. BENCH_QUICK=1 shrinks every part (a
# check of this script, not a measurement). Slurm missing or not root: that part is null.
set -euo pipefail
out=${1:?usage: scripts/farm/bench-farm.sh OUTDIR}
: "${BUILD:=build}" "${PYTHON:=python3}" "${REGRESS_BUILD_CMD:=make -s --no-print-directory BUILD=$BUILD}"
quick=${BENCH_QUICK:-0}
work=$out/farm
rm -rf "$work" && mkdir -p "$work"
json=$out/farm.json
if [ "$quick" = 1 ]; then cycles=100000; rounds=1; slurm_rounds=1; merge_n=100; else cycles=2000000; rounds=3; slurm_rounds=3; merge_n=1000; fi
regress() {
    local cmd=$1; shift
    "$PYTHON" scripts/farm/regress.py "$cmd" --build "$BUILD" --results "$work/results" --build-cmd "$REGRESS_BUILD_CMD" "$@"
}
summary() { "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"; }

# --- 1. local: 1 shard on 1 core against 2 shards on 2 cores ------------------------------------
cat >"$work/scaling.plan" <<EOF
# bench-farm.sh: four jobs of large layers, $cycles cycles each
shards  = 2
timeout = 1200
[large]
configs = default
shapes  = 128x512x64
seeds   = 1
jobs    = 4
cycles  = $cycles
EOF
d=$("$PYTHON" scripts/farm/regress.py dir --build "$BUILD" --results "$work/results" --plan "$work/scaling.plan")
: >"$work/scaling.txt"
for r in $(seq "$rounds"); do
    for s in 1 2; do
        regress run --plan "$work/scaling.plan" --backend local --shards "$s" --jobs "$s" >"$work/scaling-$r-$s.log" 2>&1 \
            || { cat "$work/scaling-$r-$s.log" >&2; echo "bench-farm: the scaling plan failed" >&2; exit 1; }
        echo "$r $s $(summary "$d/summary.json" 'd["cycles_per_s_aggregate"]') $(summary "$d/summary.json" 'd["cycles"]')" >>"$work/scaling.txt"
    done
done
read -r one two speedup lo hi total < <(awk '{ rate[$1, $2] = $3; if ($3 > best[$2]) best[$2] = $3; c = $4 }
    END { n = 0; for (k in rate) { split(k, p, SUBSEP); if (p[2] == 2) v[++n] = rate[p[1], 2] / rate[p[1], 1] }
          for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
          med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
          printf "%.4f %.4f %.3f %.3f %.3f %d\n", best[1] / 1e6, best[2] / 1e6, med, v[1], v[n], c }' "$work/scaling.txt")
echo "farm, local backend: $total cycles (4 jobs of m=128 k=512 n=64), best of $rounds rounds"
printf '  1 shard,  1 core : %8.3f Mcycles/s aggregate\n' "$one"
printf '  2 shards, 2 cores: %8.3f Mcycles/s aggregate   speed-up %.2fx (median of the rounds; %.2f - %.2f)\n' "$two" "$speedup" "$lo" "$hi"
local_json="{\"cycles\": $total, \"rounds\": $rounds, \"one_shard_mcycles_s\": $one, \"two_shards_mcycles_s\": $two, \"speedup\": $speedup, \"speedup_min\": $lo, \"speedup_max\": $hi}"

# --- 2. slurm: submission to start, and a small plan end to end ----------------------------------
slurm_json=null
cluster=""
stop_cluster() { [ -n "$cluster" ] && scripts/farm/slurm-cluster.sh stop "$cluster" >/dev/null 2>&1; cluster=""; }
trap stop_cluster EXIT
if [ "$(id -u)" = 0 ] && scripts/install-deps.sh farm >&2 && line=$(scripts/farm/slurm-cluster.sh start 2>"$work/cluster.log"); then
    export SLURM_CONF=${line#export SLURM_CONF=}
    cluster=$(dirname "$SLURM_CONF")
    cpus=$(nproc)
    cat >"$work/tiny.plan" <<EOF
# bench-farm.sh: $cpus jobs of one small layer each, a shard each (no task waits for a CPU)
shards  = $cpus
timeout = 120
[tiny]
configs = default
shapes  = 4x64x8
seeds   = 1..$cpus
runs    = 1
EOF
    dt=$("$PYTHON" scripts/farm/regress.py dir --build "$BUILD" --results "$work/results" --plan "$work/tiny.plan")
    : >"$work/overhead.txt"
    for r in $(seq "$slurm_rounds"); do
        for b in slurm local; do
            t0=$(date +%s.%N)
            regress run --plan "$work/tiny.plan" --backend "$b" >"$work/tiny-$r-$b.log" 2>&1 \
                || { cat "$work/tiny-$r-$b.log" >&2; echo "bench-farm: the tiny plan failed on $b" >&2; exit 1; }
            t1=$(date +%s.%N)
            echo "wall $r $b $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" >>"$work/overhead.txt"
            if [ "$b" = slurm ]; then
                "$PYTHON" - "$dt" "$r" >>"$work/overhead.txt" <<'EOF'
import glob, json, sys
d = sys.argv[1]
sub = json.load(open(d + "/rounds/0/submit.json"))["submitted"]
for p in sorted(glob.glob(d + "/rounds/0/shard-*.json")):
    print("start %s %.3f" % (sys.argv[2], json.load(open(p))["started"] - sub))
EOF
            fi
        done
    done
    slurm_json=$("$PYTHON" - "$work/overhead.txt" "$cpus" <<'EOF'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
starts = sorted(float(r[2]) for r in rows if r[0] == "start")
wall = {}
for r in rows:
    if r[0] == "wall":
        wall.setdefault(r[1], {})[r[2]] = float(r[3])
extra = sorted(w["slurm"] - w["local"] for w in wall.values())
print(json.dumps({"node_cpus": int(sys.argv[2]), "tasks": len(starts),
                  "submit_to_start_s": {"median": round(statistics.median(starts), 3), "min": round(starts[0], 3), "max": round(starts[-1], 3)},
                  "plan_end_to_end_extra_s": {"median": round(statistics.median(extra), 3), "min": round(extra[0], 3), "max": round(extra[-1], 3)},
                  "jobs_per_plan": int(sys.argv[2])}))
EOF
)
    stop_cluster
    echo "farm, slurm backend (one-node cluster, $cpus CPUs): $(summary <(echo "$slurm_json") '"submission to start of a task: median %.2f s (%.2f - %.2f over %d tasks); a %d-job plan end to end: %.2f s more than local" % (d["submit_to_start_s"]["median"], d["submit_to_start_s"]["min"], d["submit_to_start_s"]["max"], d["tasks"], d["jobs_per_plan"], d["plan_end_to_end_extra_s"]["median"])')"
else
    echo "farm, slurm backend: skipped (needs root and Slurm: scripts/install-deps.sh farm)"
fi

# --- 3. merge of N job results ---------------------------------------------------------------------
merge=$("$PYTHON" scripts/farm/regress.py bench-merge "$merge_n" "$work/merge")
echo "farm, merge: $(summary <(echo "$merge") '"%d job results (20 layers each) merged in %.2f s (median of 3); merging again gives the same bytes: %s" % (d["results"], d["seconds"], d["idempotent"])')"
rm -rf "$work/merge"

cat >"$json.tmp" <<EOF
{
  "local": $local_json,
  "slurm": $slurm_json,
  "merge": $merge
}
EOF
mv -f "$json.tmp" "$json"
