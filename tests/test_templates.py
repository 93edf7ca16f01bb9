"""Smoke-run every papermill template in nbs/experiments with tiny parameters."""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import pandas as pd, pytest

TEMPLATES = sorted((Path(__file__).parents[1] / 'nbs' / 'experiments').glob('*.ipynb'))
TINY = {'eval_backbone.ipynb': dict(model='lr0fm-mini-s', datasets=['demo-colours'], resolutions=['HR', 16], per_class=2),
        'train_tk0.ipynb': dict(model='lr0fm-mini-s', n_images=8, steps=2, batch_size=4, datasets=['demo-colours'], resolutions=['HR', 16], per_class=1)}


def test_every_template_has_tiny_parameters():
    assert TEMPLATES, 'no templates found'
    assert {t.name for t in TEMPLATES} <= set(TINY), 'add tiny parameters for each new template to TINY'


@pytest.mark.parametrize('template', TEMPLATES, ids=lambda p: p.name)
def test_template_runs(template, tmp_path):
    import papermill as pm
    params = dict(TINY[template.name], out=str(tmp_path / 'run'))
    pm.execute_notebook(str(template), str(tmp_path / template.name), parameters=params, kernel_name='python3',
                        progress_bar=False, cwd=str(tmp_path))
    if template.name == 'eval_backbone.ipynb':
        r = pd.read_csv(tmp_path / 'run' / 'results.csv')
        assert sorted(r['resolution'].astype(str)) == ['16', 'HR'] and (r['n_images'] == 20).all()
        assert (tmp_path / 'run' / 'accuracy_vs_resolution.png').exists()
    if template.name == 'train_tk0.ipynb':
        r = pd.read_csv(tmp_path / 'run' / 'results.csv')
        assert sorted(set(r['model'])) == ['lr0fm-mini-s', 'lr0fm-mini-s+LR-TK0'] and len(r) == 4
        assert (tmp_path / 'run' / 'tokens' / 'tokens.safetensors').exists()
