"""The docs site builds up to Quarto, and the README's recipes run.

- the sidebar of the one `nbs/_quarto.yml` lists every notebook the site renders, and nothing else;
- `nbs/nbdev.yml` is what nbdev writes from settings.ini;
- no notebook has a cell that nbdev's docs processing runs (it runs every cell holding an import) but that holds more
  than imports: such a cell fails when it uses names from cells the processing skips, and warns in any case;
- every notebook goes through nbdev's processing (`tools/proc_docs.py`, what `nbdev_proc_nbs` runs before Quarto);
- the offline preview (`tools/preview_docs.sh`) renders a page per sidebar entry;
- the README's "Python API" recipe runs, and its one-backbone papermill line passes what it says.
"""
import json, os, re, subprocess, sys
from pathlib import Path
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
sys.path.insert(0, str(ROOT / 'tools'))
from proc_docs import notebooks, proc_all  # noqa: E402
from split_import_cells import has_docs, needs_split  # noqa: E402
from preview_docs import sidebar  # noqa: E402


def _rel(p): return str(Path(p).relative_to(NBS)).replace(os.sep, '/')


def test_one_quarto_yml():
    assert not (ROOT / '_quarto.yml').exists(), 'the Quarto project is nbs/_quarto.yml (where nbdev reads it); remove the root copy'
    assert (NBS / '_quarto.yml').is_file() and not (NBS / '_quarto.yml').is_symlink()
    assert 'nbdev.yml' in yaml.safe_load((NBS / '_quarto.yml').read_text())['metadata-files']


def test_sidebar_lists_every_notebook():
    listed = [rel for _, rel in sidebar()]
    rendered = [_rel(p) for p in notebooks()]
    assert sorted(set(rendered) - set(listed)) == [], 'notebooks missing from the sidebar of nbs/_quarto.yml'
    assert sorted(set(listed) - set(rendered)) == [], 'sidebar entries without a notebook'
    assert len(listed) == len(set(listed)), 'a notebook listed twice'


