#!/usr/bin/env bash
# Regenerate docs/screenshots/ on a virtual screen (needs xvfb and imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA_DEBS="xvfb xauth imagemagick" bash packaging/system-deps.sh
PY=${PY:-.venv/bin/python}
for args in "--empty" "" "--dark" "--volume" "--family"; do
  xvfb-run -a -s "-screen 0 1440x900x24" "$PY" packaging/tools/screenshots.py $args
done
# The minimum size, on a screen just that big.
for args in "--empty --small" "--small"; do
  xvfb-run -a -s "-screen 0 800x600x24" "$PY" packaging/tools/screenshots.py $args
done
