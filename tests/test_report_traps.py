"""Traps in the report: hostile dataset names (issue 26 item 10) and the report for datasets of one's own (issue 23 items 5 and 9)."""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import pandas as pd, pytest
from pathlib import Path
from lr0fm.analysis import write_report

XSS, MATH = '<img src=x onerror=alert(1)>', r'prices_$\bogus$'


def _rows(datasets, models=(('m', .9, .5),), n_classes=10, views=('HR', '16')):
    "Result-store rows: every model x dataset at HR and the low views (fractions, as a store keeps them)."
    rows = []
    for name, hr, lo in models:
        for d in datasets:
            for v in views:
                rows.append(dict(model=name, pretrained='p', dataset=d, split='test', view=v, n_images=100,
                                 n_classes=n_classes, top1=hr if v == 'HR' else lo, top5=1.0, toy=False))
    return pd.DataFrame(rows)


def test_hostile_dataset_names_are_text(tmp_path):
    "A dataset named like an HTML tag is escaped in report.html; one with `$...$` does not crash matplotlib's mathtext."
    p = write_report(_rows([XSS, MATH]), tmp_path)
    s = p.read_text()
    assert '<img src=x' not in s and '&lt;img src=x onerror=alert(1)&gt;' in s
    assert MATH in s
    assert (tmp_path / 'accuracy_vs_resolution.png').stat().st_size > 1000


def _own(tmp_path, weights=None):
    "A store-like table on a dataset of one's own: a good model and a random-init one at chance on 10 classes (SAR rewards it)."
    rows = _rows(['mine'], models=(('good', .80, .40), ('random-init', .0967, .1039)), views=('HR', '16', '8'))
    rows.loc[(rows['model'] == 'good') & (rows['view'] == '8'), 'top1'] = .30
    return write_report(rows, tmp_path, 'own', weights=weights)


def test_own_datasets_rank_by_mean_gamma_with_per_dataset_tables(tmp_path):
    "Issue 23.5: no WAR weights cover the datasets: mean Γ (labelled) ranks beside SAR; γ/Γ per dataset are in report.html."
    html = _own(tmp_path).read_text()
    rk = pd.read_csv(tmp_path / 'rankings_8.csv')
    assert list(rk.columns) == ['model', 'mean Γ', 'mean Γ rank', 'SAR', 'SAR rank', 'ACC', 'ACC rank']
    assert rk['model'].tolist() == ['good (p)', 'random-init (p)'] and rk['SAR rank'].tolist() == [2, 1]  # SAR alone would put random-init first
    assert 'Rankings: mean Γ, SAR and ACC' in html and 'pass --weights FILE' in html
    assert html.count('γ and Γ per dataset (%)') == 2 and '<th>γ</th>' in html and '<th>Γ</th>' in html


def test_own_datasets_war_from_a_weights_file(tmp_path):
    w = tmp_path / 'w.json'
    w.write_text('{"mine": 1}')
    html = _own(tmp_path / 'rep', weights=w).read_text()
    rk = pd.read_csv(tmp_path / 'rep' / 'rankings_16.csv')
    assert list(rk.columns[:3]) == ['model', 'WAR', 'WAR rank'] and rk['WAR'].notna().all()
    assert 'WAR uses the given weights' in html


def test_report_polish(tmp_path):
    "Issue 23.9: accuracy table first with n images and chance; integer ranks; one order of resolutions; '1 dataset'; rounded CSVs."
    html = _own(tmp_path).read_text()
    assert html.index('Accuracy (top-1, %)') < html.index('Rankings') and '<th>n images</th>' in html and '<th>chance</th>' in html
    assert '1 dataset (' in html and '1 datasets' not in html and '2 models' in html
    assert html.index('16 x 16 px') < html.index('8 x 8 px')  # HR, then decreasing sizes, as in the accuracy table
    rows = (tmp_path / 'rankings_16.csv').read_text().splitlines()[1:]
    assert all(len(c.lstrip('-0.').replace('.', '')) <= 4 for r in rows for c in r.split(',')[1:])  # 4 significant digits
    assert rows[0].split(',')[2] == '1' and rows[1].split(',')[4] == '1'  # integer ranks, not '1.0'


def test_natively_small_views_flagged(tmp_path):
    "Issue 23.6: CIFAR's 32 px view is its HR image: the report says so."
    rows = _rows(['cifar10'], views=('HR', '32', '16'))
    html = write_report(rows, tmp_path).read_text()
    assert "own size are no degradation" in html and 'cifar10 (32 x 32 px images): 32' in html
    assert 'cifar10 (32 x 32 px images): 32, 16' not in html


def test_one_dataset_title_not_clipped():
    from lr0fm.report import plot_accuracy_vs_resolution
    fig = plot_accuracy_vs_resolution(_rows(['mine']).assign(toy=True))
    fig.canvas.draw()
    box, w = fig._suptitle.get_window_extent(), fig.bbox.width
    assert box.x0 >= 0 and box.x1 <= w


def test_hr_only_report_is_written_and_says_what_to_add(tmp_path):
    "`--resolutions HR --report` used to exit 2 after storing the results; now the report holds the accuracy table and how to get robustness."
    import subprocess, sys
    p = subprocess.run([str(Path(sys.executable).parent / 'lr0fm_eval'), '--model', 'lr0fm-mini-s', '--dataset', 'demo-colours', '--per-class', '2',
                        '--resolutions', 'HR', '--out', str(tmp_path / 'o'), '--report', '--quiet'], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    html = (tmp_path / 'o' / 'report.html').read_text()
    assert 'Only HR was evaluated' in html and '--resolutions HR 64 32 16' in html and 'Accuracy (top-1, %)' in html
