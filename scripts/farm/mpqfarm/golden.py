# SPDX-License-Identifier: Apache-2.0
"""The golden model's command line as the farm's one source of configurations (`mpq-golden cfg
--json`) and of mpq-tb's lockstep options (`mpq-golden options --json`): the farm knows no
.cfg format, option spelling, range or choice of its own, and writes a job's arguments
with the table's order and values."""

import json
import os
import re
import subprocess

from mpqfarm.common import BadInput

GOLDEN = {"bin": None}
_golden_cache = {}


def golden(*args):
    """The output of `mpq-golden ARGS` (cached): the one reader of the configuration files and
    the one table of mpq-tb's lockstep options."""
    if args not in _golden_cache:
        path = GOLDEN["bin"]
        if not path or not os.access(path, os.X_OK):
            raise BadInput("regress: %s: no mpq-golden there (make golden, or --golden PATH)" % path)
        r = subprocess.run([path] + list(args), capture_output=True, text=True)
        if r.returncode != 0:
            raise BadInput("regress: %s" % (r.stderr.strip() or "mpq-golden %s failed" % " ".join(args)))
        _golden_cache[args] = r.stdout
    return _golden_cache[args]


def read_cfg(name):
    """rtl/cfg/NAME.cfg as a dict of integers, from `mpq-golden cfg NAME --json`."""
    return json.loads(golden("cfg", name, "--json"))


def configs_known():
    return golden("cfg", "--list").split()


def options():
    """mpq-tb lockstep's layer and timing options, by name (`mpq-golden options --json`)."""
    return {o["name"]: o for o in json.loads(golden("options", "--json")) if "tb" in o["tools"]}


def option_value(opt, value):
    """The text of `value` for option opt, or BadInput when the option would refuse it."""
    t, v = opt["type"], str(value)
    ok = True
    if t in ("uint", "u64"):
        ok = re.fullmatch(r"\d+", v) is not None and opt["lo"] <= int(v) <= opt["hi"]
    elif t == "prob":
        ok = re.fullmatch(r"[0-9]*\.?[0-9]+(e-?[0-9]+)?", v) is not None and 0 < float(v) <= 1
    elif t in ("choice", "profile"):
        ok = v in opt["choices"]
    if not ok:
        raise BadInput("regress: %s %s: not a value mpq-tb takes (%s)" % (opt["name"], v, opt["help"]))
    return v


def lockstep_args(values):
    """mpq-tb lockstep arguments for `values` (option name -> value), written in the options
    table's order, as mpq-tb's own writer writes its reproduce lines."""
    table = options()
    unknown = sorted(set(values) - set(table))
    if unknown:
        raise BadInput("regress: %s: not an option of mpq-tb lockstep" % ", ".join(unknown))
    argv = []
    for name, opt in table.items():
        if name in values:
            argv += [name] if opt["type"] == "flag" else [name, option_value(opt, values[name])]
    return argv
