"""`lr0fm_sweep` with submitit's local executor on the toy models: uninterrupted, with a job killed midway and one
preempted (requeued by submitit), then re-run; and two papermill jobs started at the same moment.

The sweep: 3 toy backbones (lr0fm-mini-s, lr0fm-mini-b, a seeded random-init lr0fm-mini-s) x 2 demo sets x 3 resolutions.
"""
import os, signal, subprocess, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import pandas as pd, pytest
from lr0fm.results import ResultStore, KEY_COLUMNS
from lr0fm.sweep import SweepSpec, launch, sweep_status, job_name, execute_template, default_template

BACKBONES = ['lr0fm-mini-s', 'lr0fm-mini-b', dict(model='lr0fm-mini-s', pretrained='none', seed=0)]
SAME = KEY_COLUMNS + ['n_images', 'n_classes', 'top1', 'top5', 'n_skipped', 'toy']


def _spec(out):
    return SweepSpec(list(BACKBONES), ['demo-colours', 'demo-textures'], str(out), resolutions=['HR', 32, 16], per_class=8).check()


def _children(pid):
    "Process ids whose parent is `pid` (the job's Jupyter kernel)."
    kids = []
    for d in Path('/proc').iterdir():
        if d.name.isdigit():
            try:
                if int((d / 'stat').read_text().rsplit(')', 1)[1].split()[1]) == pid: kids.append(int(d.name))
            except (OSError, IndexError, ValueError): pass
    return kids


def _first_shard(store, b, timeout=240):
    "Wait until the job of backbone `b` has stored its first cell."
    rec = Path(store.root) / 'jobs' / f'{job_name(b)}.cells.json'
    t0 = time.time()
    while time.time() - t0 < timeout:
        if rec.exists() and store.shards_dir.is_dir():
            import json
            cells = json.loads(rec.read_text())['cells']
            from lr0fm.results import cell_id
            if any((store.shards_dir / cell_id(c)).is_dir() and any(not p.name.startswith('.') for p in (store.shards_dir / cell_id(c)).iterdir()) for c in cells):
                return
        time.sleep(0.01)
    raise AssertionError(f'{job_name(b)} stored nothing in {timeout} s')


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    "An uninterrupted sweep."
    spec = _spec(tmp_path_factory.mktemp('ref') / 'run')
    launch(spec, 'local', jobs=3, poll_s=0.5, log=lambda *a: None)
    return spec


def test_uninterrupted_sweep(reference):
    st = ResultStore(reference.out)
    r = st.results()
    assert len(r) == 3 * 2 * 3 and not r.duplicated(KEY_COLUMNS).any()
    assert len(st.predictions()) == 3 * (2 * 80 * 3)     # per_class 8 x 10 classes, 3 resolutions, 2 sets
    t = sweep_status(reference)
    assert (t['state'] == 'done').all() and (t['cells'] == '6/6').all()
    assert all(Path(p).exists() for p in t['notebook'])
    assert len(list(Path(reference.out, 'notebooks').glob('*.ipynb'))) == 3


