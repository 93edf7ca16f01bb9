"""`lr0fm.resize` on CUDA: the views of large photos at 16 px (where `interpolate(antialias=True)` ran out of shared memory)
are made on the GPU and equal the CPU result and PIL to the last bit. Skips without a CUDA device."""
import numpy as np, pytest, torch
from PIL import Image
from lr0fm.resize import views_u8, resize_u8, resize_one

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
SIZES = [(3000, 4000), (1600, 2400), (4000, 2667), (375, 500), (500, 333), (77, 1203)]  # (H, W): large, portrait, a thin strip


def photo(h, w, seed)->torch.Tensor:
    "A photo-like (3, h, w) uint8 image: smooth random colours and grain."
    rng = np.random.default_rng(seed)
    a = np.asarray(Image.fromarray(rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)).astype(np.int16)
    a = np.clip(a + rng.integers(-10, 11, (h, w, 1), dtype=np.int16), 0, 255).astype(np.uint8)
    return torch.from_numpy(a).permute(2, 0, 1).contiguous()


def test_cuda_views_equal_cpu_and_pil():
    xs = [photo(h, w, i) for i, (h, w) in enumerate(SIZES)]
    for kw in (dict(crop=(224, 224)), dict(lr_mode='squash', resize='squash', size=(224, 224), interpolation='bilinear')):
        views = ['HR', 128, 64, 32, 16]
        gpu = views_u8(xs, views, device='cuda', **kw)
        assert gpu.device.type == 'cuda' and gpu.dtype == torch.uint8
        cpu = views_u8(xs, views, device='cpu', **kw)
        assert torch.equal(gpu.cpu(), cpu), f'{kw}: max |cuda - cpu| = {int((gpu.cpu().int() - cpu.int()).abs().max())}'
    for x in xs:  # the 16 x 16 down-sampling itself, on the GPU, against PIL
        ref = torch.from_numpy(np.array(Image.fromarray(x.permute(1, 2, 0).numpy()).resize((16, 16), Image.BICUBIC))).permute(2, 0, 1)
        assert torch.equal(resize_u8([x], (16, 16), device='cuda')[0].cpu(), ref)


def test_cuda_resize_large_factors_equal_pil():
    x = photo(3000, 4000, 7)
    img = Image.fromarray(x.permute(1, 2, 0).numpy())
    for hw in ((16, 16), (16, 21), (7, 300)):
        ref = torch.from_numpy(np.array(img.resize(hw[::-1], Image.BICUBIC))).permute(2, 0, 1)
        assert torch.equal(resize_u8([x], hw, device='cuda')[0].cpu(), ref)
        assert torch.equal(resize_one(x.cuda(), hw).cpu(), ref)


def test_cuda_torch_backend_on_large_photos(tmp_path):
    "The torch backend end to end on a GPU: photos up to 4,000 px at 16 px, no image skipped, the PIL backend's predictions."
    import os
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    from lr0fm.data import image_folder
    from lr0fm.registry import load_model
    from lr0fm.zeroshot import evaluate
    for k, (h, w) in enumerate(SIZES):
        d = tmp_path / f'class{k % 2}'; d.mkdir(exist_ok=True)
        Image.fromarray(photo(h, w, k).permute(1, 2, 0).numpy()).save(d / f'{k}.jpg', quality=90)
    ds = image_folder(tmp_path)
    b = load_model('lr0fm-mini-s', device='cuda')
    res = ['HR', 128, 64, 32, 16]
    tor = evaluate(b, ds, res, resize_backend='torch', batch_size=4, workers=2)
    pil = evaluate(b, ds, res, batch_size=4, workers=2)
    assert not tor.skipped and len(tor.image_ids) == len(SIZES)
    assert (tor.predictions['pred_1'].to_numpy() == pil.predictions['pred_1'].to_numpy()).all()
