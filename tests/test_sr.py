"""`lr0fm.sr`: SR checkpoints read safely (tensors only) and run through spandrel, on tiny random networks made offline.

The networks are spandrel's own ESRGAN (RRDBNet), SwinIR and Real-ESRGAN Compact classes with small configurations and seeded
random weights, saved as safetensors and as plain `torch.save` dicts in a temporary folder; no download is needed. The tests
check detection (architecture, scale), output sizes and determinism, that damaged and hostile files are one-line errors that
name the file and run nothing, and the `NAME=PATH` registry used by `sr:NAME` view steps.
"""
import builtins, hashlib, io, pickle, sys, warnings
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image
from safetensors.torch import save_file
from lr0fm.core import Lr0fmError
from lr0fm.sr import SRModel, load_sr, load_sr_models, parse_sr_specs, read_state_dict
from lr0fm.views import View

spandrel = pytest.importorskip('spandrel')
from spandrel.architectures.ESRGAN import ESRGAN
from spandrel.architectures.SwinIR import SwinIR
from spandrel.architectures.Compact import Compact


def _net(make):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return make()

NETS = {  # file stem -> (constructor, architecture spandrel must report, scale)
    'esrgan_x4': (lambda: ESRGAN(num_filters=16, num_blocks=2, scale=4), 'ESRGAN', 4),
    'swinir_x2': (lambda: SwinIR(img_size=32, embed_dim=24, depths=[2], num_heads=[2], window_size=8, upscale=2,
                                 upsampler='pixelshuffledirect'), 'SwinIR', 2),
    'swinir_x4': (lambda: SwinIR(img_size=32, embed_dim=24, depths=[2], num_heads=[2], window_size=8, upscale=4,
                                 upsampler='pixelshuffle'), 'SwinIR', 4),
    'swinir_x1': (lambda: SwinIR(img_size=32, embed_dim=24, depths=[2], num_heads=[2], window_size=8, upscale=1,
                                 upsampler=''), 'SwinIR', 1),
    'compact_x2': (lambda: Compact(num_feat=8, num_conv=2, upscale=2), 'RealESRGAN Compact', 2),
}


class _Evil:
    "Unpickling this would create the marker file."
    marker = None
    def __reduce__(self): return (builtins.open, (str(self.marker), 'w'))


@pytest.fixture(scope='module', autouse=True)
def _one_thread():
    "The networks are tiny: one intra-op thread is as fast, and does not spin when the machine is busy."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope='module')
