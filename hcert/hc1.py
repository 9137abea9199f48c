"""The HC1 text codec: COSE bytes ⇄ zlib ⇄ base45 ⇄ ``"HC1:"`` text.

Decoding is bounded at every layer (hardening.md §4): the text length (a QR code cannot
carry more than 4,296 alphanumeric characters), the inflated size (a zip bomb stops at
:data:`MAX_INFLATED_BYTES`), and the zlib stream must be complete with nothing after it.
Each layer raises ``DecodeError`` with its stage (``prefix``, ``base45``, ``zlib``), which
is also the name of the verification check that failed.

Encoding writes a zlib stream (RFC 1950, header ``78 01``, Adler-32) holding ONE STORED
deflate block (RFC 1951 §3.2.4), framed by hand: byte for byte what
``zlib.compress(cose, 0)`` writes, without zlib. Why not level 9 as the reference issuers:

- a COSE_Sign1 of a DCC is incompressible in practice (CBOR of short text plus a 64-byte
  random signature): level 9 made 382.7 B on average for 64 realistic certificates vs
  384.5 B stored, i.e. it saves ~2 bytes (~3 base45 characters of a ~580-character QR code);
- ``zlib.compress`` costs 12-60 µs per call here (vs a 23 µs ECDSA signature), mostly
  ``deflateInit``'s ~270 KB of state, whose pages glibc trims and re-faults on every call.
  The hand framing costs ~1 µs.

Every inflater reads a stored block (it is plain RFC 1951), and the header keeps the first
byte ``0x78`` that some verifier apps sniff to detect zlib. Stored is used up to
:data:`MAX_STORED_BYTES` (2,986 bytes, whose stored HC1 text is :data:`MAX_HC1_CHARS` long;
a DCC is ~400): a larger payload could only fit a QR code compressed, so it gets
``zlib.compress(data, 9)`` as before (e.g. the hostile-input tests build 100 KB payloads
that deflate to a QR-sized text).
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

from hcert.base45 import b45decode, b45encode
from signing.errors import DecodeError

__all__ = [
    "MAX_HC1_CHARS",
    "MAX_INFLATED_BYTES",
    "MAX_STORED_BYTES",
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
_ZLIB_OVERHEAD: Final = 11  # 2 header + 5 stored-block header + 4 Adler-32
MAX_STORED_BYTES: Final = 2 * (MAX_HC1_CHARS - len(PREFIX)) // 3 - _ZLIB_OVERHEAD
"""Largest payload written stored: its HC1 text is at most :data:`MAX_HC1_CHARS` long."""
ZLIB_LEVEL: Final = 9
"""The level of payloads above :data:`MAX_STORED_BYTES` (the reference issuers' level)."""
_STORED_HEADER: Final = b"\x78\x01\x01"  # CMF (deflate, 32 KiB window), FLG, BFINAL + stored
_LEN_NLEN: Final = struct.Struct("<HH")


def compress(cose: bytes) -> bytes:
    """A zlib stream (RFC 1950) of ``cose``.

    Up to :data:`MAX_STORED_BYTES`: header, one stored block, Adler-32, byte for byte
    ``zlib.compress(cose, 0)``; above: ``zlib.compress(cose, 9)``.
    """
    size = len(cose)
    if size > MAX_STORED_BYTES:
        return zlib.compress(cose, ZLIB_LEVEL)
    return b"".join(
        (
            _STORED_HEADER,
            _LEN_NLEN.pack(size, size ^ 0xFFFF),
            cose,
            zlib.adler32(cose).to_bytes(4, "big"),
        )
    )


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
