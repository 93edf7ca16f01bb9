"""Hostile and damaged input: damaged store files, random command-line values, operating-system failures, SIGTERM.

Each guard lives beside the code it guards (prose in nbs/05_results, 00_core, 02_degrade, 20_cli, 21_sweep); this file
throws many bad inputs at them at once. Checkpoint files: tests/test_hostile_checkpoints.py; folder layouts:
tests/test_hostile_layouts.py. The fuzz passes print their counts (inputs tried, clear errors, loaded, anything else)
and fail on anything else: a traceback, an exception that is not lr0fm's one-line error, or earlier results changed.
"""
import contextlib, errno, io, json, os, random, shutil, signal, string, subprocess, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import pandas as pd, pytest
from lr0fm.core import Lr0fmError
from lr0fm.results import ResultStore, KEY_COLUMNS

BIN = Path(sys.executable).parent


@pytest.fixture(scope='module')
def store(tmp_path_factory):
    "A real store of the toy model: 2 cells x 3 resolutions, and an old single-file copy of it."
    from lr0fm.cli import run_eval
    root = tmp_path_factory.mktemp('hostile') / 'store'
    run_eval(['lr0fm-mini-s'], ['demo-colours', 'demo-textures'], root, resolutions=['HR', 32, 16], per_class=2, progress=False, log=lambda *a: None)
    legacy = root.parent / 'legacy'; legacy.mkdir()
    for f in ('results.csv', 'predictions.parquet', 'skipped.csv'): shutil.copy(root / f, legacy / f)
    return root, legacy


def _corrupt(data: bytes, rng: random.Random) -> bytes:
    "One random damage: flipped bytes, a truncation, a zeroed range, garbage appended, or random bytes."
    kind = rng.choice(['flip', 'truncate', 'zero', 'append', 'random'])
    b = bytearray(data)
    if kind == 'flip':
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b)); b[i] ^= 1 << rng.randrange(8)
    elif kind == 'truncate': b = b[:rng.randrange(len(b))]
    elif kind == 'zero':
        i = rng.randrange(len(b)); b[i:i + rng.randint(1, 64)] = bytes(len(b[i:i + 64]))
    elif kind == 'append': b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    else: b = bytearray(rng.randrange(256) for _ in range(rng.randint(0, 512)))
    return bytes(b)


def _read_all(st):
    return st.results(), st.predictions(), st.skipped(), st.missing('lr0fm-mini-s', 'lr0fm', 'demo-colours', 'procedural-seed2024-2pc', 'model', ['HR'])


def test_fuzz_store_files(store, tmp_path):
    """Random byte damage to every file type of a store: rows.json, predictions.parquet (shards), results.csv,
    predictions.parquet and skipped.csv (old single-file store). Every read either gives the stored values or one line
    naming the damaged file; moving the named shard away leaves the other cell's results unchanged."""
    root, legacy = store
    want = ResultStore(root)
    want_r, want_p = want.results(), want.predictions()
    rng = random.Random(0)
    shard_files = sorted(p.relative_to(root) for p in (root / 'shards').rglob('*') if p.is_file())
    legacy_files = [Path(f) for f in ('results.csv', 'predictions.parquet', 'skipped.csv')]
    counts = dict(tried=0, clear=0, loaded=0, undetected=0, other=0)
    others = []
    for n in range(300):
        is_shard = n % 3 != 2
        src = root if is_shard else legacy
        rel = rng.choice(shard_files if is_shard else legacy_files)
        d = tmp_path / f'v{n}'
        shutil.copytree(src, d, ignore=shutil.ignore_patterns('cache', 'report*', '*.png', '*.html'))
        if is_shard:  # the merged view is not read by a sharded store; drop it so only the shard is at stake
            for f in legacy_files: (d / f).unlink(missing_ok=True)
        (d / rel).write_bytes(_corrupt((d / rel).read_bytes(), rng))
        counts['tried'] += 1
        st = ResultStore(d)
        try:
            r, p, s, m = _read_all(st)
        except Lr0fmError as e:
            msg = str(e)
            if '\n' in msg or str(rel.name) not in msg: others.append((rel, msg)); counts['other'] += 1; continue
            counts['clear'] += 1
            if is_shard:  # earlier results intact: without the damaged shard, the other cell reads exactly as before
                shutil.rmtree(d / rel.parent)
                r2 = ResultStore(d).results()
                gone = r2.merge(want_r, how='outer', indicator=True)
                assert len(r2) == 3 and (gone['_merge'] != 'left_only').all(), (rel, r2)
            shutil.rmtree(d, ignore_errors=True); continue
        except Exception as e:
            others.append((rel, f'{type(e).__name__}: {e}')); counts['other'] += 1; continue
        same = r.drop(columns='date', errors='ignore').equals(want_r.drop(columns='date')) and len(p) == len(want_p)
        if same: counts['loaded'] += 1
        elif not is_shard: counts['undetected'] += 1   # a changed digit in a CSV has no checksum to catch it
        else: others.append((rel, 'a damaged shard was read as valid')); counts['other'] += 1
        shutil.rmtree(d, ignore_errors=True)
    print('store fuzz:', counts)
    from collections import Counter
    print(Counter((str(r), m.split(':')[0][:60]) for r, m in others).most_common(20))
    assert counts['other'] == 0, others[:5]
    assert counts['clear'] > 150


