#!/usr/bin/env bash
# fn-length.sh [MAX]: every C and C++ function outside the tests fits a reader: at most MAX
# lines (default 100) from its first line to its closing brace, as universal-ctags finds them
# (../shared/STYLE.md: "A function does one job and fits on a screen"). Lists every function
# longer than MAX, longest first, and exits 1 when there is one; 2 when ctags is missing.
set -u
max=${1:-100}
cd "$(dirname "$0")/../.." || exit 2
if ! ctags --version 2>/dev/null | grep -q "Universal Ctags"; then
    echo "fn-length.sh: universal-ctags is needed (scripts/install-deps.sh lint installs it)"
    exit 2
fi
# The sources: every .c and .cpp of the model, the testbench and the workloads, but the tests.
mapfile -t srcs < <(find golden tb mnist -name '*.c' -o -name '*.cpp' | grep -v '/tests/' | sort)
[ ${#srcs[@]} -gt 0 ] || { echo "fn-length.sh: no C sources found"; exit 2; }
long=$(ctags -x --_xformat='%{end} %{line} %{input} %{name}' --fields=+ne --kinds-C=f --kinds-C++=f \
         "${srcs[@]}" | awk -v max="$max" '{ n = $1 - $2 + 1 } n > max { printf "%5d %s:%d %s\n", n, $3, $2, $4 }' |
       sort -rn)
total=$(ctags -x --_xformat='%{name}' --kinds-C=f --kinds-C++=f "${srcs[@]}" | wc -l)
if [ -n "$long" ]; then
    echo "functions over $max lines (lines, where, name):"
    echo "$long"
    echo "$(echo "$long" | wc -l) of $total functions are over $max lines: split them (a plan step and small kernels)"
    exit 1
fi
echo "all $total functions of ${#srcs[@]} files fit in $max lines"
