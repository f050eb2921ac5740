"""bench_models.py --golden MPQ_GOLDEN --out JSON [--config CFG]... [--tb-vl DIR [--rounds R]]
[--rtl-dir DIR] [--md MD] MODEL...: mpq's cycles per inference beside Arm Ethos-U55-128's
(Vela), per model, configuration and layer; with --tb-vl, the same layers on the RTL and the
harness's speed on them.

For each model and configuration: `mpq-golden model map MODEL --config CFG --json` (the
accelerator's exact cycles from the golden cycle model: every CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED on the accelerator, one source offering a beat every cycle, the output always
taken; the operators the accelerator has no unit for run on the host and are not counted), and
Vela's per-layer estimate for ethos-u55-128 (vela.py: its total includes memory traffic and the
NPU ops it makes of SOFTMAX, ADD, pools, ...). A configuration that refuses a model (a layer
beyond its limits, named by model map) is printed and left out. A configuration given as
NAME@DECOMP (e.g. default@channels-1:16) runs the model's int8 weights decomposed into ternary +
sparse int8 (model map and mpq-tb net --decomp: each layer checked against its decomposed
layer), the form a ternary configuration holds.

--tb-vl DIR (the Verilated testbenches, DIR/<config>/plain/mpq-tb): `mpq-tb net` runs the model
on the RTL at full rate (timing seed 1, model map's input), every port compared every cycle:
rtl_passed is its verdict, and its cycles must equal model map's. With --rounds R > 0, the
harness's speed on the model, measured as scripts/bench/bench.sh measures one layer: the bare
loop (`mpq-tb replay --bare 1` on each part's cycles as net drove them, written by net
--vec-dir) against co-simulation (`mpq-tb net`: golden driver and cycle model in lockstep,
every port compared every cycle), the same cycles in both; every mode once per round, R rounds
interleaved; rates: the best round; ratios: the median of the rounds' ratios (min and max).
Modes: bare and net by the wall clock (net with its source thread where more than one CPU is
online), bare and net --source-thread off by the process's CPU-seconds (MPQ_TB_CPU_TIME: time
stolen by other tenants of a shared host not counted); and the whole `mpq-tb net` process by
the wall clock: RTL inferences per second (model load, host operators, the golden model's own
run of the model and the final comparison included).

Without --tb-vl, --rtl-dir DIR reads DIR/<model>.json of `make models` (mpq-tb net --json)
for rtl_passed.

Writes JSON (atomically): a list of objects, one per model and configuration: model, config,
decomp (null, or the decomposition of NAME@DECOMP),
mpq_cycles, vela_u55_128_cycles (Vela's estimate, memory traffic included),
vela_u55_128_npu_cycles (its NPU cycles alone), vela_mac_layer_cycles (its estimate of the MAC
layers mpq runs), macs, rtl_passed (null without an RTL
run), rtl_cycles, speed (null without --rounds), and layers (per MAC layer: op, type, shape,
map, macs, mpq_cycles, mac_util, data_waits, out_stalls, vela_cycles, vela_npu_cycles,
vela_util_pct). --md
writes the tables, also printed. Exit 0; 1 when a model failed on the RTL (its trace folder
named); 2 on bad input or a tool that failed.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tfl  # noqa: E402

TIMING_SEED = 1


def run_tool(cmd, what, env=None):
    """cmd's CompletedProcess; BadInput naming what when it exits other than 0 or 1."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode not in (0, 1):
        raise tfl.BadInput(f'{what}: exit {r.returncode} from {" ".join(cmd)}: '
                           f'{(r.stderr or r.stdout).strip()[-600:]}')
    return r


def spec_parts(spec):
    """A --config spec, NAME or NAME@DECOMP (a ternary configuration running the model's weights
    decomposed, mpq-tb net --decomp): (NAME, DECOMP or None)."""
    name, _, decomp = spec.partition('@')
    return name, decomp or None


