"""Miniatures of the benchmark datasets' real layouts, read by lr0fm and cross-checked against code not written here:
torchvision's dataset classes and the webdataset library; plus the lr0fm_datasets command and one end-to-end evaluation."""
import os, subprocess, sys, warnings
from pathlib import Path
import numpy as np
import pytest
from lr0fm.core import Lr0fmError
from lr0fm.datasets import benchmark_names, get_spec, open_dataset, class_meta
from lr0fm.testing import write_miniature

os.environ.setdefault('HF_HUB_OFFLINE', '1')
BIN = Path(sys.executable).parent

def _open(name, root, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); return open_dataset(name, root, **kw)

def _pairs(ds): return sorted((ds.image_id(i), ds.multi_labels[i] if ds.multi_labels else ds.items[i][1]) for i in range(len(ds)))

@pytest.mark.parametrize('name', benchmark_names())
def test_every_dataset_reads_its_miniature(name, tmp_path):
    want = write_miniature(name, tmp_path)
    ds = _open(name, tmp_path, **({'split': 'all'} if name == 'caltech101' else {}))
    assert _pairs(ds) == sorted(want)
    assert ds.n_classes == get_spec(name).classes and ds.classnames == class_meta(name)['classnames']
    lab = ds.items[-1][1]
    px = np.asarray(ds.load(len(ds) - 1))[10, 10].astype(int)          # the image is the one of its label
    assert np.abs(px - [(37 * lab) % 256, (91 * lab) % 256, (53 * lab + 80) % 256]).max() <= 12

@pytest.mark.parametrize('name', [n for n in benchmark_names() if get_spec(n).wds])
def test_every_webdataset_export(name, tmp_path):
    want = write_miniature(name, tmp_path, 'wds')
    assert _pairs(_open(name, tmp_path)) == sorted(want)

def _tv():
    import torchvision.datasets as tvd
    return tvd

@pytest.mark.parametrize('name,cls,kw,split', [
    ('food101', 'Food101', dict(split='test'), None), ('dtd', 'DTD', dict(split='test', partition=1), None),
    ('fgvc-aircraft', 'FGVCAircraft', dict(split='test', annotation_level='variant'), None), ('oxford-pets', 'OxfordIIITPet', dict(split='test'), None),
    ('stanford-cars', 'StanfordCars', dict(split='test'), None), ('caltech101', 'Caltech101', {}, 'all'), ('eurosat', 'EuroSAT', {}, 'all')])
def test_torchvision_reads_the_same_layout(name, cls, kw, split, tmp_path):
    "torchvision's own class, pointed at the same miniature, lists the same images under the same class."
    write_miniature(name, tmp_path)
    if name == 'eurosat':  # torchvision's ImageFolder refuses empty class folders, which a real download never has
        from lr0fm.testing import _img
        for i, k in enumerate(class_meta(name)['keys']): _img(tmp_path / 'eurosat' / '2750' / k / f'{k}_9999.jpg', i)
    ours = _open(name, tmp_path, **({'split': split} if split else {}))
    tv = getattr(_tv(), cls)(str(tmp_path), **kw)
    if name == 'caltech101':
        theirs = [(Path(tv.root) / '101_ObjectCategories' / tv.categories[y] / f'image_{i:04d}.jpg', y) for i, y in zip(tv.index, tv.y)]
        names = tv.categories
    else:
        samples = getattr(tv, '_samples', None) or getattr(tv, 'samples', None) or list(zip(getattr(tv, '_image_files', None) or tv._images, tv._labels))
        theirs, names = [(p, int(y)) for p, y in samples], tv.classes
    keys, cn = class_meta(name)['keys'] or [], ours.classnames
    if name == 'oxford-pets':  # torchvision keeps the file's class id as the label and names only the breeds present
        assert set(tv.classes) <= set(cn); names = cn
    ours_named = sorted((str(p), cn[l]) for p, l in ours.items)
    theirs_named = sorted((str(p), cn[keys.index(names[y])] if names[y] in keys else names[y]) for p, y in theirs)
    assert len(ours_named) >= 6 and ours_named == theirs_named

def test_torchvision_sun397_agrees(tmp_path):
    write_miniature('sun397', tmp_path)
    ours = _open('sun397', tmp_path)
    tv = _tv().SUN397(str(tmp_path))
    theirs = {str(p): y for p, y in zip(tv._image_files, tv._labels)}  # every image, training and testing
    assert len(theirs) == 2 * len(ours) and all(theirs[str(p)] == l for p, l in ours.items)

def test_webdataset_library_reads_the_shards(tmp_path):
    import webdataset as wds
    want = write_miniature('food101', tmp_path, 'wds')
    d = tmp_path / 'wds_food101' / 'test'
    it = wds.WebDataset([str(d / '0.tar'), str(d / '1.tar')], shardshuffle=False).decode('pil').to_tuple('jpg;webp', 'cls')
    got = [(img.size, int(c)) for img, c in it]
    assert [c for _, c in got] == [l for _, l in want] and all(s == (20, 20) for s, _ in got)

def test_wrong_root_and_missing_dataset(tmp_path):
    with pytest.raises(Lr0fmError, match='does not exist'): open_dataset('dtd', tmp_path / 'nope')
    with pytest.raises(Lr0fmError, match=r"(?s)not found under .*expected .*dtd/dtd/\{images.*torchvision.datasets.DTD"): open_dataset('dtd', tmp_path)

