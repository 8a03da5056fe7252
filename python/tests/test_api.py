"""The keyword API: labels that verify, the CLI's JSON report, streaming, keys and errors."""

from __future__ import annotations

import json
import pickle
import threading

import pytest

import aigcmark
from conftest import PLATFORM, PRODUCER, run_cli

TEXT = ("生成式人工智能服务提供者应当对生成的文本添加标识。\n\n"
        "A second paragraph, in English, about the sea and the wind.\n\n"
        "- a list item\n- another one\n")


def test_label_text_verifies_and_report_is_the_clis_json(keys, cli, tmp_path):
    signer, trust, _key, trust_path = keys
    out = aigcmark.label(TEXT, signer=signer, producer=PRODUCER, produce_id="t-1")
    assert isinstance(out, str) and out != TEXT
    assert "AI" in out.splitlines()[0]
    r = aigcmark.verify(out.encode(), trust=trust, format="text")
    assert r.verdict == "labeled_intact" and r.ok and r.exit_class == 0
    assert r.label["ProduceID"] == "t-1" and r.label["ContentProducer"] == PRODUCER
    assert r.signature["status"] == "valid" and r.binding["status"] == "match"
    f = tmp_path / "answer.txt"
    f.write_text(out, encoding="utf-8")
    line = run_cli(cli, "verify", "--jsonl", "--trust", trust_path, str(f)).stdout.decode()
    from_path = aigcmark.verify(str(f), trust=trust)
    assert from_path.to_json() + "\n" == line
    assert from_path.to_dict() == json.loads(line)
    assert from_path.verdict == json.loads(line)["verdict"] == "labeled_intact"
    # The same text changed by one word is no longer intact.
    bad = out.replace("sea", "sky").encode()
    assert aigcmark.verify(bad, trust=trust, format="text").verdict != "labeled_intact"
    # Untrusted without the store.
    assert aigcmark.verify(out.encode(), trust=None, format="text").verdict == "untrusted"


def test_label_bytes_take_every_cli_option(keys):
    signer, trust, *_ = keys
    out = aigcmark.label(TEXT.encode(), signer=signer, producer=PRODUCER, label=2,
                         explicit=False, watermark=False, carrier="both", quality=80)
    assert isinstance(out, bytes)
    r = aigcmark.verify(out, trust=trust)
    assert r.label["Label"] == "2" and r.verdict == "labeled_intact"
    assert not out.decode().startswith("[AI")  # no prompt with explicit=False
    end = aigcmark.label(TEXT, signer=signer, producer=PRODUCER, position="end",
                         explicit_text="本文由人工智能生成")
    assert "本文由人工智能生成" in end.rstrip().splitlines()[-1]


@pytest.mark.parametrize("chunk", [1, 3, 7, 50])
def test_text_stream_gives_the_same_text_as_label(keys, chunk):
    signer, trust, *_ = keys
    whole = aigcmark.label(TEXT, signer=signer, producer=PRODUCER, produce_id="s-1", signed_at=1_700_000_000)
    s = aigcmark.TextLabelStream(signer, PRODUCER, produce_id="s-1", signed_at=1_700_000_000)
    assert s.produce_id == "s-1"
    sent = "".join(s.push(TEXT[i:i + chunk]) for i in range(0, len(TEXT), chunk)) + s.finish()
    assert sent == whole
    # Signed in 2023, before the keygen store's not_before: untrusted there, intact for a store
    # without a validity window.
    assert aigcmark.verify(sent.encode(), trust=trust, format="text").verdict == "untrusted"
    plain = aigcmark.TrustStore().with_key(signer, PRODUCER)
    assert aigcmark.verify(sent.encode(), trust=plain, format="text").ok
    with pytest.raises(aigcmark.RefusedError):
        s.finish()


def test_keygen_refuses_to_overwrite_and_signer_roundtrips(tmp_path):
    k = aigcmark.keygen(tmp_path, PRODUCER)
    assert (tmp_path / "signing.key").is_file() and (tmp_path / "trust.json").is_file()
    s = aigcmark.Signer.load(k.key_path)
    assert s.key_id == k.key_id
    assert aigcmark.Signer.from_pem(s.to_pem()).key_id == s.key_id
    assert len(s.public_key) == 32
    with pytest.raises(aigcmark.RefusedError, match="refusing to overwrite"):
        aigcmark.keygen(tmp_path, PRODUCER)
    with pytest.raises(aigcmark.InputError):
        aigcmark.keygen(tmp_path / "x", PRODUCER, role="god")
    store = aigcmark.TrustStore.load(k.trust_path)
    again = pickle.loads(pickle.dumps(store))
    assert again.to_json() == store.to_json() and len(again) == 1


def test_keygen_sm2_seals_and_verifies(tmp_path):
    k = aigcmark.keygen(tmp_path, PRODUCER, role="provider", alg="sm2")
    s = aigcmark.Signer.load(k.key_path)
    assert s.key_id == k.key_id and len(s.public_key) == 65
    out = aigcmark.label(TEXT, signer=s, producer=PRODUCER)
    r = aigcmark.verify(out.encode(), trust=k.trust_path, format="text")
    assert r.verdict == "labeled_intact"
    assert "AM2;" in r.to_json()  # the seal in the report's label
    with pytest.raises(aigcmark.InputError, match="ed25519, sm2"):
        aigcmark.keygen(tmp_path / "y", PRODUCER, alg="rsa")


