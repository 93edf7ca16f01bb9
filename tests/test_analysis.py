"""lr0fm_report and the store report on a toy result store: toy labels everywhere, per-image extras, strict errors."""
import os, subprocess, sys
from pathlib import Path
import pandas as pd, pytest
os.environ.setdefault('OMP_NUM_THREADS', '1')
from lr0fm.results import ResultStore
from lr0fm.analysis import write_report

RES = ['HR', '128', '64', '32', '16']


def _store(root, toy=True, drop=None):
    """Two toy models on three demo sets, 40 images each; accuracy falls with resolution."""
    rows, preds = [], []
    for mi, model in enumerate(['lr0fm-mini-s', 'lr0fm-mini-b']):
        for ds in ['demo-colours', 'demo-textures', 'demo-colour-texture']:
            for ri, r in enumerate(RES):
                if drop == (model, ds, r): continue
                n_ok = 36 - 7 * ri - 2 * mi
                rows.append(dict(model=model, pretrained='builtin', dataset=ds, split='test', protocol='squash', resolution=r,
                                 n_images=40, n_classes=10, top1=n_ok / 40, top5=min(1, (n_ok + 4) / 40), n_skipped=0, toy=toy))
                for i in range(40):
                    preds.append(dict(model=model, pretrained='builtin', dataset=ds, split='test', protocol='squash', resolution=r,
                                      image_id=f'{ds}/{i}', label=0, pred_1=0 if i < n_ok else 1, pred_2=2, pred_3=3, pred_4=4, pred_5=5))
    st = ResultStore(root)
    st.add(rows, pd.DataFrame(preds))
    return st


def _cmd(name, *args):
    return subprocess.run([str(Path(sys.executable).parent / name), *map(str, args)], capture_output=True, text=True)


def test_store_report_labels_toy_everywhere(tmp_path):
    st = _store(tmp_path / 'run')
    p = write_report(st.results(), st.root, 'demo', st.skipped(), st.predictions())
    html = p.read_text()
    assert 'Toy-model results' in html and '[toy]' in html and 'TOY-MODEL RESULTS' in html  # banner, labels, figure captions
    for n in ['128', '64', '32', '16']:
        rc = pd.read_csv(st.root / f'robustness_{n}.csv')
        assert rc['model'].str.endswith('[toy]').all()
        assert list(rc.columns[:4]) == ['model', 'SAR', 'WAR', 'ACC'] and rc['WAR'].isna().all()  # no weights for demo sets
    rc = pd.read_csv(st.root / 'robustness_16.csv').set_index('model')
    assert rc.loc['lr0fm-mini-s (builtin) [toy]', 'gamma_demo-colours'] == pytest.approx(100 * 8 / 36, abs=0.01)  # CSVs keep 4 significant digits
    bs = pd.read_csv(st.root / 'bootstrap_16.csv')
    assert set(bs['metric']) == {'ACC', 'SAR'} and bs['model'].str.endswith('[toy]').all()
    hc = pd.read_csv(st.root / 'hr_correct_16.csv')
    assert hc["kept"].round(2).tolist() == [round(100 * 6 / 34, 2)] * 3 + [round(100 * 8 / 36, 2)] * 3
    assert (st.root / 'accuracy_vs_resolution.png').stat().st_size > 1000


def test_store_report_partial_grid_reports_common_part(tmp_path):
    st = _store(tmp_path / 'run', drop=('lr0fm-mini-b', 'demo-textures', '16'))
    html = write_report(st.results(), st.root, 'partial').read_text()
    assert 'Left out because not every model has them' in html and 'demo-textures' in html
    assert 'gamma_demo-textures' not in pd.read_csv(st.root / 'robustness_16.csv').columns


def test_lr0fm_report_results_strict_and_merged(tmp_path):
    st = _store(tmp_path / 'run', toy=False, drop=('lr0fm-mini-b', 'demo-textures', '16'))
    r = _cmd('lr0fm_report', '--results', st.root, '--out', tmp_path / 'rep')
    assert r.returncode == 2 and r.stderr.startswith('lr0fm_report: error: missing cell')
    assert "model 'lr0fm-mini-b (builtin)', dataset 'demo-textures', resolution '16'" in r.stderr
    r = _cmd('lr0fm_report', '--results', tmp_path / 'nowhere', '--out', tmp_path / 'rep')
    assert r.returncode == 2 and 'holds no results' in r.stderr
    # published + a store with no dataset in common: a clear error, not an empty report
    r = _cmd('lr0fm_report', '--published', '--results', st.root, '--out', tmp_path / 'rep')
    assert r.returncode == 2 and 'share no dataset' in r.stderr