def test_nbdev_yml_matches_settings():
    from nbdev.config import get_config
    from nbdev.quarto import _nbdev_yml
    cfg = get_config(path=ROOT)
    vals = {k: cfg[k] for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    want = _nbdev_yml.format(doc_path=cfg.doc_path.name, **vals)
    assert (NBS / 'nbdev.yml').read_text() == want, 'nbs/nbdev.yml is stale: run python -c "from nbdev.quarto import refresh_quarto_yml; refresh_quarto_yml()"'


def test_docs_cells_hold_imports_alone():
    bad = []
    for p in notebooks():
        nb = json.loads(p.read_text(encoding='utf-8'))
        if not has_docs(nb): continue
        for i, c in enumerate(nb['cells']):
            if c['cell_type'] == 'code' and needs_split(''.join(c['source'])): bad.append(f'{_rel(p)} cell {i}')
    assert not bad, ("cells that nbdev's docs processing runs (they import) but that hold more than imports; "
                     f'fix with python tools/split_import_cells.py NOTEBOOK: {bad}')


def test_toy_detection():
    "The check above flags what nbdev runs and fails on, and leaves exported, import-only and nbdev_export cells alone."
    assert needs_split('import torch\nx = torch.zeros(1)')
    assert needs_split('#| hide\nfor i in range(2):\n    from math import pi')  # nested imports make nbdev run the cell too
    assert not needs_split('import torch\nfrom math import pi')
    assert not needs_split('#| export\nimport torch\ndef f(): return torch.zeros(1)')
    assert not needs_split('#| hide\nimport nbdev; nbdev.nbdev_export()')
    assert not needs_split('x = check_mini(1)')  # no import: nbdev skips it


@pytest.fixture(scope='module')
def processed(tmp_path_factory):
    d = tmp_path_factory.mktemp('proc')
    return d, proc_all(NBS, d, workers=2)


def test_every_notebook_processes(processed):
    _, res = processed
    failed = {k: err for k, (_, err, _) in res.items() if err}
    warned = {k: w for k, (_, _, w) in res.items() if w}
    assert not failed, f"nbdev's docs processing fails on: {failed}"
    assert not warned, f'"imports and other code" warnings in: {sorted(warned)}'
    assert set(res) == {_rel(p) for p in notebooks()}


def test_preview_pages(processed, tmp_path):
    d, _ = processed
    out = tmp_path / 'site'
    r = subprocess.run(['bash', str(ROOT / 'tools' / 'preview_docs.sh'), '--skip-proc', '--proc', str(d), '--out', str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode in (0, 1), r.stdout[-3000:] + r.stderr[-3000:]  # 1: a notebook failed processing (test_every_notebook_processes says which)
    pages = sorted(p.name for p in out.glob('*.html'))
    assert len(pages) == len(sidebar()) and 'index.html' in pages and 'metrics.html' in pages
    m = (out / 'metrics.html').read_text()
    assert 'id="robustness_table"' in m and 'class="lr0fm-nav"' in m and 'href="index.html"' in m
    assert '#| ' not in m and 'lr0fm.github.io/lr0fm/metrics.html' not in m  # directives gone, site links local


def _readme(): return (ROOT / 'README.md').read_text(encoding='utf-8')


def test_readme_python_api_recipe(tmp_path):
    sec = _readme().split('## Python API', 1)
    assert len(sec) == 2, 'README has no "Python API" section'
    code = re.search(r'```python\n(.*?)```', sec[1], re.S).group(1)
    script = tmp_path / 'recipe.py'
    script.write_text(code + '\nprint(table.to_csv())\n')
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env={**os.environ, 'HF_HUB_OFFLINE': '1', 'MPLBACKEND': 'Agg'})
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'SAR' in r.stdout and 'gamma_demo-colours' in r.stdout


def test_readme_papermill_line_passes_datasets(tmp_path):
    "The README's one-backbone papermill line, prepared (parameters injected, nothing run): `datasets` arrives as a list."
    pytest.importorskip('papermill')
    lines = [l.strip().strip('`') for l in re.findall(r'`papermill [^`]+`', _readme())]
    assert lines, 'README has no papermill line'
    import shlex
    for line in lines:
        argv = shlex.split(line)
        assert argv[1] == 'nbs/experiments/eval_backbone.ipynb', line
        argv[2] = str(tmp_path / 'out.ipynb')
        r = subprocess.run([sys.executable, '-m', 'papermill', *argv[1:], '--prepare-only'], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        nb = json.loads((tmp_path / 'out.ipynb').read_text())
        inj = next(c for c in nb['cells'] if 'injected-parameters' in c['metadata'].get('tags', []))
        ns = {}; exec(''.join(inj['source']), ns)
        assert isinstance(ns.get('datasets'), list) and ns['datasets'], f'{line}: datasets is {ns.get("datasets")!r}'
        from lr0fm.registry import dataset_names
        assert set(ns['datasets']) <= set(dataset_names()), ns['datasets']


from keep_outputs import check as check_outputs, kept_notebooks  # noqa: E402


@pytest.mark.parametrize('nb', [_rel(p) for p in kept_notebooks()])
def test_kept_outputs_reproduce(nb):
    "A notebook's stored tables and figures are what running it gives now (tools/keep_outputs.py keeps them)."
    bad = check_outputs(NBS / nb)
    assert not bad, f'{nb}: re-run python tools/keep_outputs.py nbs/{nb} and nbdev_clean it:\n' + '\n'.join(bad)


def test_kept_outputs_size():
    "The kept outputs stay light: under 1.5 MB in all."
    total = sum(len(json.dumps(c.get('outputs', []))) for p in kept_notebooks()
                for c in json.loads(p.read_text(encoding='utf-8'))['cells'] if c['cell_type'] == 'code')
    print(f'kept outputs: {total:,} bytes in {len(kept_notebooks())} notebooks')
    assert total < 1_500_000, total
