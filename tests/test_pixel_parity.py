"""`--protocol paper` views are the tensors the LR0.FM authors' code feeds each family, bit for bit.

Each family's transform is re-created here the way the authors' evaluation code builds it (repository shyammarjit/LR0.FM
at aabd8b8; file and line in nbs/02_degrade.ipynb, "The authors' pipelines"), with torchvision and PIL only, nothing
taken from lr0fm: the dataset class opens the file with `Image.open` and no conversion; the transform is a bicubic
`Resize` to the low resolution (an int: shorter side, or (n, n): squash), a bicubic `Resize` to the model size, a
`CenterCrop` for the shorter-side pipeline, `convert("RGB")`, `ToTensor` and `Normalize`; HR drops the first resize.
lr0fm's views come from the path `evaluate` uses: `_ViewSet` running the PIL half of the `paper` transform in the decode
worker (uint8 out), then `ViewPrep.finish` making the float tensor and normalising, as on the model's device. The photos are 60 of the
ImageNet sample beside the checkout (all 23 grayscale ones among them) plus CMYK, palette, RGBA, LA and 16-bit
versions of a few of them; the test skips when the sample is absent.
"""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, pytest, torch
from PIL import Image
from torchvision import transforms as T
from lr0fm.core import shared_data_path

ROOT = shared_data_path('imagenet-sample')
pytestmark = pytest.mark.skipif(ROOT is None, reason='imagenet-sample is absent (../shared/data or $LR0FM_SHARED_DATA)')

RES = ['HR', 128, 64, 32, 16]
BICUBIC = T.InterpolationMode.BICUBIC
OPENAI = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))

# display name in the catalogue -> the authors' pipeline, their normalisation, and the normalisation the model itself
# uses (what lr0fm's loader puts in the bundle's meta; the paper views must not depend on it)
CASES = {
    'ViT-B/32':                              ('shortest', OPENAI, OPENAI),    # CLIP/clip/clip.py:90-99
    'ViT-L/14@336px':                        ('shortest', OPENAI, OPENAI),
    'OpenCLIP-ViT-B/16':                     ('squash', OPENAI, OPENAI),      # CLIP_benchmark/data/__init__.py:179-197
    'OpenCLIP-ViT-L/14 (laion2b_s32b_b82k)': ('squash', OPENAI, HALF),        # the authors use OpenAI's statistics for every OpenCLIP model
    'MetaCLIP-ViT-B/16 (400M)':              ('shortest', OPENAI, OPENAI),    # MetaCLIP/src/open_clip_local/transform.py:88-104
    'CLIPA-ViT-L/14':                        ('squash', IMAGENET, IMAGENET),  # CLIP_benchmark/data/__init__.py:160-178
    'CLIPA-ViT-H/14@336px (LAION-2B)':       ('squash', IMAGENET, IMAGENET),
    'SigLIP-ViT-B/16':                       ('squash', HALF, HALF),          # CLIP_benchmark/data/__init__.py:140-158
    'SigLIP-ViT-B/16@384px':                 ('squash', HALF, HALF),
    'CoCa-ViT-B/32':                         ('shortest', OPENAI, OPENAI),    # CLIP_benchmark/data/__init__.py:121-139
    'EVA-02-CLIP-B/16':                      ('shortest', OPENAI, OPENAI),    # EVA/EVA-CLIP/rei/data/__init__.py:36-63
    'EVA-CLIP-8B':                           ('squash', OPENAI, OPENAI),      # EVA/EVA-CLIP-18B/shinji/data/__init__.py:33-49
    'ALBEF (14M)':                           ('squash', OPENAI, OPENAI),      # ALBEF/data/__init__.py:92-108
    'M2-Encoder-0.4B':                       ('squash', None, HALF),          # no Normalize; the model applies Normalize(0.5, 0.5)
    'BLIP-ViT-B/16 (129M)':                  ('squash', OPENAI, OPENAI),      # ALBEF/data/__init__.py:34-46 (BLIP-style; no BLIP script)
}


def _rgb(img): return img.convert('RGB')