def test_propagate_and_inspect(keys, tmp_path):
    signer, trust, *_ = keys
    platform = aigcmark.Signer.generate()
    trust2 = trust.with_key(platform, PLATFORM, role="platform")
    out = aigcmark.label(TEXT, signer=signer, producer=PRODUCER)
    shared = aigcmark.propagate(out, signer=platform, propagator=PLATFORM, propagate_id="p-9")
    r = aigcmark.verify(shared.encode(), trust=trust2, format="text")
    assert r.verdict == "labeled_intact"
    assert r.label["ContentPropagator"] == PLATFORM and r.propagation["signature"]["status"] == "valid"
    found = aigcmark.inspect(shared.encode(), format="text")
    assert found["carriers"] and found["carriers"][0]["label"]["PropagateID"] == "p-9"
    f = tmp_path / "a.md"
    f.write_text(shared, encoding="utf-8")
    assert aigcmark.inspect(f)["format"] == "markdown"


def test_verify_releases_the_gil(keys, corpus):
    """While one thread is inside verify (watermark search), another Python thread runs."""
    signer, trust, *_ = keys
    data = (corpus / "images/plasma/BytheWater.jpg").read_bytes()
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    before = len(ticks)
    aigcmark.verify(data, trust=trust)  # a second or so in Rust
    during = len(ticks) - before
    done.set()
    t.join()
    assert during > 5, "the ticker thread did not run while verify worked: the GIL was held"


BAD_CALLS = {
    "unknown format": (lambda s: aigcmark.label(b"hello", signer=s, producer=PRODUCER, format="gif"),
                       aigcmark.UnsupportedError, "unknown format"),
    "not bytes": (lambda s: aigcmark.label(12, signer=s, producer=PRODUCER), aigcmark.InputError, "bytes"),
    "empty": (lambda s: aigcmark.label(b"", signer=s, producer=PRODUCER), aigcmark.RefusedError, "empty"),
    "label kind": (lambda s: aigcmark.label("x y", signer=s, producer=PRODUCER, label=4),
                   aigcmark.InputError, "1, 2, 3"),
    "quality": (lambda s: aigcmark.label("x y", signer=s, producer=PRODUCER, quality=0),
                aigcmark.InputError, "quality"),
    "size": (lambda s: aigcmark.label("x y", signer=s, producer=PRODUCER, size=0.01),
             aigcmark.RefusedError, "0.05"),
    "position": (lambda s: aigcmark.label("x y", signer=s, producer=PRODUCER, position="middle"),
                 aigcmark.InputError, "position"),
    "no-explicit conflict": (lambda s: aigcmark.label("x y", signer=s, producer=PRODUCER, explicit=False,
                                                      explicit_text="AI生成"), aigcmark.InputError, "explicit"),
    "producer with spaces": (lambda s: aigcmark.label("x y", signer=s, producer="a b\n"),
                             aigcmark.InvalidLabelError, "ContentProducer"),
    "signer type": (lambda s: aigcmark.label("x y", signer=42, producer=PRODUCER), aigcmark.InputError, "signer"),
    "garbage png": (lambda s: aigcmark.label(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, signer=s, producer=PRODUCER),
                    aigcmark.MalformedError, "png"),
    "carrier": (lambda s: aigcmark.label("x y", signer=s, producer=PRODUCER, carrier="exif"),
                aigcmark.InputError, "carrier"),
    "verify_many str": (lambda s: aigcmark.verify_many("x.png", trust=None), aigcmark.InputError, "list"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_raises_a_clear_error(keys, case):
    signer, *_ = keys
    call, exc, words = BAD_CALLS[case]
    with pytest.raises(exc, match=words) as e:
        call(signer)
    assert isinstance(e.value, aigcmark.Error) and str(e.value)


def test_relabel_needs_replace(keys):
    signer, trust, *_ = keys
    out = aigcmark.label(TEXT, signer=signer, producer=PRODUCER)
    with pytest.raises(aigcmark.RefusedError, match="already carries a label"):
        aigcmark.label(out, signer=signer, producer=PRODUCER)
    again = aigcmark.label(out, signer=signer, producer=PRODUCER, replace=True, produce_id="r-2")
    assert aigcmark.verify(again.encode(), trust=trust, format="text").label["ProduceID"] == "r-2"


def test_non_key_files_raise_key_errors(tmp_path):
    p = tmp_path / "not-a-key.pem"
    p.write_text("hello\n")
    with pytest.raises(aigcmark.KeyFileError, match="not a PEM file"):
        aigcmark.Signer.load(p)
    with pytest.raises(aigcmark.IoError):
        aigcmark.Signer.load(tmp_path / "missing.key")
    with pytest.raises(aigcmark.Error):
        aigcmark.TrustStore.from_json("[1, 2")
    with pytest.raises(aigcmark.Error):
        aigcmark.TrustStore.load(p)


def test_unreadable_path_is_an_error_report_as_the_cli(cli, tmp_path):
    missing = str(tmp_path / "gone.png")
    r = aigcmark.verify(missing, trust=None)
    assert r.verdict == "error" and r.exit_class == 3
    line = run_cli(cli, "verify", "--jsonl", missing, check_codes=(3,)).stdout.decode()
    assert r.to_json() + "\n" == line


def test_exit_classes_come_from_the_library():
    # One table (Rust's Verdict::exit_class) for Report.exit_class and the cluster summary.
    classes = aigcmark._native.EXIT_CLASSES
    assert classes["labeled_intact"] == 0
    assert classes["c2pa_only"] == 1 and classes["unlabeled"] == 1
    assert classes["conflicting"] == 2 and classes["error"] == 3
    assert len(classes) == 11