def test_killed_and_preempted_jobs_then_rerun(reference, tmp_path):
    spec = _spec(tmp_path / 'run')
    store = ResultStore(spec.out)
    jobs = launch(spec, 'local', jobs=3, wait=False, log=lambda *a: None)
    by = {job_name(b): j for b, j in zip(spec.backbones, jobs)}
    killed, preempted = spec.backbones[1], spec.backbones[2]
    # kill one job hard after its first cell: freeze its kernel, then SIGKILL the job and the kernel
    _first_shard(store, killed)
    pid = int(__import__('json').loads((Path(spec.out) / 'jobs' / f'{job_name(killed)}.json').read_text())['pid'])
    kids = _children(pid)
    for k in kids: os.kill(k, signal.SIGSTOP)
    for k in [pid] + kids: os.kill(k, signal.SIGKILL)
    # preempt another as Slurm does: the preemption signal (USR2) to the job's process; submitit's handler checkpoints the
    # job and exits for requeueing, and the local controller starts it again. (LocalJob._interrupt signals the controller,
    # which does not pass it on, so the signal goes to the job's process directly.)
    _first_shard(store, preempted)
    st_p = __import__('json').loads((Path(spec.out) / 'jobs' / f'{job_name(preempted)}.json').read_text())
    os.kill(int(st_p['pid']), signal.SIGUSR2)
    while any(not j.done() for j in jobs): time.sleep(0.2)
    t = sweep_status(spec).set_index('job')
    assert t.loc[job_name(killed), 'state'] == 'failed' and 'killed?' in t.loc[job_name(killed), 'why'], t
    done_k, total = map(int, t.loc[job_name(killed), 'cells'].split('/'))
    assert 0 < done_k < total                                # it was killed midway
    assert t.loc[job_name(preempted), 'state'] == 'done', t  # requeued by submitit, resumed, finished
    assert t.loc[job_name(spec.backbones[0]), 'state'] == 'done'
    log = ''.join(p.read_text() for p in Path(spec.out, 'submitit').glob(f"{by[job_name(preempted)].job_id}_*_log.*"))
    assert 'Requeued job' in log, log[-3000:]
    # the CLI's table says the same
    p = subprocess.run([str(Path(sys.executable).parent / 'lr0fm_sweep'), '--status', '--out', spec.out], capture_output=True, text=True)
    assert 'failed: 1' in p.stdout and 'done: 2' in p.stdout, p.stdout + p.stderr
    # re-run: only the failed job is submitted again
    subs = {n: (Path(spec.out) / 'jobs' / f'{n}.submitted.json').read_text() for n in t.index}
    msgs = []
    launch(spec, 'local', jobs=3, poll_s=0.5, log=msgs.append)
    assert msgs[0].startswith('1 jobs'), msgs
    after = {n: (Path(spec.out) / 'jobs' / f'{n}.submitted.json').read_text() for n in t.index}
    assert [n for n in t.index if after[n] != subs[n]] == [job_name(killed)]
    assert (sweep_status(spec)['state'] == 'done').all()
    # identical to the uninterrupted sweep, nothing twice
    ref, got = ResultStore(reference.out), store
    a, b = ref.results()[SAME], got.results()[SAME]
    assert not b.duplicated(KEY_COLUMNS).any()
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    k = KEY_COLUMNS + ['image_id']
    pa, pb = ref.predictions().sort_values(k).reset_index(drop=True), got.predictions().sort_values(k).reset_index(drop=True)
    assert not pb.duplicated(k).any()
    pd.testing.assert_frame_equal(pa, pb)
    msgs = []; launch(spec, 'local', log=msgs.append)
    assert msgs and 'nothing to submit' in msgs[0]


def test_two_papermill_jobs_started_together(tmp_path):
    """Two kernels started in the same instant on one host (their ports can collide; kernel start failures are retried)."""
    code = ('import sys, time; from lr0fm.sweep import execute_template, default_template\n'
            't = float(sys.argv[1]); time.sleep(max(0, t - time.time()))\n'
            'execute_template(default_template(), sys.argv[2] + "/out.ipynb", dict(model="lr0fm-mini-s", datasets=["demo-colours"], '
            'resolutions=["HR"], per_class=1, out=sys.argv[2] + "/run", merge=False), cwd=sys.argv[2])\n')
    start = time.time() + 6
    dirs = [tmp_path / f'j{i}' for i in range(2)]
    for d in dirs: d.mkdir()
    procs = [subprocess.Popen([sys.executable, '-c', code, str(start), str(d)], stderr=subprocess.PIPE, text=True) for d in dirs]
    for p in procs: assert p.wait(timeout=300) == 0, p.stderr.read()[-2000:]
    for d in dirs: assert len(ResultStore(d / 'run').results()) == 1
