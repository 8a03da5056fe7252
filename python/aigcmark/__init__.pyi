"""Type stubs for aigcmark (the Rust extension plus its keyword API)."""

import os
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Union

from ._errors import (
    Error as Error,
    InputError as InputError,
    InvalidLabelError as InvalidLabelError,
    IoError as IoError,
    KeyFileError as KeyFileError,
    LabelNote as LabelNote,
    LimitError as LimitError,
    MalformedError as MalformedError,
    RefusedError as RefusedError,
    UnsupportedError as UnsupportedError,
)

__version__: str

_Path = Union[str, os.PathLike[str]]
_Bytes = Union[bytes, bytearray, memoryview]

class Signer:
    """A provider's or platform's signing key (Ed25519 or SM2), held here or by a command."""

    @staticmethod
    def load(path: _Path) -> Signer: ...
    @staticmethod
    def from_pem(pem: str) -> Signer: ...
    @staticmethod
    def from_command(
        command: str, public_key: Union[str, bytes, os.PathLike[str]], timeout: float = 30.0
    ) -> Signer: ...
    @staticmethod
    def generate() -> Signer: ...
    def to_pem(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def public_key(self) -> bytes: ...

class TrustStore:
    """The keys a verifier trusts, each for one owner and role. Pickles as its JSON."""

    def __init__(self) -> None: ...
    @staticmethod
    def load(path: _Path) -> TrustStore: ...
    @staticmethod
    def from_json(text: str) -> TrustStore: ...
    def with_key(self, signer: Signer, owner: str, role: str = "any") -> TrustStore: ...
    def merged(self, other: TrustStore) -> TrustStore: ...
    def to_json(self) -> str: ...
    def __len__(self) -> int: ...

class Keys(NamedTuple):
    key_id: str
    key_path: str
    trust_path: str

def keygen(dir: _Path, producer: str, role: str = "any", alg: str = "ed25519") -> Keys: ...

class C2paKeys(NamedTuple):
    ca_path: str
    chain_path: str
    key_path: str

def keygen_c2pa(dir: _Path) -> C2paKeys: ...

_Pem = Union[str, bytes, os.PathLike[str]]

class Labeled(NamedTuple):
    data: Union[bytes, str]
    format: str
    produce_id: str
    watermark_id: Optional[str]
    notes: List[str]
    timestamp_token: Optional[bytes]

def label_detailed(
    data: Union[_Bytes, str],
    *,
    signer: Union[Signer, _Path],
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
    c2pa_cert: Optional[_Pem] = None,
    c2pa_key: Optional[_Pem] = None,
) -> Labeled: ...
def label(
    data: Union[_Bytes, str],
    *,
    signer: Union[Signer, _Path],
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
    c2pa_cert: Optional[_Pem] = None,
    c2pa_key: Optional[_Pem] = None,
) -> Any: ...
def label_image(
    image: Any,
    format: str = "png",
    *,
    signer: Union[Signer, _Path],
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
    c2pa_cert: Optional[_Pem] = None,
    c2pa_key: Optional[_Pem] = None,
) -> bytes: ...
def label_pcm(
    samples: Any,
    rate: int,
    *,
    signer: Union[Signer, _Path],
    producer: str,
    produce_id: Optional[str] = None,
    label: Union[str, int] = "1",
    explicit: Optional[bool] = None,
    position: Optional[str] = None,
    watermark: bool = True,
    replace: bool = False,
    signed_at: Optional[int] = None,
    tsa: Optional[str] = None,
    c2pa_cert: Optional[_Pem] = None,
    c2pa_key: Optional[_Pem] = None,
) -> bytes: ...
def propagate(
    data: Union[_Bytes, str],
    *,
    signer: Union[Signer, _Path],
    propagator: str,
    propagate_id: Optional[str] = None,
    carrier: str = "xmp",
    replace: bool = False,
    format: Optional[str] = None,
) -> Any: ...

class TextLabelStream:
    def __init__(
        self,
        signer: Union[Signer, _Path],
        producer: str,
        *,
        produce_id: Optional[str] = None,
        label: Union[str, int] = "1",
        explicit: Optional[bool] = None,
        explicit_text: Optional[str] = None,
        position: Optional[str] = None,
        signed_at: Optional[int] = None,
    ) -> None: ...
    @property
    def produce_id(self) -> str: ...
    def push(self, text: str) -> str: ...
    def finish(self) -> str: ...

class Report:
    def __init__(self, json_text: str, verdict: Optional[str] = None) -> None: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> Dict[str, Any]: ...
    @property
    def verdict(self) -> str: ...
    @property
    def exit_class(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def path(self) -> Optional[str]: ...
    @property
    def format(self) -> str: ...
    @property
    def label(self) -> Optional[Dict[str, Any]]: ...
    @property
    def signature(self) -> Dict[str, Any]: ...
    @property
    def binding(self) -> Dict[str, Any]: ...
    @property
    def propagation(self) -> Optional[Dict[str, Any]]: ...
    @property
    def watermark(self) -> Any: ...
    @property
    def explicit(self) -> List[Dict[str, Any]]: ...
    @property
    def declarations(self) -> List[Dict[str, Any]]: ...
    @property
    def findings(self) -> List[Dict[str, Any]]: ...

def verify(
    data: Union[_Bytes, _Path],
    *,
    trust: Union[TrustStore, _Path, None],
    format: Optional[str] = None,
    watermark: bool = True,
    c2pa_trust: Optional[_Pem] = None,
    tsa_trust: Optional[_Pem] = None,
    tsa_token: Optional[Union[_Bytes, _Path]] = None,
    limits: Union[Dict[str, Any], str, None] = None,
) -> Report: ...
def inspect(data: Union[_Bytes, _Path], *, format: Optional[str] = None) -> Dict[str, Any]: ...

class VerifyBatch(Iterator[Report]):
    def __iter__(self) -> VerifyBatch: ...
    def __next__(self) -> Report: ...
    def json_lines(self) -> Iterator[str]: ...
    @property
    def summary(self) -> Optional[Dict[str, Any]]: ...

def verify_many(
    paths: Iterable[_Path],
    *,
    trust: Union[TrustStore, _Path, None],
    jobs: Optional[int] = None,
    watermark: bool = True,
    order: str = "completion",
    c2pa_trust: Optional[_Pem] = None,
    tsa_trust: Optional[_Pem] = None,
    limits: Union[Dict[str, Any], str, None] = None,
) -> VerifyBatch: ...
