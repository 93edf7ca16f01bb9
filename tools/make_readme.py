"""Write README.md from nbs/index.ipynb (its markdown cells, in order). nbdev_readme needs Quarto, which these
machines cannot install; this keeps the README and the docs home page one source.  Usage: python tools/make_readme.py"""
import json, re
from pathlib import Path

root = Path(__file__).resolve().parents[1]
nb = json.loads((root / 'nbs' / 'index.ipynb').read_text())
parts = ['<!-- generated from nbs/index.ipynb by tools/make_readme.py; edit the notebook -->']
for c in nb['cells']:
    if c['cell_type'] == 'markdown': parts.append(''.join(c['source']).strip())
text = '\n\n'.join(parts) + '\n'
(root / 'README.md').write_text(re.sub(r'\n{3,}', '\n\n', text))
print('wrote README.md')
