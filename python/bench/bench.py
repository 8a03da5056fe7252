"""Speed of the Python package, each figure a ratio against a baseline measured in the same run.

    python python/bench/bench.py --cli target/release/aigcmark [--files N] [--skip-dask]

1. verify overhead: a metadata-only verify (watermark=False) of a labeled 1024×640 JPEG from
   Python, against the same call looped in Rust inside the extension (no Python between calls).
2. GIL: two Python threads calling verify at once against one thread (same total calls).
3. verify_many from Python against `aigcmark verify --jsonl -` (files/s, same files, all cores).
4. Dask: LocalCluster with 2 worker processes against 1 (cluster start-up excluded).

Best of `--repeat` runs for each side. Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import aigcmark
from aigcmark import _native
from aigcmark.cluster import collect_paths

PRODUCER = "001191000000MA00DEMO0X10000"
HERE = Path(__file__).resolve().parent


def best_pair(f, g, repeat: int):
    """Best times of `f` and `g`, run alternately so that load from elsewhere hits both alike."""
    tf, tg = [], []
    for _ in range(repeat):
        for fn, ts in ((f, tf), (g, tg)):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return min(tf), min(tg)


def corpus_dir() -> Path:
    d = os.environ.get("AIGCMARK_CORPUS")
    return Path(d) if d else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aigcmark-corpus"


def jpeg_1024x640(signer) -> bytes:
    from PIL import Image

    src = corpus_dir() / "images/plasma/BytheWater.jpg"
    if src.is_file():
        arr = np.asarray(Image.open(src).convert("RGB").resize((1024, 640)))
    else:  # pragma: no cover - without the corpus, a synthetic picture
        y, x = np.mgrid[0:640, 0:1024]
        arr = np.stack([x % 256, y % 256, (x * y) % 256], -1).astype(np.uint8)
    return aigcmark.label_image(arr, "jpeg", signer=signer, producer=PRODUCER)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True, help="the aigcmark binary (a release build)")
    ap.add_argument("--calls", type=int, default=400, help="verify calls per measurement")
    ap.add_argument("--files", type=int, default=300, help="corpus files for the batch figures")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--watermark", action="store_true", help="batch figures with the watermark search")
    ap.add_argument("--skip-dask", action="store_true")
    a = ap.parse_args()

    signer = aigcmark.Signer.generate()
    trust = aigcmark.TrustStore().with_key(signer, PRODUCER)
    jpeg = jpeg_1024x640(signer)
    assert aigcmark.verify(jpeg, trust=trust, watermark=False).ok
    n = a.calls
    out = {}

    # 1. Python call vs the same call in Rust.
    def py_loop(k=n):
        for _ in range(k):
            aigcmark.verify(jpeg, trust=trust, watermark=False).verdict  # noqa: B018

    rust, py = best_pair(lambda: _native._bench_verify_rust(jpeg, trust, n, False, None), py_loop,
                         a.repeat)
    out["verify_us_rust"] = rust / n * 1e6
    out["verify_us_python"] = py / n * 1e6
    out["python_over_rust"] = py / rust

    # 2. Two threads vs one, same total calls.
    def threads(t: int):
        with ThreadPoolExecutor(t) as ex:
            list(ex.map(lambda _: py_loop(n // t), range(t)))

    one, two = best_pair(lambda: threads(1), lambda: threads(2), a.repeat)
    out["two_threads_speedup"] = one / two

    def wm_loop(k):
        for _ in range(k):
            aigcmark.verify(jpeg, trust=trust, watermark=True)

    k = max(4, n // 40)
    with ThreadPoolExecutor(2) as ex:
        one_wm, two_wm = best_pair(lambda: wm_loop(k),
                                   lambda: list(ex.map(lambda _: wm_loop(k // 2), range(2))),
                                   max(2, a.repeat // 2))
    out["two_threads_speedup_watermark"] = one_wm / two_wm

    # 3. verify_many vs the CLI on the same files.
    c = corpus_dir()
    files = collect_paths([c / "audio", c / "images", c / "rhythm"])[: a.files]
    listing = "\n".join(files).encode()
    wm_flag = [] if a.watermark else ["--no-watermark"]

    def cli_run():
        subprocess.run([a.cli, "verify", "--jsonl", "--order", "completion", *wm_flag, "-"],
                       input=listing, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def many_run():
        for _ in aigcmark.verify_many(files, trust=trust, watermark=a.watermark):
            pass

    cli_s, many_s = best_pair(cli_run, many_run, a.repeat)
    out["files"] = len(files)
    out["cli_files_per_s"] = len(files) / cli_s
    out["verify_many_files_per_s"] = len(files) / many_s
    out["verify_many_over_cli"] = cli_s / many_s

    # 4. Dask, 2 workers vs 1.
    if not a.skip_dask:
        sys.path.insert(0, str(HERE.parent / "examples"))
        from dask.distributed import Client, LocalCluster
        from verify_with_dask import verify_with_dask

        # Both clusters up at once (idle workers cost nothing), measured alternately.
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          dashboard_address=None) as c1, Client(c1) as k1, \
             LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as c2, Client(c2) as k2:
            for client in (k1, k2):
                verify_with_dask(files[:20], trust, client, watermark=a.watermark)  # warm workers
            s1, s2 = best_pair(lambda: verify_with_dask(files, trust, k1, watermark=a.watermark),
                               lambda: verify_with_dask(files, trust, k2, watermark=a.watermark),
                               a.repeat)
        dask_s = {1: s1, 2: s2}
        out["dask_1_files_per_s"] = len(files) / dask_s[1]
        out["dask_2_files_per_s"] = len(files) / dask_s[2]
        out["dask_2_over_1"] = dask_s[1] / dask_s[2]

    width = max(map(len, out))
    for key, v in out.items():
        print(f"{key:<{width}}  {v:.3f}" if isinstance(v, float) else f"{key:<{width}}  {v}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
