"""Signed GB 45438 / EU AI Act "AI-generated" labels for text, images and audio.

The Python face of the aigcmark Rust library: label what a generation service produced, at output
time and in memory (bytes, NumPy arrays, PIL images, PCM samples, streamed text), and verify
files and archives. Every call that does real work runs in Rust with the GIL released, so
threads scale; errors are :class:`aigcmark.Error` subclasses carrying the CLI's messages.

    >>> import aigcmark
    >>> signer = aigcmark.Signer.generate()
    >>> trust = aigcmark.TrustStore().with_key(signer, "001191000000MA00DEMO0X10000")
    >>> out = aigcmark.label("A poem about the sea.", signer=signer,
    ...                      producer="001191000000MA00DEMO0X10000")
    >>> aigcmark.verify(out.encode(), trust=trust, format="text").verdict
    'labeled_intact'
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Union

from . import _native
from ._errors import (
    Error,
    InputError,
    InvalidLabelError,
    IoError,
    KeyFileError,
    LabelNote,
    LimitError,
    MalformedError,
    RefusedError,
    UnsupportedError,
)

Signer = _native.Signer
TrustStore = _native.TrustStore
__version__ = _native.__version__

__all__ = [
    "Error",
    "InputError",
    "InvalidLabelError",
    "IoError",
    "KeyFileError",
    "LabelNote",
    "LimitError",
    "MalformedError",
    "RefusedError",
    "UnsupportedError",
    "C2paKeys",
    "Keys",
    "Labeled",
    "Report",
    "Signer",
    "TextLabelStream",
    "TrustStore",
    "VerifyBatch",
    "inspect",
    "keygen",
    "keygen_c2pa",
    "label",
    "label_detailed",
    "label_image",
    "label_pcm",
    "propagate",
    "verify",
    "verify_many",
]

PathLike = Union[str, "os.PathLike[str]"]

_EXIT_CLASS = _native.EXIT_CLASSES


class Keys(NamedTuple):
    """What :func:`keygen` wrote."""

    key_id: str
    key_path: str
    trust_path: str


def keygen(dir: PathLike, producer: str, role: str = "any", alg: str = "ed25519") -> Keys:
    """Makes ``dir/signing.key`` and ``dir/trust.json`` as ``aigcmark keygen`` does.

    ``producer`` is the provider (or platform) code the key belongs to; ``role`` is
    ``"provider"``, ``"platform"`` or ``"any"``; ``alg`` is ``"ed25519"`` or ``"sm2"`` (SM2 needs
    a wheel built with the ``sm`` feature). Never overwrites an existing key or trust store
    (:class:`RefusedError`).
    """
    return Keys(*_native.keygen(os.fspath(dir), producer, role, alg))


class C2paKeys(NamedTuple):
    """What :func:`keygen_c2pa` wrote (TEST ONLY certificates)."""

    ca_path: str
    chain_path: str
    key_path: str


def keygen_c2pa(dir: PathLike) -> C2paKeys:
    """Writes a TEST ONLY C2PA certificate chain into ``dir``, as ``aigcmark keygen --c2pa``:
    ``c2pa-ca.pem`` (the trust anchor for ``verify(c2pa_trust=...)``), ``c2pa-chain.pem`` and
    ``c2pa-signing.key`` (for ``label(c2pa_cert=..., c2pa_key=...)``). Never use them outside
    tests and demos; never overwrites (:class:`RefusedError`)."""
    return C2paKeys(*_native.keygen_c2pa(os.fspath(dir)))


# --------------------------------------------------------------------------------------------
# Helpers


def _signer(signer: Any) -> Signer:
    if isinstance(signer, Signer):
        return signer
    if isinstance(signer, (str, os.PathLike)):
        return Signer.load(os.fspath(signer))
    raise InputError(f"signer must be an aigcmark.Signer or a key file path, not {type(signer).__name__}")


def _trust(trust: Any) -> TrustStore:
    if isinstance(trust, TrustStore):
        return trust
    if isinstance(trust, (str, os.PathLike)):
        return TrustStore.load(os.fspath(trust))
    if trust is None:
        return TrustStore()
    raise InputError(f"trust must be an aigcmark.TrustStore or a path, not {type(trust).__name__}")


def _bytes(data: Any, what: str = "data") -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise InputError(f"{what} must be bytes, not {type(data).__name__}")


def _pem(value: Any, what: str) -> Optional[str]:
    """PEM text from PEM ``str``/``bytes`` or from a file path."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{what} is not PEM text") from None
    if isinstance(value, str) and "-----BEGIN" in value:
        return value
    if isinstance(value, (str, os.PathLike)):
        return _read(value, what).decode("utf-8", errors="replace")
    raise InputError(f"{what} must be PEM text or a file path, not {type(value).__name__}")


