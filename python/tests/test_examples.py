"""The examples in python/examples run and give files that verify labeled_intact."""

from __future__ import annotations

import subprocess
import sys

import aigcmark
from conftest import PRODUCER, REPO

EX = REPO / "python" / "examples"


def _run(*args: str) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p


def test_service_examples_label_what_they_make(keys, tmp_path):
    _signer, trust, key_path, trust_path = keys
    _run(str(EX / "image_service.py"), key_path, PRODUCER, str(tmp_path / "a.png"))
    _run(str(EX / "tts.py"), key_path, PRODUCER, str(tmp_path / "a.wav"))
    chat = _run(str(EX / "chat_stream.py"), key_path, PRODUCER).stdout
    (tmp_path / "a.txt").write_text(chat, encoding="utf-8")
    for name in ("a.png", "a.wav", "a.txt"):
        r = aigcmark.verify(tmp_path / name, trust=trust)
        assert r.verdict == "labeled_intact", r.to_json()
    assert aigcmark.verify(tmp_path / "a.png", trust=trust).explicit  # the visible mark
    lines = _run(str(EX / "archive.py"), trust_path, str(tmp_path)).stdout.splitlines()
    assert len(lines) == 3
