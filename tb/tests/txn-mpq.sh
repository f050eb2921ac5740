#!/usr/bin/env bash
# txn-mpq.sh MPQ_TB SEED [mpq-tb options...]: the transaction-level check (mpq-tb txn) on mpq's
# own accelerator, through its description rtl/mpq_top.dut (codec mpq): 25 tests of two random
# layers of each kind (fc, conv2d, depthwise) from SEED, then 25 of any kind under heavy
# back-pressure (p-valid 0.3, p-ready 0.2), then one layer of some 9,000 cycles with and
# without the beat thread (its rings of 4 blocks of 1,024 beats wrap: tb/txn_feed.c). The options (trace folder, traced build) go to
# every run; a failure's report names the tensor element, beat and cycle.
set -u
tb=$1 seed=$2
shift 2
fails=0
for l in fc conv2d depthwise; do
    "$tb" txn --layer "$l" --seed "$seed" --runs 25 -q --name "txn-$l" "$@" || fails=$((fails + 1))
done
"$tb" txn --seed $((seed + 7000)) --runs 25 --p-valid 0.3 --p-ready 0.2 -q --name txn-heavy "$@" || fails=$((fails + 1))
for st in on off; do
    "$tb" txn --m 64 --k 1024 --n 16 --seed "$seed" --source-thread "$st" -q --name "txn-ring-$st" "$@" ||
        fails=$((fails + 1))
done
[ $fails -eq 0 ]