def _read(path: PathLike, what: str) -> bytes:
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            return f.read()
    except OSError as e:
        raise IoError(f"{what} {name}: {e.strerror}") from None


def _label_args(
    producer: str,
    produce_id: Optional[str],
    label: Union[str, int],
    explicit: Optional[bool],
    explicit_text: Optional[str],
    position: Optional[str],
    size: Optional[float],
    watermark: bool,
    carrier: str,
    replace: bool,
    quality: int,
    signed_at: Optional[int],
    tsa: Optional[str] = None,
    c2pa_cert: Any = None,
    c2pa_key: Any = None,
) -> Dict[str, Any]:
    if not isinstance(producer, str):
        raise InputError("producer must be a str (the provider's code)")
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        raise InputError("label must be 1, 2 or 3")
    if isinstance(quality, bool) or not isinstance(quality, int):
        raise InputError("quality must be an int in 1-100")
    if tsa is not None and not isinstance(tsa, str):
        raise InputError("tsa must be the time-stamping authority's URL (str)")
    return {
        "producer": producer,
        "produce_id": produce_id,
        "label": str(label),
        "explicit": explicit,
        "explicit_text": explicit_text,
        "position": position,
        "size": None if size is None else float(size),
        "watermark": bool(watermark),
        "carrier": carrier,
        "replace": bool(replace),
        "quality": quality,
        "signed_at": signed_at,
        "tsa": tsa,
        "c2pa_cert": _pem(c2pa_cert, "c2pa_cert"),
        "c2pa_key": _pem(c2pa_key, "c2pa_key"),
    }


def _notes(notes: List[str]) -> None:
    for n in notes:
        warnings.warn(n, LabelNote, stacklevel=3)


# --------------------------------------------------------------------------------------------
# Labeling


class Labeled(NamedTuple):
    """What :func:`label_detailed` made."""

    data: Union[bytes, str]
    """The labeled file (``str`` when a ``str`` was labeled)."""
    format: str
    """The output's format (``wav`` when compressed audio was watermarked)."""
    produce_id: str
    """The label's ProduceID."""
    watermark_id: Optional[str]
    """The embedded watermark's id, when one was embedded."""
    notes: List[str]
    """What was done besides writing metadata (re-encoding, a format change)."""
    timestamp_token: Optional[bytes]
    """The RFC 3161 token (DER) when ``tsa`` was given; in ``data`` too except for text and
    Markdown, which keep it beside the file (``verify(tsa_token=...)``)."""


