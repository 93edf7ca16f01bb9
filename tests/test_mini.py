"""The shipped lr0fm-mini toy models classify the procedural demo sets zero-shot: HR top-1 at least 5x chance on
every demo set; colour survives 16 px, texture does not, and colour x texture loses part of its accuracy."""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import pytest
from lr0fm.models import mini_names
from lr0fm.registry import load_model
from lr0fm.synthetic import procedural_dataset, DEMO_SETS
from lr0fm.zeroshot import evaluate


@pytest.mark.parametrize('name', ['lr0fm-mini-s', 'lr0fm-mini-b'])
@pytest.mark.parametrize('ds_name', list(DEMO_SETS))
def test_mini_zero_shot(name, ds_name):
    assert name in mini_names()
    ds = procedural_dataset(ds_name, per_class=10)
    hr, lr16 = (s['top1'] for s in evaluate(load_model(name), ds, ['HR', 16], batch_size=50).summary)
    assert hr >= 5 / ds.n_classes, f'{name} on {ds_name}: HR top-1 {hr:.2f} is below 5x chance'
    msg = f'{name} on {ds_name}: 16 px {lr16:.2f} vs HR {hr:.2f}'
    if ds_name == 'demo-colours': assert lr16 >= 0.9, msg            # colour survives 16 px
    if ds_name == 'demo-textures': assert lr16 <= hr - 0.2, msg      # fine patterns do not
    if ds_name == 'demo-colour-texture': assert lr16 <= hr - 0.05, msg  # the pattern half is (partly) lost