@pytest.mark.parametrize('name,export,paper', [('sun397', 'wds_sun397', False), ('caltech101', 'wds_vtab-caltech101', False), ('eurosat', 'wds_vtab-eurosat', False),
                                               ('ucf101', 'wds_ucf101', None), ('oxford-pets', 'wds_vtab-pets', True)])
def test_export_of_another_split_warns(name, export, paper, tmp_path):
    "A webdataset export holding another split than the paper's is read with a warning naming the split it holds; strict refuses it."
    write_miniature(name, tmp_path, 'wds')
    assert (tmp_path / export).is_dir() and get_spec(name).wds[export]['paper_split'] is paper
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); open_dataset(name, tmp_path)
    msgs = ' | '.join(str(x.message) for x in w)
    if paper is False: assert f"the export {export} holds {get_spec(name).wds[export]['split']}; that is not the paper's split" in msgs
    elif paper is None: assert f'the split of the export {export} could not be checked' in msgs
    else: assert 'split' not in msgs
    if paper is not True:
        with pytest.raises(Lr0fmError, match='split'): open_dataset(name, tmp_path, strict=True)

def test_lr0fm_datasets_command(tmp_path):
    write_miniature('dtd', tmp_path); write_miniature('eurosat', tmp_path, 'wds')
    r = subprocess.run([str(BIN / 'lr0fm_datasets'), '--root', str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = {l.split()[0]: l for l in r.stdout.splitlines() if l.strip()}
    assert 'PRESENT, 6 images: count differs' in lines['dtd'] and 'MISSING' in lines['imagenet']
    assert "not the paper's split, the export holds VTAB test" in lines['eurosat'] and 'wds: ' in lines['eurosat']   # the VTAB EuroSAT export
    assert "tar -xf imagenet-a.tar -C " + str(tmp_path) in r.stdout and '0 of 20 datasets present' in r.stdout   # neither counts as present (17 of the paper, 3 natively small)
    bad = subprocess.run([str(BIN / 'lr0fm_datasets'), '--root', str(tmp_path / 'nope')], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().count('\n') == 0 and 'does not exist' in bad.stderr
    plain = subprocess.run([str(BIN / 'lr0fm_datasets')], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and 'imagenet-hard-4k' in plain.stdout and 'taesiri/imagenet-hard-4K' in plain.stdout

def test_missing_data_extra_names_the_package(tmp_path, monkeypatch):
    "Without Hugging Face `datasets` (the `data` extra) ImageNet-Hard says what to install; the command prints it on one line, no traceback."
    write_miniature('imagenet-hard', tmp_path)
    monkeypatch.setitem(sys.modules, 'datasets', None)      # import datasets now raises ImportError
    from lr0fm.datasets import download, dataset_status
    from lr0fm.testing import write_miniature as wm
    for f in (lambda: open_dataset('imagenet-hard', tmp_path), lambda: download('imagenet-hard-4k', tmp_path), lambda: wm('imagenet-hard-4k', tmp_path / 'x')):
        with pytest.raises(Lr0fmError, match=r"pip install 'lr0fm\[data\]'"): f()
    r = dataset_status('imagenet-hard', tmp_path)
    assert r['state'] == 'error' and "pip install 'lr0fm[data]'" in r['note']
    code = ("import sys; sys.modules['datasets'] = None\n"
            "from lr0fm.cli import lr0fm_datasets; lr0fm_datasets(root=sys.argv[1], dataset='imagenet-hard')")
    out = subprocess.run([sys.executable, '-c', code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and 'Traceback' not in out.stderr, out.stderr
    assert "INCOMPLETE" in out.stdout and "pip install 'lr0fm[data]'" in out.stdout

def test_lr0fm_eval_on_a_miniature(tmp_path):
    "End to end: the embedded toy model on the Food101 miniature at HR and 16 px, through the command's own function."
    from lr0fm.cli import run_eval
    write_miniature('food101', tmp_path / 'data')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        st = run_eval(['lr0fm-mini-s'], ['food101'], tmp_path / 'run', root=tmp_path / 'data', resolutions=['HR', 16], progress=False, log=lambda *a: None)
    res = st.results()
    assert sorted(res['view'].astype(str)) == ['16', 'HR'] and set(res['dataset']) == {'food101'}
    assert (res['n_images'] == 6).all() and res['n_classes'].iloc[0] == 101

def test_imagenet_folder_with_real_photos(tmp_path):
    "The 1,000 real ImageNet photos of the shared sample, arranged as val/<wnid>/, are read with the labels of their labels.csv."
    import csv
    from lr0fm.core import shared_data_path
    src = shared_data_path('imagenet-sample')
    if src is None: pytest.skip('the shared ImageNet sample is not present')
    rows = list(csv.DictReader(open(src / 'labels.csv')))
    for r in rows:
        (tmp_path / 'imagenet' / 'val' / r['wnid']).mkdir(parents=True, exist_ok=True)
        os.symlink(src / r['file'], tmp_path / 'imagenet' / 'val' / r['wnid'] / r['file'])
    ds = _open('imagenet', tmp_path)
    assert len(ds) == len(rows) == 1000
    want = {r['file']: int(r['label']) for r in rows}
    assert all(want[Path(p).name] == l for p, l in ds.items)
    assert ds.load(0).mode == 'RGB' and ds.load(0).size[0] > 16
    from lr0fm.datasets import imagenet_wnids   # the shipped WordNet-id order agrees with the sample's own labels, all 1,000
    assert [imagenet_wnids()[int(r['label'])] for r in rows] == [r['wnid'] for r in rows]
