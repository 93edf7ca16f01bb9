"""Hostile input, round 2 (issue 26, items 1-3): a sweep spec whose values would run as code, a PostScript file named
like an image, and run folders received from someone else that hold symbolic links.

Each guard lives beside the code it guards (prose in nbs/21_sweep, 01_data, 01a_datasets, 00_core, 05_results); these
tests run the commands end to end on the toy model and the demo sets, with fixtures made here. Every "outside" file or
folder stands for one of the user's own files that a received run folder points at: it must be left exactly as it was.
"""
import base64, json, os, re, subprocess, sys
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import pandas as pd, pytest
from lr0fm.results import ResultStore

BIN = Path(sys.executable).parent
PAYLOAD = b'"; import os; open("PWNED", "w")#'  # ends papermill's '"' + str(value) + '"' and runs the rest


def _run(cmd, *args, cwd):
    return subprocess.run([str(BIN / cmd), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, HF_HUB_OFFLINE='1'), timeout=600)


def _one_line(p, code=2):
    assert p.returncode == code and p.stderr.count('\n') == 1 and 'Traceback' not in p.stderr, (p.returncode, p.stdout[-500:], p.stderr[-2000:])
    return p.stderr


def _snapshot(folder: Path) -> dict:
    "Every entry under `folder` and each file's bytes: what must not change."
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob('*'))}


# 1. A sweep spec value never runs as code

def test_crafted_sweep_spec_runs_nothing(tmp_path):
    "A `device: !!binary` value holding a double quote: refused in one line naming the key, before any job starts."
    spec = tmp_path / 'crafted.yaml'
    spec.write_text(f'backbones: [lr0fm-mini-s]\ndatasets: [demo-colours]\nresolutions: [HR]\nper_class: 1\nout: {tmp_path / "run"}\n'
                    f'device: !!binary |\n  {base64.b64encode(PAYLOAD).decode()}\n')
    err = _one_line(_run('lr0fm_sweep', spec, '--jobs', '1', cwd=tmp_path))
    assert 'sweep setting device = ' in err and 'is a bytes, not text' in err, err
    assert not list(tmp_path.rglob('PWNED')) and not (tmp_path / 'run').exists()


@pytest.mark.parametrize('key,value', [('root', '!!binary ' + base64.b64encode(PAYLOAD).decode()), ('save_features', '"yes"'),
                                       ('drop_empty_classes', '!!set {a: null}'), ('datasets', '[!!binary ' + base64.b64encode(b'dtd').decode() + ']')])
def test_unchecked_settings_are_checked(tmp_path, key, value):
    "The settings SweepSpec.check did not look at (root, save_features, drop_empty_classes, ...) are plain literals of their kind or refused."
    from lr0fm.core import Lr0fmError
    from lr0fm.sweep import SweepSpec, read_spec
    spec = tmp_path / 's.yaml'
    spec.write_text(f'backbones: [lr0fm-mini-s]\ndatasets: [demo-colours]\nout: run\n{key}: {value}\n' if key != 'datasets' else
                    f'backbones: [lr0fm-mini-s]\nout: run\ndatasets: {value}\n')
    with pytest.raises(Lr0fmError, match=f'sweep setting {key} = ') as e: SweepSpec(**read_spec(spec)).check()
    assert '\n' not in str(e.value)


def test_backbone_checkpoint_is_checked(tmp_path):
    from lr0fm.core import Lr0fmError
    from lr0fm.sweep import SweepSpec, read_spec
    spec = tmp_path / 's.yaml'
    spec.write_text(f'backbones: [{{model: lr0fm-mini-s, checkpoint: !!binary {base64.b64encode(PAYLOAD).decode()}}}]\ndatasets: [demo-colours]\nout: run\n')
    with pytest.raises(Lr0fmError, match='backbone checkpoint b.* is a bytes, not text or a number'): SweepSpec(**read_spec(spec)).check()