def _commands():
    from lr0fm.cli import lr0fm_eval, lr0fm_demo
    from lr0fm.cli import lr0fm_sweep
    from lr0fm.cli import lr0fm_store
    from lr0fm.cli import lr0fm_report
    from lr0fm.cli import lr0fm_weights
    from lr0fm.cli import lr0fm_train_tk0
    from lr0fm.cli import lr0fm_datasets
    from lr0fm.cli import lr0fm_models
    return dict(lr0fm_eval=lr0fm_eval, lr0fm_demo=lr0fm_demo, lr0fm_sweep=lr0fm_sweep, lr0fm_store=lr0fm_store, lr0fm_report=lr0fm_report,
                lr0fm_weights=lr0fm_weights, lr0fm_train_tk0=lr0fm_train_tk0, lr0fm_datasets=lr0fm_datasets, lr0fm_models=lr0fm_models)


def _value(rng):
    "A random command-line value: text, unicode, numbers far out of range, odd paths."
    return rng.choice([
        ''.join(rng.choice(string.printable[:94]) for _ in range(rng.randint(1, 30))),
        ''.join(chr(rng.randint(0x80, 0x2fff)) for _ in range(rng.randint(1, 10))),
        str(rng.choice([-1, 0, 10**12, -10**9, 3.5, 1e308])), 'nan', '-', '--', '..', '/', '/proc/1/mem', '/dev/null',
        'x' * rng.choice([300, 5000]), '../' * 50, '~/' + 'y' * 20, '%s%n{}', "'; rm -rf /"])


def _run_in_process(cmd, argv, tmp):
    "A console script's parse-and-run, in this process: exit status and stderr (argparse errors included)."
    from fastcore.script import anno_parser
    from lr0fm.core import undash
    func = cmd.__wrapped__ if hasattr(cmd, '__wrapped__') else cmd
    func = getattr(func, '__wrapped__', func)
    err, out = io.StringIO(), io.StringIO()
    cwd = os.getcwd(); os.chdir(tmp)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                ns = vars(anno_parser(func).parse_args(undash(argv)))
                for k in ('pdb', 'xtra'): ns.pop(k, None)
                func(**ns); code = 0
            except SystemExit as e: code = e.code if isinstance(e.code, int) else 1
    finally: os.chdir(cwd)
    return code, err.getvalue()


BASE = dict(lr0fm_eval=['--model', 'lr0fm-mini-s', '--dataset', 'demo-colours', '--per-class', '1', '--resolutions', 'HR', '--out', 'o', '--quiet'],
            lr0fm_sweep=['--backbones', 'lr0fm-mini-s', '--datasets', 'demo-colours', '--out', 'o', '--dry-run'],
            lr0fm_store=['info', 'o'], lr0fm_report=['--results', 'o', '--out', 'r'], lr0fm_weights=['--published', '--trials', '2', '--out', 'w'],
            lr0fm_train_tk0=['--model', 'lr0fm-mini-s', '--source', 'procedural', '--out', 't', '--steps', '1', '--batch-size', '2', '--n-images', '4', '--quiet'],
            lr0fm_datasets=[], lr0fm_models=['--family', 'CLIP'], lr0fm_demo=['--per-class', '1', '--out', 'd', '--quiet'])


