"""The result store under many writers at once, with old-format stores, both protocols, and killed writers.

Writers here are separate processes started at the same moment, as the jobs of a sweep are. The pure-store test
writes hand-made cells (no torch, many writers, repeated); the toy-model test runs the real `lr0fm_eval` command of
six processes into one run folder.
"""
import os, signal, subprocess, sys, textwrap, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import pandas as pd, pytest
from lr0fm.results import ResultStore, KEY_COLUMNS

BIN = Path(sys.executable).parent

WRITER = textwrap.dedent('''
    import sys, time, pandas as pd
    from lr0fm.results import ResultStore
    root, w, n_cells, n_img, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    st = ResultStore(root)
    while time.time() < start: time.sleep(0.001)
    def cell(ds, top1):
        ident = dict(model=f'm{w}' if ds != 'shared' else 'shared', pretrained='p', dataset=ds, split='test', protocol='model')
        rows = [dict(ident, view=r, n_images=n_img, n_classes=10, top1=top1, top5=1.0, n_skipped=0, toy=True) for r in ('HR', '16')]
        p = pd.concat([pd.DataFrame(dict(ident, view=r, image_id=[f'{w}-{i}' for i in range(n_img)], label=w % 10,
                                         **{f'pred_{j}': w % 10 for j in range(1, 6)})) for r in ('HR', '16')])
        st.add(rows, p, [dict(ident, image_id=f'bad-{w}', reason='corrupt')])
    for c in range(n_cells):
        cell(f'd{c}', w / 100)
        cell('shared', w / 100)   # every writer also writes the same cell, each time
''')


def _writers(root, n, n_cells, n_img):
    start = time.time() + 3
    procs = [subprocess.Popen([sys.executable, '-c', WRITER, str(root), str(w), str(n_cells), str(n_img), str(start)],
                              stderr=subprocess.PIPE, text=True) for w in range(n)]
    for p in procs: assert p.wait(timeout=300) == 0, p.stderr.read()


@pytest.mark.parametrize('round_', range(3))
def test_concurrent_writers_lose_nothing(tmp_path, round_):
    n, n_cells, n_img = 8, 5, 200
    _writers(tmp_path, n, n_cells, n_img)
    st = ResultStore(tmp_path)
    r = st.results()
    assert not r.duplicated(KEY_COLUMNS).any()
    own = r[r['model'] != 'shared']
    assert len(own) == n * n_cells * 2                     # every writer's every cell, at both resolutions
    assert set(zip(own['model'], own['dataset'])) == {(f'm{w}', f'd{c}') for w in range(n) for c in range(n_cells)}
    shared = r[r['model'] == 'shared']
    assert len(shared) == 2 and shared['top1'].nunique() == 1  # one winner for the contested cell, whole
    p = st.predictions()
    assert len(p) == len(r) * n_img and not p.duplicated(KEY_COLUMNS + ['image_id']).any()
    win = int(round(shared['top1'].iloc[0] * 100))           # the winner's predictions are its own, not a mixture
    assert (p[p['model'] == 'shared']['pred_1'] == win % 10).all()
    assert set(p[p['model'] == 'shared']['image_id'].str.split('-').str[0]) == {str(win)}
    s = st.skipped()
    assert len(s) == n * n_cells + 1
    assert len(st.info()) == n * n_cells * 2                   # one shard per add, none lost
    assert not list(tmp_path.rglob('.tmp-*'))


