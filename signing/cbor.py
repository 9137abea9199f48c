"""Strict CBOR decoding for untrusted input, and deterministic encoding for what we sign.

Decoding refuses what hardening.md §4 lists: trailing bytes, indefinite lengths, duplicate
map keys, invalid UTF-8, nesting deeper than a small bound. Every semantic tag is returned as
a plain :class:`cbor2.CBORTag` (never turned into regexes, datetimes, bignums or shared
references), so later checks see exactly what was sent.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, Final

import cbor2

from signing.errors import DecodeError

__all__ = ["DEFAULT_MAX_DEPTH", "dumps", "loads_strict"]

DEFAULT_MAX_DEPTH: Final = 32

# The tags cbor2 would otherwise interpret (datetimes, bignums, decimals, shared references,
# regexes, MIME, UUIDs, sets, IP addresses, self-describe, ...).
_BUILTIN_SEMANTIC_TAGS: Final = (
    0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 38, 52, 54, 100, 256, 258, 259, 260, 261,
    1004, 55799,
)  # fmt: skip


def _keep_tag(tag: int) -> Callable[[Any, bool], Any]:
    def decode(value: object, immutable: bool) -> cbor2.CBORTag:
        return cbor2.CBORTag(tag, value)

    return decode


def _raw_semantic_decoders() -> dict[int, Callable[[Any, bool], Any]]:
    return {tag: _keep_tag(tag) for tag in _BUILTIN_SEMANTIC_TAGS}


_SEMANTIC_DECODERS: Final = _raw_semantic_decoders()


def loads_strict(data: bytes, *, max_depth: int = DEFAULT_MAX_DEPTH, stage: str = "cbor") -> object:
    """Decode exactly one CBOR item from ``data`` or raise ``DecodeError(stage)``."""
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(
        stream,
        semantic_decoders=_SEMANTIC_DECODERS,
        str_errors="strict",
        max_depth=max_depth,
        allow_indefinite=False,
        allow_duplicate_keys=False,
    )
    try:
        value = decoder.decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise DecodeError(stage, f"not valid CBOR: {exc}", code="cbor_invalid") from exc
    if stream.tell() != len(data):
        raise DecodeError(
            stage,
            f"{len(data) - stream.tell()} trailing bytes after the CBOR item",
            code="cbor_trailing_bytes",
        )
    return value


def dumps(value: object) -> bytes:
    """Deterministic CBOR (RFC 8949 core deterministic encoding) for reproducible output."""
    return cbor2.dumps(value, canonical=True)