def spec_dir(spec):
    """spec as one path component."""
    return re.sub(r'[@:/]', '-', spec)


def decomp_args(spec):
    decomp = spec_parts(spec)[1]
    return ['--decomp', decomp] if decomp else []


def mpq_map(golden, model, config):
    """model map's JSON, or None with the refusal printed (exit 2 naming the limit)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'map.json')
        r = subprocess.run([golden, 'model', 'map', model, '--config', spec_parts(config)[0], '--json', out]
                           + decomp_args(config), capture_output=True, text=True)
        # A layer beyond the configuration's limits: model map names its operator and the rule.
        if r.returncode == 2 and re.search(r': op \d+ \([A-Z_0-9]+\): ', r.stderr):
            print(f'{os.path.basename(model)}: configuration {config} refuses it: '
                  f'{(r.stderr or r.stdout).strip()[-300:]}', flush=True)
            return None
        if r.returncode != 0:
            raise tfl.BadInput(f'mpq-golden model map {model} --config {config}: exit {r.returncode}: '
                               f'{(r.stderr or r.stdout).strip()[-400:]}')
        with open(out) as f:
            return json.load(f)


def vela_of(model, work):
    """vela.py's JSON for model (cached in work while newer than the model and vela.py)."""
    out = os.path.join(work, os.path.splitext(os.path.basename(model))[0] + '.vela.json')
    newest = max(os.path.getmtime(model), os.path.getmtime(os.path.join(HERE, 'vela.py')))
    if not os.path.exists(out) or os.path.getmtime(out) < newest:
        r = subprocess.run([sys.executable, os.path.join(HERE, 'vela.py'), model, '--out', out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise tfl.BadInput(f'vela.py {model}: exit {r.returncode}: {r.stderr.strip()[-400:]}')
    with open(out) as f:
        return json.load(f)


def net_cmd(tb, model, config, json_out, work, extra=()):
    return [tb, 'net', model, '--config', os.path.join('rtl', 'cfg', spec_parts(config)[0] + '.cfg'),
            '--timing-seed', str(TIMING_SEED), '--json', json_out,
            '--trace-dir', os.path.join(work, 'traces')] + decomp_args(config) + list(extra)


def rtl_run(tb, model, config, work, vec_dir):
    """mpq-tb net on model, full rate, each passed part's cycles into vec_dir: its JSON and
    exit status (0 passed, 1 a mismatch)."""
    out = os.path.join(work, spec_dir(config), os.path.splitext(os.path.basename(model))[0] + '.net.json')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    for f in os.listdir(vec_dir) if os.path.isdir(vec_dir) else []:
        os.remove(os.path.join(vec_dir, f))
    if os.path.exists(out):
        os.remove(out)
    r = run_tool(net_cmd(tb, model, config, out, work, ['--vec-dir', vec_dir]), f'mpq-tb net {model}')
    if r.returncode == 1:
        sys.stdout.write(r.stdout[-3000:])
        sys.stderr.write(r.stderr[-1000:])
    if not os.path.exists(out):
        raise tfl.BadInput(f'mpq-tb net {model} wrote no {out}: {r.stderr.strip()[-400:]}')
    with open(out) as f:
        return json.load(f), r.returncode


def bare_seconds(tb, vecs, cpu):
    """The bare loop over every part's cycles: (cycles, seconds), summed over the files."""
    env = dict(os.environ, MPQ_TB_CPU_TIME='1') if cpu else None
    cycles, secs = 0, 0.0
    for v in vecs:
        r = run_tool([tb, 'replay', v, '--bare', '1'], f'mpq-tb replay {v} --bare 1', env)
        # BARE  FILE N cycles T s R Mcycles/s (best of 1); T from N and R: more digits than T
        f = r.stdout.split()
        if r.returncode != 0 or len(f) < 8 or f[0] != 'BARE' or f[3] != 'cycles':
            raise tfl.BadInput(f'mpq-tb replay {v} --bare 1: no BARE line: {r.stdout.strip()[-300:]}')
        n, rate = int(f[2]), float(f[6])
        cycles += n
        secs += n / (rate * 1e6) if rate > 0 else float(f[4])
    return cycles, secs


def net_seconds(tb, model, config, work, cpu):
    """One mpq-tb net run: (its loop seconds over the RTL parts, the process's wall seconds)."""
    out = os.path.join(work, spec_dir(config), 'speed.net.json')
    env = dict(os.environ, MPQ_TB_CPU_TIME='1') if cpu else None
    extra = ['--source-thread', 'off'] if cpu else []
    t0 = time.monotonic()
    r = run_tool(net_cmd(tb, model, config, out, work, extra), f'mpq-tb net {model}', env)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise tfl.BadInput(f'mpq-tb net {model} failed in the speed rounds (it passed before): '
                           f'{r.stderr.strip()[-400:]}')
    with open(out) as f:
        return json.load(f)['seconds'], wall


def instructions(cmd, fn):
    """Instructions executed inside fn (callgrind --toggle-collect) while cmd runs."""
    r = run_tool(['valgrind', '--tool=callgrind', '--callgrind-out-file=/dev/null', f'--toggle-collect={fn}'] + cmd,
                 f'callgrind on {" ".join(cmd)}')
    for line in r.stderr.splitlines():
        if 'Collected :' in line:
            n = int(line.split('Collected :')[1].split()[0])
            if r.returncode == 0 and n > 0:
                return n
    raise tfl.BadInput(f'callgrind counted nothing in {fn} for {" ".join(cmd)} (exit {r.returncode})')


def ir_counts(tb, model, config, vecs, work):
    """Instructions per simulated cycle on the thread that clocks the model, in the per-cycle
    loop only (bench.sh's section 1b): the bare loop (bare_pass over every part's cycles)
    against net's loop (net_cycles) with its source thread and with one thread."""
    cycles = bare_seconds(tb, vecs, False)[0]
    bare = sum(instructions([tb, 'replay', v, '--bare', '1'], 'bare_pass*') for v in vecs)
    out = os.path.join(work, spec_dir(config), 'ir.net.json')
    on = instructions(net_cmd(tb, model, config, out, work, ['--source-thread', 'on']), 'net_cycles*')
    off = instructions(net_cmd(tb, model, config, out, work, ['--source-thread', 'off']), 'net_cycles*')
    return {'cycles': cycles, 'bare': round(bare / cycles), 'cosim': round(on / cycles),
            'cosim_one_thread': round(off / cycles), 'cosim_over_bare': round(bare / on, 3),
            'cosim_one_thread_over_bare': round(bare / off, 3)}


def median_range(xs):
    return [round(statistics.median(xs), 3), round(min(xs), 3), round(max(xs), 3)]


def speed(tb, runs, rounds, work, ir_models):
    """The speed of every (model, config, vecs) in runs, rounds interleaved: a dict per run;
    the instruction counts of the models named in ir_models."""
    rec = [{'bare': [], 'net': [], 'bare_cpu': [], 'net1_cpu': [], 'wall': [], 'cycles': None} for _ in runs]
    for _ in range(rounds):
        for (model, config, vecs), m in zip(runs, rec):
            cyc, m_bare = bare_seconds(tb[config], vecs, False)
            m_net, wall = net_seconds(tb[config], model, config, work, False)
            _, m_bare_cpu = bare_seconds(tb[config], vecs, True)
            m_net1_cpu, _ = net_seconds(tb[config], model, config, work, True)
            m['cycles'] = cyc
            for k, v in (('bare', m_bare), ('net', m_net), ('bare_cpu', m_bare_cpu), ('net1_cpu', m_net1_cpu),
                         ('wall', wall)):
                m[k].append(v)
    res = []
    for (model, config, vecs), m in zip(runs, rec):
        c = m['cycles']
        name = os.path.splitext(os.path.basename(model))[0]
        ir = ir_counts(tb[config], model, config, vecs, work) if name in ir_models else None

        def mcps(k):
            return round(c / min(m[k]) / 1e6, 4)
        net_over_bare = median_range([b / n for b, n in zip(m['bare'], m['net'])])
        cpu_over_bare = median_range([b / n for b, n in zip(m['bare_cpu'], m['net1_cpu'])])
        res.append({
            'rounds': rounds, 'loop_cycles': c,
            'rtl_inferences_per_s': round(1.0 / min(m['wall']), 3),
            'net_wall_s': round(min(m['wall']), 4),
            'bare_mcycles_s': mcps('bare'), 'cosim_mcycles_s': mcps('net'),
            'cosim_over_bare': net_over_bare[0], 'cosim_over_bare_range': net_over_bare[1:],
            'cpu_seconds': {'bare_mcycles_s': mcps('bare_cpu'), 'cosim_one_thread_mcycles_s': mcps('net1_cpu'),
                            'cosim_one_thread_over_bare': cpu_over_bare[0],
                            'cosim_one_thread_over_bare_range': cpu_over_bare[1:]},
            'process_over_bare': round(statistics.median(b / w for b, w in zip(m['bare'], m['wall'])), 3),
            'instructions_per_cycle': ir,
            # The goal is judged as bench.sh's exact figure: instructions on the model's thread
            # (with the source thread); by the wall clock where they were not counted.
            'goal': 0.95, 'goal_measure': 'instructions' if ir else 'wall clock',
            'goal_met': (ir['cosim_over_bare'] if ir else net_over_bare[0]) >= 0.95,
        })
    return res


def layers_of(mp, vl):
    vela_by_op = {}
    for l in vl['layers']:
        vela_by_op.setdefault(l['op_index'], []).append(l)
    layers = []
    for l in mp['layers']:
        vs = vela_by_op.get(l['op'], [])
        vc = sum(v['cycles'] for v in vs)
        vn = sum(v['npu_cycles'] for v in vs)
        vm = sum(v['macs'] for v in vs)
        layers.append({'op': l['op'], 'type': l['type'], 'shape': l['shape'], 'map': l['map'],
                       'macs': l['macs'], 'mpq_cycles': l['cycles'], 'mac_util': l['mac_util'],
                       'data_waits': l['data_waits'], 'out_stalls': l['out_stalls'],
                       'vela_cycles': vc, 'vela_npu_cycles': vn, 'vela_util_pct': (100.0 * vm / (vc * 128) if vc else None)})
    return layers


def cfg_name(r):
    return r['config'] + (f' ({r["decomp"]})' if r.get('decomp') else '')


def tables(results):
    lines = ['| model | config | MACs | mpq cycles | MAC util | Ethos-U55-128 (Vela) | Vela, NPU alone | '
             'Vela, the same layers | mpq / Vela | RTL |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---|']
    for r in results:
        rtl = {True: 'passed', False: 'FAILED', None: '-'}[r['rtl_passed']]
        lines.append(f'| {r["model"]} | {cfg_name(r)} | {r["macs"]:,} | {r["mpq_cycles"]:,} | '
                     f'{r["macs"] / (r["mpq_cycles"] * 128):.3f} | {r["vela_u55_128_cycles"]:,} | '
                     f'{r["vela_u55_128_npu_cycles"]:,} | '
                     f'{r["vela_mac_layer_cycles"]:,} | {r["mpq_cycles"] / r["vela_u55_128_cycles"]:.2f} | {rtl} |')
    sp = [r for r in results if r['speed']]
    if sp:
        lines += ['', '| model | config | RTL inferences/s | bare loop Mcycles/s | co-sim Mcycles/s | co-sim / bare '
                  '(min-max) | one thread / bare, CPU s | process / bare | instructions: bare / co-sim, one thread |'
                  ' goal 0.95 |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---|']
        for r in sp:
            s, c = r['speed'], r['speed']['cpu_seconds']
            lo, hi = s['cosim_over_bare_range']
            clo, chi = c['cosim_one_thread_over_bare_range']
            lines.append(f'| {r["model"]} | {cfg_name(r)} | {s["rtl_inferences_per_s"]:.2f} | '
                         f'{s["bare_mcycles_s"]:.3f} | {s["cosim_mcycles_s"]:.3f} | '
                         f'{s["cosim_over_bare"]:.3f} ({lo:.3f}-{hi:.3f}) | '
                         f'{c["cosim_one_thread_over_bare"]:.3f} ({clo:.3f}-{chi:.3f}) | {s["process_over_bare"]:.3f} | '
                         + (f'{ir["cosim_over_bare"]:.3f}, {ir["cosim_one_thread_over_bare"]:.3f} | '
                            if (ir := s['instructions_per_cycle']) else '- | ')
                         + f'{"met" if s["goal_met"] else "not met"} ({s["goal_measure"]}) |')
    lines += ['', '| model | config | op type | layers | MACs | mpq cycles | Vela cycles | Vela NPU cycles |',
              '|---|---|---|---:|---:|---:|---:|---:|']
    for r in results:
        by = {}
        for l in r['layers']:
            a = by.setdefault(l['type'], [0] * 5)
            for i, v in enumerate((1, l['macs'], l['mpq_cycles'], l['vela_cycles'], l['vela_npu_cycles'])):
                a[i] += v
        for t, a in by.items():
            lines.append(f'| {r["model"]} | {cfg_name(r)} | {t} | {a[0]} | {a[1]:,} | {a[2]:,} | {a[3]:,} | {a[4]:,} |')
    summary = list(lines)
    for r in results:
        lines += ['', f'**{r["model"]}** ({cfg_name(r)})', '',
                  '| op | type | shape | mapping | MACs | mpq cycles | MAC util | Vela cycles | Vela NPU cycles | '
                  'Vela util |', '|---:|---|---|---|---:|---:|---:|---:|---:|---:|']
        for l in r['layers']:
            vu = f'{l["vela_util_pct"] / 100:.3f}' if l['vela_util_pct'] is not None else '-'
            lines.append(f'| {l["op"]} | {l["type"]} | {l["shape"]} | {l["map"]} | {l["macs"]:,} | '
                         f'{l["mpq_cycles"]:,} | {l["mac_util"]:.3f} | {l["vela_cycles"]:,} | {l["vela_npu_cycles"]:,} | {vu} |')
    return summary, lines


def main(argv):
    ap = argparse.ArgumentParser(prog='bench_models.py')
    ap.add_argument('--golden', required=True)
    ap.add_argument('--config', action='append',
                    help='configuration NAME, or NAME@DECOMP to run the weights decomposed (repeatable; default int8)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--md')
    ap.add_argument('--tb-vl')
    ap.add_argument('--rounds', type=int, default=0)
    ap.add_argument('--ir-models', default='',
                    help='models whose instructions per cycle callgrind counts (comma-separated names)')
    ap.add_argument('--rtl-dir')
    ap.add_argument('--work', default=None)
    ap.add_argument('models', nargs='+')
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    configs = a.config or ['int8']
    ir_models = [m for m in a.ir_models.split(',') if m]
    known = [os.path.splitext(os.path.basename(m))[0] for m in a.models]
    for m in ir_models:
        if m not in known:
            raise tfl.BadInput(f'--ir-models: {m} is not one of the models given ({", ".join(known)})')
    if ir_models and not shutil.which('valgrind'):
        raise tfl.BadInput('--ir-models: valgrind is not installed (scripts/install-deps.sh bench)')
    if a.rounds < 0 or (a.rounds and not a.tb_vl):
        raise tfl.BadInput('--rounds: a count >= 0, and it needs --tb-vl')
    for m in a.models:
        if not os.path.isfile(m):
            raise tfl.BadInput(f'{m}: no such model (make models-fetch)')
    tb = {}
    for c in configs:
        if not os.path.isfile(os.path.join('rtl', 'cfg', spec_parts(c)[0] + '.cfg')):
            raise tfl.BadInput(f'--config {c}: no rtl/cfg/{spec_parts(c)[0]}.cfg')
        if a.tb_vl:
            tb[c] = os.path.join(a.tb_vl, spec_parts(c)[0], 'plain', 'mpq-tb')
            if not os.access(tb[c], os.X_OK):
                raise tfl.BadInput(f'--tb-vl: no {tb[c]} (make {tb[c]})')
    work = a.work or os.path.join(os.path.dirname(os.path.abspath(a.out)), 'bench-models')
    os.makedirs(work, exist_ok=True)
    results, runs, failed = [], [], []
    for config in configs:
        for model in a.models:
            name = os.path.splitext(os.path.basename(model))[0]
            mp = mpq_map(a.golden, model, config)
            if mp is None:
                continue
            vl = vela_of(model, work)
            r = {'model': name, 'config': spec_parts(config)[0], 'decomp': spec_parts(config)[1],
                 'mpq_cycles': mp['mpq_cycles'],
                 'vela_u55_128_cycles': vl['totals']['cycles'], 'vela_u55_128_npu_cycles': vl['totals']['npu_cycles'],
                 'vela_mac_layer_cycles': None,
                 'macs': mp['macs'], 'rtl_passed': None, 'rtl_cycles': None, 'speed': None,
                 'layers': layers_of(mp, vl)}
            r['vela_mac_layer_cycles'] = sum(l['vela_cycles'] for l in r['layers'])
            rtl = None
            if a.tb_vl:
                vec_dir = os.path.join(work, spec_dir(config), 'vec', name)
                rtl, rc = rtl_run(tb[config], model, config, work, vec_dir)
                if rc == 0 and rtl['passed'] and a.rounds:
                    # the part files (--vec-dir also writes summary.tsv, make ppa-models' workload)
                    runs.append((model, config, sorted(os.path.join(vec_dir, f) for f in os.listdir(vec_dir)
                                                       if f.endswith('.vec'))))
            elif a.rtl_dir and os.path.exists(os.path.join(a.rtl_dir, name + '.json')):
                with open(os.path.join(a.rtl_dir, name + '.json')) as f:
                    rtl = json.load(f)
            if rtl is not None:
                r['rtl_passed'] = bool(rtl['rtl_passed'])
                r['rtl_cycles'] = rtl['mpq_cycles']
                if r['rtl_passed'] and rtl['mpq_cycles'] != mp['mpq_cycles']:
                    r['rtl_passed'] = False
                    print(f'{name}: the RTL took {rtl["mpq_cycles"]} cycles, the cycle model {mp["mpq_cycles"]}',
                          file=sys.stderr)
                if not r['rtl_passed']:
                    failed.append(f'{name} ({config})')
            results.append(r)
            print(f'{name}: mpq {mp["mpq_cycles"]:,} cycles on {cfg_name(r)}, Ethos-U55-128 (Vela) '
                  f'{vl["totals"]["cycles"]:,} ({r["vela_mac_layer_cycles"]:,} in the same layers)'
                  + (f', RTL {"passed" if r["rtl_passed"] else "FAILED"}' if rtl is not None else ''), flush=True)
    if runs:
        by = {(os.path.splitext(os.path.basename(m))[0], spec_parts(c)): s
              for (m, c, _), s in zip(runs, speed(tb, runs, a.rounds, work, ir_models))}
        for r in results:
            r['speed'] = by.get((r['model'], (r['config'], r['decomp'])))
    tfl.write_atomic(a.out, (json.dumps(results, indent=1) + '\n').encode())
    summary, lines = tables(results)
    print('\n'.join(summary))
    if a.md:
        tfl.write_atomic(a.md, ('\n'.join(lines) + '\n').encode())
    if failed:
        print(f'bench_models.py: failed on the RTL: {", ".join(failed)} (traces in {work}/traces)', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('bench_models.py', lambda: main(sys.argv[1:])))