def label_detailed(
    data: Union[bytes, bytearray, memoryview, str],
    *,
    signer: Union[Signer, PathLike],
    producer: str,
    format: Optional[str] = None,
    produce_id: Optional[str] = None,
    label: Union[str, int] = "1",
    explicit: Optional[bool] = None,
    explicit_text: Optional[str] = None,
    position: Optional[str] = None,
    size: Optional[float] = None,
    watermark: bool = True,
    carrier: str = "xmp",
    replace: bool = False,
    quality: int = 92,
    signed_at: Optional[int] = None,
    tsa: Optional[str] = None,
    c2pa_cert: Any = None,
    c2pa_key: Any = None,
) -> Labeled:
    """:func:`label`, returning the labeled file with its ProduceID, watermark id, notes and
    timestamp token (the way to get a text's token, which has no place in the text)."""
    args = _label_args(producer, produce_id, label, explicit, explicit_text, position, size,
                       watermark, carrier, replace, quality, signed_at, tsa, c2pa_cert, c2pa_key)
    out = _label(data, signer, format, args)
    _notes(out.notes)
    return out


def _label(data: Any, signer: Any, format: Optional[str], args: Dict[str, Any]) -> Labeled:
    as_text = isinstance(data, str)
    raw = data.encode("utf-8") if as_text else _bytes(data)
    if as_text and format is None:
        format = "text"
    out, fmt, pid, wm, notes, token = _native.label(raw, _signer(signer), args, format)
    return Labeled(out.decode("utf-8") if as_text else out, fmt, pid, wm, notes, token)


def label(
    data: Union[bytes, bytearray, memoryview, str],
    *,
    signer: Union[Signer, PathLike],
    producer: str,
    format: Optional[str] = None,
    produce_id: Optional[str] = None,
    label: Union[str, int] = "1",
    explicit: Optional[bool] = None,
    explicit_text: Optional[str] = None,
    position: Optional[str] = None,
    size: Optional[float] = None,
    watermark: bool = True,
    carrier: str = "xmp",
    replace: bool = False,
    quality: int = 92,
    signed_at: Optional[int] = None,
    tsa: Optional[str] = None,
    c2pa_cert: Any = None,
    c2pa_key: Any = None,
) -> Union[bytes, str]:
    """Labels a file held in memory as AI-generated; returns the labeled file.

    The options are ``aigcmark label``'s, with the same names and defaults: ``label`` 1/2/3,
    ``explicit`` None (text and Markdown get their prompt, images and audio none) / True
    (``--explicit``) / False (``--no-explicit``), ``explicit_text``, ``position`` (start, end,
    both, top-left, top-right, bottom-left, bottom-right), ``size`` (0.05-0.5), ``watermark``
    (``--no-watermark`` is False), ``carrier`` (xmp, annex-b, both), ``replace``, ``quality``.
    ``format`` forces the input format (text, markdown, png, jpeg, webp, wav, mp3, flac, ogg);
    by default it is detected from the bytes. A ``str`` is labeled as text and a ``str`` is
    returned. Compressed audio with ``watermark=True`` comes back as WAV (a :class:`LabelNote`
    warning says so); pass ``watermark=False`` to keep MP3/FLAC/Ogg.

    ``tsa`` (``--tsa``) is an RFC 3161 time-stamping authority's ``http://`` URL: its token over
    the seal goes into the file (text and Markdown have no place for it: use
    :func:`label_detailed` to get it). ``c2pa_cert`` and ``c2pa_key`` (``--c2pa-cert``,
    ``--c2pa-key``: PEM text or file paths; :func:`keygen_c2pa` makes test ones) also write a
    signed C2PA manifest into JPEG, PNG, WebP, WAV and MP3.
    """
    if tsa is not None and (isinstance(data, str) or format in ("text", "markdown")):
        raise InputError("a text's timestamp token is kept beside it: use label_detailed() to get it")
    args = _label_args(producer, produce_id, label, explicit, explicit_text, position, size,
                       watermark, carrier, replace, quality, signed_at, tsa, c2pa_cert, c2pa_key)
    out = _label(data, signer, format, args)
    _notes(out.notes)
    if out.timestamp_token is not None and out.format in ("text", "markdown"):
        raise InputError("a text's timestamp token is kept beside it: use label_detailed() to get it")
    return out.data


