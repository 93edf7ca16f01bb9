"""CIFAR-10, CIFAR-100 and STL-10 read from the files their distributions ship (issue 23 item 6), fixtures written in those formats."""
import os, pickle, warnings
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, pytest
from PIL import Image
from lr0fm.core import Lr0fmError
from lr0fm.datasets import (benchmark_names, class_meta, dataset_status, get_spec, native_px, open_dataset, read_batch,
                            write_cifar, write_stl10, prepare_steps)

SHARED = Path(os.environ.get('LR0FM_SHARED_DATA', Path(__file__).resolve().parents[1] / '../shared/data')) / 'cifar10-test'


def _open(name, root, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # fixtures are smaller than the real split
        return open_dataset(name, root, **kw)


def test_named_sets_registered_with_layouts_and_steps():
    assert benchmark_names(extra=True)[-3:] == ['cifar10', 'cifar100', 'stl10'] and 'cifar10' not in benchmark_names()
    assert [(get_spec(n).size, get_spec(n).classes, native_px(n)) for n in ('cifar10', 'cifar100', 'stl10')] == [(10000, 10, 32), (10000, 100, 32), (8000, 10, 96)]
    assert 'ROOT/cifar-10-batches-py/' in get_spec('cifar10').layout and 'stl10_binary' in get_spec('stl10').layout
    assert 'torchvision.datasets.CIFAR100(\'/data\', train=False, download=True)' in prepare_steps('cifar100', '/data')[0]
    assert len(class_meta('cifar10')['templates']) == 18 and class_meta('cifar100')['classnames'][-3:] == ['wolf', 'woman', 'worm']
    assert class_meta('stl10')['templates'] == ['a photo of a {}.', 'a photo of the {}.']


def test_cifar_and_stl_fixtures_read_back(tmp_path):
    rng = np.random.default_rng(1)
    im = rng.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8)
    write_cifar(tmp_path, im, [i % 10 for i in range(30)])
    write_cifar(tmp_path, im, [(7 * i) % 100 for i in range(30)], 'cifar100')
    for name, labels in (('cifar10', [i % 10 for i in range(30)]), ('cifar100', [(7 * i) % 100 for i in range(30)])):
        ds = _open(name, tmp_path)
        assert ds.labels == labels and ds.split == 'test' and ds.image_id(2) == f'{name}/test/2'
        assert all((np.asarray(ds.load(i)) == im[i]).all() for i in range(30))
    im96 = rng.integers(0, 256, (5, 96, 96, 3), dtype=np.uint8)
    write_stl10(tmp_path, im96, [4, 0, 9, 1, 1])
    ds = _open('stl10', tmp_path)
    assert ds.labels == [4, 0, 9, 1, 1] and all((np.asarray(ds.load(i)) == im96[i]).all() for i in range(5))
    assert dataset_status('cifar10', tmp_path)['state'] == 'size'  # 30 of 10,000: present, count differs


def test_hostile_cifar_pickle_refused_without_running(tmp_path):
    "A batch file whose pickle calls os.system: refused by name, the command never runs."
    d = write_cifar(tmp_path, np.zeros((2, 32, 32, 3), np.uint8), [0, 1])
    marker = tmp_path / 'pwned'

    class Payload:
        def __reduce__(self): return (os.system, (f'touch {marker}',))
    (d / 'test_batch').write_bytes(pickle.dumps({'data': Payload(), 'labels': [0, 1]}, protocol=2))
    with pytest.raises(Lr0fmError, match=r'asks to load posix\.system') as e: _open('cifar10', tmp_path)
    assert '\n' not in str(e.value) and not marker.exists()
    for mod, fn in (('builtins', 'eval'), ('numpy', 'load'), ('subprocess', 'Popen')):
        (d / 'batches.meta').write_bytes(b'\x80\x02c' + f'{mod}\n{fn}\n'.encode() + b'X\x01\x00\x00\x001\x85R.')
        with pytest.raises(Lr0fmError, match=f'asks to load {mod}.{fn}'): read_batch(d / 'batches.meta')
    # numpy's array constructor only builds the empty array a pickled array starts from
    (d / 'batches.meta').write_bytes(b'\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nJ\x00\xe1\xf5\x05\x85U\x01O\x87R.')
    with pytest.raises(Lr0fmError, match='asks to load numpy _reconstruct'): read_batch(d / 'batches.meta')


