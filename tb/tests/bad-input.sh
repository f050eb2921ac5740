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

# edit OUT PERL: decompress the good file, apply a byte edit, recompress (valid gzip, the
# format's gzip header). fixcrc (perl) recomputes the header's CRC after an edit of its body,
# so that the edit reaches the check behind the checksum. Offsets come from the file itself
# (vectors/FORMAT.md): $h = the header's length, $np = its parameter count.
edit() { zcat "$good" | perl -MCompress::Zlib -0777 -pe '
    sub hl { 12 + unpack("V", substr($_, 8, 4)) }
    sub fixcrc { my $l = hl(); substr($_, $l, 4) = pack("V", crc32(substr($_, 0, $l))) }
    my $h = hl() + 4; my $np = unpack("v", substr($_, 12, 2));
    '"$2" | gzip -n >"$1"; }
: >empty.vec
echo "not a vector" >text.vec
head -c 300 "$good" >truncated.vec
head -c 12 "$good" >truncated-header.vec
cp "$good" corrupted.vec && printf '\xff\xff\xff' | dd of=corrupted.vec bs=1 seek=200 conv=notrunc 2>/dev/null
cp "$good" gzip-mtime.vec && printf '\x01' | dd of=gzip-mtime.vec bs=1 seek=4 conv=notrunc 2>/dev/null
edit magic.vec 'substr($_, 0, 6) = "XPQVEC"'
edit version.vec 'substr($_, 6, 2) = pack("v", 99)'
edit absurd-m.vec 'substr($_, 14 + 4 * $np + 22, 4) = pack("V", 0xffffffff); fixcrc()'
edit header-flip.vec 'substr($_, $h - 6, 1) ^= "\x01"'
edit record-flip.vec 'substr($_, $h + 8 + 20, 1) ^= "\x10"'
edit no-end.vec 'substr($_, -12) = ""'
(zcat "$good"; echo junk) | gzip -n >after-end.vec
cat "$good" "$good" >two-streams.vec
# A file of format version 1 (its header only): refused with the command that remakes it.
perl -e '$c = "mpq-golden gen -o v1.vec --m 4 --k 64 --n 8 --seed 101";
    $b = ("\0" x 68) . pack("v", 14) . "mpq-golden 0.1" . pack("v", 0) . pack("v", length $c) . $c;
    print "MPQVEC", pack("v", 1), pack("V", length $b), $b' | gzip -n >v1.vec

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
expect corrupted.vec "damaged"
expect gzip-mtime.vec "gzip header"
expect magic.vec "bad magic"
expect version.vec "version 99"
expect v1.vec "format version 1 is no longer read.*regenerate it: mpq-golden gen -o v1.vec --m 4"
expect absurd-m.vec "impossible layer shape"
expect header-flip.vec "header checksum mismatch: the file is damaged"
expect record-flip.vec "block 0 (from cycle 0): checksum mismatch: the file is damaged"
expect no-end.vec "truncated"
expect after-end.vec "after the end"
expect two-streams.vec "after the end"
expect missing.vec "cannot open"
# A folder is named as one, not as an empty file (mpq-tb replay refuses it before it starts:
# tb/tests/user-input.sh).
mkdir -p folder.vec
"$golden" vecinfo folder.vec >out.txt 2>err.txt
rc=$?
if [ $rc -ne 2 ] || ! grep -q "^folder.vec: is a directory, not a file" err.txt; then
    echo "FAIL golden folder.vec: exit $rc, want 2 and 'is a directory': $(cat err.txt)"; fails=$((fails + 1))
else echo "ok   golden folder.vec: $(head -n 1 err.txt)"; fi

# Issue 14, item 1, as reported: a real file with 2 bytes overwritten a third of the way in (and,
# as a second case, one bit flipped two thirds in) never reaches the DUT: exit 2, the message
# names the file and the damaged block, and no MISMATCH is reported.
# xor FILE OFFSET BYTES: overwrite bytes in place with themselves xor BYTES.
xor() { perl -e 'open F, "+<", $ARGV[0] or die; seek F, $ARGV[1], 0; read F, $b, length $ARGV[2];
    seek F, $ARGV[1], 0; print F ($b ^ $ARGV[2])' "$@"; }
for f in big.vec big-bit.vec; do
    "$golden" gen -q -o $f --m 64 --k 512 --n 32 --seed 3 || { echo "FAIL gen $f"; fails=$((fails + 1)); }
done
size=$(stat -c %s big.vec)
xor big.vec $((size / 3)) $'\xa5\x5a'
xor big-bit.vec $((2 * size / 3)) $'\x04'
for f in big.vec big-bit.vec; do
    for mode in on off; do
        "$tb" replay "$f" --source-thread $mode >out.txt 2>err.txt
        rc=$?
        if [ $rc -ne 2 ] || grep -q MISMATCH out.txt err.txt || ! grep -q "$f: block [0-9]* (from cycle [0-9]*): .*damaged" err.txt; then
            echo "FAIL tb $f (source thread $mode): exit $rc, want 2, the block named and no MISMATCH:"; cat out.txt err.txt
            fails=$((fails + 1))
        else echo "ok   tb $f (source thread $mode): $(head -n 1 err.txt)"; fi
    done
done

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