def test_job_parameters_travel_as_data(tmp_path):
    """One job of a sweep, run as the launcher runs it: papermill injects only the path of the job's parameters file, the
    template reads the parameters from it as data (a quote in a text value is just a character), and a link planted at
    the job's notebook name is replaced, not written through."""
    from lr0fm.sweep import SweepSpec, SweepJob, job_name, job_parameters, default_template
    run, outside = tmp_path / 'run', tmp_path / 'outside.ipynb'
    outside.write_text('precious')
    spec = SweepSpec(['lr0fm-mini-s'], ['demo-colours'], str(run), resolutions=['HR'], per_class=1, device='cpu',
                     root=str(tmp_path / PAYLOAD.decode())).check()
    b = spec.backbones[0]; name = job_name(b)
    (run / 'notebooks').mkdir(parents=True); (run / 'notebooks' / f'{name}.ipynb').symlink_to(outside)
    SweepJob(str(run), name, job_parameters(spec, b), str(default_template()))()
    assert outside.read_text() == 'precious'
    nb = json.loads((run / 'notebooks' / f'{name}.ipynb').read_text())
    injected = next(c for c in nb['cells'] if 'injected-parameters' in c['metadata'].get('tags', []))
    code = [l for l in ''.join(injected['source']).splitlines() if l.strip() and not l.startswith('#')]
    assert code == [f'parameters_file = "{run}/jobs/{name}.parameters.json"'], code
    assert json.loads((run / 'jobs' / f'{name}.parameters.json').read_text()) == job_parameters(spec, b)
    assert json.loads((run / 'jobs' / f'{name}.json').read_text())['state'] == 'done'
    assert len(ResultStore(run).results()) == 1 and not list(tmp_path.rglob('PWNED'))


def test_sweep_refuses_a_template_without_the_parameters_file(tmp_path):
    old = tmp_path / 'old.ipynb'
    old.write_text(json.dumps(dict(cells=[dict(cell_type='code', metadata=dict(tags=['parameters']), source=['model = None\n'], outputs=[])],
                                   metadata={}, nbformat=4, nbformat_minor=5)))
    err = _one_line(_run('lr0fm_sweep', '--backbones', 'lr0fm-mini-s', '--datasets', 'demo-colours', '--out', tmp_path / 'run',
                         '--template', old, cwd=tmp_path))
    assert 'has no parameters_file parameter' in err, err


# 2. Only raster decoders run

def test_every_image_open_names_its_formats():
    "Every `Image.open` in the package passes an allow-list (`formats=`): Pillow never picks a plugin such as EPS from the bytes."
    import lr0fm
    calls = [(p.name, l.strip()) for p in sorted(Path(lr0fm.__file__).parent.glob('*.py')) for l in p.read_text().splitlines() if 'Image.open(' in l]
    assert calls and all('formats=' in l for _, l in calls), [c for c in calls if 'formats=' not in c[1]]


def test_postscript_named_jpg_is_skipped_without_ghostscript(tmp_path, monkeypatch):
    "An EPS file named x.jpg in a class folder: skipped and counted, its reason naming the format, Ghostscript never started."
    from PIL import EpsImagePlugin
    from lr0fm.cli import run_eval
    from lr0fm.testing import _img
    calls = []
    def _gs(*a, **k): calls.append(a); raise OSError('Ghostscript was started')
    monkeypatch.setattr(EpsImagePlugin, 'Ghostscript', _gs)
    root = tmp_path / 'images'
    for c in ('cat', 'dog'):
        for i in range(2): _img(root / c / f'{i}.jpg', i + (c == 'dog') * 5)
    (root / 'cat' / 'x.jpg').write_text('%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n'
                                        '/Helvetica findfont 12 scalefont setfont 10 10 moveto (hello) show\nshowpage\n%%EOF\n')
    st = run_eval(['lr0fm-mini-s'], ['imagefolder'], tmp_path / 'run', root=root, resolutions=['HR'], device='cpu', workers=0,
                  progress=False, log=lambda *a: None)
    r, s = st.results(), st.skipped()
    assert r['n_skipped'].tolist() == [1] and r['n_images'].tolist() == [4], r
    assert s['image_id'].tolist() == [str(root / 'cat' / 'x.jpg')] and 'EPS file, not one of the raster formats' in s['reason'].iloc[0], s
    assert calls == []


# 3. Writes through links

