"""The silent traps of issue #23 on one's own models and data, each as a user meets it on the command line or in Python:
random weights nobody asked for, subsets that are class-ordered prefixes or ignored, resumed cells whose images changed,
custom class names and templates, and the per-cell numbers (mean per-class recall, images/s) the rows must carry."""
import json, os, subprocess, sys, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import pandas as pd, pytest
from PIL import Image
from lr0fm.core import Lr0fmError

BIN = Path(sys.executable).parent
COLOURS = ['red', 'green', 'blue']

def _eval(*args):
    return subprocess.run([str(BIN / 'lr0fm_eval'), *args], capture_output=True, text=True)

def _folder(root:Path, per_class:int, start:int=0)->Path:
    "An image folder of plain colour squares, `per_class` images per class (files named from `start`)."
    for c in COLOURS:
        (root / c).mkdir(parents=True, exist_ok=True)
        for k in range(start, start + per_class): Image.new('RGB', (24 + k, 24), c).save(root / c / f'{k:03d}.png')
    return root

def _run(out, root, **kw):
    from lr0fm.cli import run_eval
    kw = dict(dict(resolutions=['HR'], progress=False, log=lambda *a: None), **kw)
    return run_eval(['lr0fm-mini-s'], ['imagefolder'], out, root=root, **kw)


def test_random_weights_only_when_asked_for_and_announced(tmp_path):
    "An open_clip architecture with no tag or checkpoint is refused in one line; --random-init evaluates it and says so everywhere."
    args = ['--model', 'ViT-B-32', '--dataset', 'demo-colours', '--per-class', '3', '--resolutions', 'HR', '16', '--quiet']
    p = _eval(*args, '--out', str(tmp_path / 'a'))
    assert p.returncode == 2 and p.stderr.count('\n') == 1, p.stderr
    for need in ('--pretrained TAG', '--checkpoint FILE', '--random-init'): assert need in p.stderr, p.stderr
    assert not (tmp_path / 'a' / 'results.csv').exists()
    p = _eval(*args, '--random-init', '--report', '--out', str(tmp_path / 'b'))
    assert p.returncode == 0, p.stderr[-2000:]
    assert 'ViT-B-32 has RANDOM weights (random-init-seed0)' in p.stdout, p.stdout
    r = pd.read_csv(tmp_path / 'b' / 'results.csv')
    assert r['random_init'].tolist() == [True, True] and set(r['pretrained']) == {'random-init-seed0'}
    html = (tmp_path / 'b' / 'report.html').read_text()
    assert 'RANDOM-INIT (untrained) weights: ViT-B-32' in html and 'Random-init models: ViT-B-32' in html  # title and banner
    p = _eval(*args, '--random-init', '--pretrained', 'openai', '--out', str(tmp_path / 'c'))
    assert p.returncode == 2 and 'exclude each other' in p.stderr, p.stderr


def test_python_load_model_needs_a_seed_for_random_weights():
    from lr0fm.registry import load_model
    with pytest.raises(Lr0fmError, match='--random-init'): load_model('ViT-B-32')
    b = load_model('ViT-B-32', seed=0)
    assert b.meta['random_init'] and b.meta['pretrained'] == 'random-init-seed0'
    assert not load_model('lr0fm-mini-s').meta['random_init']  # shipped toy weights are not random


def test_text_classifier_has_a_progress_bar_only_when_progress_is_on(tmp_path):
    root = _folder(tmp_path / 'imgs', 1)
    base = ['--model', 'lr0fm-mini-s', '--dataset', 'imagefolder', '--root', str(root), '--resolutions', 'HR']
    p = _eval(*base, '--out', str(tmp_path / 'a'))
    assert p.returncode == 0 and 'lr0fm-mini-s: text classifier, 3 classes' in p.stderr, p.stderr[-2000:]
    p = _eval(*base, '--out', str(tmp_path / 'b'), '--quiet')
    assert p.returncode == 0 and 'text classifier' not in p.stderr, p.stderr[-2000:]


