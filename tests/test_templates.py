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
        assert sorted(r['view'].astype(str)) == ['16', 'HR'] and (r['n_images'] == 20).all()
        assert (tmp_path / 'run' / 'accuracy_vs_resolution.png').exists()
    if template.name == 'train_tk0.ipynb':
        r = pd.read_csv(tmp_path / 'run' / 'results.csv')
        assert sorted(set(r['model'])) == ['lr0fm-mini-s', 'lr0fm-mini-s+LR-TK0'] and len(r) == 4
        assert (tmp_path / 'run' / 'tokens' / 'tokens.safetensors').exists()


# train_tk0: the ablation options of lr0fm.train.train_tokens (the paper's section 6.2) are template parameters too
ABLATIONS = ('unfreeze_last', 'lr_factor', 'no_tokens', 'loss', 'caption_classes', 'buckets', 'images_per_caption')
TK0 = Path(__file__).parents[1] / 'nbs' / 'experiments' / 'train_tk0.ipynb'


def _parameter_names(template: Path) -> set:
    "The names the parameters cell of a template assigns."
    import ast, json
    cell = next(c for c in json.loads(template.read_text())['cells'] if 'parameters' in c['metadata'].get('tags', []))
    return {t.id for n in ast.parse(''.join(cell['source'])).body if isinstance(n, ast.Assign) for t in n.targets}


def test_train_tk0_has_the_ablation_parameters():
    import inspect
    from lr0fm.train import train_tokens
    names, sig = _parameter_names(TK0), inspect.signature(train_tokens).parameters
    assert set(ABLATIONS) <= names, set(ABLATIONS) - names
    assert set(ABLATIONS) <= set(sig), set(ABLATIONS) - set(sig)
    assert 'per_caption' in names and 'start_block' in names


def test_train_tk0_runs_an_ablation(tmp_path):
    "Unfrozen block, caption loss, one bucket, one image per caption: the run records them and evaluates under its own name."
    import json, papermill as pm
    params = dict(TINY['train_tk0.ipynb'], out=str(tmp_path / 'run'), per_caption=2, images_per_caption=1, unfreeze_last=1,
                  loss='caption', buckets='16-32')
    pm.execute_notebook(str(TK0), str(tmp_path / TK0.name), parameters=params, kernel_name='python3', progress_bar=False, cwd=str(tmp_path))
    cfg = json.loads((tmp_path / 'run' / 'tokens' / 'config.json').read_text())
    assert [cfg[k] for k in ('unfreeze_last', 'loss', 'buckets', 'images_per_caption', 'tokens')] == [1, 'caption', [[16, 32]], 1, True]
    assert cfg['source'].endswith('at most 1 per caption: 4 images of 4 captions')
    r = pd.read_csv(tmp_path / 'run' / 'results.csv')
    assert sorted(set(r['model'])) == ['lr0fm-mini-s', 'lr0fm-mini-s+LR-TK0+FT1+CL+MS16-32+IPC1'] and len(r) == 4
