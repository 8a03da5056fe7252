"""Verify an archive on Dask: JSON lines identical to `aigcmark verify --jsonl -r`, plus a summary.

    python verify_with_dask.py --trust trust.json [--workers 2 | --scheduler tcp://HOST:8786]
        [--no-watermark] [--out reports.jsonl] PATH_OR_FOLDER... (or a list of paths on stdin: -)

Each Dask task verifies a share of the paths (every n-th one, so that large files spread out) in a worker process (Rust, one thread,
GIL released) and returns its JSON lines; the driver writes them in input order. Exit code as the
CLI: 0 all intact, 1 some not verifiably labeled, 2 some label bad, 3 some file unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional, Sequence, Tuple

import aigcmark
from aigcmark.cluster import Summary, collect_paths, in_input_order, partitions, verify_partition


def verify_with_dask(
    paths: Sequence[str], trust: aigcmark.TrustStore, client, watermark: bool = True,
    tasks_per_worker: int = 4,
) -> Tuple[List[str], Summary]:
    """Verifies `paths` on the cluster behind `client`; returns (JSON lines, summary)."""
    summary = Summary()
    workers = max(1, len(client.scheduler_info()["workers"]))
    parts = partitions(list(paths), workers * tasks_per_worker)
    trust_json = trust.to_json()
    futures = [client.submit(verify_partition, p, trust_json, watermark, pure=False) for p in parts]
    lines = in_input_order(client.gather(futures))
    for line in lines:
        summary.add(json.loads(line))
    return lines, summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", help="files or folders; - reads paths from stdin")
    ap.add_argument("--trust", action="append", default=[], help="trust store file or folder")
    ap.add_argument("--workers", type=int, default=2, help="local worker processes")
    ap.add_argument("--scheduler", help="address of an existing Dask scheduler")
    ap.add_argument("--no-watermark", action="store_true")
    ap.add_argument("--out", help="write the JSON lines here (default stdout)")
    a = ap.parse_args(argv)
    from dask.distributed import Client, LocalCluster

    trust = aigcmark.TrustStore()
    for t in a.trust:
        trust = trust.merged(aigcmark.TrustStore.load(t))
    args = [l.strip() for l in sys.stdin if l.strip()] if a.paths == ["-"] else a.paths
    paths = collect_paths(args)
    if a.scheduler:
        client, cluster = Client(a.scheduler), None
    else:
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        lines, summary = verify_with_dask(paths, trust, client, watermark=not a.no_watermark)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    with (open(a.out, "w", encoding="utf-8") if a.out else open(1, "w", closefd=False)) as o:
        o.writelines(l + "\n" for l in lines)
    sys.stderr.write(summary.text())
    return summary.exit_class


if __name__ == "__main__":
    sys.exit(main())
