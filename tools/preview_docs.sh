#!/usr/bin/env bash
# Offline preview of the docs site, for machines without Quarto (nbdev_docs needs Quarto and, without it, tries to
# install it and runs `pip install -e .[dev]`). Processes every notebook as nbdev does for the site (exports, imports
# and show_doc run; stored outputs kept), renders each to HTML with nbconvert under the name Quarto gives it, with
# the sidebar of nbs/_quarto.yml as navigation.   Usage: bash tools/preview_docs.sh [--out DIR] [--skip-proc]
# Then open _preview/index.html. Exit status 1 when a notebook fails nbdev's processing (the pages are still written).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ] || [ ! -x .venv/bin/python ]; then PY=python; else PY=.venv/bin/python; fi
export HF_HUB_OFFLINE=1 MPLBACKEND=Agg
exec "$PY" tools/preview_docs.py "$@"
