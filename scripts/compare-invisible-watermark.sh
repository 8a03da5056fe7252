#!/usr/bin/env bash
# Speed comparison with the reference `invisible-watermark` (PyPI; the DWT-DCT marker Stable
# Diffusion ships), measured in one run on the same 1024×1024 photograph, single-threaded.
#
#   scripts/compare-invisible-watermark.sh
#
# Env: AIGCMARK_VENV (default ~/.cache/aigcmark-venv), PYTHON (default python3),
#      AIGCMARK_CORPUS (photo mate/Garden.jpg is used, see eval/src/bin/wm_image_timing.rs).
#
# The package declares torch as a dependency, but only its optional rivaGan method uses it (and
# PyPI's torch pulls gigabytes of CUDA libraries). It is therefore installed with --no-deps plus
# exactly what dwtDct / dwtDctSvd import: numpy, opencv (headless build) and PyWavelets. The
# Python side loads those two modules from the installed package by file path (see
# compare_invisible_watermark.py); nothing is stubbed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(cd "$here/.." && pwd)"
venv="${AIGCMARK_VENV:-$HOME/.cache/aigcmark-venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import cv2, pywt, numpy, importlib.util as u; assert u.find_spec("imwatermark")' 2>/dev/null; then
    "$venv/bin/pip" install -q --no-deps 'invisible-watermark==0.2.0'
    "$venv/bin/pip" install -q numpy opencv-python-headless PyWavelets
fi

# One thread everywhere.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 \
    VECLIB_MAXIMUM_THREADS=1 OPENCV_FOR_THREADS_NUM=1 RAYON_NUM_THREADS=1
pin=()
if command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c 0)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$crate" && cargo build --release --quiet -p aigcmark-eval --bin wm_image_timing)
echo "== aigcmark (Rust, eval/src/bin/wm_image_timing.rs)"
WM_TIMING_SAVE="$tmp/img1024.png" "${pin[@]}" "$crate/target/release/wm_image_timing" |
    tee "$tmp/rust.txt"
result="$(grep '^RESULT ' "$tmp/rust.txt")"
echo "== invisible-watermark $("$venv/bin/pip" show invisible-watermark | sed -n 's/^Version: //p') (Python)"
"${pin[@]}" "$venv/bin/python" "$here/compare_invisible_watermark.py" "$tmp/img1024.png" "$result"
