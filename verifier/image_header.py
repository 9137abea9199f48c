"""An image's format and pixel size, read from its first bytes before any decoder runs.

Pillow's WebP plugin allocates the whole canvas (4 bytes a pixel, twice) when the file is
*opened*, before any size check of ours could run on ``Image.size``: a 80 KiB WebP of
16383x2400 pixels grew the process by 400 MiB. So the size is read here, from the header,
for every format the verifier accepts, and an image is refused before Pillow sees it.

* PNG: the IHDR chunk (must come first);
* JPEG: the first start-of-frame marker (SOF0-SOF15 except DHT/JPG/DAC), scanning the
  marker segments by their lengths;
* GIF: the logical screen, and the first image descriptor when it is larger;
* WebP: the ``VP8 `` (lossy), ``VP8L`` (lossless) or ``VP8X`` (extended: the canvas).

Anything else, or a header that cannot be read, is ``None``: not an accepted image.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

__all__ = ["ImageHeader", "read_header"]

_PNG: Final = b"\x89PNG\r\n\x1a\n"
_JPEG: Final = b"\xff\xd8"
_GIF: Final = (b"GIF87a", b"GIF89a")
# SOF markers: C0-CF except C4 (DHT), C8 (JPG) and CC (DAC).
_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})


@dataclass(frozen=True, slots=True)
class ImageHeader:
    """The format's Pillow name and the pixel size the header declares."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        """width x height."""
        return self.width * self.height


def _png(data: bytes) -> ImageHeader | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return ImageHeader("PNG", width, height)


def _jpeg(data: bytes) -> ImageHeader | None:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _SOF:
            if position + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return ImageHeader("JPEG", width, height)
        if marker == 0xDA or length < 2:  # scan data before any frame header
            return None
        position += 2 + length
    return None


def _gif(data: bytes) -> ImageHeader | None:
    if len(data) < 13:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    flags = data[10]
    position = 13 + (3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0)
    # Skip extension blocks to the first image descriptor, if it is within reach.
    while position < len(data):
        introducer = data[position]
        if introducer == 0x2C and position + 9 <= len(data):
            left, top, frame_width, frame_height = struct.unpack(
                "<HHHH", data[position + 1 : position + 9]
            )
            width = max(width, left + frame_width)
            height = max(height, top + frame_height)
            break
        if introducer != 0x21 or position + 2 > len(data):
            break
        position += 2
        while position < len(data) and data[position] != 0:
            position += data[position] + 1
        position += 1
    return ImageHeader("GIF", width, height)


def _webp(data: bytes) -> ImageHeader | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageHeader("WEBP", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageHeader("WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageHeader("WEBP", width, height)
    return None


def read_header(data: bytes) -> ImageHeader | None:
    """The header of a PNG, JPEG, GIF or WebP image, or None (not one, or unreadable)."""
    if data.startswith(_PNG):
        return _png(data)
    if data.startswith(_JPEG):
        return _jpeg(data)
    if data.startswith(_GIF):
        return _gif(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return None
