#!/usr/bin/env bash
# run-oracles.sh MPQ_GOLDEN ORACLE_DIR: every *.case directly in ORACLE_DIR through
# `mpq-golden case`. Each oracle folder is its own test line (make oracles/NAME).
# Exit 77 (skipped) when the folder does not exist: a user's clone has no ../shared.
set -u
bin=$1; dir=$2
if [ ! -d "$dir" ]; then
  echo "skipped: oracle folder $dir does not exist (it sits beside the project in CI and developer checkouts)"
  exit 77
fi
mapfile -t files < <(find "$dir" -maxdepth 1 -name '*.case' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no *.case files in $dir"; exit 1; fi
exec "$bin" case "${files[@]}"
