"""The built package works without a checkout: build the sdist and, from it, the wheel; install the wheel into a fresh
virtual environment in a temporary folder; run `lr0fm_demo` and a one-backbone local `lr0fm_sweep` there.

Offline and quick (about a minute on 2 cores): `python -m build --no-isolation` (the `build` package is a dev
requirement; setuptools comes from this environment), and the wheel is installed with `--no-deps --no-index`. The
fresh environment sees this environment's third-party packages (torch, open_clip, papermill, ...) through a `.pth`
line that adds their folder as a plain path: the `.pth` files in that folder, among them this checkout's editable
install, are not processed there, so `import lr0fm` can only find the wheel's copy (checked). Needs: `build`,
`papermill`, `ipykernel`, `submitit` in this environment; nothing from the network.
"""
import glob, json, os, subprocess, sys, sysconfig, tarfile, time, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (ROOT / 'setup.py').exists(), reason='needs the source tree (setup.py)')


def _run(cmd, cwd, env=None, timeout=600):
    "Run `cmd`; its output on failure."
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f'{cmd} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}'
    return r.stdout + r.stderr


@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    "The sdist and the wheel built from it."
    pytest.importorskip('build', reason='python -m build is a dev requirement (pip install -e .[dev])')
    d = tmp_path_factory.mktemp('dist')
    t = time.time()
    _run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', str(d), str(ROOT)], cwd=d)
    print(f'built in {time.time() - t:.1f} s')
    (sd,), (whl,) = glob.glob(str(d / '*.tar.gz')), glob.glob(str(d / '*.whl'))
    return Path(sd), Path(whl)


def _assets():
    return sorted(str(p.relative_to(ROOT)).replace(os.sep, '/') for p in (ROOT / 'lr0fm' / 'assets').rglob('*')
                  if p.is_file() and '__pycache__' not in p.parts)


def test_wheel_carries_templates_and_assets(dist):
    sd, whl = dist
    names = set(zipfile.ZipFile(whl).namelist())
    templates = sorted(p.name for p in (ROOT / 'nbs' / 'experiments').glob('*.ipynb'))
    assert 'eval_backbone.ipynb' in templates
    for t in templates:  # the papermill templates, copied from nbs/experiments at build time (one copy in git)
        assert f'lr0fm/templates/{t}' in names, t
        got = json.loads(zipfile.ZipFile(whl).read(f'lr0fm/templates/{t}'))
        assert got == json.loads((ROOT / 'nbs' / 'experiments' / t).read_text()), f'{t} differs from nbs/experiments/{t}'
    missing = [a for a in _assets() if a not in names]
    assert not missing, f'assets missing from the wheel: {missing[:10]}'
    assert {'lr0fm/all.py', 'lr0fm/cli.py'} <= names
    sdn = {n.split('/', 1)[1] for n in tarfile.open(sd).getnames() if '/' in n}
    assert {f'nbs/experiments/{t}' for t in templates} <= sdn, 'the sdist lacks the templates a wheel is built from'
    assert not [a for a in _assets() if a not in sdn], 'assets missing from the sdist'
    assert 'settings.ini' in sdn and 'setup.py' in sdn


