#!/usr/bin/env bash
# bad-input.sh MPQ_TB MPQ_GOLDEN WORKDIR: every kind of broken vector file is refused by the
# testbench (replay) and by `mpq-golden vecinfo` with a message that names the file and the
# problem, and exit status 2; never a pass, never a crash.
set -u
tb=$1 golden=$2 work=$3
good=vectors/regress/default-basic.vec
foreign=vectors/regress/small-basic.vec
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1
root=$OLDPWD
tb=$root/$tb; golden=$root/$golden; good=$root/$good; foreign=$root/$foreign

# edit OUT PERL: decompress the good file, apply a byte edit, recompress (valid gzip).
edit() { zcat "$good" | perl -0777 -pe "$2" | gzip -n >"$1"; }
: >empty.vec
echo "not a vector" >text.vec
head -c 300 "$good" >truncated.vec
head -c 12 "$good" >truncated-header.vec
cp "$good" corrupted.vec && printf '\xff\xff\xff' | dd of=corrupted.vec bs=1 seek=200 conv=notrunc 2>/dev/null
edit magic.vec 'substr($_, 0, 6) = "XPQVEC"'
edit version.vec 'substr($_, 6, 2) = pack("v", 99)'
edit absurd-m.vec 'substr($_, 64, 4) = pack("V", 0xffffffff)'
edit record-flip.vec 'substr($_, 200, 1) = chr(ord(substr($_, 200, 1)) ^ 0x10)'
edit no-end.vec 'substr($_, -12) = ""'
(zcat "$good"; echo junk) | gzip -n >after-end.vec
cat "$good" "$good" >two-streams.vec

# case FILE EXPECTED-WORDS [TOOL...]: exit 2 and stderr naming FILE and containing the words.
fails=0
expect() {
    local f=$1 words=$2
    # The testbench reads the file directly and through its source thread.
    for tool in tb tb-thread golden; do
        case $tool in
            tb) "$tb" replay "$f" -q --source-thread off >out.txt 2>err.txt ;;
            tb-thread) "$tb" replay "$f" -q --source-thread on >out.txt 2>err.txt ;;
            golden) "$golden" vecinfo "$f" >out.txt 2>err.txt ;;
        esac
        local rc=$?
        if [ $rc -ne 2 ]; then echo "FAIL $tool $f: exit $rc, want 2"; cat out.txt err.txt; fails=$((fails + 1)); continue; fi
        if ! grep -q -- "$f" err.txt; then echo "FAIL $tool $f: message does not name the file: $(cat err.txt)"; fails=$((fails + 1)); continue; fi
        if ! grep -qi -- "$words" err.txt; then echo "FAIL $tool $f: message lacks '$words': $(cat err.txt)"; fails=$((fails + 1)); continue; fi
        echo "ok   $tool $f: $(head -n 1 err.txt)"
    done
}
expect empty.vec "empty"
expect text.vec "not a vector file"
expect truncated.vec "truncated"
expect truncated-header.vec "truncated"
expect corrupted.vec "corrupted"
expect magic.vec "bad magic"
expect version.vec "version 99"
expect absurd-m.vec "impossible"
expect record-flip.vec "corrupted"
expect no-end.vec "truncated"
expect after-end.vec "after the end"
expect two-streams.vec "after the end"
expect missing.vec "cannot open"

# A vector made for another configuration is refused by name (testbench only: vecinfo reads any).
"$tb" replay "$foreign" --config "$root/rtl/cfg/default.cfg" -q >out.txt 2>err.txt
rc=$?
if [ $rc -ne 2 ] || ! grep -q "small-basic.vec was made for Lanes=3" err.txt; then
    echo "FAIL tb foreign configuration: exit $rc: $(cat err.txt)"; fails=$((fails + 1))
else echo "ok   tb $foreign: $(head -c 120 err.txt)..."; fi
# And the testbench refuses a --config that is not the RTL it was built from.
"$tb" replay "$good" --config "$root/rtl/cfg/small.cfg" -q >out.txt 2>err.txt
rc=$?
if [ $rc -ne 2 ] || ! grep -q "small.cfg says" err.txt; then
    echo "FAIL tb --config mismatch: exit $rc: $(cat err.txt)"; fails=$((fails + 1))
else echo "ok   tb --config small.cfg on the default RTL refused"; fi
# The good file itself passes (so the checks above are about the damage, not the file).
"$tb" replay "$good" -q >out.txt 2>&1 || { echo "FAIL the undamaged file does not pass"; cat out.txt; fails=$((fails + 1)); }
[ $fails -eq 0 ] && echo "bad input: every damaged file refused with exit 2 and a message naming it"
[ $fails -eq 0 ]
