# shellcheck shell=bash
# scripts/mutate/mutants.sh: what mutate.sh and mutate-osa.sh share, sourced by both: the
# mutant names of a catalog (TSV: mutant, file, text, replacement, bug; '#' comments) and the
# application of one mutant to a copy of the sources.

# mutant_names PROG CATALOG [MUTANT...]: sets the array `names`: the mutants named, each of
# which must be in CATALOG (else PROG's message and exit 2), or all of them in catalog order
# (a mutant may span several lines: it is named once).
mutant_names() {
    local prog=$1 catalog=$2 all n
    shift 2
    mapfile -t all < <(awk -F'\t' '!/^#/ && NF >= 4 && !seen[$1]++ { print $1 }' "$catalog")
    if [ $# -gt 0 ]; then
        names=("$@")
        for n in "${names[@]}"; do
            printf '%s\n' "${all[@]}" | grep -qx -- "$n" || { echo "$prog: no mutant '$n' in $catalog" >&2; exit 2; }
        done
    else
        names=("${all[@]}")
    fi
}

# mutant_apply PROG CATALOG MUTANT ROOT: every catalog line of MUTANT applied to ROOT/FILE, its
# text replaced where it occurs, which must be exactly once. Returns 1 (PROG's message on
# stderr) when a file is missing or a text is not there once.
mutant_apply() {
    local prog=$1 catalog=$2 name=$3 root=$4
    awk -F'\t' -v n="$name" '!/^#/ && $1 == n' "$catalog" | while IFS=$'\t' read -r _ file old new _; do
        local target="$root/$file"
        [ -f "$target" ] || { echo "$prog: $name: no file $file" >&2; exit 1; }
        PROG=$prog OLD=$old NEW=$new perl -0777 -i -pe '
            my $c = () = /\Q$ENV{OLD}\E/g;
            if ($c != 1) { print STDERR "$ENV{PROG}: the text to replace occurs $c times in $ARGV\n"; exit 1 }
            s/\Q$ENV{OLD}\E/$ENV{NEW}/;' "$target" || { echo "$prog: $name: cannot apply to $file" >&2; exit 1; }
    done
}
