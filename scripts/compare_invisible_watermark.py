"""Time the reference `invisible-watermark` (PyPI package, module `imwatermark`) on one image.

Usage: python compare_invisible_watermark.py IMAGE.png [RUST_RESULT_LINE]

Times embedding and detection with the package's `dwtDct` and `dwtDctSvd` methods (64-bit
payload, the package's default parameters) on IMAGE, single-threaded, and prints wall-clock
minima plus per-run thread CPU time. With the Rust timing line (`RESULT embed=.. detect=..`
printed by `cargo run --release -p aigcmark-eval --bin wm_image_timing`) it also prints the speed ratios.

The package's `__init__` imports `watermark.py`, which imports `rivaGan.py`, which imports torch
at module level (only the optional rivaGan method needs it). torch is not installed: the two
methods compared here live in `imwatermark/maxDct.py` (dwtDct) and `imwatermark/dwtDctSvd.py`,
which import only numpy, cv2 and pywt. They are loaded from the installed package by file path
(the package's own, unmodified code), and driven exactly like `WatermarkEncoder.encode` /
`WatermarkDecoder.decode` do (bits = np.unpackbits(payload); BGR uint8 in and out).
"""

import importlib.util
import os
import sys
import time

import cv2
import numpy as np


def load_module(name):
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("invisible-watermark (imwatermark) is not installed in this Python")
    pkg_dir = list(spec.submodule_search_locations)[0]
    path = os.path.join(pkg_dir, name + ".py")
    mspec = importlib.util.spec_from_file_location("imwatermark_" + name, path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod


def timed(fn, warm=2, runs=15):
    for _ in range(warm):
        out = fn()
    best = float("inf")
    c0 = time.thread_time()
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    cpu = (time.thread_time() - c0) / runs
    return best * 1e3, cpu * 1e3, out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cv2.setNumThreads(1)
    img = cv2.imread(sys.argv[1], cv2.IMREAD_COLOR)  # BGR, as the package expects
    if img is None:
        sys.exit(f"cannot read {sys.argv[1]}")
    h, w = img.shape[:2]
    payload = bytes([1, 2, 3, 4, 5, 6, 7, 8])  # 64 bits, like aigcmark's payload
    bits = list(np.unpackbits(np.frombuffer(payload, dtype=np.uint8)))
    n = len(bits)
    max_dct = load_module("maxDct")
    dwt_svd = load_module("dwtDctSvd")
    methods = {
        "dwtDct": max_dct.EmbedMaxDct,
        "dwtDctSvd": dwt_svd.EmbedDwtDctSvd,
    }
    print(f"image {w}x{h}, payload {n} bits, cv2 threads {cv2.getNumThreads()}, "
          f"numpy {np.__version__}, opencv {cv2.__version__}")
    results = {}
    for name, cls in methods.items():
        enc = cls(bits, wmLen=n)
        e_wall, e_cpu, marked = timed(lambda: enc.encode(img.copy()))
        dec = cls(watermarks=[], wmLen=n)
        d_wall, d_cpu, got = timed(lambda: dec.decode(marked), runs=10)
        acc = float(np.mean(np.array(got, dtype=np.uint8) == np.array(bits, dtype=np.uint8)))
        mse = float(np.mean((marked.astype(np.float64) - img.astype(np.float64)) ** 2))
        psnr = 10 * np.log10(255 * 255 / mse) if mse > 0 else float("inf")
        results[name] = (e_wall, d_wall)
        print(f"{name:10s} embed {e_wall:8.2f} ms (cpu {e_cpu:8.2f}), "
              f"detect {d_wall:8.2f} ms (cpu {d_cpu:8.2f}), "
              f"bit accuracy unchanged {acc:.3f}, PSNR {psnr:.2f} dB")
    if len(sys.argv) > 2:
        kv = dict(p.split("=") for p in sys.argv[2].split()[1:])
        ours_e, ours_d = float(kv["embed"]), float(kv["detect"])
        print(f"aigcmark   embed {ours_e:8.2f} ms, detect unchanged {ours_d:8.2f} ms, "
              f"detect resize0.5+crop80 {float(kv['detect_resize_crop']):.2f} ms, "
              f"detect unmarked {float(kv['detect_unmarked']):.2f} ms")
        for name, (e, d) in results.items():
            print(f"speed-up vs {name:10s}: embed {e / ours_e:6.1f}x, detect {d / ours_d:6.1f}x"
                  f"  (issue target vs dwtDctSvd: >= 10x each)")


if __name__ == "__main__":
    main()
