"""Move the imports of a notebook's test and example cells into cells of their own.

nbdev's docs processing (`nbdev_proc_nbs`, the step before Quarto) executes every exported cell, every `show_doc`
cell and every cell that contains an import, anywhere in it. A test cell that imports and then uses names made in
cells the processing skips (hidden helpers, earlier test cells) stops the docs build with a NameError, and a cell that
mixes imports with other code draws nbdev's "Found cells containing imports and other code" warning. The fix is
nbdev's own advice: imports in their own cell. This tool does that split: the cell's imports (top-level ones, and
unconditional ones nested in `with`/`for`/`def` bodies) go, in order, to a new cell placed just before it that
carries the same `#|` directives; the rest stays. Imports under `try`/`if` are left and reported (moving them could
change behaviour; `--hoist-if` moves those under `if` too, for imports that always work). `--check` changes nothing
and exits 1 when a cell needs splitting. Usage: python tools/split_import_cells.py [--check] [--hoist-if] NOTEBOOK ...
"""
import ast, hashlib, json, sys
from pathlib import Path

_EXPORTS = {'export', 'exports', 'exporti', 'exec_doc'}


def _directives(lines):
    "The leading `#|` lines of a cell's source lines, and how many there are."
    n = 0
    while n < len(lines) and lines[n].lstrip().startswith('#|'): n += 1
    return lines[:n], n


def _is_export(dirs):
    return any(d.lstrip()[2:].strip().split(':')[0].split(' ')[0] in _EXPORTS for d in dirs)


def _imports(tree, hoist_if=False):
    "Import nodes to move (unconditional ones) and ones that are conditional (inside try/if/while; `hoist_if` moves those under if)."
    move, cond = [], []
    def visit(node, conditional):
        for ch in ast.iter_child_nodes(node):
            if isinstance(ch, (ast.Import, ast.ImportFrom)): (cond if conditional else move).append(ch)
            else: visit(ch, conditional or isinstance(ch, (ast.Try, ast.While) if hoist_if else (ast.Try, ast.If, ast.While, ast.IfExp)) or
                        (hasattr(ast, 'TryStar') and isinstance(ch, ast.TryStar)))
    visit(tree, False)
    return move, cond


def needs_split(src):
    "True when nbdev's docs processing would execute this code cell although it holds more than imports."
    lines = src.splitlines(keepends=True)
    dirs, n = _directives(lines)
    if _is_export(dirs) or src.lstrip().startswith('%%') or 'nbdev_export()' in src: return False
    try: tree = ast.parse(''.join(l for l in lines if not l.lstrip().startswith(('%', '!'))))
    except SyntaxError: return False
    if any(isinstance(t, ast.Expr) and getattr(getattr(t.value, 'func', None), 'id', None) == 'show_doc' for t in tree.body):
        return False
    has_imp = any(isinstance(t, (ast.Import, ast.ImportFrom)) for t in ast.walk(tree))
    only_imp = all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in tree.body)
    return has_imp and not only_imp


def split_source(src, hoist_if=False):
    "(imports cell source, rest cell source, conditional imports left) for one cell's source; None if not splittable."
    lines = src.splitlines(keepends=True)
    dirs, n = _directives(lines)
    tree = ast.parse(src)
    move, cond = _imports(tree, hoist_if)
    if cond or not move: return None
    body = [l if l.endswith('\n') else l + '\n' for l in lines]
    imps, cut = [], {}  # cut: line index -> list of (col0, col1) spans to remove
    for node in sorted(move, key=lambda x: (x.lineno, x.col_offset)):
        if node.lineno != node.end_lineno and any(cut.get(i) for i in range(node.lineno - 1, node.end_lineno)): return None
        seg = ast.get_source_segment(src, node)
        imps.append(' '.join(seg.split()) if node.lineno != node.end_lineno and '(' not in seg else seg)
        for i in range(node.lineno - 1, node.end_lineno):
            c0 = node.col_offset if i == node.lineno - 1 else 0
            c1 = node.end_col_offset if i == node.end_lineno - 1 else len(body[i].rstrip('\n'))
            cut.setdefault(i, []).append((c0, c1))
    rest = []
    for i, l in enumerate(body):
        if i not in cut: rest.append(l); continue
        text = l.rstrip('\n')
        for c0, c1 in sorted(cut[i], reverse=True):
            tail = text[c1:]
            stripped = tail.lstrip()
            if stripped.startswith(';'): tail = stripped[1:].lstrip()
            text = text[:c0] + tail
        if text.strip().rstrip(';').strip(): rest.append(text.rstrip().rstrip(';') + '\n')
    # a block whose body became empty (e.g. a `with` holding only an import) needs `pass`: refuse instead
    rest_src = ''.join(rest).rstrip('\n')
    try: ast.parse(rest_src)
    except SyntaxError: return None
    imp_src = ''.join(dirs) + '\n'.join(dict.fromkeys(imps))
    return imp_src, rest_src, cond


def _new_id(seed):
    return hashlib.sha1(seed.encode()).hexdigest()[:8]


def has_docs(nb):
    "Whether nbdev's processing executes any cell of `nb` at all: it does when a cell is exported or calls `show_doc`."
    for c in nb['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        dirs = [l.lstrip()[2:].strip().split(':')[0] for l in _directives(src.splitlines())[0]]
        if c['cell_type'] == 'code' and (({'export', 'exports'} & set(dirs) and 'hide' not in dirs) or 'show_doc(' in src):
            return True
    return False


def split_notebook(path, write=True, hoist_if=False):
    "Split every cell of the notebook at `path` that needs it; return a list of (cell index, note) for what changed or needs a hand."
    path = Path(path)
    nb = json.loads(path.read_text(encoding='utf-8'))
    out, notes = [], []
    if not has_docs(nb): return notes
    for i, c in enumerate(nb['cells']):
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        if c['cell_type'] != 'code' or not needs_split(src): out.append(c); continue
        try: res = split_source(src, hoist_if)
        except SyntaxError: res = None
        if res is None:
            notes.append((i, 'needs a hand (conditional or unusual imports):\n' + src)); out.append(c); continue
        imp_src, rest_src, _ = res
        ic = {'cell_type': 'code', 'execution_count': None, 'id': _new_id(f'{path.name}{i}{imp_src}'),
              'metadata': {k: v for k, v in c.get('metadata', {}).items() if k != 'tags'}, 'outputs': [],
              'source': imp_src.splitlines(keepends=True)}
        if 'id' not in c: ic.pop('id')
        c = dict(c, source=rest_src.splitlines(keepends=True))
        out += [ic, c]
        notes.append((i, 'split: imports moved to a cell of their own:\n' + imp_src))
    if write and len(out) != len(nb['cells']):
        nb['cells'] = out
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return notes


if __name__ == '__main__':
    args = sys.argv[1:]
    check, hoist_if = '--check' in args, '--hoist-if' in args
    bad = 0
    for f in [a for a in args if not a.startswith('--')]:
        for i, note in split_notebook(f, write=not check, hoist_if=hoist_if):
            print(f'{f} cell {i}: {note}\n'); bad += 1
    sys.exit(1 if check and bad else 0)
