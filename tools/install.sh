#!/usr/bin/env bash
# One-command set-up for lr0fm.  Usage:  bash tools/install.sh [test|demo|none]
#   test : install everything (package + dev tools) and run the whole test suite
#   demo : install everything and run the main job on the embedded default (lr0fm_demo --out demo_out)
# Python environment: the active virtualenv/conda env if there is one, otherwise ./.venv (created).
# torch: if the environment already has torch (e.g. a CUDA build on a GPU machine) that version is kept;
# otherwise torch==2.13.0 is installed (on the lr0fm build machines this is a local CPU wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-test}"
if [ -n "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ]; then PY=python; else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  PY=.venv/bin/python
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
cons=$(mktemp)
if tv=$($PY -c "import torch;print(torch.__version__.split('+')[0])" 2>/dev/null); then
  echo "using the installed torch $tv"
else
  tv=2.13.0; $PY -m pip install -q "torch==$tv"
fi
echo "torch==$tv" > "$cons"
$PY -m pip install -q -c "$cons" -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
# Environment fix (not part of the library): a torchvision wheel built for CUDA torch cannot register its C++ ops
# on a CPU-only torch ("operator torchvision::nms does not exist", pytorch/vision#9085). Only where that happens,
# install a start-up hook that declares the two op schemas before torchvision loads.
if ! $PY -c "import torchvision" >/dev/null 2>&1; then
  sp=$($PY -c "import sysconfig;print(sysconfig.get_paths()['purelib'])")
  cp tools/_lr0fm_envfix.py "$sp/"
  echo "import _lr0fm_envfix; _lr0fm_envfix.install()" > "$sp/_lr0fm_envfix.pth"
  $PY -c "import torchvision" && echo "installed the torchvision op-schema fix into $sp"
fi
rm -f "$cons"
bin=$(dirname "$PY")
case "$what" in
  test) export HF_HUB_OFFLINE=1
        # the package must be what the notebooks export (checked where this is a git checkout)
        if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
          "$bin/nbdev_export"
          if [ -n "$(git status --porcelain -- lr0fm)" ]; then
            echo "lr0fm/ differs from what nbs/ exports: run nbdev_export and commit notebooks and package together" >&2
            git status --short -- lr0fm >&2; exit 1
          fi
        fi
        "$bin/nbdev_test" --n_workers 2
        "$PY" -m pytest -q tests ;;
  demo) export HF_HUB_OFFLINE=1; "$bin/lr0fm_demo" --out "${2:-demo_out}" ;;
  none) ;;
  *) echo "unknown action '$what': use test, demo or none" >&2; exit 2 ;;
esac
