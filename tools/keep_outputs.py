"""Keep the outputs a reader needs in a notebook: its tables and figures, for the docs site.

nbdev's docs processing does not run test and example cells, so the site shows what the notebook stores. This runs a
notebook as `nbdev_test` does (flagged cells skipped, in the notebook's folder, `IN_TEST` set) and stores the rich
outputs (`execute_result` and `display_data`: tables, figures, reprs) of its non-exported, non-hidden cells; streams
(prints, progress bars, warnings) are dropped. Figures are stored as palette PNGs (Pillow, optimised), far smaller than
matplotlib's. `nbdev_clean` keeps outputs (settings.ini: clear_all = False). A cell tagged `output-varies` (timings)
is checked for having outputs only; a notebook whose kept cells are all tagged `output-not-rerun` (too slow to run twice
in CI; nbdev_test runs it) is not re-run by the check, and so are flagged cells (`slow`, `cuda`, `data`: not re-run); every other kept output must come back the same when the notebook is run again
(`tests/test_docs.py`; `--check` here).
Usage: python tools/keep_outputs.py [--check] NOTEBOOK ...
"""
import base64, io, json, os, re, sys
from pathlib import Path

SKIP_FLAGS = ('slow', 'cuda', 'data')  # settings.ini's tst_flags, which nbdev_test skips by default
RICH = ('execute_result', 'display_data')
VARIES = 'output-varies'  # timing-dependent: checked for presence only
NOT_RERUN = 'output-not-rerun'  # kept from a run too slow to repeat in CI (nbdev_test runs the cell): checked for presence only


def _directives(src):
    d = {}
    for l in src.splitlines():
        s = l.strip()
        if not s.startswith('#|'): break
        k, _, v = s[2:].strip().partition(':')
        for w in (k.split() if not v else [k.strip()]): d[w] = v.strip()
    return d


def shown(cell):
    "Whether a reader sees this code cell's outputs on the docs site (not exported, not hidden, outputs not turned off)."
    if cell['cell_type'] != 'code': return False
    d = _directives(''.join(cell['source']))
    return not ({'export', 'exports', 'exporti', 'hide', 'default_exp'} & set(d)) and d.get('output') != 'false' and d.get('include') != 'false'


def _small_png(b64):
    "A matplotlib PNG re-encoded as an optimised palette PNG (lossless for flat-colour plots, 3-6x smaller)."
    from PIL import Image
    im = Image.open(io.BytesIO(base64.b64decode(b64)))
    im = im.convert('RGB').quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO(); im.save(out, 'PNG', optimize=True)
    return base64.b64encode(out.getvalue()).decode()


def _rich(outputs):
    "The rich outputs among `outputs`, as plain JSON, figures recompressed."
    keep = []
    for o in outputs:
        o = json.loads(json.dumps(o, default=str))
        if o.get('output_type') not in RICH: continue
        data = dict(o.get('data', {}))
        if 'image/png' in data: data.pop('image/jpeg', None)  # PIL images come as both: the PNG is enough
        if 'image/png' in data: data['image/png'] = _small_png(''.join(data['image/png']) if isinstance(data['image/png'], list) else data['image/png'])
        data = {k: (v.splitlines(keepends=True) if isinstance(v, str) and not k.startswith('image/') else v) for k, v in data.items()}
        new = {'output_type': 'display_data' if o['output_type'] == 'display_data' else 'execute_result', 'data': data, 'metadata': {}}
        if new['output_type'] == 'execute_result': new['execution_count'] = None
        keep.append(new)
    return keep


def run(fn, skip_flags=SKIP_FLAGS):
    "Run the notebook `fn` as nbdev_test does; the rich outputs of every code cell, by cell index (None where not run)."
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    fn = Path(fn).resolve()
    os.environ['IN_TEST'] = '1'
    os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('MPLBACKEND', 'Agg')
    nb = read_nb(fn)
    def no_eval(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export(' in cell.source: return True
        d = _directives(cell.source)
        return d.get('eval', '').lower() == 'false' or bool(set(skip_flags) & set(d))
    k = CaptureShell(fn)
    with working_directory(fn.parent): k.run_all(nb, exc_stop=True, preproc=no_eval)
    return [None if c.cell_type != 'code' or no_eval(c) else _rich(c.get('outputs', [])) for c in nb.cells]


def fingerprint(outputs):
    "What must come back the same: each output's kind and text; a figure by its size (its pixels may differ between matplotlib builds)."
    from PIL import Image
    out = []
    for o in outputs:
        f = {}
        for k, v in o.get('data', {}).items():
            v = ''.join(v) if isinstance(v, list) else v
            if k == 'image/png': f[k] = Image.open(io.BytesIO(base64.b64decode(v))).size
            else: f[k] = re.sub(r'\s+', ' ', re.sub(r' at 0x[0-9a-f]+', '', v)).strip()
        out.append((o['output_type'], f))
    return out


def keep(fn):
    "Store the rich outputs of the reader-facing cells of notebook `fn`; the bytes they take."
    fn = Path(fn)
    outs = run(fn)
    nb = json.loads(fn.read_text(encoding='utf-8'))
    assert len(outs) == len(nb['cells'])
    for c, o in zip(nb['cells'], outs):
        if c['cell_type'] == 'code' and o is not None: c['outputs'] = o if shown(c) else []  # cells not run keep theirs
    fn.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return sum(len(json.dumps(c.get('outputs', []))) for c in nb['cells'])


def check(fn):
    "Re-run `fn`; the problems found: kept outputs that came back different or not at all."
    nb = json.loads(Path(fn).read_text(encoding='utf-8'))
    kept = [c for c in nb['cells'] if c['cell_type'] == 'code' and c.get('outputs')]
    if kept and all(NOT_RERUN in c.get('metadata', {}).get('tags', []) for c in kept):
        return [f'a cell tagged {NOT_RERUN} keeps no rich output' for c in kept if not _rich(c['outputs'])]
    outs, bad = run(fn), []
    for i, (c, o) in enumerate(zip(nb['cells'], outs)):
        if c['cell_type'] != 'code' or not c.get('outputs') or o is None: continue  # flagged cells are not re-run here
        if {VARIES, NOT_RERUN} & set(c.get('metadata', {}).get('tags', [])):
            if not o and VARIES in c['metadata']['tags']: bad.append(f'cell {i}: no output now (tagged {VARIES}: only its presence is checked)')
        elif fingerprint(_rich(c['outputs'])) != fingerprint(o):
            bad.append(f'cell {i}: the kept output differs from a fresh run:\n  kept: {str(fingerprint(_rich(c["outputs"])))[:600]}\n  now:  {str(fingerprint(o))[:600]}')
    return bad


def kept_notebooks(nbs=Path(__file__).resolve().parents[1] / 'nbs'):
    "Notebooks that store rich outputs."
    return sorted(p for p in nbs.rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(nbs).parts)
                  and any(c.get('outputs') for c in json.loads(p.read_text(encoding='utf-8'))['cells'] if c['cell_type'] == 'code'))


if __name__ == '__main__':
    args = sys.argv[1:]
    if '--check' in args:
        bad = {f: check(f) for f in [a for a in args if a != '--check']}
        for f, b in bad.items(): print(f, 'ok' if not b else '\n  '.join(['FAILED'] + b))
        sys.exit(1 if any(bad.values()) else 0)
    for f in args: print(f'{f}: {keep(f):,} bytes of outputs')
