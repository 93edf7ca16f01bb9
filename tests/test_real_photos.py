"""The data -> degrade -> evaluate path on real photos: the 1,000-image ImageNet sample beside the checkout.

Skips when `../shared/data/imagenet-sample` (or `$LR0FM_SHARED_DATA/imagenet-sample`) is absent. The model is a
seeded random-init open_clip ViT-B-32 (no pretrained weights can be downloaded here), so the test checks counts,
shapes and bookkeeping, not accuracy.
"""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from collections import Counter
import numpy as np, pytest
from PIL import Image
from lr0fm.core import shared_data_path
from lr0fm.registry import get_dataset

ROOT = shared_data_path('imagenet-sample')
pytestmark = pytest.mark.skipif(ROOT is None, reason='imagenet-sample is absent (../shared/data or $LR0FM_SHARED_DATA)')


def test_decode_every_photo():
    ds = get_dataset('imagenet-sample', ROOT)
    assert (len(ds), ds.n_classes, len(ds.templates)) == (1000, 1000, 80)
    assert sorted(ds.labels) == list(range(1000))
    modes = Counter()
    for i in range(len(ds)):
        with Image.open(ds.items[i][0]) as im: modes[im.mode] += 1
        assert ds.load(i).mode == 'RGB'
    assert sum(n for m, n in modes.items() if m != 'RGB') == 23, modes


def test_evaluate_real_photos(tmp_path):
    import open_clip
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES, SIMPLE_IMAGENET_TEMPLATES
    from lr0fm.registry import load_model
    from lr0fm.cli import eval_cell
    from lr0fm.results import ResultStore
    b = load_model('ViT-B-32', seed=0)
    # open_clip's ImageNet class names and its short template set (7 templates; the 80-template set is timed by the benchmark)
    ds = get_dataset('imagenet-sample', ROOT, templates=[t('{}') for t in SIMPLE_IMAGENET_TEMPLATES])
    assert ds.classnames == list(IMAGENET_CLASSNAMES)
    st = ResultStore(tmp_path)
    rows = eval_cell(b, ds, st, ['HR', 16], batch_size=50, progress=False)
    assert [r['view'] for r in rows] == ['HR', '16']
    assert all(r['n_images'] == 1000 and r['n_classes'] == 1000 and r['n_skipped'] == 0 for r in rows)
    p = st.predictions()
    assert len(p) == 2000 and p['image_id'].nunique() == 1000
    preds = p[[f'pred_{i}' for i in range(1, 6)]].to_numpy()
    assert preds.min() >= 0 and preds.max() < 1000
    assert all(len(set(r)) == 5 for r in preds[:50])  # five distinct classes per image
    # the stored accuracies are the ones the predictions give
    hr = p[p['view'] == 'HR']
    assert np.isclose((hr['pred_1'] == hr['label']).mean(), rows[0]['top1'])