def test_fuzz_command_line_options(tmp_path):
    """Random values for every option of every command: exit status 0, 1 or 2, and at most argparse's usage line and
    one error line on stderr, never a traceback."""
    from fastcore.script import anno_parser
    rng = random.Random(1)
    counts = dict(tried=0, clear=0, ran=0, other=0); others = []
    for name, cmd in _commands().items():
        func = getattr(getattr(cmd, '__wrapped__', cmd), '__wrapped__', getattr(cmd, '__wrapped__', cmd))
        opts = [a for a in anno_parser(func)._actions if a.option_strings and a.dest not in ('help', 'pdb', 'xtra')]
        for a in opts:
            if a.nargs == 0: continue  # flags take no value
            for _ in range(3 if name in ('lr0fm_demo', 'lr0fm_train_tk0', 'lr0fm_weights') else 4):
                argv = list(BASE[name])
                flag = a.option_strings[0]
                if flag in argv:
                    i = argv.index(flag); j = i + 1
                    while j < len(argv) and not argv[j].startswith('--'): j += 1
                    del argv[i:j]
                argv += [flag, _value(rng)]
                d = tmp_path / f'{name}-{counts["tried"]}'; d.mkdir()
                counts['tried'] += 1
                try: code, err = _run_in_process(cmd, argv, d)
                except Exception as e:
                    counts['other'] += 1; others.append((name, argv, f'{type(e).__name__}: {e}')); continue
                lines = [l for l in err.splitlines() if l.strip() and not l.startswith('usage:') and not l.startswith('  ')]
                if 'Traceback' in err or code not in (0, 1, 2) or len([l for l in lines if 'error' in l]) > 1 or (code and not lines):
                    counts['other'] += 1; others.append((name, argv, code, err[-500:])); continue
                counts['clear' if code else 'ran'] += 1
                shutil.rmtree(d, ignore_errors=True)
    print('command-line fuzz:', counts)
    for o in others: print('OTHER', o[0], o[1][-2:], str(o[2:])[-300:])
    assert counts['other'] == 0, others[:5]
    assert counts['clear'] > counts['tried'] // 2


def test_os_errors_are_one_line(store, tmp_path, monkeypatch):
    """A full disk while a cell is written, a path too long, an output that cannot be a folder: one line naming the
    path; the results written before stay intact."""
    from lr0fm import results
    from lr0fm.cli import lr0fm_eval
    root, _ = store
    run = tmp_path / 'run'; shutil.copytree(root, run)
    before = ResultStore(run).results()
    def full(path, data): raise OSError(errno.ENOSPC, 'No space left on device', str(path))
    monkeypatch.setattr(results, '_fsync_write', full)
    code, err = _run_in_process(lr0fm_eval, ['--model', 'lr0fm-mini-b', '--dataset', 'demo-colours', '--per-class', '1', '--resolutions', 'HR',
                                             '--out', str(run), '--quiet'], tmp_path)
    assert code == 1 and err.count('\n') == 1 and 'No space left on device' in err and 'the disk is full' in err, err
    monkeypatch.undo()
    pd.testing.assert_frame_equal(ResultStore(run).results(), before)
    assert not list(run.rglob('.tmp-*'))
    for out, said in [(tmp_path / ('x' * 300), 'too long'), (Path('/dev/null') / 'sub', 'Not a directory')]:
        code, err = _run_in_process(lr0fm_eval, ['--model', 'lr0fm-mini-s', '--dataset', 'demo-colours', '--per-class', '1', '--resolutions', 'HR',
                                                 '--out', str(out), '--quiet'], tmp_path)
        assert code in (1, 2) and err.count('\n') == 1 and said in err and 'Traceback' not in err, err