@pytest.fixture(scope='module')
def venv(dist, tmp_path_factory):
    "A fresh virtual environment outside the checkout with the wheel installed (no network, no dependencies resolved)."
    _, whl = dist
    base = tmp_path_factory.mktemp('outside')
    assert ROOT not in base.parents
    env_dir = base / 'venv'
    _run([sys.executable, '-m', 'venv', '--without-pip', str(env_dir)], cwd=base)
    py = env_dir / ('Scripts/python.exe' if os.name == 'nt' else 'bin/python')
    site = Path(subprocess.check_output([str(py), '-c', "import sysconfig;print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    parent = dict.fromkeys([sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']])
    lines = list(parent)
    if any((Path(p) / '_lr0fm_envfix.py').exists() for p in parent):  # tools/install.sh's torchvision fix, where it is installed
        lines.append('import _lr0fm_envfix; _lr0fm_envfix.install()')
    (site / 'zz_parent_env.pth').write_text('\n'.join(lines) + '\n')
    _run([sys.executable, '-m', 'pip', '--python', str(py), 'install', '-q', '--no-deps', '--no-index', '--no-cache-dir',
          '--disable-pip-version-check', str(whl)], cwd=base)
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'LR0FM_TEMPLATE', 'VIRTUAL_ENV', 'CONDA_PREFIX')}
    env.update(PATH=f'{py.parent}{os.pathsep}{env.get("PATH", "")}', VIRTUAL_ENV=str(env_dir), HF_HUB_OFFLINE='1',
               JUPYTER_PREFER_ENV_PATH='1', MPLBACKEND='Agg', PYTHONNOUSERSITE='1')
    # papermill's 'python3' kernel must be this environment's python: a kernelspec in the environment says so
    _run([str(py), '-m', 'ipykernel', 'install', '--sys-prefix', '--name', 'python3'], cwd=base, env=env)
    work = base / 'work'; work.mkdir()
    return py, env, work


def test_installed_package_is_the_wheel(venv):
    py, env, work = venv
    out = _run([str(py), '-c', 'import lr0fm, lr0fm.all, lr0fm.sweep as s; print(lr0fm.__file__); print(s.default_template.__doc__)'],
               cwd=work, env=env)
    f = Path(out.splitlines()[0])
    assert py.parents[1] in f.parents and ROOT not in f.parents, f'imported {f}, not the wheel'
    assert (f.parent / 'templates' / 'eval_backbone.ipynb').is_file()


def test_demo_outside_checkout(venv):
    py, env, work = venv
    t = time.time()
    _run([str(py.parent / 'lr0fm_demo'), '--out', 'demo', '--per_class', '4', '--quiet'], cwd=work, env=env)
    print(f'lr0fm_demo: {time.time() - t:.1f} s')
    for f in ('results.csv', 'report.html', 'accuracy_vs_resolution.png'): assert (work / 'demo' / f).is_file(), f


def test_sweep_outside_checkout(venv):
    "One backbone, one demo set, through submitit's local executor and the template shipped in the wheel."
    py, env, work = venv
    template = Path(subprocess.check_output([str(py), '-c', 'import lr0fm,pathlib;print(pathlib.Path(lr0fm.__file__).parent/"templates"/"eval_backbone.ipynb")'],
                                            cwd=work, env=env, text=True).strip())
    found = subprocess.run([str(py), '-c', 'from lr0fm.sweep import default_template; print(default_template())'],
                           cwd=work, env=env, capture_output=True, text=True)
    default_ok = found.returncode == 0
    if default_ok: assert Path(found.stdout.strip()) == template, found.stdout
    cmd = [str(py.parent / 'lr0fm_sweep'), '--backbones', 'lr0fm-mini-s', '--datasets', 'demo-colours', '--resolutions', 'HR', '16',
           '--per_class', '3', '--out', 'sweep', '--jobs', '1'] + ([] if default_ok else ['--template', str(template)])
    t = time.time()
    out = _run(cmd, cwd=work, env=env)
    print(f'lr0fm_sweep: {time.time() - t:.1f} s\n{out[-1500:]}')
    import pandas as pd
    res = pd.read_csv(work / 'sweep' / 'results.csv')
    assert set(res['dataset']) == {'demo-colours'} and set(res['model']) == {'lr0fm-mini-s'}
    assert set(res['view'].astype(str)) == {'HR', '16'}
    assert list((work / 'sweep' / 'notebooks').glob('*.ipynb')), 'no executed notebook kept'
    if not default_ok:  # the sweep agent's change: default_template falls back to the package's templates/
        pytest.xfail(f'lr0fm.sweep.default_template() does not find the packaged template yet: {found.stderr.strip().splitlines()[-1:]}')
