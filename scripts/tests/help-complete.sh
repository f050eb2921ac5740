#!/usr/bin/env bash
# help-complete.sh: every target the front page (README.md) and the docs/ pages name as
# `make TARGET` appears in `make help`, and every page `make help` names exists, so that
# neither the front page nor make help can name what the other lacks.
set -u
cd "$(dirname "$0")/../.."
help=$(make -s --no-print-directory help) || { echo "help-complete: make help failed"; exit 1; }
bad=0
# `make NAME` in backticks (NAME a target: letters, digits, -, /), minus the per-test
# targets that make list-tests names (make help points to list-tests for those).
tests=$(make -s --no-print-directory list-tests)
for t in $(grep -ohE '`make [a-z][a-z0-9/_<>-]*' README.md docs/*.md | sed 's/^`make //' | sort -u); do
    printf '%s\n' "$tests" | grep -qxF "$t" && continue
    if ! printf '%s\n' "$help" | grep -qE "(^|[ ,(])$t([ ,;)]|$)"; then
        echo "help-complete: \`make $t\` is named in the docs but not in make help"
        bad=1
    fi
done
for p in $(printf '%s\n' "$help" | grep -oE 'docs/[a-z-]+\.md' | sort -u); do
    [ -f "$p" ] || { echo "help-complete: make help names $p, which does not exist"; bad=1; }
done
[ $bad = 0 ] && echo "help-complete: every target the docs name is in make help"
exit $bad
