# shellcheck shell=bash
# cfg.sh: the one reader of rtl/cfg/NAME.cfg for the shell scripts (sourced). rtl/cfg/NAME.cfg
# is the single source of the accelerator's parameters; when `mpq-golden cfg NAME` exists,
# mpq_cfg_pairs is the one place to switch over to it.

# mpq_cfg_pairs CFGFILE: one "KEY VALUE" line per "KEY = value" line of CFGFILE, in file order
# (text after # is a comment). Exit status 1 when the file cannot be read.
mpq_cfg_pairs() {
  awk '{ sub(/#.*/, ""); if (split($0, kv, "=") != 2) next;
    gsub(/[ \t]/, "", kv[1]); gsub(/[ \t]/, "", kv[2]); if (kv[1] != "") print kv[1], kv[2] }' "$1"
}

# mpq_cfg_value CFGFILE KEY: the value of KEY; exit status 1 when CFGFILE has no such line.
mpq_cfg_value() {
  local pairs
  pairs=$(mpq_cfg_pairs "$1") || return 1
  awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) exit 1 }' <<<"$pairs"
}