def test_six_lr0fm_eval_processes_share_one_store(tmp_path):
    """Six `lr0fm_eval` runs of the toy models into one --out at once, each with two cells of its own; twice."""
    jobs = [(m, lim) for m in ('lr0fm-mini-s', 'lr0fm-mini-b') for lim in (4, 6, 8)]
    for rnd in range(2):
        out = tmp_path / f'r{rnd}'
        procs = [subprocess.Popen([str(BIN / 'lr0fm_eval'), '--model', m, '--dataset', 'demo-colours', 'demo-textures',
                                   '--per-class', '1', '--limit', str(lim), '--resolutions', 'HR', '32', '16', '--out', str(out), '--quiet'],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for m, lim in jobs]
        for p in procs:
            assert p.wait(timeout=600) == 0, p.stderr.read()[-2000:]
        st = ResultStore(out)
        r = st.results()
        assert len(r) == len(jobs) * 2 * 3 and not r.duplicated(KEY_COLUMNS).any()
        assert set(zip(r['model'], r['split'])) == {(m, f'procedural-seed2024-1pc[:{lim}]') for m, lim in jobs}
        p = st.predictions()
        assert len(p) == sum(lim * 2 * 3 for _, lim in jobs)
        merged = pd.read_csv(out / 'results.csv')             # the merged view written by the last to finish is complete too,
        assert len(merged) <= len(r)                          # or an earlier complete reading, never a mixture of files


def _toy_store(out, protocol='model', resolutions=('HR', '16')):
    from lr0fm.cli import run_eval
    return run_eval(['lr0fm-mini-s'], ['demo-colours', 'demo-textures'], out, resolutions=list(resolutions), per_class=2,
                    protocol=protocol, progress=False, log=lambda *a: None)


def test_old_format_store_is_read_and_migrated(tmp_path):
    """The single-file store of lr0fm 0.1 (results.csv, predictions.parquet, skipped.csv and nothing else)."""
    st = _toy_store(tmp_path / 'new')
    want_r, want_p = st.results(), st.predictions()
    old = tmp_path / 'old'; old.mkdir()
    new = tmp_path / 'new'  # the files as lr0fm 0.1 wrote them, whose view column was called `resolution`
    pd.read_csv(new / 'results.csv', dtype={'view': str}).rename(columns={'view': 'resolution'}).to_csv(old / 'results.csv', index=False)
    pd.read_parquet(new / 'predictions.parquet').rename(columns={'view': 'resolution'}).to_parquet(old / 'predictions.parquet', index=False)
    (old / 'skipped.csv').write_bytes((new / 'skipped.csv').read_bytes())
    o = ResultStore(old)
    assert o.is_legacy()
    pd.testing.assert_frame_equal(o.results(), want_r, check_dtype=False)
    assert len(o.predictions()) == len(want_p)
    _toy_store(old, resolutions=('HR', '32', '16'))          # the first write migrates, then adds 32 px only
    assert not o.is_legacy()
    r = o.results()
    assert len(r) == 6 and sorted(r['view'].unique()) == ['16', '32', 'HR']
    kept = r[r['view'] != '32'].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, want_r, check_dtype=False)
    assert len(o.predictions()) == len(want_p) * 3 // 2
    assert subprocess.run([str(BIN / 'lr0fm_store'), 'migrate', str(old)], capture_output=True, text=True).stdout.strip().endswith('needs no conversion')


def test_both_protocols_reported(tmp_path):
    from lr0fm.analysis import write_report
    st = _toy_store(tmp_path, 'model')
    _toy_store(tmp_path, 'paper')
    r = st.results()
    assert sorted(r['protocol'].unique()) == ['model', 'paper'] and len(r) == 8
    html = write_report(r, tmp_path / 'rep', 'both', st.skipped(), st.predictions()).read_text()
    assert '[paper protocol]' in html
    rob = pd.read_csv(tmp_path / 'rep' / 'robustness_16.csv')
    assert len(rob) == 2


def test_killed_writer_leaves_nothing_readable(tmp_path):
    """A writer killed in the middle of a shard: readers never see it, the next run removes its leftovers."""
    st = _toy_store(tmp_path)
    before = st.results()
    code = textwrap.dedent(f'''
        import os, time, pandas as pd
        from lr0fm import results
        real = os.rename
        def slow(a, b): print('writing', flush=True); time.sleep(600)
        results.os.rename = slow
        st = results.ResultStore({str(tmp_path)!r})
        r = st.results().iloc[:2].assign(top1=0.0)
        st.add(r.to_dict('records'), st.predictions().iloc[:10])
    ''')
    p = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'writing'
    os.kill(p.pid, signal.SIGKILL); p.wait()
    left = list(tmp_path.rglob('.tmp-*'))
    assert len(left) == 1 and (left[0] / 'rows.json').exists()  # complete files, but never renamed into place
    pd.testing.assert_frame_equal(st.results(), before)
    _toy_store(tmp_path)                                          # the next run cleans up
    assert not list(tmp_path.rglob('.tmp-*'))
    pd.testing.assert_frame_equal(st.results().drop(columns='date'), before.drop(columns='date'))
