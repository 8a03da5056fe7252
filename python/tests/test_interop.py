"""NumPy, Pillow and soundfile interop on real images and recordings from the corpus."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

import aigcmark
from conftest import PRODUCER

IMAGES = ["images/skimage/astronaut.png", "images/skimage/coffee.png", "images/skimage/camera.png",
          "images/plasma/BytheWater.jpg"]


def _decode(b: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(b))
    img.load()
    return img


@pytest.mark.parametrize("rel", IMAGES)
@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_numpy_image_labels_and_verifies(keys, corpus, rel, fmt):
    signer, trust, *_ = keys
    with Image.open(corpus / rel) as im:
        im.thumbnail((640, 640))
        arr = np.asarray(im)  # H×W×3 RGB or H×W grey
    out = aigcmark.label_image(arr, fmt, signer=signer, producer=PRODUCER)
    back = _decode(out)
    assert back.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
    assert back.size == (arr.shape[1], arr.shape[0])
    r = aigcmark.verify(out, trust=trust)
    assert r.verdict == "labeled_intact", r.to_json()
    assert r.format == fmt and r.watermark["status"] == "detected"


def test_png_pixels_are_kept_without_watermark(keys, corpus):
    signer, trust, *_ = keys
    arr = np.asarray(Image.open(corpus / "images/skimage/coffee.png").convert("RGBA"))
    out = aigcmark.label_image(arr, "png", signer=signer, producer=PRODUCER, watermark=False)
    assert np.array_equal(np.asarray(_decode(out)), arr)
    assert aigcmark.verify(out, trust=trust, watermark=False).ok
    # With the watermark, pixels change a little, and the label still holds.
    wm = np.asarray(_decode(aigcmark.label_image(arr, "png", signer=signer, producer=PRODUCER)))
    diff = np.abs(wm.astype(int) - arr.astype(int))
    assert 0 < diff.max() < 40


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_pil_images_of_every_mode(keys, corpus, mode):
    signer, trust, *_ = keys
    im = Image.open(corpus / "images/skimage/astronaut.png").convert(mode)
    out = aigcmark.label_image(im, "png", signer=signer, producer=PRODUCER, explicit=True)
    r = aigcmark.verify(out, trust=trust)
    assert r.ok and r.explicit, r.to_json()


def test_non_contiguous_array_is_copied_correctly(keys, corpus):
    signer, _trust, *_ = keys
    arr = np.asarray(Image.open(corpus / "images/skimage/coffee.png").convert("RGB"))
    view = arr[::2, ::-2]  # strided, reversed
    out = aigcmark.label_image(view, "png", signer=signer, producer=PRODUCER, watermark=False)
    assert np.array_equal(np.asarray(_decode(out)), view)


@pytest.mark.parametrize("bad, words", [
    (np.zeros((64, 64, 3), np.float32), "dtype float32"),
    (np.zeros((64, 64, 2), np.uint8), "shape"),
    (np.zeros((4, 64, 64, 3), np.uint8), "shape"),
    (np.zeros((0, 64, 3), np.uint8), "do not make"),
    ([[1, 2, 3]], "NumPy"),
])
def test_bad_images_raise(keys, bad, words):
    signer, *_ = keys
    with pytest.raises(aigcmark.InputError, match=words):
        aigcmark.label_image(bad, "png", signer=signer, producer=PRODUCER)


def test_label_image_rejects_audio_formats(keys):
    signer, *_ = keys
    with pytest.raises(aigcmark.InputError, match="png, jpeg or webp"):
        aigcmark.label_image(np.zeros((8, 8, 3), np.uint8), "wav", signer=signer, producer=PRODUCER)
    with pytest.raises(aigcmark.UnsupportedError):
        aigcmark.label_image(np.zeros((8, 8, 3), np.uint8), "gif", signer=signer, producer=PRODUCER)


def _recording(corpus, suffix: str):
    files = sorted(p for p in (corpus / "audio").rglob(f"*.{suffix}"))
    assert files, f"no .{suffix} in the corpus"
    return files


@pytest.mark.parametrize("dtype", ["int16", "float32"])
def test_soundfile_pcm_labels_and_reads_back(keys, corpus, dtype):
    signer, trust, *_ = keys
    # The longest of a few real recordings, mono and stereo as they come.
    for path in _recording(corpus, "flac")[:3] + _recording(corpus, "wav")[:3]:
        samples, rate = sf.read(path, dtype=dtype, always_2d=False)
        if samples.shape[0] > rate * 20:
            samples = samples[: rate * 20]
        out = aigcmark.label_pcm(samples, rate, signer=signer, producer=PRODUCER, watermark=False)
        back, back_rate = sf.read(io.BytesIO(out), dtype=dtype, always_2d=False)
        assert back_rate == rate and np.array_equal(back, samples), path
        r = aigcmark.verify(out, trust=trust)
        assert r.verdict == "labeled_intact" and r.format == "wav", (path, r.to_json())


def test_pcm_watermark_and_rhythm_on_real_speech(keys, corpus):
    signer, trust, *_ = keys
    path = max(_recording(corpus, "wav"), key=lambda p: sf.info(p).duration)
    samples, rate = sf.read(path, dtype="float32")
    samples = samples[: rate * 12]
    out = aigcmark.label_pcm(samples, rate, signer=signer, producer=PRODUCER, explicit=True, position="start")
    r = aigcmark.verify(out, trust=trust)
    assert r.ok, r.to_json()
    assert r.explicit, "the audible rhythm was not found"
    back, _ = sf.read(io.BytesIO(out), dtype="float32")
    assert back.shape[0] > samples.shape[0]  # the rhythm was inserted


def test_real_flac_keeps_its_format_without_watermark(keys, corpus):
    signer, trust, *_ = keys
    src = _recording(corpus, "flac")[0]
    out = aigcmark.label(src.read_bytes(), signer=signer, producer=PRODUCER, watermark=False)
    assert out[:4] == b"fLaC"
    a, _ = sf.read(src, dtype="int16")
    b, _ = sf.read(io.BytesIO(out), dtype="int16")
    assert np.array_equal(a, b)
    assert aigcmark.verify(out, trust=trust).ok


@pytest.mark.parametrize("bad, rate, words", [
    (np.zeros(1000, np.int32), 16000, "dtype int32"),
    (np.zeros(1000, np.float64), 16000, "dtype float64"),
    (np.zeros((10, 10, 2), np.int16), 16000, "shape"),
    (np.zeros(1000, np.int16), 0, "rate"),
    (np.zeros((1000, 0), np.int16), 16000, "channels"),
    (np.zeros(0, np.int16), 16000, "no samples"),
    (b"\0\0\0\0", 16000, "NumPy"),
])
def test_bad_pcm_raises(keys, bad, rate, words):
    signer, *_ = keys
    with pytest.raises(aigcmark.InputError, match=words):
        aigcmark.label_pcm(bad, rate, signer=signer, producer=PRODUCER)
