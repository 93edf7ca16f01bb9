"""`lr0fm_sweep --executor slurm` against a real single-node Slurm (Debian's slurm-wlm, started by `slurm_cluster`), with and
without accounting: a toy sweep end to end, a job cancelled before it starts, a running job requeued from outside, a job that
fails on the node, the re-run that resubmits only what did not finish, the checks made before anything is submitted, and a job
requeued in the middle of one long cell that resumes from its partial file (OUT/partial/) instead of starting the cell over.

Skipped where Slurm is not installed or we are not root (`.ci/run` installs it). The sweep: 3 toy backbones (one with a
damaged checkpoint, so its job fails on the node) x 2 demo sets x 2 resolutions, the array one job at a time.
"""
import json, os, subprocess, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import pytest
import slurm_cluster
from lr0fm.core import Lr0fmError
from lr0fm.results import ResultStore, KEY_COLUMNS
from lr0fm.sweep import SweepSpec, launch, sweep_status, wait_for, job_name, check_slurm_request

pytestmark = pytest.mark.skipif(bool(slurm_cluster.missing()), reason=slurm_cluster.missing() or 'ok')
SLURM = dict(gpus_per_job=0, time_min=10, array_parallelism=1)


@pytest.fixture(scope='session')
def cluster(tmp_path_factory):
    "One single-node cluster for the session (about 20 s to start with accounting), torn down at the end."
    c = slurm_cluster.SlurmCluster(tmp_path_factory.mktemp('slurm')).start()
    old = os.environ.get('SLURM_CONF')
    os.environ['SLURM_CONF'] = str(c.conf)  # sbatch, squeue, sacct of this process and of the jobs it submits
    yield c
    if old is None: os.environ.pop('SLURM_CONF', None)
    else: os.environ['SLURM_CONF'] = old
    c.stop()


def _spec(out, bad_checkpoint):
    bb = ['lr0fm-mini-s', 'lr0fm-mini-b', dict(model='lr0fm-mini-s', checkpoint=str(bad_checkpoint))]
    return SweepSpec(bb, ['demo-colours', 'demo-textures'], str(out), resolutions=['HR', 16], per_class=4).check()


def _sub(spec, b): return json.loads((Path(spec.out) / 'jobs' / f'{job_name(b)}.submitted.json').read_text())


def _until(cond, timeout, what):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = cond()
        if v is not None and v is not False: return v
        time.sleep(0.5)
    raise AssertionError(f'{what}: not within {timeout} s')


def _cli(*args):
    exe = Path(sys.executable).parent / 'lr0fm_sweep'
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=dict(os.environ))


