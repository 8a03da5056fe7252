"""Verify an archive on Ray: JSON lines identical to `aigcmark verify --jsonl -r`, plus a summary.

    python verify_with_ray.py --trust trust.json [--address auto] [--cpus 2]
        [--no-watermark] [--out reports.jsonl] PATH_OR_FOLDER... (or a list of paths on stdin: -)

Each Ray task verifies a share of the paths (every n-th one, so that large files spread out;
Rust, one thread, GIL released) and returns its JSON lines; the driver writes them in input order. Exit code as the CLI's.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional, Sequence, Tuple

import aigcmark
from aigcmark.cluster import Summary, collect_paths, in_input_order, partitions, verify_partition


def verify_with_ray(
    paths: Sequence[str], trust: aigcmark.TrustStore, watermark: bool = True,
    tasks_per_cpu: int = 4,
) -> Tuple[List[str], Summary]:
    """Verifies `paths` on the connected Ray cluster; returns (JSON lines, summary)."""
    import ray

    summary = Summary()
    task = ray.remote(num_cpus=1)(verify_partition)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    trust_ref = ray.put(trust.to_json())
    refs = [task.remote(p, trust_ref, watermark) for p in partitions(list(paths), cpus * tasks_per_cpu)]
    lines = in_input_order(ray.get(refs))
    for line in lines:
        summary.add(json.loads(line))
    return lines, summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", help="files or folders; - reads paths from stdin")
    ap.add_argument("--trust", action="append", default=[], help="trust store file or folder")
    ap.add_argument("--address", help="an existing Ray cluster (default: start a local one)")
    ap.add_argument("--cpus", type=int, default=None, help="CPUs of the local Ray")
    ap.add_argument("--no-watermark", action="store_true")
    ap.add_argument("--out", help="write the JSON lines here (default stdout)")
    a = ap.parse_args(argv)
    import ray

    trust = aigcmark.TrustStore()
    for t in a.trust:
        trust = trust.merged(aigcmark.TrustStore.load(t))
    args = [l.strip() for l in sys.stdin if l.strip()] if a.paths == ["-"] else a.paths
    paths = collect_paths(args)
    ray.init(address=a.address, num_cpus=None if a.address else a.cpus,
             include_dashboard=False, log_to_driver=False)
    try:
        lines, summary = verify_with_ray(paths, trust, watermark=not a.no_watermark)
    finally:
        ray.shutdown()
    with (open(a.out, "w", encoding="utf-8") if a.out else open(1, "w", closefd=False)) as o:
        o.writelines(l + "\n" for l in lines)
    sys.stderr.write(summary.text())
    return summary.exit_class


if __name__ == "__main__":
    sys.exit(main())