def test_damaged_files_are_one_line(tmp_path):
    d = write_cifar(tmp_path, np.zeros((2, 32, 32, 3), np.uint8), [0, 1])
    (d / 'test_batch').write_bytes((d / 'test_batch').read_bytes()[:500])
    with pytest.raises(Lr0fmError, match='not a readable CIFAR batch'): _open('cifar10', tmp_path)
    (d / 'test_batch').unlink()
    with pytest.raises(Lr0fmError, match='batch file .*test_batch is missing'): _open('cifar10', tmp_path)
    s = write_stl10(tmp_path, np.zeros((2, 96, 96, 3), np.uint8), [0, 1])
    (s / 'test_y.bin').write_bytes(bytes([1, 11]))
    with pytest.raises(Lr0fmError, match='label 11, outside 1..10'): _open('stl10', tmp_path)


@pytest.mark.skipif(not SHARED.is_dir(), reason='the real CIFAR-10 test images (../shared/data/cifar10-test) are not here')
def test_real_cifar10_images_through_the_release_format(tmp_path):
    "Real CIFAR-10 test images, written as the release's test_batch, read back pixel for pixel with the right classes."
    names = class_meta('cifar10')['keys']
    files = [(f, k) for k, c in enumerate(names) for f in sorted((SHARED / c).iterdir())[:5]]
    im = np.stack([np.asarray(Image.open(f).convert('RGB')) for f, _ in files])
    write_cifar(tmp_path, im, [k for _, k in files])
    ds = _open('cifar10', tmp_path)
    assert len(ds) == 50 and ds.labels == [k for _, k in files] and ds.classnames[1] == 'automobile'
    assert all((np.asarray(ds.load(i)) == im[i]).all() for i in range(0, 50, 7)) and ds.load(0).size == (32, 32)


def test_torchvision_reads_the_same_files(tmp_path, monkeypatch):
    "torchvision's own CIFAR10/CIFAR100/STL10 classes read the fixtures to the same pixels and labels (their md5 checks skipped: not the release's bytes)."
    tvd = pytest.importorskip('torchvision.datasets')
    import torchvision.datasets.cifar as tvc
    monkeypatch.setattr(tvc, 'check_integrity', lambda *a, **k: True)
    monkeypatch.setattr(tvd.CIFAR10, '_check_integrity', lambda self: True)
    monkeypatch.setattr(tvd.STL10, '_check_integrity', lambda self: True)
    rng = np.random.default_rng(2)
    im, lab = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8), [(3 * i) % 10 for i in range(12)]
    write_cifar(tmp_path, im, lab); write_cifar(tmp_path, im, [(9 * i) % 100 for i in range(12)], 'cifar100')
    tv = tvd.CIFAR10(str(tmp_path), train=False)
    assert (tv.data == im).all() and tv.targets == lab == _open('cifar10', tmp_path).labels and tv.classes == class_meta('cifar10')['keys']
    tv = tvd.CIFAR100(str(tmp_path), train=False)
    assert tv.targets == _open('cifar100', tmp_path).labels and [c.replace('_', ' ') for c in tv.classes] == class_meta('cifar100')['classnames']
    im96 = rng.integers(0, 256, (3, 96, 96, 3), dtype=np.uint8)
    write_stl10(tmp_path, im96, [2, 0, 7])
    tv, ours = tvd.STL10(str(tmp_path), split='test'), _open('stl10', tmp_path)
    assert list(tv.labels) == ours.labels == [2, 0, 7] and tv.classes == ours.classnames
    assert all((np.asarray(tv[i][0]) == np.asarray(ours.load(i))).all() for i in range(3))


def test_views_at_native_size_flagged_in_rows_and_refused_with_strict(tmp_path):
    import subprocess, sys
    from lr0fm.cli import run_eval
    rng = np.random.default_rng(2)
    write_cifar(tmp_path / 'data', rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8), [i % 10 for i in range(20)])
    p = subprocess.run([str(Path(sys.executable).parent / 'lr0fm_eval'), '--model', 'lr0fm-mini-s', '--dataset', 'cifar10', '--root', str(tmp_path / 'data'),
                        '--resolutions', 'HR', '64', '32', '16', '--quiet', '--out', str(tmp_path / 's'), '--strict'], capture_output=True, text=True)
    assert p.returncode == 2 and "--strict: cifar10's images are 32 x 32 px, so views 64, 32 start at or above them" in p.stderr, p.stderr
    assert 'Traceback' not in p.stderr and not (tmp_path / 's' / 'results.csv').exists()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the fixture is smaller than the real split
        st = run_eval(['lr0fm-mini-s'], ['cifar10'], tmp_path / 'ok', tmp_path / 'data', ['HR', 64, 32, 16], progress=False, log=lambda *a: None)
    r = st.results().set_index('view')
    assert r['native_px'].tolist() == [32] * 4 and r['at_native'].to_dict() == {'HR': False, '64': True, '32': True, '16': False}