def _pixels(image: Any):
    """(bytes, width, height, channels) from a PIL image or a uint8 H×W×C array."""
    try:
        from PIL import Image as _PIL
    except ImportError:  # pragma: no cover - Pillow is optional
        _PIL = None
    if _PIL is not None and isinstance(image, _PIL.Image):
        img = image
        if img.mode not in ("L", "RGB", "RGBA"):
            has_alpha = "A" in img.getbands() or "transparency" in img.info
            img = img.convert("RGBA" if has_alpha else "RGB")
        channels = {"L": 1, "RGB": 3, "RGBA": 4}[img.mode]
        return img.tobytes(), img.width, img.height, channels
    shape = getattr(image, "shape", None)
    dtype = getattr(image, "dtype", None)
    if shape is None or dtype is None:
        raise InputError(
            f"label_image takes a NumPy uint8 array (H×W×3 or H×W×4) or a PIL image, "
            f"not {type(image).__name__}"
        )
    if str(dtype) != "uint8":
        raise InputError(f"image array has dtype {dtype}; give uint8 (0-255) pixels")
    if len(shape) == 2:
        h, w, c = shape[0], shape[1], 1
    elif len(shape) == 3 and shape[2] in (3, 4):
        h, w, c = shape
    else:
        raise InputError(f"image array has shape {tuple(shape)}; give H×W×3 (RGB) or H×W×4 (RGBA)")
    import numpy as np

    return np.ascontiguousarray(image).tobytes(), int(w), int(h), int(c)


def label_image(
    image: Any,
    format: str = "png",
    *,
    signer: Union[Signer, PathLike],
    producer: str,
    produce_id: Optional[str] = None,
    label: Union[str, int] = "1",
    explicit: Optional[bool] = None,
    explicit_text: Optional[str] = None,
    position: Optional[str] = None,
    size: Optional[float] = None,
    watermark: bool = True,
    carrier: str = "xmp",
    replace: bool = False,
    quality: int = 92,
    signed_at: Optional[int] = None,
    tsa: Optional[str] = None,
    c2pa_cert: Any = None,
    c2pa_key: Any = None,
) -> bytes:
    """Encodes generated pixels as ``format`` (png, jpeg, webp) and labels the file.

    ``image`` is a NumPy ``uint8`` array H×W×3 (RGB), H×W×4 (RGBA) or H×W (grey), or a PIL
    image. No temporary files. JPEG drops alpha; WebP is written lossless. Options as
    :func:`label`.
    """
    pixels, w, h, c = _pixels(image)
    args = _label_args(producer, produce_id, label, explicit, explicit_text, position, size,
                       watermark, carrier, replace, quality, signed_at, tsa, c2pa_cert, c2pa_key)
    out, _fmt, _pid, _wm, notes, _token = _native.label_image(pixels, w, h, c, format, _signer(signer), args)
    # The pixels were just encoded here: that the watermark re-encoded them is no news.
    _notes([n for n in notes if not n.startswith("the pixels changed")])
    return out