@pytest.mark.parametrize('sub', ['shards', 'cache'])
def test_linked_sub_folder_is_refused(tmp_path, sub):
    "A received run folder whose shards/ or cache/ is a link to a folder elsewhere: refused in one line, the folder untouched."
    run, outside = tmp_path / 'run', tmp_path / 'outside'
    run.mkdir(); (outside / 'cell').mkdir(parents=True); (outside / 'cell' / 'mine.txt').write_text('precious')
    (run / sub).symlink_to(outside)
    before = _snapshot(outside)
    err = _one_line(_run('lr0fm_eval', '--model', 'lr0fm-mini-s', '--dataset', 'demo-colours', '--per-class', '1', '--resolutions', 'HR',
                         '--device', 'cpu', '--out', run, '--quiet', cwd=tmp_path))
    assert f'{run / sub} is a symbolic link' in err and 'a run folder must not contain links — remove it or use a fresh --out' in err, err
    assert _snapshot(outside) == before


def test_links_at_fixed_names_are_replaced_not_followed(tmp_path):
    "Links planted at the names lr0fm writes (merged view, marker, report, its figure): after a run with --report, the files they pointed to are unchanged."
    run, outside = tmp_path / 'run', tmp_path / 'outside'
    run.mkdir(); outside.mkdir()
    names = ['results.csv', 'predictions.parquet', 'skipped.csv', 'store.json', 'report.html', 'accuracy_vs_resolution.png']
    for i, n in enumerate(names):
        (outside / n).write_text(f'precious {i}'); (run / n).symlink_to(outside / n)
    before = _snapshot(outside)
    p = _run('lr0fm_eval', '--model', 'lr0fm-mini-s', '--dataset', 'demo-colours', '--per-class', '1', '--resolutions', 'HR', '16',
             '--device', 'cpu', '--out', run, '--report', '--quiet', cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert _snapshot(outside) == before
    written = [n for n in names if n != 'store.json']  # the marker is only written when absent: a link there stays, never written through
    assert not any((run / n).is_symlink() for n in written) and all((run / n).stat().st_size > 0 for n in written)
    assert len(pd.read_csv(run / 'results.csv')) == 2


def test_store_clean_removes_links_not_their_targets(tmp_path):
    "`lr0fm_store clean` with stale temporary entries that are links (to a folder, to a file): the links go, what they point to stays."
    run, outside = tmp_path / 'run', tmp_path / 'outside'
    (outside / 'sub').mkdir(parents=True); (outside / 'sub' / 'mine.txt').write_text('precious'); (outside / 'file.txt').write_text('mine')
    ident = dict(model='m', pretrained='p', dataset='d', split='test', protocol='model')
    ResultStore(run).add([dict(ident, view='HR', n_images=1, n_classes=2, top1=1.0, top5=1.0)])
    cell = next((run / 'shards').iterdir())
    links = [cell / f'.tmp-{0:020d}-elsewhere-1-0123abcd', run / '.results.csv.x1y2.tmp', run / 'cache' / '.classifier-m-0.safetensors.tmp']
    (run / 'cache').mkdir()
    for l, to in zip(links, [outside, outside / 'file.txt', outside]):
        l.symlink_to(to); os.utime(l, (0, 0), follow_symlinks=False)  # old: stale whoever wrote it
    before = _snapshot(outside)
    p = _run('lr0fm_store', 'clean', run, cwd=tmp_path)
    assert p.returncode == 0 and 'removed 3 temporary files' in p.stdout, (p.stdout, p.stderr)
    assert not any(os.path.lexists(l) for l in links) and _snapshot(outside) == before
    assert len(ResultStore(run).results()) == 1


def test_store_clean_refuses_a_linked_cell(tmp_path):
    "A cell folder that is a link to a folder holding stale temporary folders: refused, nothing under it removed."
    run, outside = tmp_path / 'run', tmp_path / 'outside'
    old = outside / f'.tmp-{0:020d}-elsewhere-1-0123abcd'; old.mkdir(parents=True); (old / 'mine.txt').write_text('precious')
    os.utime(old, (0, 0))
    (run / 'shards').mkdir(parents=True); (run / 'shards' / 'cell').symlink_to(outside)
    err = _one_line(_run('lr0fm_store', 'clean', run, cwd=tmp_path))
    assert 'cell is a symbolic link' in err and (old / 'mine.txt').read_text() == 'precious', err
