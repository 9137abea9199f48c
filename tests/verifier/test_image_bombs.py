"""Decompression bombs through images: the size is read from the header, before Pillow.

Pillow's WebP plugin allocates the whole canvas when a file is *opened*, so the bound has
to hold before ``Image.open``: every case here must be refused without Pillow opening
anything (a probe replaces ``Image.open``). Only PNG, JPEG, GIF and WebP are read.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import pytest
from PIL import Image

import verifier.qr_read
from signing.errors import DecodeError
from verifier.image_header import ImageHeader, read_header
from verifier.qr_read import IMAGE_FORMATS, MAX_IMAGE_PIXELS, read_qr


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return b"\x89PNG\r\n\x1a\n" + body + b"\x00" * 64


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc2\x00\x0b\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\x00" * 64


def gif(width: int, height: int, frame: tuple[int, int] | None = None) -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
    fw, fh = frame or (width, height)
    extension = b"\x21\xf9\x04\x00\x00\x00\x00\x00"
    return screen + extension + b"\x2c" + struct.pack("<HHHHB", 0, 0, fw, fh, 0) + b"\x02\x00;"


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    chunk = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 64
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(chunk)) + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_extended(width: int, height: int) -> bytes:
    vp8x = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + b"\x00" * 64
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_lossy(width: int, height: int) -> bytes:
    frame = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    chunk = frame + b"\x00" * 64
    body = b"WEBP" + b"VP8 " + struct.pack("<I", len(chunk)) + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


BOMBS: dict[str, Callable[[int, int], bytes]] = {
    "PNG": png,
    "JPEG": jpeg,
    "GIF": gif,
    "WEBP-lossless": webp_lossless,
    "WEBP-extended": webp_extended,
    "WEBP-lossy": webp_lossy,
}


@pytest.fixture
def pillow_never_opens(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    opened: list[bytes] = []

    def probe(fp: io.BytesIO, *args: object, **kwargs: object) -> Image.Image:
        opened.append(fp.getvalue())
        raise AssertionError("Pillow opened an image that its header already refuses")

    monkeypatch.setattr(verifier.qr_read.Image, "open", probe)
    return opened


@pytest.mark.parametrize("kind", sorted(BOMBS))
@pytest.mark.parametrize("size", [(16383, 2400), (4097, 4096), (16383, 16383)])
def test_bombs_are_refused_from_the_header(
    kind: str, size: tuple[int, int], pillow_never_opens: list[bytes]
) -> None:
    width, height = size
    data = BOMBS[kind](width, height)
    header = read_header(data)
    assert header is not None
    assert (header.width, header.height) == size
    assert header.pixels > MAX_IMAGE_PIXELS
    with pytest.raises(DecodeError) as exc:
        read_qr(data)
    assert exc.value.code == "image_too_large"
    assert pillow_never_opens == []


def test_the_issue_webp_bomb_is_refused_before_pillow(pillow_never_opens: list[bytes]) -> None:
    """A real WebP whose lossless header claims 16383x2400 (39 Mpx, below the old limit)."""
    real = _encode(Image.new("L", (16, 16), 255), "WEBP", lossless=True)
    assert real[12:16] == b"VP8L"
    bits = (16383 - 1) | ((2400 - 1) << 14)
    bomb = real[:21] + struct.pack("<I", bits) + real[25:]
    with pytest.raises(DecodeError) as exc:
        read_qr(bomb)
    assert exc.value.code == "image_too_large"


def test_a_gif_frame_larger_than_its_screen_counts(pillow_never_opens: list[bytes]) -> None:
    header = read_header(gif(10, 10, frame=(16383, 2400)))
    assert header == ImageHeader("GIF", 16383, 2400)
    with pytest.raises(DecodeError) as exc:
        read_qr(gif(10, 10, frame=(16383, 2400)))
    assert exc.value.code == "image_too_large"


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_headers_of_real_images_match_pillow(fmt: str) -> None:
    image = Image.new("L", (123, 45), 255)
    data = _encode(image, fmt)
    header = read_header(data)
    assert header == ImageHeader(fmt, 123, 45)
    with Image.open(io.BytesIO(data)) as opened:
        assert opened.size == (header.width, header.height)


def test_only_the_four_formats_are_read() -> None:
    assert set(IMAGE_FORMATS) == {"PNG", "JPEG", "GIF", "WEBP"}
    for fmt in ("BMP", "TIFF", "ICO", "PPM"):
        data = _encode(Image.new("L", (64, 64), 255), fmt)
        assert read_header(data) is None
        with pytest.raises(DecodeError) as exc:
            read_qr(data)
        assert exc.value.code == "image_invalid"


def test_a_png_header_with_another_format_inside_is_invalid() -> None:
    """The header's format is the only one Pillow may try."""
    fake = b"\x89PNG\r\n\x1a\n" + _encode(Image.new("L", (8, 8)), "GIF")
    with pytest.raises(DecodeError) as exc:
        read_qr(fake)
    assert exc.value.code == "image_invalid"
