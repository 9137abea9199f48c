"""The HC1 text codec: COSE bytes ⇄ zlib ⇄ base45 ⇄ ``"HC1:"`` text.

Decoding is bounded at every layer (hardening.md §4): the text length (a QR code cannot
carry more than 4,296 alphanumeric characters), the inflated size (a zip bomb stops at
:data:`MAX_INFLATED_BYTES`), and the zlib stream must be complete with nothing after it.
Each layer raises ``DecodeError`` with its stage (``prefix``, ``base45``, ``zlib``), which
is also the name of the verification check that failed.
"""

from __future__ import annotations

import zlib
from typing import Final

from issuer.base45 import b45decode, b45encode
from signing.errors import DecodeError

__all__ = [
    "MAX_HC1_CHARS",
    "MAX_INFLATED_BYTES",
    "PREFIX",
    "compress",
    "decode_hc1",
    "encode_hc1",
    "inflate",
    "strip_prefix",
]

PREFIX: Final = "HC1:"
MAX_HC1_CHARS: Final = 4500
MAX_INFLATED_BYTES: Final = 64 * 1024
ZLIB_LEVEL: Final = 9


def compress(cose: bytes) -> bytes:
    """zlib (RFC 1950, with header and Adler-32) at level 9, as the reference issuers do."""
    return zlib.compress(cose, ZLIB_LEVEL)


def encode_hc1(cose: bytes) -> str:
    """COSE_Sign1 bytes to the ``HC1:`` text carried by the QR code."""
    return PREFIX + b45encode(compress(cose))


def strip_prefix(text: str) -> str:
    """Check the bounds and the context identifier; return the base45 part."""
    if len(text) > MAX_HC1_CHARS:
        raise DecodeError(
            "prefix",
            f"input of {len(text)} characters is longer than any QR code can carry",
            code="input_too_long",
        )
    if not text:
        raise DecodeError("prefix", "the input is empty", code="input_empty")
    if not text.isascii() or not text.isprintable():
        raise DecodeError(
            "prefix", "the input holds non-ASCII or control characters", code="input_invalid"
        )
    if not text.startswith(PREFIX):
        raise DecodeError("prefix", "the input does not start with HC1:", code="prefix_invalid")
    return text[len(PREFIX) :]


def inflate(data: bytes, *, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """Inflate a complete zlib stream of at most ``limit`` bytes, with nothing after it."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise DecodeError("zlib", f"not a valid zlib stream: {exc}", code="zlib_invalid") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise DecodeError(
            "zlib", f"inflates to more than {limit} bytes", code="zlib_too_large", limit=limit
        )
    if not inflater.eof:
        raise DecodeError("zlib", "the zlib stream is truncated", code="zlib_truncated")
    if inflater.unused_data:
        raise DecodeError(
            "zlib", "bytes follow the end of the zlib stream", code="zlib_trailing_bytes"
        )
    return out


def decode_hc1(text: str) -> bytes:
    """``HC1:`` text to the COSE bytes it carries (not verified: see ``verifier``)."""
    return inflate(b45decode(strip_prefix(text)))
