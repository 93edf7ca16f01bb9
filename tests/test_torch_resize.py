"""`lr0fm.resize` against PIL on a CPU, on real photo sizes: photos of the ImageNet sample and large synthetic photos.

Every view of the torch resize must equal lr0fm's PIL path (`degrade`, then the model's `Resize` and `CenterCrop`) to the
last bit; each test prints the largest difference per view, in 8-bit levels. The ImageNet part skips when
`../shared/data/imagenet-sample` (or `$LR0FM_SHARED_DATA/imagenet-sample`) is absent.
"""
import numpy as np, pytest, torch
from PIL import Image
import torchvision.transforms as T
from lr0fm.core import shared_data_path
from lr0fm.degrade import degrade
from lr0fm.resize import views_u8, resize_u8

ROOT = shared_data_path('imagenet-sample')
VIEWS = ['HR', 128, 64, 32, 16]
MODES = {'bicubic': T.InterpolationMode.BICUBIC, 'bilinear': T.InterpolationMode.BILINEAR}


def pil_views(img, views, lr_mode='shortest', resize='shortest', size=224, crop=None, interpolation='bicubic'):
    "lr0fm's PIL path for one RGB image: (R, 3, h, w) uint8."
    tf = T.Compose([T.Resize(size, interpolation=MODES[interpolation])] + ([T.CenterCrop(crop)] if crop else []) + [T.PILToTensor()])
    return torch.stack([tf(img if r == 'HR' else degrade(img, r, lr_mode)) for r in views])


def max_diff(got, ref, views)->dict:
    "Largest |torch - PIL| per view, in 8-bit levels."
    d = (got.int() - ref.int()).abs()
    return {str(v): int(d[:, i].max()) for i, v in enumerate(views)}


def as_tensor(img): return torch.from_numpy(np.array(img.convert('RGB'))).permute(2, 0, 1).contiguous()


def synthetic_photo(h, w, seed=0)->Image.Image:
    "A photo-like RGB image: smooth random colours, edges and grain."
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
    a = np.asarray(base).astype(np.int16)
    a[h // 3: h // 2, w // 4: w // 2] = 250  # a bright block with sharp edges
    a += rng.integers(-12, 13, (h, w, 1), dtype=np.int16)  # grain
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


SETTINGS = {  # the paper's two pipelines, and a bilinear model
    'shortest-crop-bicubic': dict(lr_mode='shortest', resize='shortest', size=224, crop=(224, 224)),
    'squash-bilinear': dict(lr_mode='squash', resize='squash', size=(224, 224), interpolation='bilinear'),
}


@pytest.mark.skipif(ROOT is None, reason='imagenet-sample is absent (../shared/data or $LR0FM_SHARED_DATA)')
@pytest.mark.parametrize('name', SETTINGS)
def test_imagenet_photos_equal_pil(name):
    files = sorted(ROOT.glob('*.JPEG'))
    sizes = {f: Image.open(f).size for f in files}
    pick = files[::40] + sorted(files, key=lambda f: -sizes[f][0] * sizes[f][1])[:4]  # 25 spread out, and the 4 largest (up to 2400 px)
    imgs = [Image.open(f).convert('RGB') for f in dict.fromkeys(pick)]
    kw = SETTINGS[name]
    ref = torch.stack([pil_views(im, VIEWS, **kw) for im in imgs])
    got = views_u8([as_tensor(im) for im in imgs], VIEWS, **kw)
    diffs = max_diff(got, ref, VIEWS)
    print(f'{name}: {len(imgs)} photos, max |torch - PIL| per view: {diffs}')
    assert got.shape == ref.shape and all(v == 0 for v in diffs.values()), diffs


def test_large_photos_at_16px():
    for h, w in ((3000, 4000), (1600, 2400)):
        img = synthetic_photo(h, w)
        ref = pil_views(img, ['HR', 16], crop=(224, 224))[None]
        got = views_u8([as_tensor(img)], ['HR', 16], crop=(224, 224))
        diffs = max_diff(got, ref, ['HR', 16])
        print(f'{w} x {h}: max |torch - PIL| per view: {diffs}')
        assert all(v == 0 for v in diffs.values()), diffs
        sq = resize_u8([as_tensor(img)], (16, 16))[0]   # the squash to 16 x 16 that made interpolate fail on CUDA
        assert torch.equal(sq, torch.from_numpy(np.array(img.resize((16, 16), Image.BICUBIC))).permute(2, 0, 1))
