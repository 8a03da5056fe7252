"""Verifying an archive on a cluster engine (Dask, Ray, Spark): the pieces every engine shares.

Each engine runs :func:`verify_partition` on a share of the paths, in its own worker processes,
and gets back the JSON lines ``aigcmark verify --jsonl`` prints for those files. The shares are
strided (every n-th path), not contiguous: an archive listed in sorted order keeps its long
recordings and large photos together, and a contiguous slice of them would leave one worker busy
while the others idle. The driver puts the lines back in input order with :func:`in_input_order`
(so the output is the CLI's, line for line) and adds them up with :class:`Summary`. Only paths, the trust store's JSON and strings cross process boundaries.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import TrustStore, _native, _trust, verify_many

__all__ = ["collect_paths", "partitions", "in_input_order", "verify_partition", "Summary"]


def collect_paths(paths: Iterable[Union[str, "os.PathLike[str]"]], recursive: bool = True) -> List[str]:
    """Files as given and, below folders, every file whose name says a format aigcmark reads,
    in sorted order (``aigcmark verify -r``'s list)."""
    return _native.collect_paths([os.fspath(p) for p in paths], recursive)


def partitions(items: Sequence[Any], count: int) -> List[Sequence[Any]]:
    """``items`` dealt into at most ``count`` nearly equal shares, every ``count``-th item to the
    same share (``items[i::count]``), so that expensive files spread over all of them.
    :func:`in_input_order` undoes it."""
    count = max(1, min(count, len(items)))
    return [items[i::count] for i in range(count) if len(items[i::count])]


def in_input_order(results: Sequence[Sequence[Any]]) -> List[Any]:
    """The per-share results of :func:`partitions`' shares (in share order), back in the order
    of the items they were made from."""
    out: List[Any] = []
    longest = max((len(r) for r in results), default=0)
    for j in range(longest):
        for r in results:
            if j < len(r):
                out.append(r[j])
    return out


def verify_partition(
    paths: Iterable[str],
    trust: Union[TrustStore, str],
    watermark: bool = True,
    jobs: int = 1,
) -> List[str]:
    """Verifies ``paths`` in this process; returns their ``--jsonl`` lines in input order.

    ``trust`` is a :class:`TrustStore` (it pickles) or its JSON text. ``jobs`` threads (1 suits
    one task per core, as Dask, Ray and Spark schedule).
    """
    if isinstance(trust, str) and trust.lstrip().startswith(("{", "[")):
        store = TrustStore.from_json(trust)
    else:
        store = _trust(trust)
    batch = verify_many(list(paths), trust=store, jobs=jobs, watermark=watermark, order="input")
    return list(batch.json_lines())


class Summary:
    """Counts over report lines, as the CLI's batch summary (files, by_verdict, by_format,
    seconds, files_per_second, exit_class)."""


    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.files = 0
        self.by_verdict: Dict[str, int] = {}
        self.by_format: Dict[str, int] = {}
        self.exit_class = 0

    def add(self, report: Dict[str, Any]) -> None:
        self.files += 1
        v, f = report["verdict"], report["format"]
        self.by_verdict[v] = self.by_verdict.get(v, 0) + 1
        self.by_format[f] = self.by_format.get(f, 0) + 1
        self.exit_class = max(self.exit_class, _native.EXIT_CLASSES.get(v, 3))

    def to_dict(self, seconds: Optional[float] = None) -> Dict[str, Any]:
        s = time.perf_counter() - self.start if seconds is None else seconds
        return {
            "files": self.files,
            "by_verdict": dict(sorted(self.by_verdict.items())),
            "by_format": dict(sorted(self.by_format.items())),
            "seconds": s,
            "files_per_second": self.files / s if s > 0 else 0.0,
            "exit_class": self.exit_class,
        }

    def text(self) -> str:
        """The summary lines the CLI prints to standard error after a batch."""
        d = self.to_dict()
        join = lambda m: ", ".join(f"{k} {v}" for k, v in m.items())  # noqa: E731
        t = (f"{d['files']} files in {d['seconds']:.2f} s ({d['files_per_second']:.0f} files/s)\n"
             f"  verdicts: {join(d['by_verdict'])}\n  formats:  {join(d['by_format'])}\n")
        if d["exit_class"] == 3:
            t += "  some files could not be verified\n"
        return t
