"""`lr0fm.views` on real photos: five photos of the shared ImageNet sample (one of them grayscale).

The sample is `$LR0FM_SHARED_DATA/imagenet-sample`, else `../shared/data/imagenet-sample` beside the checkout; the tests skip
when it is absent. They check that plain resolution views are today's `degrade` pixel for pixel, that composed views apply
their steps in order, that noise is reproducible per (image, view) seed, and that every degradation grows monotonically
worse with its severity on a simple image statistic. Run with `-s` to see the statistics.
"""
import csv, os
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from lr0fm.core import Lr0fmError
from lr0fm.degrade import degrade
from lr0fm.views import (View, parse_views, sort_views, view_seed, jpeg, gaussian_blur, gaussian_noise, pixelate,
                         mean_abs_err, laplacian_var)

_env = os.environ.get('LR0FM_SHARED_DATA')
ROOT = (Path(_env) if _env else Path(__file__).resolve().parents[1].parent / 'shared' / 'data') / 'imagenet-sample'
pytestmark = pytest.mark.skipif(not (ROOT / 'labels.csv').exists(), reason=f'the ImageNet sample is absent ({ROOT})')

FILES = ['n01440764_tench.JPEG', 'n01443537_goldfish.JPEG', 'n01484850_great_white_shark.JPEG', 'n01491361_tiger_shark.JPEG',
         'n02096051_Airedale.JPEG']  # the last one is grayscale


@pytest.fixture(scope='module')
def photos():
    "file name -> the photo as decoded (its own mode); the files are checked against labels.csv."
    listed = {r['file'] for r in csv.DictReader(open(ROOT / 'labels.csv'))}
    out = {}
    for f in FILES:
        if f not in listed or not (ROOT / f).exists(): pytest.skip(f'{f} is not in the sample')
        with Image.open(ROOT / f) as im: im.load(); out[f] = im.copy()
    assert 'L' in {im.mode for im in out.values()}
    return out


def _eq(a, b): return a.size == b.size and a.mode == b.mode and np.array_equal(np.asarray(a), np.asarray(b))


def test_plain_views_are_degrade(photos):
    for im in photos.values():
        for x in (im, im.convert('RGB')):
            for mode in ('shortest', 'squash', 'longest'):
                for n in (128, 64, 32, 16):
                    assert _eq(View.parse(str(n)).apply(x, resize_mode=mode), degrade(x, n, mode)), (n, mode)
            assert View.parse('HR').apply(x) is x
    assert [str(v) for v in parse_views('HR 128 64 32 16')] == ['HR', '128', '64', '32', '16']


def test_composed_views_apply_in_order(photos):
    for f, im in photos.items():
        im = im.convert('RGB')
        v = View.parse('32+jpeg-q30')
        assert _eq(v.apply(im), jpeg(degrade(im, 32), 30))
        assert not _eq(v.apply(im), degrade(jpeg(im, 30), 32))
        assert _eq(View.parse('64+blur-s1+pixelate-k4').apply(im), pixelate(gaussian_blur(degrade(im, 64), 1), 4))
        w = View.parse('16+jpeg-q50+noise-s5')
        s = view_seed(f, w)
        assert _eq(w.apply(im, s), gaussian_noise(jpeg(degrade(im, 16), 50), 5, np.random.default_rng(s)))


def test_noise_is_seeded_per_image_and_view(photos):
    for label in ('32+noise-s10', '32+poisson-p30', '32+jpeg-q50+noise-s5+poisson-p100'):
        v = View.parse(label)
        for f, im in photos.items():
            a, b = v.apply(im, view_seed(f, v)), v.apply(im, view_seed(f, label))
            assert a.tobytes() == b.tobytes()
            assert v.apply(im, view_seed(f + 'x', v)).tobytes() != a.tobytes()
    for label in ('32+jpeg-q30', '32+blur-s2', '32+pixelate-k4'):   # no noise: the seed changes nothing
        v = View.parse(label)
        im = photos[FILES[0]]
        assert v.apply(im, 1).tobytes() == v.apply(im, 2).tobytes() == v.apply(im).tobytes()


SWEEPS = {  # family -> labels from mild to severe, and the statistic that must grow worse along them
    'jpeg': (['128+jpeg-q90', '128+jpeg-q70', '128+jpeg-q50', '128+jpeg-q30', '128+jpeg-q10', '128+jpeg-q2'], 'mae'),
    'blur': (['128+blur-s0.5', '128+blur-s1', '128+blur-s2', '128+blur-s4', '128+blur-s8'], 'lap'),
    'noise': (['128+noise-s2', '128+noise-s5', '128+noise-s10', '128+noise-s20', '128+noise-s40'], 'mae'),
    'poisson': (['128+poisson-p1000', '128+poisson-p100', '128+poisson-p30', '128+poisson-p10', '128+poisson-p3'], 'mae'),
    'pixelate': (['128+pixelate-k2', '128+pixelate-k4', '128+pixelate-k8', '128+pixelate-k16'], 'lap'),
}


@pytest.mark.parametrize('family', list(SWEEPS))
def test_monotone_in_severity(photos, family):
    labels, stat = SWEEPS[family]
    views = [View.parse(l) for l in labels]
    assert {v.family for v in views} == {family}
    rows = []
    for f, im in photos.items():
        base = degrade(im.convert('RGB'), 128)
        outs = [v.apply(im.convert('RGB'), view_seed(f, v)) for v in views]
        rows.append([mean_abs_err(base, o) if stat == 'mae' else laplacian_var(o) for o in outs] + [laplacian_var(base)])
    rows = np.array(rows)
    print(f"\n{family} ({'MAE vs the 128 px view' if stat == 'mae' else 'Laplacian variance'}), mean over {len(rows)} photos:",
          ', '.join(f'{v.severity:g}: {m:.2f}' for v, m in zip(views, rows[:, :-1].mean(0))),
          '' if stat == 'mae' else f'(the 128 px view: {rows[:, -1].mean():.2f})')
    if stat == 'mae':
        assert (np.diff(rows[:, :-1], axis=1) > 0).all(), rows   # every photo, every step: worse
    elif family == 'blur':
        assert (np.diff(rows[:, :-1], axis=1) < 0).all() and (rows[:, 0] < rows[:, -1]).all(), rows
    else:   # pixelate: small blocks can add edges of their own; overall the detail goes
        assert (np.diff(rows[:, :-1].mean(0)) < 0).all() and (rows[:, -2] < rows[:, -1]).all(), rows


def test_labels_round_trip_and_sort():
    labels = ['HR', '128', '64', '32', '16', '32@bilinear', '32@nearest', '32@bicubic-noaa', '64@bilinear-noaa-torch', '32+jpeg-q30',
              'blur-s2', '16+jpeg-q50+noise-s5', '32+poisson-p30', 'pixelate-k8', '16+sr:swinir']
    for l in labels:
        v = View.parse(l)
        assert str(v) == l and View.parse(str(v)) == v
    assert [str(v) for v in sort_views(reversed(labels))][:5] == ['HR', '128', '64', '32', '16']
    for bad in ('16+jpg-q30', '16+jpeg-q101', '32@cubic', '16+', 'HR@nearest'):
        with pytest.raises(Lr0fmError, match=r'a view is HR or N\[@kernel'): View.parse(bad)


def test_sr_views_need_a_model(photos):
    v = View.parse('16+sr:swinir')
    assert (v.family, v.severity, str(v)) == ('sr', None, '16+sr:swinir')
    with pytest.raises(Lr0fmError, match="no super-resolution model is named 'swinir'; pass --sr swinir=PATH"): v.apply(photos[FILES[0]], 0)
