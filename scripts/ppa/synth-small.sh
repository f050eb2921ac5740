#!/usr/bin/env bash
# synth-small.sh OUTDIR: `make synth` (scripts/ppa/synth.sh) on the smallest configuration, so that
# the target cannot rot unseen: the RTL is read and synthesized by the Yosys of the PPA flow
# (pyosys), and the table's row for `small` holds its parameters and cell counts that add up
# (total = the whole design; lane, requant and wbuf are parts of it). Environment: as synth.sh
# (GOLDEN_BIN, PPA_VENV, PYTHON).
set -u
out=${1:?usage: synth-small.sh OUTDIR}
cd "$(dirname "$0")/../.."
rm -rf "$out"
fail() { echo "synth/small: $*"; cat "$out/table.md" 2>/dev/null; exit 1; }
# The synthesis does not depend on the Verilator, the sanitizers or the build tree, yet make test
# runs once per build tree (.ci/run: two Verilators; SAN=1). Its table is kept in SYNTH_CACHE
# (default build/synth-cache, shared by the build trees) under a digest of everything it reads:
# rtl/, the synthesis scripts and the Yosys version. Same digest: the table is reused, the
# checks below run on it again, and the log says so. Any edit of those files synthesizes anew.
cache=${SYNTH_CACHE:-build/synth-cache}
pyosys=$(scripts/ppa/venv.sh "${PPA_VENV:-build/ppa-venv}") || fail "no Yosys (pyosys could not be installed)"
yver=$("$pyosys" -c 'from pyosys import libyosys as ys; print(ys.yosys_maybe_version())') || fail "pyosys does not start"
key=$({ echo "$yver"; find rtl scripts/ppa/synth.sh scripts/ppa/synth_generic.py scripts/ppa/netlist.py \
        scripts/ppa/cfg.sh scripts/ppa/synth-small.sh -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } \
      | sha256sum | cut -c1-16)
if [ -f "$cache/$key/table.md" ]; then
    mkdir -p "$out" && cp "$cache/$key/table.md" "$out/table.md" || fail "cannot copy $cache/$key/table.md"
    echo "synth/small: the synthesis of these inputs is in $cache/$key (digest of rtl/, the synthesis scripts and $yver); checking its table"
else
    VARIANTS=small scripts/ppa/synth.sh "$out" || fail "scripts/ppa/synth.sh failed"
    [ -f "$out/table.md" ] || fail "no $out/table.md"
    mkdir -p "$cache" && tmpd=$(mktemp -d "$cache/.new.XXXXXX") && cp "$out/table.md" "$tmpd/" \
        && { mv -T "$tmpd" "$cache/$key" 2>/dev/null || rm -rf "$tmpd"; }
fi
[ -f "$out/table.md" ] || fail "no $out/table.md"
grep -q '^Yosys `synth -top mpq_top` (generic cells), Yosys [0-9]' "$out/table.md" \
    || fail "the table does not name the Yosys that made it"
row=$(grep '^| small |' "$out/table.md") || fail "no row for small"
# | variant | HpPerGroup:KLanes | AccBits | Lanes | KMax | total | per lane | lane | requant | wbuf | seconds |
IFS='|' read -r _ v hpkl acc lanes kmax total per lane rq wbuf _ <<<"$row"
g=${GOLDEN_BIN:-build/mpq-golden}
want="$("$g" cfg small --get HpPerGroup):$("$g" cfg small --get KLanes) $("$g" cfg small --get AccBits)"
want+=" $("$g" cfg small --get Lanes) $("$g" cfg small --get KMax)"
got=$(echo $hpkl $acc $lanes $kmax)
[ "$got" = "$want" ] || fail "parameters '$got' in the table, rtl/cfg/small.cfg says '$want'"
for n in $total $per $lane $rq $wbuf; do
    case $n in ''|*[!0-9]*|0) fail "a cell count is missing or zero: '$n'" ;; esac
done
lanes=$(echo $lanes)
[ "$per" -eq $((total / lanes)) ] || fail "per lane $per is not total / Lanes = $((total / lanes))"
parts=$(( (lane + rq) * lanes + wbuf ))
[ "$parts" -lt "$total" ] || fail "the lanes, requantizers and weight buffer ($parts cells) are not a part of the total ($total)"
echo "synth/small: $(echo $total) cells (lane $(echo $lane), requant $(echo $rq), wbuf $(echo $wbuf)), $(sed -n 's/.*(generic cells), \(Yosys [^,]*\),.*/\1/p' "$out/table.md")"