@pytest.mark.parametrize('accounting', [True, False], ids=['accounting', 'no-accounting'])
def test_sweep_on_slurm(cluster, accounting, tmp_path):
    cluster.set_accounting(accounting)
    bad = tmp_path / 'damaged.pt'; bad.write_bytes(b'not a checkpoint')
    spec = _spec(tmp_path / 'run', bad)
    ok, cancelled, failing = spec.backbones
    jobs = launch(spec, 'slurm', wait=False, log=lambda *a: None, **SLURM)
    assert len(jobs) == 3 and len({j.job_id.split('_')[0] for j in jobs}) == 1          # one array
    # cancel the second job while it waits behind the first (array parallelism 1)
    cluster.run('scancel', _sub(spec, cancelled)['job_id'])
    # requeue the first from outside once it runs; release it from the 2-minute hold Slurm puts on a requeued job
    rec = Path(spec.out) / 'jobs' / f'{job_name(ok)}.json'
    _until(lambda: rec.exists() and json.loads(rec.read_text())['state'] == 'running', 240, 'the first job started')
    jid = _sub(spec, ok)['job_id']
    cluster.run('scontrol', 'requeue', jid)
    t = _until(lambda: (lambda t: t if t.loc[job_name(ok), 'state'] == 'pending' else None)(sweep_status(spec).set_index('job')), 30, 'requeued job pending')
    assert t.loc[job_name(ok), 'why'].startswith('requeued'), t
    cluster.run('scontrol', 'update', f'jobid={jid}', 'StartTime=now')
    msgs = []
    t = wait_for(spec, poll_s=1, log=msgs.append).set_index('job')                   # returns once every job has really ended
    assert t.loc[job_name(ok), 'state'] == 'done' and t.loc[job_name(ok), 'cells'] == '4/4', t
    assert t.loc[job_name(cancelled), 'state'] == 'failed', t
    assert t.loc[job_name(cancelled), 'why'].startswith('ended before it started ('), t   # (sacct never lists a pending array task cancelled)
    assert t.loc[job_name(failing), 'state'] == 'failed', t
    assert 'Lr0fmError' in t.loc[job_name(failing), 'why'] and 'damaged.pt' in t.loc[job_name(failing), 'why'], t   # the job's own line
    assert (t.attrs['note'] == '') == accounting and ('accounting is unavailable' in t.attrs['note'] or accounting), t.attrs
    # the job merged the store at its own end: the merged view holds every stored cell, also after the requeue
    assert len(ResultStore(spec.out).results()) == 4 and len(__import__('pandas').read_csv(Path(spec.out) / 'results.csv')) == 4
    # the CLI says the same, with the line about accounting
    p = _cli('--status', '--out', spec.out)
    assert p.returncode == 0 and 'done: 1' in p.stdout and 'failed: 2' in p.stdout, p.stdout + p.stderr
    assert 'Lr0fmError' in p.stdout and ('accounting is unavailable' in p.stdout) != accounting, p.stdout
    # re-run: the cancelled and the failed job go again, the done one does not; the waiting launch ends when they have
    before = _sub(spec, ok)
    msgs = []
    launch(spec, 'slurm', wait=True, poll_s=1, log=msgs.append, **SLURM)
    assert msgs[0].startswith('submitted 2 jobs'), msgs
    assert _sub(spec, ok) == before
    t = sweep_status(spec).set_index('job')
    assert t['state'].tolist() == ['done', 'done', 'failed'], t
    r = ResultStore(spec.out).results()
    assert len(r) == 8 and not r.duplicated(KEY_COLUMNS).any()
    msgs = []; launch(spec, 'slurm', wait=False, log=msgs.append, **SLURM)
    assert msgs[0].startswith('submitted 1 jobs'), msgs                              # only the job that fails on the node
    cluster.run('scancel', _sub(spec, failing)['job_id'])
    assert wait_for(spec, poll_s=1, log=lambda *a: None).set_index('job').loc[job_name(failing), 'state'] == 'failed'


def test_checks_before_submission(cluster, tmp_path):
    "Requests over the partition's limits are refused before sbatch, naming the option to change; sbatch's own words stay out."
    with pytest.raises(Lr0fmError, match=r'--time-min 720 is over partition debug.s MaxTime of 60 minutes .*; give --time-min 60 or less'):
        check_slurm_request(time_min=720, gpus_per_job=0)
    with pytest.raises(Lr0fmError, match='partition debug has no GPUs; give --gpus-per-job 0'):
        check_slurm_request(time_min=60, gpus_per_job=1)
    with pytest.raises(Lr0fmError, match='--partition gpu: Slurm has no such partition; it has debug'):
        check_slurm_request('gpu', time_min=60, gpus_per_job=0)
    with pytest.raises(Lr0fmError, match=r'--cpus-per-job 4096 is more than any node'):
        check_slurm_request(time_min=60, gpus_per_job=0, cpus_per_job=4096)
    with pytest.raises(Lr0fmError, match=r'--mem-gb 999 is more than a node'):
        check_slurm_request(time_min=60, gpus_per_job=0, mem_gb=999)
    lim = check_slurm_request(time_min=60, gpus_per_job=0)
    assert lim['name'] == 'debug' and lim['max_min'] == 60 and lim['gpus'] == 0
    # the command: one line, nothing from sbatch or submitit above it
    base = ['--backbones', 'lr0fm-mini-s', '--datasets', 'demo-colours', '--out', str(tmp_path / 'run'), '--executor', 'slurm']
    p = _cli(*base, '--time-min', '10')
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and '--gpus-per-job 0' in p.stderr, p.stderr
    p = _cli(*base, '--gpus-per-job', '0', '--time-min', '10', '--constraint', 'nosuchfeature')
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'sbatch refused' in p.stderr, p.stderr
    p = _cli(*base, '--gpus-per-job', '0', '--time-min', '10', '--constraint', 'nosuchfeature', '--verbose')   # sbatch's own lines, on request
    assert p.returncode == 2 and p.stderr.count('\n') > 1 and 'sbatch: error' in p.stderr and 'sbatch refused' in p.stderr.splitlines()[-1], p.stderr
    assert not list((tmp_path / 'run' / 'jobs').glob('*.submitted.json'))


