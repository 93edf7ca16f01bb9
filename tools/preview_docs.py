"""An offline preview of the docs site, for machines without Quarto: the notebooks as nbdev processes them for the
site (`tools/proc_docs.py`, the step before Quarto), rendered to HTML with their stored outputs by nbconvert, one page
per notebook under the name Quarto gives it (`05a_metrics.ipynb` -> `metrics.html`), each with the sidebar of
`nbs/_quarto.yml` as navigation. Nothing is executed beyond what nbdev's processing runs (exports, imports,
`show_doc`). Where Quarto is installed, `nbdev_docs` builds the real site from the same processed notebooks.
Usage: tools/preview_docs.sh [--out _preview] [--skip-proc]   (then open _preview/index.html)
"""
import argparse, copy, html, json, re, sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proc_docs import ROOT, proc_all, report  # noqa: E402

SITE = 'https://lr0fm.github.io/lr0fm/'


def sidebar(qy=ROOT / 'nbs' / '_quarto.yml'):
    "[(section or None, notebook path relative to nbs)] in the order of the sidebar of `_quarto.yml`."
    out = []
    def walk(items, section):
        for it in items:
            if isinstance(it, str): out.append((section, it))
            elif isinstance(it, dict) and 'contents' in it: walk(it['contents'], it.get('section', section))
            elif isinstance(it, dict) and 'href' in it: out.append((section, it['href']))
    walk(yaml.safe_load(qy.read_text())['website']['sidebar']['contents'], None)
    return out


def _frontmatter(nb):
    "The processed notebook's front matter (nbdev moves the title and summary into a raw `---` cell)."
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw' and src.strip().startswith('---'):
            return yaml.safe_load(src.strip().strip('-')) or {}, c
    return {}, None


def _directives(src):
    "The `#|` directives of a cell as {name: value}, and its source without them."
    lines, d = src.splitlines(), {}
    while lines and lines[0].lstrip().startswith('#|'):
        k, _, v = lines.pop(0).lstrip()[2:].strip().partition(':')
        d[k.strip()] = v.strip()
    return d, '\n'.join(lines)


def page_name(nb, rel):
    fm, _ = _frontmatter(nb)
    return fm.get('output-file') or (Path(rel).stem + '.html')


def to_preview(nb):
    "A copy of a processed notebook as Quarto would show it: title and summary on top, `echo: false` inputs and `include: false` cells gone."
    nb = copy.deepcopy(nb)
    fm, raw = _frontmatter(nb)
    cells = []
    for c in nb['cells']:
        if c is raw:
            head = f"# {fm.get('title', '')}\n\n" + (f"> {fm['description']}" if fm.get('description') else '')
            cells.append({'cell_type': 'markdown', 'metadata': {}, 'source': head, 'id': c.get('id', 'fm')})
            continue
        if c['cell_type'] == 'code':
            d, src = _directives(''.join(c['source']))
            if d.get('include') == 'false' or 'hide' in d: continue
            c['source'] = src
            tags = c.setdefault('metadata', {}).setdefault('tags', [])
            if d.get('echo') == 'false': tags.append('remove_input')
            if d.get('output') == 'false': tags.append('remove_output')
        elif c['cell_type'] == 'markdown':
            c['source'] = ''.join(c['source']).replace(SITE, '')
        for o in c.get('outputs', []):
            md = o.get('data', {}).get('text/markdown')
            if md is not None: o['data']['text/markdown'] = (''.join(md) if isinstance(md, list) else md).replace(SITE, '')
        cells.append(c)
    nb['cells'] = cells
    return nb


def _nav(entries, current):
    "The sidebar as HTML, `current` highlighted."
    parts, sec = ['<nav class="lr0fm-nav"><a class="home" href="index.html">lr0fm docs (offline preview)</a><ul>'], None
    for section, title, page in entries:
        if section != sec:
            if sec is not None: parts.append('</ul></li>')
            if section is not None: parts.append(f'<li class="section">{html.escape(section)}<ul>')
            sec = section
        cls = ' class="current"' if page == current else ''
        parts.append(f'<li><a{cls} href="{page}">{html.escape(title)}</a></li>')
    if sec is not None: parts.append('</ul></li>')
    parts.append('</ul></nav>')
    return ''.join(parts)


_CSS = """<style>
.lr0fm-nav{position:fixed;top:0;left:0;bottom:0;width:250px;overflow-y:auto;padding:12px;background:#f7f7f9;
  border-right:1px solid #ddd;font:14px/1.4 sans-serif;z-index:10}
.lr0fm-nav ul{list-style:none;padding-left:10px;margin:4px 0}.lr0fm-nav .section{font-weight:600;margin-top:8px}
.lr0fm-nav .section li{font-weight:400}.lr0fm-nav a{text-decoration:none;color:#2c3e50}.lr0fm-nav a.current{font-weight:700;color:#000}
.lr0fm-nav a.home{display:block;font-weight:700;margin-bottom:8px}body{margin-left:270px !important}
</style>"""


def render(out, entries):
    "Render every sidebar page (section, notebook file, title, page name) into `out`; [(page, title)] written."
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    import nbformat
    out.mkdir(parents=True, exist_ok=True)
    ex = HTMLExporter(template_name='lab')
    ex.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}, remove_cell_tags={'remove_cell'},
                                                   remove_all_outputs_tags={'remove_output'}), enabled=True)
    written = []
    for section, src, title, page in entries:
        nb = nbformat.reads(json.dumps(to_preview(json.loads(Path(src).read_text(encoding='utf-8')))), as_version=4)
        body, _ = ex.from_notebook_node(nb, resources={'metadata': {'name': title}})
        nav = _nav([(s, t, p) for s, _, t, p in entries], page)
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + nav, body, count=1).replace('</head>', _CSS + '</head>', 1)
        (out / page).write_text(body, encoding='utf-8')
        written.append((page, title))
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT / '_preview'), help='where the HTML pages go (default: _preview)')
    ap.add_argument('--proc', default=str(ROOT / '_proc'), help="the processed notebooks (default: _proc, nbdev's folder)")
    ap.add_argument('--skip-proc', action='store_true', help='reuse the processed notebooks already in --proc')
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args(argv)
    proc, out = Path(a.proc), Path(a.out)
    bad = 0 if a.skip_proc else report(proc_all(ROOT / 'nbs', proc, workers=a.workers))
    entries = []
    for section, rel in sidebar():
        if not (proc / rel).exists():  # nbdev's processing failed on it: show the notebook as stored, and say so
            if not (ROOT / 'nbs' / rel).exists(): print(f'{rel}: listed in the sidebar but not in nbs/', file=sys.stderr); bad += 1; continue
            print(f'{rel}: not processed (see above); its page shows the notebook as stored', file=sys.stderr); bad += 1
        src = proc / rel if (proc / rel).exists() else ROOT / 'nbs' / rel  # never copied into the processing cache
        nb = json.loads(src.read_text(encoding='utf-8'))
        fm, _ = _frontmatter(nb)
        entries.append((section, src, fm.get('title') or Path(rel).stem, page_name(nb, rel)))
    pages = render(out, entries)
    print(f'\n{len(pages)} pages in {out}:')
    for page, title in pages: print(f'  {page:28s} {title}')
    print(f'open {out / "index.html"}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