def test_sigterm_keeps_finished_cells(tmp_path):
    """SIGTERM (what kill, Slurm and container runtimes send) ends a run as Ctrl-C does: one line, exit 143, every
    finished cell kept, and the same command resumes."""
    args = [str(BIN / 'lr0fm_eval'), '--model', 'lr0fm-mini-s', '--dataset', 'demo-colours', 'demo-textures', 'demo-colour-texture',
            '--per-class', '30', '--resolutions', 'HR', '64', '32', '16', '--out', str(tmp_path), '--quiet']
    p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    committed = lambda: [s for c in (tmp_path / 'shards').glob('*') for s in c.iterdir() if not s.name.startswith('.')] if (tmp_path / 'shards').is_dir() else []
    while not committed():  # a finished cell: a shard renamed into place, not a temporary folder
        assert p.poll() is None and time.time() - t0 < 300, 'the run ended before its first cell'
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    err = p.stderr.read(); code = p.wait()
    assert code == 143 and err.strip().endswith('terminated (SIGTERM); finished work is kept, run the same command again to resume'), (code, err)
    assert 'Traceback' not in err
    done = ResultStore(tmp_path).results()
    assert 0 < len(done) < 12
    q = subprocess.run(args, capture_output=True, text=True)
    assert q.returncode == 0, q.stderr
    r = ResultStore(tmp_path).results()
    assert len(r) == 12
    pd.testing.assert_frame_equal(r.merge(done[KEY_COLUMNS])[done.columns].reset_index(drop=True), done.reset_index(drop=True))


def test_fuzz_sweep_files(store, tmp_path):
    """Random damage to a sweep's own files (sweep.json, each job's status, submission and cells record, store.json):
    `lr0fm_sweep --status` still prints its table (a damaged job file makes that job failed or not done) or says in
    one line which file is damaged."""
    from dataclasses import asdict
    from lr0fm.cli import run_eval
    from lr0fm.sweep import SweepSpec, job_name, job_parameters, _write_json
    from lr0fm.cli import lr0fm_sweep
    root = tmp_path / 'sweep'
    spec = SweepSpec(['lr0fm-mini-s'], ['demo-colours'], str(root), resolutions=['HR', 16], per_class=1).check()
    b = spec.backbones[0]; n = job_name(b)
    run_eval(['lr0fm-mini-s'], ['demo-colours'], root, resolutions=['HR', 16], per_class=1, progress=False, log=lambda *a: None,
             merge=False, record=job_parameters(spec, b)['record'])
    _write_json(root / 'sweep.json', asdict(spec))
    _write_json(root / 'jobs' / f'{n}.submitted.json', dict(executor='local', job_id='1', host='elsewhere', submitted='2026-01-01T00:00:00'))
    _write_json(root / 'jobs' / f'{n}.json', dict(state='done', host='elsewhere', pid=1, started='2026-01-01T00:00:01'))
    files = [root / 'sweep.json', root / 'store.json'] + sorted((root / 'jobs').glob('*.json'))
    rng = random.Random(2)
    counts = dict(tried=0, table=0, clear=0, other=0); others = []
    for i in range(80):
        d = tmp_path / f'v{i}'; shutil.copytree(root, d)
        f = d / rng.choice(files).relative_to(root)
        f.write_bytes(_corrupt(f.read_bytes(), rng))
        for g in [d / 'sweep.json']:  # the copy's spec must point at the copy
            try: doc = json.loads(g.read_text()); doc['out'] = str(d); g.write_text(json.dumps(doc))
            except Exception: pass
        counts['tried'] += 1
        try: code, err = _run_in_process(lr0fm_sweep, ['--status', '--out', str(d)], tmp_path)
        except Exception as e: counts['other'] += 1; others.append((f.name, f'{type(e).__name__}: {e}')); continue
        if code == 0: counts['table'] += 1
        elif code == 2 and err.count('\n') == 1 and 'Traceback' not in err: counts['clear'] += 1
        else: counts['other'] += 1; others.append((f.name, code, err[-300:]))
    print('sweep-file fuzz:', counts)
    assert counts['other'] == 0, others[:5]
