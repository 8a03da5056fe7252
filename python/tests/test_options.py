"""The CLI's newer options from Python: trusted time (--tsa, --tsa-trust, --tsa-token), C2PA
(--c2pa-cert/--c2pa-key, --c2pa-trust, keygen --c2pa) and an external signing command.

The time-stamping authority is real: `openssl ts -reply` behind a local HTTP server, as in the
Rust tests (tests/custody_timestamp.rs).
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import aigcmark
from conftest import PRODUCER

OPENSSL = shutil.which("openssl")

TS_CONFIG = """\
[ tsa_config ]
serial = ./serial
crypto_device = builtin
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
signer_digest = sha256
[ tsa_ext ]
extendedKeyUsage = critical,timeStamping
basicConstraints = CA:FALSE
"""


def _openssl(d: Path, *args: str) -> None:
    assert OPENSSL, "openssl is needed (apt-get install openssl)"
    r = subprocess.run([OPENSSL, *args], cwd=d, capture_output=True)
    assert r.returncode == 0, r.stderr.decode(errors="replace")


def _authority(d: Path, name: str) -> None:
    """A root CA and a timestamping certificate it issued (P-256), in ``d``."""
    d.mkdir(parents=True)
    (d / "ts.cnf").write_text(TS_CONFIG)
    (d / "serial").write_text("01\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl(d, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
             "-subj", f"/CN={name} Root")
    _openssl(d, "req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}")
    _openssl(d, "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "tsa.pem", "-days", "3650", "-extfile", "ts.cnf",
             "-extensions", "tsa_ext")


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    """(url, ca.pem path, other authority's ca.pem path) of a local RFC 3161 authority."""
    root = tmp_path_factory.mktemp("tsa")
    good, other = root / "good", root / "other"
    _authority(good, "Test TSA")
    _authority(other, "Other TSA")
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the http.server name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                (good / "q.der").write_bytes(body)
                r = subprocess.run(
                    [OPENSSL, "ts", "-reply", "-config", "ts.cnf", "-section", "tsa_config",
                     "-inkey", "tsa.key", "-signer", "tsa.pem", "-queryfile", "q.der",
                     "-out", "r.der"],
                    cwd=good, capture_output=True,
                )
                reply = (good / "r.der").read_bytes() if r.returncode == 0 else b""
            self.send_response(200 if reply else 500)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa", good / "ca.pem", other / "ca.pem"
    server.shutdown()


@pytest.fixture(scope="module")
def keys():
    signer = aigcmark.Signer.generate()
    return signer, aigcmark.TrustStore().with_key(signer, PRODUCER, "provider")


def _pixels(seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, 320, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 18, (240, 320, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------
# Trusted time


def test_tsa_token_goes_into_an_image_and_verifies_against_its_authority(tsa, keys):
    url, ca, other_ca = tsa
    signer, trust = keys
    out = aigcmark.label_image(_pixels(), "png", signer=signer, producer=PRODUCER,
                               watermark=False, tsa=url)
    r = aigcmark.verify(out, trust=trust, watermark=False, tsa_trust=ca)
    assert r.verdict == "labeled_intact", r.to_json()
    ts = r.to_dict()["timestamp"]
    assert ts["status"] == "valid", ts
    assert "Test TSA" in ts["authority"]
    # The same file under another authority's root: well signed but untrusted.
    r = aigcmark.verify(out, trust=trust, watermark=False, tsa_trust=other_ca)
    assert r.to_dict()["timestamp"]["status"] == "untrusted"
    # PEM text works as well as a path; without any trust the token is untrusted.
    r = aigcmark.verify(out, trust=trust, watermark=False, tsa_trust=ca.read_text())
    assert r.to_dict()["timestamp"]["status"] == "valid"
    assert aigcmark.verify(out, trust=trust, watermark=False).to_dict()["timestamp"]["status"] \
        == "untrusted"


def test_a_texts_token_comes_back_beside_it_and_is_checked_when_given(tsa, keys, tmp_path):
    url, ca, _ = tsa
    signer, trust = keys
    answer = "The tide comes in twice a day.\n"
    with pytest.raises(aigcmark.InputError, match="label_detailed"):
        aigcmark.label(answer, signer=signer, producer=PRODUCER, tsa=url)
    out = aigcmark.label_detailed(answer, signer=signer, producer=PRODUCER, tsa=url)
    assert isinstance(out.data, str) and out.format == "text"
    assert out.timestamp_token and out.timestamp_token[0] == 0x30  # DER SEQUENCE
    data = out.data.encode()
    r = aigcmark.verify(data, trust=trust, format="text", tsa_trust=ca, tsa_token=out.timestamp_token)
    assert r.verdict == "labeled_intact"
    assert r.to_dict()["timestamp"]["status"] == "valid"
    # As a .tsr file, the way the CLI keeps it.
    tsr = tmp_path / "answer.txt.tsr"
    tsr.write_bytes(out.timestamp_token)
    r = aigcmark.verify(data, trust=trust, format="text", tsa_trust=ca, tsa_token=tsr)
    assert r.to_dict()["timestamp"]["status"] == "valid"
    # Another text's token does not cover this seal.
    other = aigcmark.label_detailed("Another answer.\n", signer=signer, producer=PRODUCER, tsa=url)
    r = aigcmark.verify(data, trust=trust, format="text", tsa_trust=ca,
                        tsa_token=other.timestamp_token)
    assert r.to_dict()["timestamp"]["status"] == "mismatch"


def test_tsa_failures_are_clear_errors(keys):
    signer, _ = keys
    # Nothing listens on port 9 of this machine: labeling fails rather than labeling untimed.
    with pytest.raises(aigcmark.Error):
        aigcmark.label_image(_pixels(), "png", signer=signer, producer=PRODUCER, watermark=False,
                             tsa="http://127.0.0.1:9/tsa")
    with pytest.raises(aigcmark.InputError):
        aigcmark.label_image(_pixels(), "png", signer=signer, producer=PRODUCER, tsa=42)
    with pytest.raises(aigcmark.Error):
        aigcmark.verify(b"\x89PNG\r\n\x1a\n", trust=None, tsa_trust=b"not a certificate")
    with pytest.raises(aigcmark.IoError):
        aigcmark.verify(b"text", trust=None, format="text", tsa_token="/nonexistent/x.tsr")


# ------------------------------------------------------------------------------------------
# C2PA


@pytest.fixture(scope="module")
def c2pa_keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("c2pa")
    k = aigcmark.keygen_c2pa(d)
    assert all(Path(p).is_file() for p in k)
    assert (Path(k.key_path).stat().st_mode & 0o077) == 0
    with pytest.raises(aigcmark.RefusedError, match="refusing to overwrite"):
        aigcmark.keygen_c2pa(d)
    return k


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_both_labels_from_python_and_c2pa_trust(c2pa_keys, keys, fmt):
    signer, trust = keys
    out = aigcmark.label_image(_pixels(), fmt, signer=signer, producer=PRODUCER,
                               c2pa_cert=c2pa_keys.chain_path, c2pa_key=c2pa_keys.key_path)
    r = aigcmark.verify(out, trust=trust, c2pa_trust=c2pa_keys.ca_path)
    assert r.verdict == "labeled_intact", r.to_json()
    c = r.to_dict()["c2pa"]
    assert c["status"] == "valid", c
    assert c["agrees_with_label"] is True
    assert c["agrees_with_watermark"] is True
    assert "c2pa.watermarked" in c["actions"]
    # Without anchors the manifest is sound but untrusted; the GB label is unaffected.
    r = aigcmark.verify(out, trust=trust, watermark=False)
    assert r.verdict == "labeled_intact"
    assert r.to_dict()["c2pa"]["status"] == "untrusted"


def test_c2pa_from_pcm_with_pem_text_and_in_bulk(c2pa_keys, keys, tmp_path):
    signer, trust = keys
    t = np.arange(16000 * 3) / 16000.0
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    chain = Path(c2pa_keys.chain_path).read_text()
    key = Path(c2pa_keys.key_path).read_bytes()
    wav = aigcmark.label_pcm(pcm, 16000, signer=signer, producer=PRODUCER, watermark=False,
                             c2pa_cert=chain, c2pa_key=key)
    p = tmp_path / "tts.wav"
    p.write_bytes(wav)
    reports = list(aigcmark.verify_many([p], trust=trust, watermark=False,
                                        c2pa_trust=c2pa_keys.ca_path))
    assert len(reports) == 1
    assert reports[0].verdict == "labeled_intact"
    assert reports[0].to_dict()["c2pa"]["status"] == "valid"


def test_c2pa_option_errors(c2pa_keys, keys):
    signer, _ = keys
    with pytest.raises(aigcmark.InputError, match="go together"):
        aigcmark.label_image(_pixels(), "jpeg", signer=signer, producer=PRODUCER,
                             c2pa_cert=c2pa_keys.chain_path)
    with pytest.raises(aigcmark.Error):
        aigcmark.label_image(_pixels(), "jpeg", signer=signer, producer=PRODUCER,
                             c2pa_cert=c2pa_keys.chain_path, c2pa_key=c2pa_keys.chain_path)
    with pytest.raises(aigcmark.InputError, match="no PEM certificate"):
        aigcmark.verify(b"\xff\xd8\xff\xd9", trust=None, c2pa_trust="-----BEGIN NOTHING-----")
    with pytest.raises(aigcmark.InputError):
        aigcmark.verify(b"\xff\xd8\xff\xd9", trust=None, c2pa_trust=3.5)


# ------------------------------------------------------------------------------------------
# A signing command (the key stays in another process)


def test_signer_from_command_signs_with_an_openssl_key(tmp_path):
    key = tmp_path / "provider.key"
    pub = tmp_path / "provider.pub.pem"
    _openssl(tmp_path, "genpkey", "-algorithm", "ed25519", "-out", str(key))
    _openssl(tmp_path, "pkey", "-pubout", "-in", str(key), "-out", str(pub))
    script = tmp_path / "sign.sh"
    script.write_text(
        "#!/bin/sh\nset -e\nt=$(mktemp)\ntrap 'rm -f \"$t\"' EXIT\ncat > \"$t\"\n"
        f"{OPENSSL} pkeyutl -sign -inkey '{key}' -rawin -in \"$t\"\n"
    )
    signer = aigcmark.Signer.from_command(f"sh '{script}'", pub)
    same = aigcmark.Signer.from_command(f"sh '{script}'", pub.read_text(), timeout=10)
    assert signer.key_id == same.key_id
    trust = aigcmark.TrustStore().with_key(signer, PRODUCER, "provider")
    out = aigcmark.label("A poem about the sea.", signer=signer, producer=PRODUCER)
    assert aigcmark.verify(out.encode(), trust=trust, format="text").verdict == "labeled_intact"
    # A command that signs for another key is caught when the signer is made.
    with pytest.raises(aigcmark.KeyFileError, match="does not verify"):
        aigcmark.Signer.from_command("head -c 64 /dev/zero", pub)
    with pytest.raises(aigcmark.InputError):
        aigcmark.Signer.from_command("true", pub, timeout=0)
    with pytest.raises(aigcmark.KeyFileError):
        aigcmark.Signer.from_command("true", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


# ------------------------------------------------------------------------------------------
# Resource limits (verify --limits)


def test_limits_bound_what_verify_decodes(keys, tmp_path):
    signer, trust = keys
    png = aigcmark.label_image(_pixels(), "png", signer=signer, producer=PRODUCER, watermark=False)
    assert aigcmark.verify(png, trust=trust, watermark=False).verdict == "labeled_intact"
    # 240 x 320 = 76 800 pixels: over a 10 000-pixel bound the pixels are not decoded for the
    # watermark search, and the report says so (the label is checked without decoding).
    small = aigcmark.verify(png, trust=trust, limits={"max_pixels": 10_000})
    assert small.to_dict()["watermark"]["status"] == "not_checked", small.to_json()
    assert any(f["code"] == "watermark.not_checked" and "10000-pixel limit" in f["message"]
               for f in small.findings), small.findings
    assert aigcmark.verify(png, trust=trust).to_dict()["watermark"]["status"] != "not_checked"
    # File size through verify_many, as a JSON string.
    p = tmp_path / "x.png"
    p.write_bytes(png)
    (r,) = list(aigcmark.verify_many([p], trust=trust, watermark=False,
                                     limits='{"max_file_bytes": 100}'))
    assert r.verdict == "error", r.to_json()
    with pytest.raises(aigcmark.RefusedError, match="max_pixels"):
        aigcmark.verify(png, trust=trust, limits={"max_pixelz": 1})
    with pytest.raises(aigcmark.InputError):
        aigcmark.verify(png, trust=trust, limits=5)


def test_label_notes_point_at_the_callers_line(keys):
    import io
    import wave

    signer, _ = keys
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(16000) / 5.0) * 8000).astype("<i2").tobytes())
    short = buf.getvalue()  # 1 s: too short for the watermark, which labeling notes
    for call in (aigcmark.label, aigcmark.label_detailed):
        with pytest.warns(aigcmark.LabelNote) as caught:
            call(short, signer=signer, producer=PRODUCER)
        assert caught[0].filename == __file__, (call.__name__, caught[0].filename)
