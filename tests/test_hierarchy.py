"WordNet hierarchy and mistake severity: the shared ImageNet sample's classes, and a synthetic predictions table."
import os
from pathlib import Path
import numpy as np, pandas as pd, pytest
from lr0fm.datasets import imagenet_wnids
from lr0fm.hierarchy import load_hierarchy, mistake_severity, lca, lca_height

def _shared_data()->Path:
    env = os.environ.get('LR0FM_SHARED_DATA')
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / 'shared' / 'data'

def test_imagenet_sample_classes_in_hierarchy():
    labels = _shared_data() / 'imagenet-sample' / 'labels.csv'
    if not labels.is_file(): pytest.skip(f'no shared ImageNet sample at {labels}')
    df = pd.read_csv(labels, dtype={'wnid': str})
    h = load_hierarchy()
    missing = sorted(set(df['wnid']) - set(h.names))
    assert not missing, f'wnids of {labels} not in the hierarchy: {missing[:5]}'
    wn = imagenet_wnids()
    by_label = df.drop_duplicates('label').sort_values('label')
    assert (by_label['wnid'] == [wn[i] for i in by_label['label']]).all(), 'labels.csv class order differs from imagenet_wnids()'
    if len(by_label) == len(wn): assert by_label['wnid'].tolist() == wn

def test_mistake_severity_synthetic():
    rng = np.random.default_rng(0)
    n, wn = 300, imagenet_wnids()
    rows = []
    for res, p_right in [('HR', .8), ('32', .5), ('16', .2)]:
        y = rng.integers(0, 1000, n)
        preds = {f'pred_{k}': rng.integers(0, 1000, n) for k in range(1, 6)}
        preds['pred_1'] = np.where(rng.random(n) < p_right, y, preds['pred_1'])
        rows.append(pd.DataFrame(dict(image_id=np.arange(n), label=y, resolution=res, **preds)))
    p = pd.concat(rows).assign(model='synthetic', pretrained='', dataset='imagenet')
    s = mistake_severity(p)
    assert s['resolution'].tolist() == ['HR', '32', '16']
    assert (s['n_mistakes'] == (s['top1_error'] * n).round().astype(int)).all()
    assert s['n_mistakes'].is_monotonic_increasing
    assert s['mistake_lca'].between(0, 18).all() and s['mistake_wup'].between(0, 1).all()
    assert (s['hr_mistake_lca'] == s['mistake_lca'].iloc[0]).all()
    assert not s['toy'].any()
    assert s.equals(mistake_severity(p))  # seeded chance baseline
    assert lca('n02099601', 'n02123045') == 'n02075296' and lca_height('n02099601', 'n02099712') == 1
