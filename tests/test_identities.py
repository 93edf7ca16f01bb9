"""Identities that are what was evaluated, and the silent wrong results of issue 26 items 5 and 6, each as a user meets them:
checkpoints and tokens files that share a name, image folders that share a basename or are called like a benchmark,
NaN weights, EXIF orientation from two sources, a figure written to a full disk."""
import errno, io, os, subprocess, sys, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from PIL import Image

BIN = Path(sys.executable).parent


def _eval(*args):
    return subprocess.run([str(BIN / 'lr0fm_eval'), *args, '--quiet'], capture_output=True, text=True)


def _run(models, datasets, out, **kw):
    from lr0fm.cli import run_eval
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return run_eval(models, datasets, out, **dict(dict(resolutions=['HR', 16], progress=False, log=lambda *a: None, per_class=2), **kw))


@pytest.fixture(scope='module')
def mini():
    from lr0fm.registry import load_model
    return load_model('lr0fm-mini-s')


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory, mini):
    "Two different weights files with the same name, and one holding a NaN."
    from safetensors.torch import save_file
    d = tmp_path_factory.mktemp('ck')
    sd = {k: v.contiguous().clone() for k, v in mini.model.state_dict().items()}
    for run, scale in (('runA', 1.0), ('runB', 0.5)):
        (d / run).mkdir()
        save_file({k: (v * scale if k.endswith('proj') else v) for k, v in sd.items()}, d / run / 'model.safetensors')
    bad = dict(sd); k = next(k for k, v in sd.items() if v.is_floating_point() and v.ndim == 2)
    bad[k] = bad[k].clone(); bad[k][0, 0] = float('nan')
    (d / 'nan').mkdir(); save_file(bad, d / 'nan' / 'model.safetensors')
    return d


def test_same_file_name_two_checkpoints_are_two_cells(tmp_path, ckpts):
    for run in ('runA', 'runB'): _run([('lr0fm-mini-s', None, ckpts / run / 'model.safetensors')], ['demo-colours'], tmp_path)
    from lr0fm.results import ResultStore
    r = ResultStore(tmp_path).results()
    pre = sorted(r['pretrained'].unique())
    assert len(pre) == 2 and all(p.startswith('model.safetensors@') and len(p) == len('model.safetensors@') + 12 for p in pre), pre


def test_two_tokens_files_for_one_base_are_two_cells(tmp_path, mini):
    from lr0fm.lrtk0 import LRTokens, vit_spec, save_tokens
    for seed in (0, 1):
        tk = LRTokens(vit_spec(mini.model), start_block=2, seed=seed)
        save_tokens(tk, mini, tmp_path / f'tok{seed}.safetensors'); tk.detach_hooks()
    for seed in (0, 1): _run(['lr0fm-mini-s'], ['demo-colours'], tmp_path / 'out', tokens=tmp_path / f'tok{seed}.safetensors')
    from lr0fm.results import ResultStore
    r = ResultStore(tmp_path / 'out').results()
    assert r['pretrained'].nunique() == 2 and r['pretrained'].str.contains(r'\+tokens@[0-9a-f]{12}$').all(), r['pretrained'].unique()


def _folder(root:Path, classes=('red', 'green', 'blue'), n=2, w=24):
    for j, c in enumerate(classes):
        (root / c).mkdir(parents=True, exist_ok=True)
        for k in range(n): Image.new('RGB', (w + k, 24), ('red', 'green', 'blue')[j % 3]).save(root / c / f'{k}.png')
    return root


def test_same_basename_folders_never_share_a_cell(tmp_path):
    "v1/val then v2/val into one --out: the second is refused in one line naming the difference, never taken as finished."
    _folder(tmp_path / 'v1' / 'val'); _folder(tmp_path / 'v2' / 'val', n=3)
    args = ['--model', 'lr0fm-mini-s', '--dataset', 'imagefolder', '--resolutions', 'HR', '--out', str(tmp_path / 'o')]
    assert _eval(*args, '--root', str(tmp_path / 'v1' / 'val')).returncode == 0
    p = _eval(*args, '--root', str(tmp_path / 'v2' / 'val'))
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'another image list (6 images then, 9 now)' in p.stderr, p.stderr


def test_folder_named_like_a_benchmark_is_not_taken_for_it(tmp_path):
    _folder(tmp_path / 'imagenet', ('tench', 'goldfish'))
    p = _eval('--model', 'lr0fm-mini-s', '--dataset', 'imagefolder', '--root', str(tmp_path / 'imagenet'), '--resolutions', 'HR', '16', '--out', str(tmp_path / 'o'), '--report')
    assert p.returncode == 0, p.stderr
    assert "rows are named 'imagenet-own'" in p.stderr
    assert set(pd.read_csv(tmp_path / 'o' / 'results.csv')['dataset']) == {'imagenet-own'}
    assert 'WordNet' not in (tmp_path / 'o' / 'report.html').read_text()


def test_nan_weights_refused_in_one_line(tmp_path, ckpts):
    p = _eval('--model', 'lr0fm-mini-s', '--checkpoint', str(ckpts / 'nan' / 'model.safetensors'), '--dataset', 'demo-colours', '--per-class', '2',
              '--resolutions', 'HR', '--out', str(tmp_path / 'o'))
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'holds 1 NaN/inf values; the weights are damaged' in p.stderr, p.stderr
    assert not (tmp_path / 'o' / 'results.csv').exists()


def test_exif_orientation_same_pixels_from_a_folder_and_a_hugging_face_dataset(tmp_path):
    "One JPEG with an EXIF orientation tag (rotate 90): the same pixels from an image folder and from a Hugging Face dataset."
    datasets = pytest.importorskip('datasets')
    from lr0fm.data import image_folder
    from lr0fm.datasets import HFImageDataset
    im = Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 40, 3), dtype=np.uint8))
    ex = Image.Exif(); ex[0x0112] = 6
    (tmp_path / 'f' / 'a').mkdir(parents=True); im.save(tmp_path / 'f' / 'a' / '0.jpg', exif=ex, quality=95)
    folder = np.asarray(image_folder(tmp_path / 'f').load(0))
    hf = datasets.Dataset.from_dict({'image': [{'bytes': (tmp_path / 'f' / 'a' / '0.jpg').read_bytes(), 'path': None}], 'label': [[0]]},
                                    features=datasets.Features({'image': datasets.Image(), 'label': datasets.Sequence(datasets.Value('int64'))}))
    h = np.asarray(HFImageDataset('x', hf, ['a'], None, 'test').load(0))
    assert folder.shape == (20, 40, 3) and np.array_equal(folder, h)


def test_figure_on_a_full_disk_is_one_line(tmp_path, monkeypatch, capsys):
    "The disk fills while the report draws a figure: one line naming the figure, the results kept."
    import matplotlib.figure
    from lr0fm.core import run_command
    from lr0fm.cli import _report
    st = _run(['lr0fm-mini-s'], ['demo-colours'], tmp_path)
    def _full(self, f, *a, **k): raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(matplotlib.figure.Figure, 'savefig', _full)
    with pytest.raises(SystemExit) as e: run_command(lambda: _report(st), 'lr0fm_report')
    err = capsys.readouterr().err
    assert e.value.code == 1 and err.count('\n') == 1 and '.png' in err and 'the disk is full' in err, err
    assert (tmp_path / 'results.csv').exists()
