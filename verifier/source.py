"""What :func:`verifier.verify` accepts: HC1 text, or the bytes of an image holding its QR code.

Bytes are sniffed by their magic number: PNG, JPEG, GIF and WebP go to the QR reader
(``verifier.qr_read.read_qr``, bounded in bytes and pixels); any other bytes must be ASCII text
and are read as HC1 text. A failed image decode is reported by the first check,
``prefix``, with the reader's code (``qr_not_found``, ``image_invalid``,
``image_too_large``): without a QR code there is no HC1 text to check.
"""

from __future__ import annotations

from typing import Final

from hcert.hc1 import MAX_HC1_CHARS
from signing.errors import DecodeError
from verifier.qr_read import read_qr

__all__ = ["IMAGE_MAGIC", "InputData", "input_text", "is_image"]

InputData = str | bytes | bytearray | memoryview

IMAGE_MAGIC: Final = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
)
_RIFF: Final = b"RIFF"
_WEBP: Final = b"WEBP"


def is_image(data: bytes) -> bool:
    """True when ``data`` starts like a PNG, JPEG, GIF or WebP file."""
    return data.startswith(IMAGE_MAGIC) or (data[:4] == _RIFF and data[8:12] == _WEBP)


def input_text(data: object) -> str:
    """The HC1 text ``data`` holds; raise ``DecodeError`` (stage ``prefix`` or ``image``)."""
    if isinstance(data, str):
        return data
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(
            "prefix", "the input must be HC1 text or image bytes", code="input_invalid"
        )
    raw = bytes(data)
    if is_image(raw):
        return read_qr(raw)
    if len(raw) > MAX_HC1_CHARS:
        raise DecodeError(
            "prefix",
            f"input of {len(raw)} bytes is longer than any QR code can carry",
            code="input_too_long",
        )
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecodeError(
            "prefix", "the input is neither an image nor ASCII text", code="input_invalid"
        ) from exc
