# SPDX-License-Identifier: Apache-2.0
"""ppaio.py: what every script of the PPA flow does alike: stop with a message that names the
script, and write an output file atomically (a temporary name, then a rename)."""
import os
import sys


def die(msg, code=2):
    """Stops the script: "<script>: msg" on stderr, exit code (2: bad input; 1: a failed step)."""
    sys.stdout.flush()
    sys.stderr.write("%s: %s\n" % (os.path.basename(sys.argv[0]), msg))
    sys.exit(code)


def write_atomic(path, text):
    """Writes text to path through path.tmp and a rename: a reader never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
