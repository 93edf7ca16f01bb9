"""Progress within a (model, dataset) cell that survives an interruption: `evaluate` keeps its finished images in a private
partial file of the run folder (OUT/partial/), the next attempt evaluates only the rest and gives exactly the uninterrupted
result, readers never see the partial file, and a damaged, crafted or mismatched one is ignored with a one-line warning.
On CPU with the embedded toy model and a demo set; the command-line case kills a real `lr0fm_eval` with SIGKILL."""
import functools, json, os, signal, subprocess, sys, time, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from lr0fm.core import Lr0fmError
from lr0fm.registry import load_model, get_dataset
from lr0fm.results import ResultStore
from lr0fm.zeroshot import evaluate, Partial
from lr0fm.cli import eval_cell, cell_ident, data_record, partial_key, partial_path

VIEWS = ['HR', 32, 16]
TIMING = ('images_per_s', 'date')  # the only columns of results.csv that differ between two runs of one cell


@pytest.fixture(scope='module')
def bundle(): return load_model('lr0fm-mini-s', device='cpu')


@pytest.fixture(scope='module')
def clean(bundle):
    "An uninterrupted pass over the demo set (30 images), the reference every resumed pass must equal."
    return evaluate(bundle, get_dataset('demo-colours', per_class=3), VIEWS, batch_size=4)


def _counted(stop=None):
    "The demo set, whose `load` records every image it decodes and raises KeyboardInterrupt (Ctrl-C) at image `stop`."
    ds, seen = get_dataset('demo-colours', per_class=3), []
    load = ds.load
    def counted(i):
        if i == stop: raise KeyboardInterrupt
        seen.append(i); return load(i)
    ds.load = counted
    return ds, seen


def _same(r, ref):
    pd.testing.assert_frame_equal(r.predictions, ref.predictions)
    assert r.summary == ref.summary and r.skipped == ref.skipped and r.image_ids == ref.image_ids


def _interrupted(bundle, p, stop=10, views=VIEWS, **kw):
    ds, seen = _counted(stop)
    with pytest.raises(KeyboardInterrupt): evaluate(bundle, ds, views, batch_size=4, partial=p, **kw)
    return seen


def test_resume_loads_only_the_rest(bundle, clean, tmp_path):
    p = Partial(tmp_path / 'partial' / 'cell.npz', 'k', every_batches=1)
    assert _interrupted(bundle, p) == list(range(10)) and p.path.is_file()
    ds, seen = _counted()
    r = evaluate(bundle, ds, VIEWS, batch_size=4, partial=p)
    assert r.resumed == 8 and seen == list(range(8, len(ds)))  # two batches of 4 were finished before image 10
    _same(r, clean)
    # a second interruption of the resumed pass, then a third attempt: still the clean result
    p2 = Partial(tmp_path / 'partial' / 'two.npz', 'k', every_batches=1)
    _interrupted(bundle, p2, stop=5); _interrupted(bundle, p2, stop=21)
    ds, seen = _counted()
    r = evaluate(bundle, ds, VIEWS, batch_size=4, partial=p2)
    assert r.resumed == 20 and seen == list(range(20, 30)); _same(r, clean)


def test_saved_by_time_and_on_interrupt(bundle, clean, tmp_path):
    "every_s: no save within the interval, but Ctrl-C keeps the finished batches; a later batch size does not matter."
    p = Partial(tmp_path / 'partial' / 'cell.npz', 'k', every_s=3600)
    _interrupted(bundle, p, stop=10)
    with np.load(p.path, allow_pickle=False) as z: assert sorted(z['done'].tolist()) == list(range(8))
    ds, seen = _counted()
    r = evaluate(bundle, ds, VIEWS, batch_size=7, partial=p)
    assert r.resumed == 8 and seen == list(range(8, 30)); _same(r, clean)


def test_features_are_not_checkpointed(bundle, tmp_path):
    p = Partial(tmp_path / 'partial' / 'cell.npz', 'k', every_batches=1)
    _interrupted(bundle, p, keep_features=True)
    assert not p.path.exists()


@pytest.fixture(scope='module')
def valid(bundle, tmp_path_factory):
    "A complete partial file of the first 8 images at views HR, 16 (every image done), its reference result and its arrays."
    p = Partial(tmp_path_factory.mktemp('valid') / 'cell.npz', 'k', every_batches=1)
    r = evaluate(bundle, get_dataset('demo-colours', per_class=3), ['HR', 16], batch_size=4, limit=8, partial=p)
    with np.load(p.path, allow_pickle=False) as z: arrays = {k: z[k] for k in z.files}
    return p, r, arrays


def _resume(bundle, p):
    ds, seen = _counted()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        r = evaluate(bundle, ds, ['HR', 16], batch_size=4, limit=8, partial=p)
    saving = [str(x.message) for x in w if 'could not save partial results' in str(x.message)]
    assert len(saving) <= 1, saving  # a file that cannot be written is said once
    return r, seen, [str(x.message) for x in w if 'not used' in str(x.message)]


