"""The pure modules (metrics, published, weights, analysis) must not import torch."""
import subprocess, sys


def test_pure_modules_do_not_import_torch():
    code = ('import sys, lr0fm.metrics, lr0fm.published, lr0fm.weights, lr0fm.analysis, lr0fm.report; '
            'lr0fm.published.published_results(); print(sorted(m for m in ("torch", "ax", "botorch") if m in sys.modules))')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'


def test_shared_orderings_and_single_rounding():
    import pandas as pd
    from lr0fm import report
    from lr0fm.metrics import order_datasets, res_order, dataset_table, display_name, validate
    assert report.res_order is res_order  # re-exported from metrics
    assert res_order(['16', 'HR', 128, '16']) == ['HR', '128', '16']
    paper = dataset_table()['name'].tolist()
    assert order_datasets(['zz', paper[3], 'aa', paper[0]]) == [paper[0], paper[3], 'aa', 'zz']
    assert display_name('Imagenet-\nSketch') == 'ImageNet-Sketch' and display_name('mine') == 'mine'
    # validate: aliases canonicalised, known class counts filled, own datasets keep theirs
    t = validate(pd.DataFrame(dict(model='m', dataset=['ImageNet-A', 'imagenet-a', 'mine', 'mine'], resolution=['HR', 16, 'HR', '16.0'],
                                   top1=[50., 20., 60., 30.], n_classes=[None, None, 7, 7])))
    assert t['dataset'].tolist() == ['imagenet-a', 'imagenet-a', 'mine', 'mine']
    assert t['n_classes'].tolist() == [200., 200., 7., 7.] and t['resolution'].tolist() == ['HR', '16', 'HR', '16']
    # one rounding, to the caller's digits: 0.149999 % is 0.1 (rounding to 2 then to 1 gave 0.2)
    rows = pd.DataFrame([dict(model='m', pretrained='p', dataset='imagenet', resolution=r, top1=a, top5=1., toy=False)
                         for r, a in [('HR', .00149999), ('16', .0012255)]])
    assert report.accuracy_table(rows).iloc[0].tolist() == [0.1, 0.1]
    assert report.pivot_accuracy(rows).iloc[0].tolist() == [0.15, 0.12]


def test_one_accuracy_unit_fractions_refused():
    "Issue 23.4: tidy tables are percent (ACC_UNIT); the same table in fractions is refused in one line, not Γ 40.8 / ACC 0.4."
    import pandas as pd, pytest
    from lr0fm.core import Lr0fmError
    from lr0fm.metrics import ACC_UNIT, robustness_table, tidy_from_store, validate
    assert ACC_UNIT == 'percent'
    pct = pd.DataFrame(dict(model='m', dataset='mine', resolution=['HR', '16'], top1=[80., 40.], n_classes=10))
    r = robustness_table(pct, 16).iloc[0]
    assert (round(r['Gamma_mine'], 6), round(r['SAR'], 6), round(r['ACC'], 6)) == (50.0, 50.0, 40.0)
    frac = pct.assign(top1=[.8, .4])
    with pytest.raises(Lr0fmError, match='look like fractions') as e: robustness_table(frac, 16)
    assert '\n' not in str(e.value)
    # a result store at chance on 1,000 classes is under 1 % everywhere, and tidy_from_store marks it percent
    rows = pd.DataFrame(dict(model='m', pretrained='p', dataset='imagenet', view=['HR', '16'], top1=[.002, .001], n_classes=1000))
    assert validate(tidy_from_store(rows))['top1'].round(6).tolist() == [0.2, 0.1]
