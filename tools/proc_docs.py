"""Run nbdev's docs processing (what `nbdev_proc_nbs` does before Quarto) on every notebook, one process each.

`nbdev_proc_nbs` stops at the first notebook that fails and, without Quarto, first tries to install it. This runs the
same processors (`nbdev.processors.FilterDefaults`) per notebook, keeps going, and reports every failure and every
"imports and other code" warning.  Usage: python tools/proc_docs.py [--dest DIR] [--workers N] [NOTEBOOK ...]
Exit status 1 when any notebook fails or warns.
"""
import argparse, os, shutil, sys, time, warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def notebooks(nbs=ROOT / 'nbs'):
    "The notebooks nbdev's docs build processes: `nbs/**/*.ipynb` without `_`/`.` names (nbdev's `nbglob` rules)."
    from nbdev.doclinks import nbglob
    return sorted(Path(p) for p in nbglob(nbs, func=Path, file_glob='*.ipynb'))


def proc_one(src, dst):
    "Process one notebook as `nbdev_proc_nbs` does; return (seconds, error text or '', list of warning texts)."
    from nbdev.processors import FilterDefaults
    import nbdev.serve_drv
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    t, err = time.time(), ''
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try: nbdev.serve_drv.main((Path(src), Path(dst), FilterDefaults))
        except BaseException as e:
            err = f'{type(e).__name__}: {e}'
            if e.__cause__ is not None: err += f'\n  caused by {type(e.__cause__).__name__}: {e.__cause__}'
    found = [str(w.message).split('\n---\n')[1].strip() if '\n---\n' in str(w.message) else str(w.message)
             for w in ws if 'imports and other code' in str(w.message)]
    return time.time() - t, err, found


def proc_all(nbs=ROOT / 'nbs', dest=ROOT / '_proc', files=None, workers=2):
    "Process `files` (default: every notebook) from `nbs` into `dest`, a fresh process per notebook; {name: result}."
    nbs, dest = Path(nbs), Path(dest)
    files = [Path(f).resolve() for f in files] if files else notebooks(nbs)
    dest.mkdir(parents=True, exist_ok=True)
    for extra in ('_quarto.yml', 'nbdev.yml'):  # the site config travels with the processed notebooks, as in nbdev
        if (nbs / extra).exists(): shutil.copy(nbs / extra, dest / extra)
    with ProcessPoolExecutor(workers, mp_context=get_context('spawn'), max_tasks_per_child=1) as ex:
        futs = {f: ex.submit(proc_one, f, dest / f.relative_to(nbs.resolve())) for f in files}
        return {str(f.relative_to(nbs.resolve())): fu.result() for f, fu in futs.items()}


def report(res):
    "Print one line per notebook and the failures in full; return the number of notebooks that failed or warned."
    bad = 0
    for name, (secs, err, found) in sorted(res.items()):
        state = 'FAILED' if err else (f'{len(found)} warning(s)' if found else 'ok')
        print(f'{name:40s} {secs:6.1f}s  {state}')
        if err: print('   ', err.replace('\n', '\n    '))
        for w in found: print('    import mixed with code in cell:\n      ' + w.replace('\n', '\n      '))
        bad += bool(err or found)
    print(f'{len(res)} notebooks processed, {bad} with failures or warnings')
    return bad


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('files', nargs='*', help='notebooks (default: all under nbs/)')
    ap.add_argument('--dest', default=str(ROOT / '_proc'), help='where processed notebooks go (default: _proc)')
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    sys.exit(1 if report(proc_all(ROOT / 'nbs', a.dest, a.files, a.workers)) else 0)