def test_valid_file_resumes_everything(bundle, valid, tmp_path):
    p, ref, _ = valid
    r, seen, warned = _resume(bundle, p)
    assert (r.resumed, seen, warned) == (8, [], []); _same(r, ref)


def _crafted(arrays, change):
    a = dict(arrays); change(a); return a

CRAFTED = {
    'other key': lambda a: a.update(key=np.array('other')),
    'other views': lambda a: a.update(views=np.array(json.dumps(['HR', '32']))),
    'other image count': lambda a: a.update(n_images=np.array(9, np.int64)),
    'index out of range': lambda a: a.update(done=np.where(a['done'] == 7, 8, a['done'])),
    'negative index': lambda a: a.update(done=np.where(a['done'] == 7, -1, a['done'])),
    'repeated index': lambda a: a.update(done=np.where(a['done'] == 7, 6, a['done'])),
    'predictions not classes': lambda a: a.update(preds=a['preds'] + 1000),
    'predictions wrong shape': lambda a: a.update(preds=a['preds'][:, :1]),
    'predictions float': lambda a: a.update(preds=a['preds'].astype(np.float32)),
    'done float': lambda a: a.update(done=a['done'].astype(np.float64)),
    'fewer predictions than indices': lambda a: a.update(preds=a['preds'][:4]),
    'skipped not JSON': lambda a: a.update(skipped=np.array('[[1, ')),
    'skipped index also done': lambda a: a.update(skipped=np.array(json.dumps([[int(a['done'][0]), 'bad']]))),
    'skipped out of range': lambda a: a.update(skipped=np.array(json.dumps([[99, 'bad']]))),
    'skipped wrong form': lambda a: a.update(skipped=np.array(json.dumps({'a': 1}))),
    'key not text': lambda a: a.update(key=np.array([1, 2])),
    'seconds not finite': lambda a: a.update(seconds=np.array(np.inf)),
    'an array missing': lambda a: a.pop('seconds'),
    'an extra array': lambda a: a.update(extra=np.zeros(2)),
    'pickled object array': lambda a: a.update(skipped=np.array([{'x': 1}], dtype=object)),
}


@pytest.mark.parametrize('what', list(CRAFTED))
def test_crafted_file_is_ignored(bundle, valid, tmp_path, what):
    _, ref, arrays = valid
    p = Partial(tmp_path / 'cell.npz', 'k', every_batches=1)
    np.savez(p.path, **_crafted(arrays, CRAFTED[what]))
    r, seen, warned = _resume(bundle, p)
    assert r.resumed == 0 and seen == list(range(8)), what
    assert len(warned) == 1 and '\n' not in warned[0] and 'evaluating the cell from the start' in warned[0], warned
    _same(r, ref)


@pytest.mark.parametrize('what', ['truncated', 'not a zip', 'empty', 'a folder', 'a link'])
def test_damaged_file_is_ignored(bundle, valid, tmp_path, what):
    src, ref, _ = valid
    p = Partial(tmp_path / 'cell.npz', 'k', every_batches=1)
    if what == 'truncated': p.path.write_bytes(src.path.read_bytes()[:200])
    elif what == 'not a zip': p.path.write_bytes(b'\x93NUMPY not really')
    elif what == 'empty': p.path.write_bytes(b'')
    elif what == 'a folder': p.path.mkdir()
    else: p.path.symlink_to(src.path)  # a valid file, but through a link planted in the run folder: never read
    r, seen, warned = _resume(bundle, p)
    assert r.resumed == 0 and seen == list(range(8)) and len(warned) == 1, (what, warned)
    _same(r, ref)
    if what == 'a link': assert src.path.is_file() and not p.path.is_symlink()  # replaced by the new file, the target untouched


def test_eval_cell_resumes_and_stores_only_the_finished_cell(bundle, clean, tmp_path):
    store = ResultStore(tmp_path / 'run')
    ds, seen = _counted(stop=10)
    with pytest.raises(KeyboardInterrupt): eval_cell(bundle, ds, store, VIEWS, batch_size=4, progress=False, log=lambda *a: None, partial_every=1e-6)
    part = partial_path(store, cell_ident(bundle, ds, 'model'))
    assert part.parent == store.root / 'partial' and part.is_file()
    assert not store.holds_results() and len(store.results()) == 0  # readers see nothing of the unfinished cell
    ds, seen = _counted()
    logs = []
    eval_cell(bundle, ds, store, VIEWS, batch_size=4, progress=False, log=logs.append, partial_every=1e-6)
    assert seen == list(range(8, 30)) and any('resumed 8 images' in l for l in logs), logs
    assert not part.exists()  # removed once the cell is stored
    ref = ResultStore(tmp_path / 'ref')
    eval_cell(bundle, get_dataset('demo-colours', per_class=3), ref, VIEWS, batch_size=4, progress=False, log=lambda *a: None, partial_every=0)
    a, b = store.predictions(), ref.predictions()
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    cols = [c for c in ref.results().columns if c not in TIMING]
    pd.testing.assert_frame_equal(store.results()[cols].reset_index(drop=True), ref.results()[cols].reset_index(drop=True))


