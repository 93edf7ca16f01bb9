"""Package set-up for lr0fm, driven by `settings.ini` (the nbdev 2 layout).

The papermill templates live once, in `nbs/experiments/` (notebooks are the source); building the package copies them
into it as `lr0fm/templates/*.ipynb`, so a pip-installed lr0fm can run `lr0fm_sweep` without a checkout. The data
files under `lr0fm/assets/` ship as package data. The sdist carries `nbs/experiments/` so a wheel built from it has both.
"""
from configparser import ConfigParser
from pathlib import Path
import shutil
import setuptools
from setuptools.command.build_py import build_py

TEMPLATES = Path(__file__).parent / 'nbs' / 'experiments'


class build_py_with_templates(build_py):
    "`build_py` that also copies the papermill templates (nbs/experiments/*.ipynb) into the built package."
    def run(self):
        super().run()
        nbs = sorted(p for p in TEMPLATES.glob('*.ipynb') if not p.name.startswith(('_', '.')))
        if not nbs: raise SystemExit(f'no papermill templates in {TEMPLATES}: build lr0fm from a checkout or its sdist')
        dest = Path(self.build_lib) / 'lr0fm' / 'templates'
        dest.mkdir(parents=True, exist_ok=True)
        for p in nbs: shutil.copy2(p, dest / p.name)

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent / 'settings.ini')
cfg = cfg['DEFAULT']

licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable']
lic = licenses[cfg['license']]
reqs = cfg.get('requirements', '').split()
dev_reqs = cfg.get('dev_requirements', '').split()
extras = {k[len('extra_'):]: v.split() for k, v in cfg.items() if k.startswith('extra_')}
scripts = [s.strip() for s in cfg.get('console_scripts', '').split('\n') if s.strip()]

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=(Path(__file__).parent / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    author=cfg['author'],
    author_email=cfg['author_email'],
    url=cfg['git_url'],
    license=lic[0],
    keywords=cfg['keywords'].split(),
    classifiers=[f'Development Status :: {statuses[int(cfg["status"])]}',
                 f'Intended Audience :: {cfg["audience"]}',
                 f'License :: {lic[1]}',
                 f'Natural Language :: {cfg["language"]}',
                 'Programming Language :: Python :: 3'],
    packages=setuptools.find_packages(include=[cfg['lib_name'], cfg['lib_name'] + '.*']),
    include_package_data=True,
    package_data={cfg['lib_name']: ['assets/*', 'assets/**/*', 'templates/*.ipynb']},
    cmdclass={'build_py': build_py_with_templates},
    python_requires=f'>={cfg["min_python"]}',
    install_requires=reqs,
    extras_require={'dev': dev_reqs, **extras},
    entry_points={'console_scripts': scripts, 'nbdev': [f'{cfg["lib_name"]}={cfg["lib_name"]}._modidx:d']},
    zip_safe=False,
)
