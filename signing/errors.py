"""The one error hierarchy of dcc-service.

It lives in ``signing`` because that package depends on nothing else of ours; every other
package raises subclasses of :class:`DccError`, and ``api/`` translates them to HTTP in one
place.

::

    DccError                      base: a stable ``code``, a message, and context
    ├── DecodeError               HC1/CBOR/COSE input that cannot be decoded (``stage``)
    ├── SignatureError            a COSE signature that does not verify, or a wrong algorithm
    ├── SigningError              the signer failed to produce a signature
    │   └── SignerUnavailable     every signer slot stayed busy past the timeout
    ├── KeyMaterialError          keys or certificates missing, mismatched, expired (keys/)
    ├── ConfigError               settings that cannot work (api/, issuer/)
    └── RequestInvalid            an issue request that breaks the rules (issuer/errors.py)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ConfigError",
    "DccError",
    "DecodeError",
    "KeyMaterialError",
    "SignatureError",
    "SignerUnavailable",
    "SigningError",
]


class DccError(Exception):
    """Base of every error this project raises on purpose.

    ``code`` is a stable machine-readable identifier (part of the public contract);
    ``context`` holds whatever a caller needs to act on the error. Context must never
    hold personal data (names, dates of birth).
    """

    default_code: ClassVar[str] = "dcc_error"

    def __init__(self, message: str, *, code: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.context: dict[str, object] = context

    def __str__(self) -> str:
        return self.message


class DecodeError(DccError):
    """Input that cannot be decoded; ``stage`` names the layer that refused it.

    Stages: ``prefix``, ``base45``, ``zlib``, ``cbor``, ``cose``, ``claims``, ``image``.
    """

    default_code = "decode_error"

    def __init__(self, stage: str, message: str, *, code: str | None = None, **context: Any):
        super().__init__(message, code=code or f"{stage}_invalid", **context)
        self.stage = stage


class SignatureError(DccError):
    """A signature that does not verify, or an algorithm that does not fit the key."""

    default_code = "signature_invalid"


class SigningError(DccError):
    """The signer could not produce a signature."""

    default_code = "signing_failed"


class SignerUnavailable(SigningError):
    """Every signer slot stayed busy past the acquire timeout; retry later."""

    default_code = "signer_unavailable"

    def __init__(self, message: str, *, retry_after: float, **context: Any) -> None:
        super().__init__(message, retry_after=retry_after, **context)
        self.retry_after = retry_after


class KeyMaterialError(DccError):
    """Keys or certificates that are missing, unreadable, mismatched or expired."""

    default_code = "key_material_invalid"


class ConfigError(DccError):
    """Settings that cannot work."""

    default_code = "config_invalid"
