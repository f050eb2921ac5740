# shellcheck shell=bash
# cfg.sh: rtl/cfg/NAME.cfg for the shell scripts of make ppa (sourced), read by the one reader of
# the configuration files, `mpq-golden cfg` ($GOLDEN_BIN, default build/mpq-golden).

# mpq_cfg_pairs CFG: one "KEY VALUE" line per parameter of CFG (a name or a .cfg path), in the
# order of the parameter table. Exit status 2 (the reader's message on stderr) when CFG is not
# a configuration.
mpq_cfg_pairs() {
  local g
  g=$("${GOLDEN_BIN:-build/mpq-golden}" cfg "$1" --gflags) || return 2
  tr ' ' '\n' <<<"$g" | sed -n 's/^-G\([^=]*\)=\(.*\)$/\1 \2/p'
}

# mpq_cfg_value CFG KEY: the value of KEY.
mpq_cfg_value() { "${GOLDEN_BIN:-build/mpq-golden}" cfg "$1" --get "$2"; }