def label_pcm(
    samples: Any,
    rate: int,
    *,
    signer: Union[Signer, PathLike],
    producer: str,
    produce_id: Optional[str] = None,
    label: Union[str, int] = "1",
    explicit: Optional[bool] = None,
    position: Optional[str] = None,
    watermark: bool = True,
    replace: bool = False,
    signed_at: Optional[int] = None,
    tsa: Optional[str] = None,
    c2pa_cert: Any = None,
    c2pa_key: Any = None,
) -> bytes:
    """Labels PCM samples straight from a speech or music model; returns a labeled WAV.

    ``samples`` is a NumPy ``int16`` or ``float32`` array, mono 1-D or (frames, channels);
    ``rate`` in Hz. ``explicit=True`` adds the audible "AI" rhythm (``position`` start, end or
    both). int16 gives a 16-bit WAV, float32 a 32-bit float WAV. ``tsa``, ``c2pa_cert`` and
    ``c2pa_key`` as :func:`label`.
    """
    shape = getattr(samples, "shape", None)
    dtype = getattr(samples, "dtype", None)
    if shape is None or dtype is None:
        raise InputError(f"label_pcm takes a NumPy int16 or float32 array, not {type(samples).__name__}")
    if str(dtype) not in ("int16", "float32"):
        raise InputError(f"samples have dtype {dtype}; give int16 or float32")
    if len(shape) == 1:
        channels = 1
    elif len(shape) == 2:
        channels = int(shape[1])
    else:
        raise InputError(f"samples have shape {tuple(shape)}; give 1-D (mono) or (frames, channels)")
    if channels < 1 or channels > 65535:
        raise InputError(f"{channels} channels: give between 1 and 65535")
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 < rate < 2**32:
        raise InputError(f"rate {rate!r} must be a positive int (Hz)")
    import numpy as np

    raw = np.ascontiguousarray(samples).tobytes()
    args = _label_args(producer, produce_id, label, explicit, None, position, None,
                       watermark, "xmp", replace, 92, signed_at, tsa, c2pa_cert, c2pa_key)
    out, _fmt, _pid, _wm, notes, _token = _native.label_pcm(raw, str(dtype), rate, channels, _signer(signer), args)
    _notes(notes)
    return out


class TextLabelStream:
    """Labels a chat answer as it streams, token by token.

    ``push(text)`` returns what may be sent to the user now; ``finish()`` returns the tail (the
    sealed record and the end prompt). The concatenation is the same text ``label`` gives for the
    whole answer.
    """

    __slots__ = ("_inner",)

    def __init__(
        self,
        signer: Union[Signer, PathLike],
        producer: str,
        *,
        produce_id: Optional[str] = None,
        label: Union[str, int] = "1",
        explicit: Optional[bool] = None,
        explicit_text: Optional[str] = None,
        position: Optional[str] = None,
        signed_at: Optional[int] = None,
    ) -> None:
        args = _label_args(producer, produce_id, label, explicit, explicit_text, position, None,
                           True, "xmp", False, 92, signed_at)
        self._inner = _native.TextLabelStream(_signer(signer), args)

    @property
    def produce_id(self) -> str:
        """The label's ProduceID (fresh unless given)."""
        return self._inner.produce_id

    def push(self, text: str) -> str:
        """Adds generated text; returns what to send now."""
        if not isinstance(text, str):
            raise InputError(f"push takes str, not {type(text).__name__}")
        return self._inner.push(text)

    def finish(self) -> str:
        """Ends the answer; returns the rest to send."""
        return self._inner.finish()


def propagate(
    data: Union[bytes, bytearray, memoryview, str],
    *,
    signer: Union[Signer, PathLike],
    propagator: str,
    propagate_id: Optional[str] = None,
    carrier: str = "xmp",
    replace: bool = False,
    format: Optional[str] = None,
) -> Union[bytes, str]:
    """Adds a platform's ContentPropagator, PropagateID and countersignature, as
    ``aigcmark propagate``. A ``str`` is treated as text and a ``str`` returned."""
    as_text = isinstance(data, str)
    raw = data.encode("utf-8") if as_text else _bytes(data)
    if as_text and format is None:
        format = "text"
    out, _fmt, _pid, _none, notes, _token = _native.propagate(
        raw, _signer(signer), propagator, propagate_id, carrier, bool(replace), format
    )
    _notes(notes)
    return out.decode("utf-8") if as_text else out


# --------------------------------------------------------------------------------------------
# Verification


