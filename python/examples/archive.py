"""Audit an archive on one machine: every file verified on all cores, one JSON line each.

    python archive.py TRUST_JSON FOLDER [--no-watermark] > reports.jsonl

The lines are those of `aigcmark verify --jsonl -r --order completion FOLDER`; the summary goes to
standard error. For a cluster, see verify_with_dask.py and verify_with_ray.py.
"""

import sys

import aigcmark
from aigcmark.cluster import collect_paths


def main(trust_path: str, folder: str, *flags: str) -> int:
    trust = aigcmark.TrustStore.load(trust_path)
    batch = aigcmark.verify_many(collect_paths([folder]), trust=trust,
                                 watermark="--no-watermark" not in flags)
    bad = 0
    for report in batch:  # as files finish; the GIL is free meanwhile
        print(report.to_json())
        if report.exit_class >= 2:
            bad += 1
    s = batch.summary
    print(f"{s['files']} files, {s['files_per_second']:.0f} files/s, {bad} with a bad label; "
          f"verdicts {s['by_verdict']}", file=sys.stderr)
    return s["exit_class"]


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
