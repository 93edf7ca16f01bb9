"""The package's import graph has no cycles, counting imports inside functions (they hide a cycle, they do not remove
it): tools/import_graph.py finds them; before the registry and views work there were three (data <-> datasets <->
synthetic, hf_models <-> models <-> zoo, analysis <-> hierarchy <-> report)."""
import importlib.util, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location('import_graph', ROOT / 'tools' / 'import_graph.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m


def test_no_import_cycles():
    g = _tool()
    es = g.edges()
    assert ('registry', 'models', False) in es and ('cli', 'registry', True) in es  # the graph is read, lazy imports too
    assert g.cycles(es) == []


def test_cycles_are_found():
    g = _tool()
    assert g.cycles([('a', 'b', False), ('b', 'c', True), ('c', 'a', True), ('c', 'd', False)]) == [['a', 'b', 'c']]
