#!/usr/bin/env bash
# test-peers.sh GOLDEN ENERGY_TSV WORK: make test's explore/peers (docs/explore.md "Peers").
# 1. The ZigZag architecture of dense and int8, parsed back by ZigZag, equals the
#    configuration (MACs, accumulators, weight buffer, ring, per-access energies); checked
#    against another configuration's values it is reported.
# 2. Bad input exits 2 naming the option: a configuration without int8, an unknown one, a
#    missing energy table.
# 3. Two layers of the CNN on dense through ZigZag: its ideal cycles (the spatial mapping's
#    temporal iterations) equal mpq's steps exactly, the conv layer (every lane and slice
#    element busy) is within 10% of mpq's exact cycles, and its MAC energy is the table's.
set -uo pipefail
golden=$1 energy=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
py=$("$here/venv.sh") || exit 1
rm -rf "$work" && mkdir -p "$work"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

"$py" "$here/zz_check.py" --golden "$golden" --energy "$energy" --work "$work" dense int8 || bad "architecture"
if "$py" "$here/zz_check.py" --golden "$golden" --work "$work" --against int8 dense >"$work/against.txt" 2>&1; then
  bad "dense's description checked against int8's values passed"
else
  grep -q "weight buffer int8 weights per lane: ZigZag has 1024, the configuration 4096" "$work/against.txt" ||
    bad "the planted mismatch was not named: $(cat "$work/against.txt")"
fi

refuse() {  # refuse WHAT ARGS...: peers.py must exit 2 and name WHAT
  local what=$1; shift
  "$py" "$here/peers.py" --golden "$golden" --out "$work/bad" "$@" >"$work/bad.txt" 2>&1
  local rc=$?
  if [ $rc -ne 2 ] || ! grep -q -- "$what" "$work/bad.txt"; then
    bad "peers.py $*: exit $rc, expected 2 naming $what: $(tail -2 "$work/bad.txt")"
  fi
}
refuse "--cnn-config default" --cnn-config default
refuse "--cnn-config nosuch" --cnn-config nosuch
refuse "--energy $work/none.tsv" --energy "$work/none.tsv"
refuse "--cnn-layers" --cnn-layers 5
echo "refusals: 4 checked"

"$py" "$here/peers.py" --golden "$golden" --out "$work/run" --energy "$energy" --cnn-layers 2,4 \
  >"$work/run.txt" 2>&1 || { cat "$work/run.txt"; bad "peers.py on two CNN layers"; }
"$py" - "$work/run/peers.json" <<'PY' || fail=1
import json, sys
n = json.load(open(sys.argv[1]))["networks"][0]
ok = True
for l in n["layers"]:
    print(f"{l['layer']}: mpq {l['mpq_cycles']} cycles ({l['mpq_steps']} steps), ZigZag {l['zz_latency']:.0f} "
          f"(ideal {l['zz_ideal_temporal']:.0f}), ratio {l['zz_over_mpq']}")
    if l["zz_ideal_temporal"] != l["mpq_steps"]:
        print(f"FAIL: ZigZag's ideal cycles {l['zz_ideal_temporal']} != mpq's steps {l['mpq_steps']}"); ok = False
    want = l["zz_macs"] * n["energy_table"]["mac_hp"]
    if abs(l["zz_mac_energy_pj"] - want) > 1e-6 * want:
        print(f"FAIL: ZigZag's MAC energy {l['zz_mac_energy_pj']} != {want}"); ok = False
conv = n["layers"][0]
if not abs(conv["zz_over_mpq"] - 1) <= 0.10:
    print(f"FAIL: the conv layer's ZigZag/mpq {conv['zz_over_mpq']} is not within 10%"); ok = False
sys.exit(0 if ok else 1)
PY
[ $fail -eq 0 ] && echo "explore/peers: pass" || { echo "explore/peers: FAIL (work: $work)"; exit 1; }
