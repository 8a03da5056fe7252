"""Shared fixtures: the real corpus, the aigcmark CLI to compare with, and keys.

Tests on real content never skip: a missing corpus or CLI fails with what to run.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import aigcmark

PRODUCER = "001191000000MA00DEMO0X10000"
PLATFORM = "001191000000MA00DEMO0X20000"
REPO = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    d = os.environ.get("AIGCMARK_CORPUS")
    if d:
        p = Path(d)
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        p = cache / "aigcmark-corpus"
    assert (p / "images").is_dir() and (p / "audio").is_dir(), (
        f"the test corpus is missing at {p}: run scripts/fetch-corpus.sh first"
    )
    return p


@pytest.fixture(scope="session")
def corpus() -> Path:
    return corpus_dir()


@pytest.fixture(scope="session")
def cli() -> str:
    """The aigcmark binary: $AIGCMARK_BIN, else target/{debug,release}/aigcmark of this checkout."""
    env = os.environ.get("AIGCMARK_BIN")
    if env:
        assert Path(env).is_file(), f"AIGCMARK_BIN={env} does not exist"
        return env
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    for profile in ("debug", "release"):
        p = target / profile / "aigcmark"
        if p.is_file():
            return str(p)
    raise AssertionError("the aigcmark CLI is not built: run `cargo build --bin aigcmark` "
                         "(or set AIGCMARK_BIN)")


def run_cli(cli: str, *args: str, check_codes=(0, 1, 2)) -> subprocess.CompletedProcess:
    r = subprocess.run([cli, *args], capture_output=True)
    assert r.returncode in check_codes, r.stderr.decode(errors="replace")
    return r


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    """A provider key made by aigcmark.keygen: (signer, trust store, key path, trust path)."""
    d = tmp_path_factory.mktemp("keys")
    k = aigcmark.keygen(d, PRODUCER, role="provider")
    return aigcmark.Signer.load(k.key_path), aigcmark.TrustStore.load(k.trust_path), k.key_path, k.trust_path