class Report:
    """What a file claims and whether the claim holds: ``aigcmark verify``'s JSON report.

    Attributes mirror the JSON (``verdict``, ``label``, ``signature``, ``binding``,
    ``propagation``, ``watermark``, ``explicit``, ``declarations``, ``findings``, ``path``,
    ``format``); :meth:`to_json` is exactly the line ``aigcmark verify --jsonl`` prints.
    """

    __slots__ = ("_json", "_dict", "_verdict")

    def __init__(self, json_text: str, verdict: Optional[str] = None) -> None:
        self._json = json_text
        self._dict: Optional[Dict[str, Any]] = None
        self._verdict = verdict

    def to_json(self) -> str:
        """The report as ``aigcmark verify --jsonl`` prints it (without the newline)."""
        return self._json

    def to_dict(self) -> Dict[str, Any]:
        """The report as a dict (a fresh copy)."""
        return json.loads(self._json)

    def _d(self) -> Dict[str, Any]:
        if self._dict is None:
            self._dict = json.loads(self._json)
        return self._dict

    @property
    def verdict(self) -> str:
        """labeled_intact, labeled_unsigned, altered, untrusted, forged, conflicting,
        watermark_only, explicit_only, unlabeled or error."""
        if self._verdict is None:
            self._verdict = self._d()["verdict"]
        return self._verdict

    @property
    def exit_class(self) -> int:
        """The CLI's exit code for this verdict: 0 intact, 1 not verifiably labeled, 2 bad label,
        3 error."""
        return _EXIT_CLASS[self.verdict]

    @property
    def ok(self) -> bool:
        """True when the verdict is labeled_intact."""
        return self.verdict == "labeled_intact"

    @property
    def path(self) -> Optional[str]:
        return self._d().get("path")

    @property
    def format(self) -> str:
        return self._d()["format"]

    @property
    def label(self) -> Optional[Dict[str, Any]]:
        """The label fields found (Annex E names), or None."""
        return self._d()["label"]

    @property
    def signature(self) -> Dict[str, Any]:
        return self._d()["signature"]

    @property
    def binding(self) -> Dict[str, Any]:
        return self._d()["binding"]

    @property
    def propagation(self) -> Optional[Dict[str, Any]]:
        return self._d().get("propagation")

    @property
    def watermark(self) -> Any:
        return self._d()["watermark"]

    @property
    def explicit(self) -> List[Dict[str, Any]]:
        return self._d()["explicit"]

    @property
    def declarations(self) -> List[Dict[str, Any]]:
        return self._d().get("declarations", [])

    @property
    def findings(self) -> List[Dict[str, Any]]:
        return self._d()["findings"]

    def __repr__(self) -> str:
        return f"<aigcmark.Report {self.path or '-'}: {self.verdict}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Report) and other._json == self._json

    def __hash__(self) -> int:
        return hash(self._json)


def verify(
    data: Union[bytes, bytearray, memoryview, PathLike],
    *,
    trust: Union[TrustStore, PathLike, None],
    format: Optional[str] = None,
    watermark: bool = True,
    c2pa_trust: Any = None,
    tsa_trust: Any = None,
    tsa_token: Any = None,
    limits: Union[Dict[str, Any], str, None] = None,
) -> Report:
    """Verifies bytes, or a file given by path (``str`` or ``os.PathLike``).

    A path gives the report ``aigcmark verify --jsonl PATH`` prints (an unreadable file is a
    report with verdict ``error``, not an exception). ``trust`` is a :class:`TrustStore`, a
    trust file or folder, or None (trust nothing). ``watermark=False`` is ``--no-watermark``
    (metadata only, fast). ``c2pa_trust`` (``--c2pa-trust``) and ``tsa_trust``
    (``--tsa-trust``) are trust anchors as PEM text or a file path; ``tsa_token``
    (``--tsa-token``) is a timestamp token (DER bytes or a file path, e.g. the ``.tsr`` kept
    beside a text). ``limits`` (``--limits``) changes resource limits: a dict or JSON object
    of ``Limits`` fields, e.g. ``{"max_pixels": 50_000_000}``.
    """
    t = _trust(trust)
    extra = _verify_extra(c2pa_trust, tsa_trust, tsa_token, limits)
    if isinstance(data, (str, os.PathLike)):
        return Report(*_native.verify_path(os.fspath(data), t, bool(watermark), format, extra))
    return Report(*_native.verify_bytes(_bytes(data), t, bool(watermark), format, extra))


