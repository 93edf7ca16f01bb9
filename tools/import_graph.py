"""The import graph of the lr0fm package: every `import lr0fm.X` / `from lr0fm.X` / `from .X` in each module, at module
level or inside functions (lazy imports hide cycles, they do not remove them), and the cycles among them.
Usage: python tools/import_graph.py [--dot]   (prints edges marked lazy, then each strongly connected component of 2+ modules)"""
import ast, sys
from pathlib import Path

import os
PKG = Path(os.environ.get('LR0FM_ROOT', Path(__file__).resolve().parents[1])) / 'lr0fm'  # LR0FM_ROOT: another checkout


def edges():
    "(importer, imported, lazy) for every import of another lr0fm module."
    out = set()
    for f in sorted(PKG.glob('*.py')):
        me = f.stem
        if me.startswith('_'): continue
        tree = ast.parse(f.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ''
                if node.level == 1: names = [mod.split('.')[0]] if mod else [a.name for a in node.names]
                elif mod.startswith('lr0fm.'): names = [mod.split('.')[1]]
                elif mod == 'lr0fm': names = [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name.split('.')[1] for a in node.names if a.name.startswith('lr0fm.')]
            for n in names:
                if n != me and (PKG / f'{n}.py').exists(): out.add((me, n, id(node) not in top))
    # an edge is lazy only if every import along it is inside a function
    best = {}
    for a, b, lazy in out: best[(a, b)] = best.get((a, b), True) and lazy
    return sorted((a, b, lazy) for (a, b), lazy in best.items())


def cycles(es):
    "Strongly connected components with more than one module (Tarjan)."
    g = {}
    for a, b, _ in es: g.setdefault(a, []).append(b); g.setdefault(b, [])
    index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in g[v]:
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in sorted(g):
        if v not in index: visit(v)
    return out


if __name__ == '__main__':
    sys.setrecursionlimit(10_000)
    es = edges()
    if '--dot' in sys.argv:
        print('digraph lr0fm {'); [print(f'  {a} -> {b}' + (' [style=dashed]' if lazy else '') + ';') for a, b, lazy in es]; print('}')
        sys.exit()
    print(f'{len(es)} import edges ({sum(l for *_, l in es)} only inside functions)')
    for a, b, lazy in es: print(f'  {a} -> {b}' + ('  (lazy)' if lazy else ''))
    cs = cycles(es)
    print(f'{len(cs)} cycles (strongly connected groups of modules):' if cs else 'no import cycles')
    for c in cs: print('  ' + ' <-> '.join(c))
