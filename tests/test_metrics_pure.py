"""The pure modules (metrics, published, weights, analysis) must not import torch."""
import subprocess, sys


def test_pure_modules_do_not_import_torch():
    code = ('import sys, lr0fm.metrics, lr0fm.published, lr0fm.weights, lr0fm.analysis, lr0fm.report; '
            'lr0fm.published.published_results(); print(sorted(m for m in ("torch", "ax", "botorch") if m in sys.modules))')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'