def _verify_extra(c2pa_trust: Any, tsa_trust: Any, tsa_token: Any, limits: Any) -> Dict[str, Any]:
    tsa_pem = _pem(tsa_trust, "tsa_trust")
    if tsa_token is None or isinstance(tsa_token, bytes):
        token = tsa_token
    elif isinstance(tsa_token, (bytearray, memoryview)):
        token = bytes(tsa_token)
    elif isinstance(tsa_token, (str, os.PathLike)):
        token = _read(tsa_token, "tsa_token")
    else:
        raise InputError(f"tsa_token must be bytes or a file path, not {type(tsa_token).__name__}")
    return {
        "c2pa_trust": _pem(c2pa_trust, "c2pa_trust"),
        "tsa_trust": None if tsa_pem is None else tsa_pem.encode("utf-8"),
        "tsa_token": token,
        "limits": _limits(limits),
    }


def _limits(limits: Any) -> Optional[str]:
    if limits is None or isinstance(limits, str):
        return limits
    if isinstance(limits, dict):
        return json.dumps(limits)
    raise InputError(f"limits must be a dict or a JSON object, not {type(limits).__name__}")


def inspect(
    data: Union[bytes, bytearray, memoryview, PathLike], *, format: Optional[str] = None
) -> Dict[str, Any]:
    """The labels in a file as found, without trust decisions (``aigcmark inspect --json``)."""
    name = None
    if isinstance(data, (str, os.PathLike)):
        name = os.fspath(data)
        try:
            with open(name, "rb") as f:
                data = f.read()
        except OSError as e:
            raise IoError(f"{name}: {e.strerror}") from None
        if not data:
            raise RefusedError(f"{name} is empty")
    return json.loads(_native.inspect(_bytes(data), format, name))


class VerifyBatch:
    """Reports from :func:`verify_many`, as they finish; ``summary`` once exhausted."""

    __slots__ = ("_inner", "_summary")

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._summary: Optional[Dict[str, Any]] = None

    def __iter__(self) -> "VerifyBatch":
        return self

    def __next__(self) -> Report:
        line = next(self._inner)
        return Report(line)

    def json_lines(self) -> Iterator[str]:
        """The reports as JSON text, exactly the lines of ``aigcmark verify --jsonl``."""
        return iter(self._inner)

    @property
    def summary(self) -> Optional[Dict[str, Any]]:
        """files, by_verdict, by_format, seconds, files_per_second, exit_class (after the end)."""
        if self._summary is None and self._inner.summary is not None:
            self._summary = json.loads(self._inner.summary)
        return self._summary


def verify_many(
    paths: Iterable[PathLike],
    *,
    trust: Union[TrustStore, PathLike, None],
    jobs: Optional[int] = None,
    watermark: bool = True,
    order: str = "completion",
    c2pa_trust: Any = None,
    tsa_trust: Any = None,
    limits: Union[Dict[str, Any], str, None] = None,
) -> VerifyBatch:
    """Verifies many files on a Rust thread pool (``jobs`` threads, default all cores).

    Yields :class:`Report` objects as files finish (``order="input"`` keeps the input's order);
    the GIL is released while waiting. Memory stays at about one file per thread.
    ``c2pa_trust``, ``tsa_trust`` and ``limits`` as :func:`verify`.
    """
    if isinstance(paths, (str, os.PathLike)):
        raise InputError("verify_many takes a list of paths; for one file use verify()")
    plist = [os.fspath(p) for p in paths]
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0):
        raise InputError(f"jobs {jobs!r} must be a positive int or None")
    extra = _verify_extra(c2pa_trust, tsa_trust, None, limits)
    return VerifyBatch(
        _native.verify_many(plist, _trust(trust), jobs or 0, bool(watermark), order, extra)
    )