def test_requeue_mid_cell_resumes_from_partial_file(cluster, tmp_path):
    "`scontrol requeue` of a job in the middle of one long cell: the next attempt takes the finished images from OUT/partial/ and evaluates only the rest."
    out, log = tmp_path / 'run', tmp_path / 'job.log'
    exe = Path(sys.executable).parent / 'lr0fm_eval'
    cmd = (f'{exe} --model lr0fm-mini-s --dataset demo-colours --per-class 30 --resolutions HR 16 --device cpu --batch-size 8 '
           f'--quiet --out {out} --partial-every 0.2')
    jid = cluster.run('sbatch', '--parsable', '--requeue', '--open-mode=append', '-o', str(log), '-t', '10', '--wrap', cmd).stdout.strip().split(';')[0]
    import numpy as np
    def done():
        part = next((out / 'partial').glob('*.npz'), None)
        try:
            with np.load(part, allow_pickle=False) as z: return len(z['done'])
        except (TypeError, OSError): return 0  # not there yet, or gone (the cell finished)
    before = _until(lambda: (lambda n: n if n >= 40 else None)(done()), 180, 'the partial file of the running cell, 40 images in')
    cluster.run('scontrol', 'requeue', jid)
    state = lambda: cluster.run('squeue', '-h', '-j', jid, '-o', '%T', check=False).stdout.strip()
    _until(lambda: state() == 'PENDING', 60, 'requeued job pending')
    def finished():  # Slurm holds a requeued job ~2 min (BeginTime); the hold can be set again after our update while the node still completes the killed attempt, so release it while it waits
        st = state()
        if st == 'PENDING' and time.time() - finished.last > 5:
            cluster.run('scontrol', 'update', f'jobid={jid}', 'StartTime=now', check=False); finished.last = time.time()
        return (out / 'results.csv').exists() and st in ('', 'COMPLETED')
    finished.last = 0.
    try: _until(finished, 240, 'the requeued job finished the cell')
    except AssertionError as e:
        why = cluster.run('squeue', '-h', '-j', jid, '-o', '%T %r %S', check=False).stdout.strip()
        nodes = cluster.run('sinfo', '-h', '-o', '%T %E', check=False).stdout.strip()
        raise AssertionError(f'{e}; squeue: {why!r}; sinfo: {nodes!r}; log: {log.read_text()[-600:]!r}') from None
    import re
    text = log.read_text()
    m = re.search(r'resumed (\d+) images from', text)
    assert m and before <= int(m.group(1)) < 300, text[-2000:]       # the second attempt did not start the cell over
    assert not list((out / 'partial').glob('*.npz'))                  # gone once the cell is stored
    r = ResultStore(out).results()
    assert len(r) == 2 and set(r['n_images']) == {300}, r