def authors_view(path, pipeline, size, norm, n):
    "The authors' tensor for one file at resolution n ('HR' or pixels)."
    first = [] if n == 'HR' else [T.Resize((n, n) if pipeline == 'squash' else n, interpolation=BICUBIC)]
    second = [T.Resize((size, size), interpolation=BICUBIC)] if pipeline == 'squash' else \
             [T.Resize(size, interpolation=BICUBIC), T.CenterCrop(size)]
    if norm is None:  # M2-Encoder: [0, 1] tensors from the loader, the model normalises the batch (vlmo_module.py:385)
        x = T.Compose(first + second + [_rgb, T.ToTensor()])(Image.open(path))
        return T.Normalize(*HALF)(x[None])[0]
    return T.Compose(first + second + [_rgb, T.ToTensor(), T.Normalize(*norm)])(Image.open(path))


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    "60 real photos (the 23 grayscale ones included) and non-RGB versions of four of them, as one dataset."
    from lr0fm.data import ZeroShotDataset
    from lr0fm.registry import get_dataset
    ds = get_dataset('imagenet-sample', ROOT)
    modes = [Image.open(ds.items[i][0]).mode for i in range(len(ds))]
    gray = [i for i, m in enumerate(modes) if m != 'RGB']
    assert len(gray) == 23 and {modes[i] for i in gray} == {'L'}
    colour = [i for i, m in enumerate(modes) if m == 'RGB'][::27][:60 - len(gray)]
    items = [ds.items[i] for i in sorted(colour + gray)]
    d = tmp_path_factory.mktemp('modes')
    for k, (p, label) in enumerate([ds.items[i] for i in colour[:4]]):
        im = Image.open(p).convert('RGB')
        im.convert('CMYK').save(d / f'{k}_cmyk.jpg', quality=95)
        im.convert('P', palette=Image.Palette.ADAPTIVE).save(d / f'{k}_palette.png')
        a = np.asarray(im.convert('RGBA')).copy(); a[..., 3] = np.linspace(0, 255, a.shape[1]).astype(np.uint8)
        Image.fromarray(a, 'RGBA').save(d / f'{k}_rgba.png')
        im.convert('LA').save(d / f'{k}_la.png')
        Image.fromarray(np.asarray(im.convert('L')).astype(np.uint16) * 257).save(d / f'{k}_16bit.png')
        items += [(d / f, label) for f in (f'{k}_cmyk.jpg', f'{k}_palette.png', f'{k}_rgba.png', f'{k}_la.png', f'{k}_16bit.png')]
    return ZeroShotDataset('parity', items, ds.classnames)


def test_photo_modes(photos):
    modes = {Image.open(p).mode for p, _ in photos.items}
    assert {'RGB', 'L', 'CMYK', 'P', 'RGBA', 'LA'} <= modes and modes & {'I;16', 'I'}, modes


@pytest.mark.parametrize('name', list(CASES))
def test_paper_views_are_the_authors(photos, name):
    from lr0fm.zoo import find_backbone
    from lr0fm.models import ModelBundle
    from lr0fm.degrade import lr_transform, resize_mode_for, rgb_after_resize
    from lr0fm.zeroshot import _ViewSet, ViewPrep
    pipeline, norm, own = CASES[name]
    row = find_backbone(name)
    size = int(row.input_size)
    b = ModelBundle(None, None, None, dict(name=row['name'], family=row.family, input_size=size, mean=own[0], std=own[1],
                                           resize_mode='shortest'))
    tf, rm = lr_transform(b, 'paper'), resize_mode_for(b.meta, 'paper')
    prep = ViewPrep(tf)
    assert prep.u8, 'the paper transform must split into PIL steps and a device half'
    vs = _ViewSet(photos, range(len(photos)), RES, prep.worker, rm, rgb_after_resize('paper'))
    bad = []
    for k in range(len(photos)):
        _, views, err = vs[k]
        assert err is None, err
        views = prep.finish(views, 'cpu')
        path = photos.items[k][0]
        for j, n in enumerate(RES):
            ref = authors_view(path, pipeline, size, norm, n)
            if not (views[j].shape == ref.shape and torch.equal(views[j], ref)):
                bad.append(f'{os.path.basename(path)}@{n} ({Image.open(path).mode})')
    assert not bad, f'{len(bad)} views differ from the authors\': {bad[:8]}'