def test_lr0fm_report_with_weights_file(tmp_path):
    st = _store(tmp_path / 'run', toy=False)
    w = tmp_path / 'w.json'
    w.write_text('{"demo-colours": 1, "demo-textures": 0.5, "demo-colour-texture": 0.25}')
    r = _cmd('lr0fm_report', '--results', st.root, '--out', tmp_path / 'rep', '--weights', w, '--n_boot', 50)
    assert r.returncode == 0, r.stderr
    rc = pd.read_csv(tmp_path / 'rep' / 'robustness_16.csv')
    assert rc['WAR'].notna().all()
    assert set(pd.read_csv(tmp_path / 'rep' / 'bootstrap_16.csv')['metric']) == {'ACC', 'SAR', 'WAR'}


def test_lr0fm_report_published_merged_with_store(tmp_path):
    """--published --results: the 66 published backbones and the store's toy model on the datasets they share."""
    rows = []
    for ds, n_cls, hr in [('imagenet', 1000, 0.30), ('eurosat', 10, 0.60)]:
        for ri, r in enumerate(RES):
            rows.append(dict(model='lr0fm-mini-s', pretrained='builtin', dataset=ds, split='test', protocol='squash', resolution=r,
                             n_images=100, n_classes=n_cls, top1=hr * (1 - 0.2 * ri), top5=min(1.0, 2 * hr), n_skipped=0, toy=True))
    st = ResultStore(tmp_path / 'run')
    st.add(rows)
    r = _cmd('lr0fm_report', '--published', '--results', st.root, '--out', tmp_path / 'rep', '--n_boot', 20)
    assert r.returncode == 0, r.stderr
    rc = pd.read_csv(tmp_path / 'rep' / 'robustness_16.csv')
    assert len(rc) == 67 and rc['model'].is_unique
    toy = rc[rc['model'].str.contains('lr0fm-mini-s')]
    assert toy['model'].tolist() == ['lr0fm-mini-s (builtin) [toy]']  # the store's model, labelled toy
    assert (~rc['model'].str.endswith('[toy]')).sum() == 66  # the published backbones, not labelled toy
    # only the shared datasets, with a value for every model
    assert sorted(c for c in rc.columns if c.startswith('Gamma_')) == ['Gamma_eurosat', 'Gamma_imagenet']
    assert sorted(c for c in rc.columns if c.startswith('gamma_')) == ['gamma_eurosat', 'gamma_imagenet']
    assert rc[['SAR', 'WAR', 'ACC', 'gamma_imagenet', 'Gamma_imagenet', 'gamma_eurosat', 'Gamma_eurosat']].notna().all().all()
    t = toy.iloc[0]
    assert t['gamma_imagenet'] == pytest.approx(100 * 0.2 / 1.0)  # A_16 / A_HR = 0.06 / 0.30
    assert t['ACC'] == pytest.approx(100 * (0.06 + 0.12) / 2)
    pub = rc.set_index('model').loc['ViT-B/32']
    assert 0 < pub['Gamma_eurosat'] < 100 and 0 < pub['gamma_imagenet'] < 100
    html = (tmp_path / 'rep' / 'report.html').read_text()
    assert '[toy]' in html and 'TOY-MODEL RESULTS' in html


def test_published_weights_use_lr0fm_datasets_names():
    """weights.json keys and the gamma_/Gamma_ columns name datasets as lr0fm_datasets does."""
    import lr0fm.datasets
    from lr0fm.metrics import dataset_table
    from lr0fm.weights import published_weights, objective_coefficients
    names = set(lr0fm.datasets.benchmark_names())
    assert set(published_weights()) <= names
    assert set(objective_coefficients()) <= names
    assert set(dataset_table()['name']) == names
