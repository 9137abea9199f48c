"""Base45 (RFC 9285): encoding and decoding on lanes of one big integer (SWAR).

Encoding divides every 16-bit group by 45 and 2025 at once (SWAR: "SIMD within a register",
the register being a Python big integer): the groups are spread into 32-bit lanes with two
strided ``bytearray`` copies, ``int.from_bytes`` makes one integer of them, and a
multiply-shift-mask by a magic number (``v // 45 == (v * 11651) >> 19`` for every
``v < 65536``) divides all lanes in a few big-integer operations; the digits (+1, so that
the unused byte of a lane is 0) go back to bytes with ``to_bytes`` and one
``bytes.translate`` that maps them to the alphabet and deletes the zero bytes. For a DCC
(~190 groups) that is ~6 µs in a hot loop, and it stays so inside an issuance: the former
65,536-entry table of 3-character strings (~3.9 MB, looked up at random) cost 9 µs hot but
19-28 µs inside the issue pipeline, where its cache misses also slowed the other stages.

Decoding maps the characters to their values with one ``bytes.translate`` and combines all
triplets at once on 24-bit lanes of one big integer: the values, read little-endian, make
each lane ``c + 256·d + 65536·e``; two shift-masks and two multiply-subtracts leave
``c + 45·d + 2025·e`` in every lane, one mask test finds a group above 65535, and
``to_bytes`` plus two strided copies write the big-endian pairs (~4 µs for a DCC, vs ~18 µs
for a per-triplet list comprehension; a 65,536-entry dictionary of triplets was slower
still and, being megabytes of scattered objects, evicted the caches of the rest of a
verification). Decoding is strict: characters outside the alphabet, a length of 1 mod 3,
and groups above 65535 (or a trailing pair above 255) are refused with
``DecodeError("base45")``.
"""

from __future__ import annotations

import functools
from typing import Final

from signing.errors import DecodeError

__all__ = ["ALPHABET", "b45decode", "b45encode"]

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID: Final = 0xFF
# Byte → its base45 value; every byte outside the alphabet → _INVALID.
_VALUES: Final = bytes(
    ALPHABET.index(chr(byte)) if chr(byte) in ALPHABET else _INVALID for byte in range(256)
)


# v // 45 == (v * _DIV45_MUL) >> _DIV45_SHIFT for every 0 <= v < 65536 (checked in tests);
# v * _DIV45_MUL < 2**30, so a product never leaves its 32-bit lane.
_DIV45_MUL: Final = 11651
_DIV45_SHIFT: Final = 19
_HIGH_FACTOR: Final = (1 << 16) - 45 * (1 << 24)
_TOP_FACTOR: Final = (1 << 8) - 45 * (1 << 16)
# Digit + 1 → its character; 0 (the unused fourth byte of a lane) is deleted.
_DIGIT_CHARS: Final = bytes([0, *ALPHABET.encode("ascii")]).ljust(256, b"\0")
_ZERO: Final = b"\0"


@functools.lru_cache(maxsize=128)
def _lane_constants(lanes: int) -> tuple[int, int]:
    """(mask of a quotient's 13 low bits in every lane, 1 in each digit byte of every lane)."""
    return (
        int.from_bytes(b"\0\0\x1f\xff" * lanes, "big"),
        int.from_bytes(b"\x01\x01\x01\0" * lanes, "big"),
    )


def b45encode(data: bytes) -> str:
    """Encode bytes as base45 text."""
    size = len(data)
    groups = size // 2
    mask, ones = _lane_constants(groups)
    lanes = bytearray(4 * groups)  # group i = bytes 2i, 2i+1 → lane i = 00 00 hi lo
    lanes[2::4] = data[0 : 2 * groups : 2]
    lanes[3::4] = data[1 : 2 * groups : 2]
    value = int.from_bytes(lanes, "big")
    high = ((value * _DIV45_MUL) >> _DIV45_SHIFT) & mask  # v // 45 in every lane
    top = ((high * _DIV45_MUL) >> _DIV45_SHIFT) & mask  # v // 2025
    # Lane bytes (v % 45, high % 45, top, 0) + 1: (v - 45·high)·2²⁴ + (high - 45·top)·2¹⁶
    # + top·2⁸, regrouped so that each big integer is multiplied once.
    digits = (value << 24) + high * _HIGH_FACTOR + top * _TOP_FACTOR + ones
    text = digits.to_bytes(4 * groups, "big").translate(_DIGIT_CHARS, _ZERO).decode("ascii")
    if size % 2:
        last = data[-1]
        text += ALPHABET[last % 45] + ALPHABET[last // 45]
    return text


# Decoding works on 24-bit lanes: the values of a triplet (c, d, e), read little-endian,
# make the lane c + 256·d + 65536·e; subtracting 211·d and 63511·e leaves c + 45·d + 2025·e.
_DECODE_D_FACTOR: Final = 256 - 45
_DECODE_E_FACTOR: Final = 65536 - 2025


@functools.lru_cache(maxsize=128)
def _decode_lane_constants(lanes: int) -> tuple[int, int]:
    """(0xFF in the low byte of every 24-bit lane, 0xFF in the high byte of every lane)."""
    return (
        int.from_bytes(b"\xff\0\0" * lanes, "little"),
        int.from_bytes(b"\0\0\xff" * lanes, "little"),
    )


def b45decode(text: str) -> bytes:
    """Decode base45 text; raise ``DecodeError("base45")`` for anything malformed."""
    if len(text) % 3 == 1:
        raise DecodeError("base45", "base45 length must not be 1 modulo 3", code="base45_length")
    try:
        values = text.encode("ascii").translate(_VALUES)
    except UnicodeEncodeError:
        raise _alphabet_error() from None
    if _INVALID in values:
        raise _alphabet_error()
    groups = len(values) // 3
    full = 3 * groups
    low_bytes, high_bytes = _decode_lane_constants(groups)
    lanes = int.from_bytes(values[:full], "little")  # lane i = c + 256·d + 65536·e
    middle = (lanes >> 8) & low_bytes
    high = (lanes >> 16) & low_bytes
    numbers = lanes - _DECODE_D_FACTOR * middle - _DECODE_E_FACTOR * high  # c + 45·d + 2025·e
    if numbers & high_bytes:
        raise _overflow_error("base45 group exceeds 65535")
    raw = numbers.to_bytes(full, "little")  # lane i = low byte, high byte, 0
    out = bytearray(2 * groups + (full != len(values)))
    out[0 : 2 * groups : 2] = raw[1::3]
    out[1 : 2 * groups : 2] = raw[0::3]
    if full != len(values):
        last = values[full] + 45 * values[full + 1]
        if last > 0xFF:
            raise _overflow_error("base45 trailing pair exceeds 255")
        out[-1] = last
    return bytes(out)


def _alphabet_error() -> DecodeError:
    return DecodeError("base45", "character outside the base45 alphabet", code="base45_alphabet")


def _overflow_error(message: str) -> DecodeError:
    return DecodeError("base45", message, code="base45_overflow")
