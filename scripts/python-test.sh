#!/usr/bin/env bash
# Builds the Python package (python/, pyo3 + maturin) into a fresh virtual environment and runs
# its tests (pytest, including the local Dask and Ray clusters), comparing against the CLI.
#
#   scripts/python-test.sh [pytest args...]
#
# Needs: python3 >= 3.9 with venv (Debian: apt-get install python3-venv python3-dev), a Rust
# toolchain, network access to PyPI, and the test corpus (scripts/fetch-corpus.sh).
# The venv is $AIGCMARK_VENV (default /tmp/aigcmark-venv); it is reused when present.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${AIGCMARK_VENV:-/tmp/aigcmark-venv}"
PY="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" || {
    echo "python-test: cannot make a venv; on Debian: apt-get install python3-venv" >&2
    exit 1
  }
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "maturin>=1.5,<2" numpy pillow soundfile pytest \
  "dask[distributed]" ray

# The CLI the tests compare with (its JSON lines are the reference).
cargo build -q --bin aigcmark
export AIGCMARK_BIN="${AIGCMARK_BIN:-$CARGO_TARGET_DIR/debug/aigcmark}"

# The wheel as a user gets it: `pip install ./python` (maturin builds it in release mode).
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps ./python

# Run from the tests folder so that `import aigcmark` is the installed wheel, not the source tree.
cd python/tests
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" .