def test_per_class_is_a_seeded_stratified_sample_of_any_dataset(tmp_path):
    root = _folder(tmp_path / 'imgs', 6)
    a, b = _run(tmp_path / 'a', root, per_class=2), _run(tmp_path / 'b', root, per_class=2)
    r = a.results()
    assert r['n_images'].tolist() == [6] and r['split'].tolist() == ['test[per-class=2~seed0]']
    pa, pb = a.predictions(), b.predictions()
    assert sorted(pa['image_id']) == sorted(pb['image_id'])                  # the same images in every run
    assert pa['label'].value_counts().to_dict() == {0: 2, 1: 2, 2: 2}        # two of each class
    c = _run(tmp_path / 'a', root, per_class=2, sample_seed=1)                # another seed: another cell beside it
    assert sorted(c.results()['split']) == ['test[per-class=2~seed0]', 'test[per-class=2~seed1]']


def test_limit_prefix_in_class_order_is_warned(tmp_path):
    root = _folder(tmp_path / 'imgs', 4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        _run(tmp_path / 'a', root, limit=4)
    msg = ' '.join(str(x.message) for x in w)
    assert '--limit 4 takes the first 4 images of imgs, in class order: 1 of its 3 classes' in msg and '--per-class' in msg, msg


def test_changed_images_are_refused_not_resumed(tmp_path):
    "30 images, then 60 in the same folder, the same command: a one-line refusal naming the difference, never the old numbers."
    root = _folder(tmp_path / 'imgs', 10)
    args = ['--model', 'lr0fm-mini-s', '--dataset', 'imagefolder', '--root', str(root), '--resolutions', 'HR', '--out', str(tmp_path / 'run'), '--quiet']
    assert _eval(*args).returncode == 0
    _folder(root, 10, start=10)
    p = _eval(*args)
    assert p.returncode == 2 and p.stderr.count('\n') == 1, p.stderr
    assert 'made from another image list (30 images then, 60 now)' in p.stderr and 'another --out' in p.stderr, p.stderr
    assert 'skipped' not in p.stdout
    r = pd.read_csv(tmp_path / 'run' / 'results.csv')
    assert r['n_images'].tolist() == [30] and r['images_listed'].tolist() == [30] and len(r['images_sha256'][0]) == 64


def test_custom_classnames_and_templates_files(tmp_path):
    root = _folder(tmp_path / 'imgs', 2)
    (tmp_path / 'names.txt').write_text('crimson\nlime\nnavy\n')
    (tmp_path / 'templates.json').write_text(json.dumps({'imgs': ['a {c} square.', 'a photo of something {c}.']}))
    st = _run(tmp_path / 'run', root)
    st = _run(tmp_path / 'run', root, classnames=tmp_path / 'names.txt', templates=str(tmp_path / 'templates.json'))
    r = st.results().sort_values('split').reset_index(drop=True)
    assert r['split'][0] == 'test' and r['split'][1].startswith('test+classnames-') and '+templates-' in r['split'][1]
    assert r['classnames_sha256'].nunique() == 2 and r['templates_sha256'].nunique() == 2
    with pytest.raises(Lr0fmError, match='gives 2 names; imgs has 3 classes'):
        (tmp_path / 'two.txt').write_text('a\nb\n'); _run(tmp_path / 'x', root, classnames=tmp_path / 'two.txt')
    with pytest.raises(Lr0fmError, match="'clip'.*'simple'.*or a FILE"): _run(tmp_path / 'x', root, templates='no-such-file.txt')


def test_rows_carry_mean_class_recall_and_images_per_second(tmp_path):
    st = _run(tmp_path / 'run', _folder(tmp_path / 'imgs', 2), resolutions=['HR', 16])
    r = st.results()
    assert r['mean_class_recall'].between(0, 1).all() and (r['images_per_s'] > 0).all()
    assert r['images_per_s'].nunique() == 1  # one image pass makes every view of the cell