def d(tmp_path_factory):
    "A folder with the test checkpoints, good and bad."
    d = tmp_path_factory.mktemp('sr')
    for stem, (make, _, _) in NETS.items():
        sd = {k: v.contiguous() for k, v in _net(make).state_dict().items()}
        save_file(sd, d / f'{stem}.safetensors')
        torch.save(sd, d / f'{stem}.pth')
    esr = torch.load(d / 'esrgan_x4.pth', weights_only=True)
    torch.save({'params_ema': esr, 'params': {k: torch.zeros_like(v) for k, v in esr.items()}, 'iter': 7}, d / 'wrapped_ema.pth')
    torch.save({'state_dict': {f'module.{k}': v for k, v in esr.items()}, 'epoch': 3}, d / 'wrapped_sd.ckpt')
    torch.save({'model': esr}, d / 'wrapped_model.bin')
    torch.save({'state_dict': esr}, d / 'wrapped_sd.pt')
    raw = (d / 'esrgan_x4.pth').read_bytes()
    (d / 'truncated.pth').write_bytes(raw[:len(raw) // 3])
    (d / 'truncated.safetensors').write_bytes((d / 'esrgan_x4.safetensors').read_bytes()[:-64])
    (d / 'random.pth').write_bytes(np.random.default_rng(1).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    (d / 'random.safetensors').write_bytes(np.random.default_rng(2).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    (d / 'empty.pth').write_bytes(b'')
    _Evil.marker = d / 'MARKER'
    torch.save({'w': _Evil()}, d / 'evil.pth')                       # torch's zip format
    torch.save({'params_ema': {'w': _Evil()}}, d / 'evil.ckpt')
    (d / 'evil.bin').write_bytes(pickle.dumps({'w': _Evil()}))        # a bare (legacy) pickle
    torch.save({'x': Path('/etc/passwd')}, d / 'object.pth')          # a harmless object that is still not a tensor
    torch.save({'epoch': 3, 'lr': 0.1}, d / 'no_tensors.pth')
    _net(lambda: torch.jit.script(torch.nn.Linear(2, 2))).save(str(d / 'scripted.pt'))
    save_file(torch.nn.Linear(3, 4).state_dict(), d / 'linear.safetensors')
    save_file({k: v.contiguous() for k, v in _net(lambda: ESRGAN(in_nc=1, out_nc=1, num_filters=8, num_blocks=1,
                                                                 scale=2)).state_dict().items()}, d / 'grey_x2.safetensors')
    (d / 'model.onnx').write_bytes(b'onnx')
    (d / 'folder.pth').mkdir()
    return d


@pytest.fixture(scope='module')
def im():
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8))  # 16 x 12


def _err(f, *a):
    with pytest.raises(Lr0fmError) as e: f(*a)
    msg = str(e.value)
    assert '\n' not in msg, msg
    return msg


@pytest.mark.parametrize('stem', list(NETS))
def test_detects_architecture_and_scale(d, im, stem):
    _, arch, scale = NETS[stem]
    m = load_sr(d / f'{stem}.safetensors')
    assert isinstance(m, SRModel) and (m.architecture, m.scale, m.name) == (arch, scale, stem)
    assert m.purpose == ('Restoration' if scale == 1 else 'SR')      # scale-1 restoration models are accepted
    out = m(im)
    assert (out.size, out.mode) == ((16 * scale, 12 * scale), 'RGB')
    assert m(im).tobytes() == out.tobytes()                          # deterministic
    assert load_sr(d / f'{stem}.pth')(im).tobytes() == out.tobytes()  # same tensors in a pickle, same pixels


@pytest.mark.parametrize('size', [(1, 1), (7, 13), (16, 16), (32, 32), (33, 17)])
def test_any_input_size(d, size):
    "Sizes below SwinIR's minimum and sizes its window does not divide are padded, and the padding is cut off again."
    img = Image.fromarray(np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    for stem in ('swinir_x2', 'swinir_x4', 'compact_x2'):
        m = load_sr(d / f'{stem}.safetensors')
        assert m(img).size == (size[0] * m.scale, size[1] * m.scale)


def test_modes(d, im):
    m = load_sr(d / 'compact_x2.safetensors')
    g = m(im.convert('L'))
    assert (g.mode, g.size) == ('L', (32, 24))
    assert m(im.convert('RGBA')).tobytes() == m(im).tobytes()        # opaque alpha: the same RGB
    assert m(im.convert('P')).mode == 'RGB'


def test_wrapped_checkpoints(d):
    want = read_state_dict(d / 'esrgan_x4.safetensors')
    for f in ('wrapped_ema.pth', 'wrapped_model.bin', 'wrapped_sd.pt'):
        got = read_state_dict(d / f)
        assert set(got) == set(want) and all(torch.equal(got[k], want[k]) for k in want), f
    assert set(read_state_dict(d / 'wrapped_sd.ckpt')) == {f'module.{k}' for k in want}
    m = load_sr(d / 'wrapped_sd.ckpt')                                # spandrel strips the 'module.' prefix
    assert (m.architecture, m.scale) == ('ESRGAN', 4)
    x = Image.new('RGB', (8, 8), (10, 120, 240))
    assert load_sr(d / 'wrapped_ema.pth')(x).tobytes() == load_sr(d / 'esrgan_x4.pth')(x).tobytes()  # params_ema, not params


@pytest.mark.parametrize('f', ['evil.pth', 'evil.ckpt', 'evil.bin', 'object.pth'])
def test_hostile_pickles_run_nothing(d, f):
    for fn in (read_state_dict, load_sr, lambda p: load_sr_models([f'x={p}'])):
        msg = _err(fn, d / f)
        assert str(d / f) in msg
    assert not (d / 'MARKER').exists()
    if f != 'evil.bin': assert 'refusing SR model' in msg


def test_hostile_pickle_control(tmp_path):
    "The hostile pickles are real: plain `pickle` creates the marker (in another folder), which `load_sr` never does."
    _Evil.marker, keep = tmp_path / 'CONTROL', _Evil.marker
    try: data = pickle.dumps({'w': _Evil()})
    finally: _Evil.marker = keep
    pickle.loads(data)
    assert (tmp_path / 'CONTROL').exists()


@pytest.mark.parametrize('f, says', [('truncated.pth', 'damaged'), ('truncated.safetensors', 'damaged'),
                                     ('random.pth', 'not a weights file'), ('random.safetensors', 'not a weights file'), ('empty.pth', 'an empty file'),
                                     ('no_tensors.pth', 'no tensors'), ('scripted.pt', 'not recognised by spandrel'),
                                     ('model.onnx', '.safetensors, .pth'), ('missing.pth', 'does not exist'), ('folder.pth', 'folder'),
                                     ('linear.safetensors', 'spandrel detects ESRGAN'),
                                     ('grey_x2.safetensors', '3-to-3 channel')])
def test_bad_files_are_one_line(d, f, says):
    msg = _err(load_sr, d / f)
    assert str(d / f) in msg and says in msg, msg


def test_quiet(d, capfd):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        m = load_sr(d / 'swinir_x4.safetensors')
        m(Image.new('RGB', (20, 10)))
    assert not w, [str(x.message) for x in w]
    assert capfd.readouterr() == ('', '')


def test_missing_spandrel(d, monkeypatch):
    monkeypatch.setitem(sys.modules, 'spandrel', None)               # `import spandrel` now raises ImportError
    msg = _err(load_sr, d / 'esrgan_x4.safetensors')
    assert "pip install 'lr0fm[sr]'" in msg and 'pip install spandrel' in msg


def test_describe(d):
    m = load_sr(d / 'esrgan_x4.safetensors', name='esrgan')
    got = m.describe()
    assert got == {'name': 'esrgan', 'architecture': 'ESRGAN', 'purpose': 'SR', 'scale': 4,
                   'params': sum(p.numel() for p in _net(NETS['esrgan_x4'][0]).parameters()), 'file': 'esrgan_x4.safetensors',
                   'sha256': hashlib.sha256((d / 'esrgan_x4.safetensors').read_bytes()).hexdigest()}
    assert 'ESRGAN x4' in repr(m)
    assert not any(p.requires_grad for p in m.descriptor.model.parameters()) and not m.descriptor.model.training


def test_parse_sr_specs():
    assert parse_sr_specs(['esrgan=/w/RealESRGAN_x4plus.pth', 'swin-x2=a=b.pth', ' s.1 = x.safetensors ', 'A_b=~/m.pth']) == {
        'esrgan': Path('/w/RealESRGAN_x4plus.pth'), 'swin-x2': Path('a=b.pth'), 's.1': Path('x.safetensors'),
        'A_b': Path('~/m.pth').expanduser()}
    assert parse_sr_specs('x4=m.pth') == {'x4': Path('m.pth')}
    assert parse_sr_specs(None) == {} and parse_sr_specs([]) == {}
    assert parse_sr_specs(['a=m.pth', 'a=m.pth']) == {'a': Path('m.pth')}
    for bad in ['esrgan', 'esrgan=', '=m.pth', 'es rgan=m.pth', 'sr:x=m.pth', 'a+b=m.pth', 'a/b=m.pth', '']:
        assert 'use NAME=PATH' in _err(parse_sr_specs, [bad])
    assert 'given twice' in _err(parse_sr_specs, ['a=m.pth', 'a=n.pth'])


def test_registry_and_sr_steps(d, im):
    ms = load_sr_models([f'x4={d}/esrgan_x4.safetensors', f'x2={d}/swinir_x2.pth'])
    assert {n: (m.name, m.architecture, m.scale) for n, m in ms.items()} == {'x4': ('x4', 'ESRGAN', 4), 'x2': ('x2', 'SwinIR', 2)}
    assert load_sr_models({'c': d / 'compact_x2.safetensors'})['c'].scale == 2
    assert load_sr_models({}) == {} and load_sr_models(None) == {}
    assert 'not usable' in _err(load_sr_models, {'a b': d / 'esrgan_x4.pth'})
    sr = lambda name, models: View.parse(f'sr:{name}').apply(im, sr=models)  # one sr:NAME step, as views apply it
    assert sr('x4', ms).tobytes() == ms['x4'](im).tobytes()
    assert sr('x', {'x': lambda i: i.resize((5, 5))}).size == (5, 5)   # any image -> image callable
    assert _err(sr, 'esrgan', ms).endswith("no super-resolution model is named 'esrgan'; pass --sr esrgan=PATH (an SR checkpoint, with the lr0fm[sr] extra); known: x2, x4")
    assert _err(sr, 'esrgan', None).endswith('with the lr0fm[sr] extra)')


@pytest.mark.parametrize('stem', ['esrgan_x4', 'swinir_x2', 'compact_x2'])
def test_pickles_for_spawned_workers(d, im, stem):
    m = load_sr(d / f'{stem}.safetensors', name='n')
    m2 = pickle.loads(pickle.dumps(m))
    assert m2.describe() == m.describe() and m2(im).tobytes() == m(im).tobytes()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_cuda_matches_cpu(d, im):
    cpu, gpu = load_sr(d / 'esrgan_x4.safetensors'), load_sr(d / 'esrgan_x4.safetensors', device='cuda')
    assert gpu.device.type == 'cuda'
    a, b = (np.asarray(m(im), dtype=int) for m in (cpu, gpu))
    assert np.abs(a - b).max() <= 2


def test_sr_views_end_to_end_through_lr0fm_eval(d, tmp_path):
    """The check of issue 14: SR views with a random-init RRDB (ESRGAN) and a SwinIR run through `lr0fm_eval` on a demo
    set, as a user types it; the rows record the SR models, the plain views' rows are those of a run without SR, and a
    view naming an SR model nobody gave is one line before any work."""
    import json, subprocess
    exe = Path(sys.executable).parent / 'lr0fm_eval'
    base = ['--model', 'lr0fm-mini-s', '--dataset', 'demo-colours', '--per-class', '2', '--quiet']
    sr = ['--sr', f'esrgan={d / "esrgan_x4.safetensors"}', f'swinir={d / "swinir_x2.pth"}']
    run = lambda *a: subprocess.run([str(exe), *base, *a], capture_output=True, text=True, timeout=600)
    p = run('--resolutions', 'HR', '16', '16+sr:esrgan', '16+sr:swinir+jpeg-q50', '--out', str(tmp_path / 'sr'), *sr)
    assert p.returncode == 0, p.stderr
    import pandas as pd
    r = pd.read_csv(tmp_path / 'sr' / 'results.csv').set_index('view')
    assert list(r.index) == ['HR', '16', '16+sr:esrgan', '16+sr:swinir+jpeg-q50']
    es = json.loads(r.loc['16+sr:esrgan', 'sr_models'])['esrgan']
    assert (es['architecture'], es['scale'], es['file']) == ('ESRGAN', 4, 'esrgan_x4.safetensors')
    assert json.loads(r.loc['16+sr:swinir+jpeg-q50', 'sr_models'])['swinir']['architecture'] == 'SwinIR'
    assert pd.isna(r.loc['16', 'sr_models'])
    q = run('--resolutions', 'HR', '16', '--out', str(tmp_path / 'plain'))
    assert q.returncode == 0, q.stderr
    plain = pd.read_csv(tmp_path / 'plain' / 'results.csv').set_index('view')
    assert (plain.loc[['HR', '16'], 'top1'] == r.loc[['HR', '16'], 'top1']).all()
    same = run('--resolutions', 'HR', '16', '16+sr:esrgan', '--out', str(tmp_path / 'sr'), *sr)  # resuming: nothing to do
    assert same.returncode == 0 and 'already in' in same.stdout, same.stderr
    other = run('--resolutions', 'HR', '16+sr:esrgan', '--out', str(tmp_path / 'sr'), '--sr', f'esrgan={d / "compact_x2.safetensors"}')
    assert other.returncode == 2 and 'made with sr:esrgan = esrgan_x4.safetensors' in other.stderr, other.stderr  # other weights, same name
    e = run('--resolutions', 'HR', '16+sr:hat', '--out', str(tmp_path / 'none'))
    assert e.returncode == 2 and e.stderr.count('\n') == 1 and 'pass --sr hat=PATH' in e.stderr, e.stderr


def test_sr_views_in_a_sweep(d, tmp_path):
    """A sweep runs SR views: `lr0fm_sweep --sr NAME=PATH` with the local executor (a papermill job per backbone) stores
    the SR view with its model recorded, as `lr0fm_eval` does; a view without its checkpoint, or a checkpoint that is not
    there, is refused in one line before any job starts."""
    import json, subprocess
    import pandas as pd
    exe = Path(sys.executable).parent / 'lr0fm_sweep'
    base = ['--backbones', 'lr0fm-mini-s', '--datasets', 'demo-colours', '--per-class', '1', '--resolutions', 'HR', '16', '16+sr:esrgan']
    run = lambda *a: subprocess.run([str(exe), *base, *a], capture_output=True, text=True, timeout=600)
    p = run('--sr', f'esrgan={d / "esrgan_x4.safetensors"}', '--out', str(tmp_path / 'sw'))
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    r = pd.read_csv(tmp_path / 'sw' / 'results.csv').set_index('view')
    assert list(r.index) == ['HR', '16', '16+sr:esrgan']
    assert json.loads(r.loc['16+sr:esrgan', 'sr_models'])['esrgan']['architecture'] == 'ESRGAN'
    for args, says in [((), "no super-resolution model is named 'esrgan'; pass --sr esrgan=PATH"), (('--sr', f'esrgan={d / "nope.pth"}'), 'nope.pth: no such file')]:
        e = run(*args, '--out', str(tmp_path / 'none'))
        assert e.returncode == 2 and e.stderr.count('\n') == 1 and says in e.stderr, e.stderr
    assert not (tmp_path / 'none' / 'jobs').exists()
