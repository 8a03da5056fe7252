"""verify_many, Dask (LocalCluster, 2 worker processes) and Ray (local) on a few hundred real
files: their JSON lines equal `aigcmark verify --jsonl` on the same files, line for line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import aigcmark
from aigcmark.cluster import collect_paths
from conftest import PRODUCER, REPO

sys.path.insert(0, str(REPO / "python" / "examples"))


def _derive_real_files(corpus: Path, out: Path) -> None:
    """More real files from the fetched corpus alone: crops of every photograph (PNG, JPEG, WebP)
    and excerpts of every recording (WAV, FLAC), so the archive has a few hundred files."""
    import soundfile
    from PIL import Image

    for n, p in enumerate(sorted(q for q in (corpus / "images").rglob("*") if q.suffix in (".jpg", ".png"))):
        with Image.open(p) as im:
            im = im.convert("RGB")
            im.thumbnail((1024, 1024))
            w, h = im.size
            boxes = [(0, 0, w // 2, h // 2), (w // 4, h // 4, 3 * w // 4, 3 * h // 4), (w // 2, h // 2, w, h)]
            for box, ext in zip(boxes, ("png", "jpg", "webp")):
                im.crop(box).save(out / f"crop{n:03}-{box[0]}.{ext}")
    for n, p in enumerate(sorted(q for q in (corpus / "audio").rglob("*") if q.suffix in (".wav", ".flac"))):
        data, rate = soundfile.read(p, frames=-1, always_2d=True)
        part = max(rate // 2, len(data) // 3)
        soundfile.write(out / f"excerpt{n:03}-a.wav", data[:part], rate, subtype="PCM_16")
        soundfile.write(out / f"excerpt{n:03}-b.flac", data[part:2 * part], rate, subtype="PCM_16")


@pytest.fixture(scope="module")
def archive(tmp_path_factory, keys, corpus):
    """~300 real files (the corpus and crops/excerpts of it), plus labeled copies (intact, altered, untrusted) so verdicts vary."""
    signer, _trust, *_ = keys
    d = tmp_path_factory.mktemp("archive")
    labeled = d / "labeled"
    labeled.mkdir()
    srcs = ["images/skimage/astronaut.png", "images/plasma/BytheWater.jpg"]
    srcs += [str(p.relative_to(corpus)) for p in sorted((corpus / "audio").rglob("*.flac"))[:2]]
    for i, rel in enumerate(srcs):
        data = (corpus / rel).read_bytes()
        out = aigcmark.label(data, signer=signer, producer=PRODUCER, watermark=False)
        name = Path(rel).name
        (labeled / name).write_bytes(out)
        if i == 0:  # altered: one pixel byte of the label's binding range changed later
            (labeled / f"tampered-{name}").write_bytes(out[:-200] + bytes([out[-200] ^ 1]) + out[-199:])
    other = aigcmark.Signer.generate()
    (labeled / "other-key.txt").write_text(aigcmark.label("Text from a key nobody trusts.", signer=other,
                                                          producer=PRODUCER))
    (labeled / "empty.txt").write_bytes(b"")
    derived = d / "derived"
    derived.mkdir()
    _derive_real_files(corpus, derived)
    paths = [str(labeled), str(corpus / "audio"), str(corpus / "images"), str(derived)]
    files = collect_paths(paths)
    assert len(files) >= 250
    return files


@pytest.fixture(scope="module")
def cli_lines(cli, keys, archive):
    *_, trust_path = keys
    p = subprocess.run([cli, "verify", "--jsonl", "--no-watermark", "--trust", trust_path, "-"],
                       input="\n".join(archive).encode(), capture_output=True)
    assert p.returncode in (1, 2, 3), p.stderr
    lines = p.stdout.decode().splitlines()
    assert len(lines) == len(archive)
    verdicts = {json.loads(l)["verdict"] for l in lines}
    assert {"labeled_intact", "unlabeled", "untrusted", "error"} <= verdicts, verdicts
    assert verdicts & {"altered", "forged"}, verdicts
    return lines


def test_verify_many_matches_the_cli(keys, archive, cli_lines):
    _signer, trust, *_ = keys
    batch = aigcmark.verify_many(archive, trust=trust, watermark=False, order="input", jobs=2)
    lines = [r.to_json() for r in batch]
    assert lines == cli_lines
    s = batch.summary
    assert s["files"] == len(archive) and sum(s["by_verdict"].values()) == len(archive)
    # As files finish: the same set of lines.
    done = list(aigcmark.verify_many(archive, trust=trust, watermark=False).json_lines())
    assert sorted(done) == sorted(cli_lines)


def test_dask_local_cluster_matches_the_cli(keys, archive, cli_lines):
    from dask.distributed import Client, LocalCluster
    from verify_with_dask import verify_with_dask

    _signer, trust, *_ = keys
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        lines, summary = verify_with_dask(archive, trust, client, watermark=False)
    assert lines == cli_lines
    assert summary.files == len(archive) and summary.exit_class == 3


def test_ray_local_matches_the_cli(keys, archive, cli_lines):
    import ray
    from verify_with_ray import verify_with_ray

    _signer, trust, *_ = keys
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        lines, summary = verify_with_ray(archive, trust, watermark=False)
    finally:
        ray.shutdown()
    assert lines == cli_lines
    assert summary.to_dict()["by_verdict"] == dict(sorted(
        {v: sum(1 for l in cli_lines if json.loads(l)["verdict"] == v)
         for v in {json.loads(l)["verdict"] for l in cli_lines}}.items()))


def test_dask_example_script_writes_the_clis_lines(keys, archive, cli_lines, tmp_path):
    *_, trust_path = keys
    out = tmp_path / "out.jsonl"
    p = subprocess.run([sys.executable, str(REPO / "python/examples/verify_with_dask.py"), "--trust",
                        trust_path, "--no-watermark", "--out", str(out), "-"],
                       input="\n".join(archive[:40]).encode(), capture_output=True)
    assert p.returncode in (1, 2, 3), p.stderr.decode()
    assert out.read_text().splitlines() == cli_lines[:40]
    assert b"40 files in" in p.stderr


@pytest.mark.parametrize("n, count", [(0, 4), (1, 4), (7, 3), (8, 4), (300, 8), (5, 9)])
def test_strided_partitions_come_back_in_input_order(n, count):
    from aigcmark.cluster import in_input_order, partitions

    items = list(range(n))
    parts = partitions(items, count)
    assert len(parts) == min(max(count, 1), n)
    assert all(parts) and max(map(len, parts), default=0) - min(map(len, parts), default=0) <= 1
    if n >= count:  # every share holds items from all over the list, not a slice of it
        assert all(p[0] < count and p[-1] >= n - count for p in parts)
    assert in_input_order(parts) == items
