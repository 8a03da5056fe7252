"""The exceptions of aigcmark (raised by the Rust extension by name; keep the names)."""


class Error(Exception):
    """Anything aigcmark refuses or cannot do; the message is the CLI's."""


class InputError(Error, ValueError):
    """The input or an option is not usable (wrong type, dtype, shape, value)."""


class MalformedError(InputError):
    """The data is not a file of its format, or is damaged beyond use."""


class UnsupportedError(InputError):
    """The file type (or the format name given) is not one aigcmark handles."""


class LimitError(InputError):
    """The input exceeds a resource limit."""


class InvalidLabelError(InputError):
    """A label value does not fit GB 45438 Annex E (producer, ProduceID, ...)."""


class IoError(Error, OSError):
    """Reading or writing a file failed."""


class KeyFileError(Error):
    """A key file or trust store could not be used."""


class RefusedError(Error):
    """The operation is refused (relabeling without replace=True, overwriting keys, ...)."""


class LabelNote(UserWarning):
    """What labeling did besides writing metadata (re-encoding, a format change)."""
