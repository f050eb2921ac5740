# SPDX-License-Identifier: Apache-2.0
"""Files and messages every part of the farm shares: the repository, bad input, atomic writes."""

import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class BadInput(Exception):
    """A plan, an option or a results folder that cannot be used: exit 2, nothing run."""


def show(path):
    """A path as a user types it: relative to the repository when inside it."""
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path


def say(msg, f=sys.stdout):
    print(msg, file=f, flush=True)


def write_atomic(path, text):
    """Writes text to path through a temporary file and a rename: readers see all or nothing."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
