"""The shipped lr0fm-mini toy models classify the procedural demo sets zero-shot (HR and 16 px)."""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import pytest, torch
from lr0fm.models import load_model, mini_names
from lr0fm.synthetic import procedural_dataset, DEMO_SETS
from lr0fm.degrade import make_views, lr_transform, resize_mode_for


def _accuracy(name, ds_name, per_class=6):
    b = load_model(name)
    ds = procedural_dataset(ds_name, per_class=per_class)
    with torch.no_grad():
        txt = torch.stack([b.encode_text(b.tokenizer([t.format(c) for t in ds.templates])).mean(0) for c in ds.classnames])
        txt = torch.nn.functional.normalize(txt, dim=-1)
        tf, rm = lr_transform(b), resize_mode_for(b.meta)
        views = torch.stack([make_views(ds.load(i), ['HR', 16], tf, rm) for i in range(len(ds))])
        acc = [float(((b.encode_image(views[:, r]) @ txt.T).argmax(1) == torch.tensor(ds.labels)).float().mean()) for r in range(2)]
    return acc


@pytest.mark.parametrize('name', ['lr0fm-mini-s', 'lr0fm-mini-b'])
@pytest.mark.parametrize('ds_name', ['demo-colours', 'demo-textures',
    # known shortfall of the current weights (1,000-1,200 training steps): shape words are not learnt yet.
    # strict: this test turns red as soon as retrained weights pass, so the marker must then be removed.
    pytest.param('demo-shapes', marks=pytest.mark.xfail(strict=True, reason='shipped mini weights do not yet learn shapes'))])
def test_mini_zero_shot(name, ds_name):
    assert name in mini_names()
    hr, lr16 = _accuracy(name, ds_name)
    assert hr >= 0.5, f'{name} on {ds_name}: HR top-1 {hr:.2f} is below 5x chance'
    if ds_name != 'demo-colours': assert lr16 < hr  # colour is meant to survive 16 px