def test_key_covers_views_images_and_limit(bundle):
    ds = get_dataset('demo-colours', per_class=3)
    ident, data = cell_ident(bundle, ds, 'model'), data_record(ds)
    k = partial_key(ident, VIEWS, data)
    assert k != partial_key(ident, ['HR', 32], data)
    assert k != partial_key(ident, VIEWS, dict(data, images_sha256='0' * 64))
    assert k != partial_key(cell_ident(bundle, ds, 'model', limit=8), VIEWS, data_record(ds, 8))
    assert k != partial_key(cell_ident(bundle, ds, 'paper'), VIEWS, data)
    assert k != partial_key(cell_ident(bundle, ds, 'model', resize_backend='torch'), VIEWS, data)
    assert k == partial_key(dict(ident), list(VIEWS), dict(data))


def test_partial_folder_link_is_refused(tmp_path):
    out, elsewhere = tmp_path / 'run', tmp_path / 'elsewhere'
    out.mkdir(); elsewhere.mkdir(); (out / 'partial').symlink_to(elsewhere)
    with pytest.raises(Lr0fmError, match='symbolic link'): ResultStore(out)


def _eval_cmd(out, *extra):
    exe = Path(sys.executable).parent / 'lr0fm_eval'
    return [str(exe), '--model', 'lr0fm-mini-s', '--dataset', 'demo-colours', '--per-class', '30', '--resolutions', 'HR', '16',
            '--device', 'cpu', '--batch-size', '8', '--quiet', '--out', str(out), *extra]


def test_cli_killed_mid_cell_resumes(tmp_path):
    "A real `lr0fm_eval`, killed with SIGKILL once its partial file is there, then run again: the same results.csv and predictions as an uninterrupted run."
    run, ref = tmp_path / 'run', tmp_path / 'ref'
    p = subprocess.Popen(_eval_cmd(run, '--partial-every', '0.05'), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.time()
    while not list((run / 'partial').glob('*.npz')) and p.poll() is None and time.time() - t0 < 120: time.sleep(0.05)
    assert p.poll() is None, f'lr0fm_eval ended before its partial file was written: {p.communicate()[0]}'
    p.send_signal(signal.SIGKILL); p.wait()
    part = next((run / 'partial').glob('*.npz'))
    with np.load(part, allow_pickle=False) as z: done = len(z['done'])
    assert 0 < done < 210 and not (run / 'results.csv').exists()
    again = subprocess.run(_eval_cmd(run, '--partial-every', '0.05'), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f'resumed {done} images' in again.stdout + again.stderr, again.stdout
    assert not list((run / 'partial').glob('*.npz'))
    whole = subprocess.run(_eval_cmd(ref, '--partial-every', '0'), capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    a, b = pd.read_csv(run / 'results.csv'), pd.read_csv(ref / 'results.csv')
    cols = [c for c in b.columns if c not in TIMING]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    pd.testing.assert_frame_equal(pd.read_parquet(run / 'predictions.parquet'), pd.read_parquet(ref / 'predictions.parquet'))


def test_clean_removes_only_stale_temporaries_of_partial_files(tmp_path):
    "A killed writer's temporary partial file (atomic_write's .NAME.XXXX.tmp) goes once stale; partial files themselves stay for the next attempt."
    st = ResultStore(tmp_path / 'run')
    d = st.root / 'partial'; d.mkdir(parents=True)
    old, fresh, keep = d / '.cell.npz.a1b2.tmp', d / '.cell.npz.c3d4.tmp', d / 'cell.npz'
    for p in (old, fresh, keep): p.write_bytes(b'x')
    os.utime(old, (time.time() - 2 * 86400,) * 2); os.utime(keep, (time.time() - 2 * 86400,) * 2)
    assert st.clean() == [old] and fresh.exists() and keep.exists()
    assert not st.holds_results() and len(st.results()) == 0


def test_resume_with_decoding_workers(bundle, clean, tmp_path):
    "The images left (not a prefix of the dataset) go through worker processes as well, in their order."
    p = Partial(tmp_path / 'partial' / 'cell.npz', 'k', every_batches=1)
    _interrupted(bundle, p, stop=13)
    r = evaluate(bundle, get_dataset('demo-colours', per_class=3), VIEWS, batch_size=5, workers=2, partial=p)
    assert r.resumed == 12 and r.settings['workers'] == 2; _same(r, clean)
