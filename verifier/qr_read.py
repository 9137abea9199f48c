"""Reading one QR code from an uploaded image (PNG, JPEG, WebP, GIF) with zxing-cpp.

The input is hostile (hardening.md, API4): the byte count is capped before Pillow sees
it, the pixel count is read from the header by :mod:`verifier.image_header` before Pillow
opens the image (its WebP plugin allocates the canvas on open), checked again on what
Pillow reports, and only these four formats are opened (the header's format must be the
one Pillow finds). :data:`MAX_IMAGE_PIXELS` (16 Mpx: a 12-Mpx phone photo fits, and any
screenshot of a QR code) bounds one decode to ~80 MB (RGBA plus the grey copy); callers
bound how many run at once (the HTTP API: ``api/work_limits.py``). Every failure is a
:class:`DecodeError` at stage ``image`` with code ``image_too_large``, ``image_invalid``
or ``qr_not_found``; no Pillow or zxing-cpp exception escapes.
"""

from __future__ import annotations

import io
from typing import Final

import zxingcpp
from PIL import Image

from signing.errors import DecodeError
from verifier.image_header import read_header

__all__ = ["IMAGE_FORMATS", "MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "read_qr"]

MAX_IMAGE_BYTES: Final = 8 * 1024 * 1024
MAX_IMAGE_PIXELS: Final = 4096 * 4096
IMAGE_FORMATS: Final = ("PNG", "JPEG", "WEBP", "GIF")
_WHITE_RGBA: Final = (255, 255, 255, 255)
_QR_ONLY: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def read_qr(image: bytes, *, pure: bool = False) -> str:
    """The text of the (first) QR code in the image ``image`` holds.

    ``pure`` is for images known to hold one QR code alone, axis-aligned, each module a
    whole square of pixels (the service's own renderings: ``api/render_check.py``): zxing's
    pure-symbol reader samples the grid directly, without searching the image for finder
    patterns in every rotation and scale (0.28 against 0.50 ms for an HC1's 89x89 symbol at
    4 px per module). A photo needs the default search.

    Raises :class:`DecodeError` (stage ``image``): ``image_too_large`` over
    :data:`MAX_IMAGE_BYTES` bytes or :data:`MAX_IMAGE_PIXELS` pixels, ``image_invalid`` when
    the bytes are not a readable image, ``qr_not_found`` when no QR code decodes.
    """
    if not isinstance(image, bytes | bytearray | memoryview):
        raise DecodeError("image", "the image must be bytes", code="image_invalid")
    size = len(image) if not isinstance(image, memoryview) else image.nbytes
    if size > MAX_IMAGE_BYTES:
        raise DecodeError(
            "image",
            f"the image has {size} bytes, more than {MAX_IMAGE_BYTES}",
            code="image_too_large",
            size=size,
        )
    if size == 0:
        raise DecodeError("image", "the image is empty", code="image_invalid")
    grey = _load_grey(bytes(image))
    try:
        barcode = zxingcpp.read_barcode(
            grey,
            formats=_QR_ONLY,
            is_pure=pure,
            try_rotate=not pure,
            try_downscale=not pure,
            try_invert=not pure,
        )
    except (ValueError, RuntimeError, TypeError) as exc:
        raise DecodeError("image", "the QR reader refused the image", code="image_invalid") from exc
    if barcode is None or not barcode.valid:
        raise DecodeError("image", "no QR code found in the image", code="qr_not_found")
    return barcode.text


def _load_grey(data: bytes) -> Image.Image:
    """Decode ``data`` into an 8-bit grey image (transparent areas on white), bounded.

    Pillow warns (``DecompressionBombWarning``) above its own limit of ~89 Mpx, which the
    test suite turns into an exception, and raises ``DecompressionBombError`` above twice
    that; both are caught here as ``image_too_large``. Our own, lower limit is checked from
    the header before the pixel data is decoded, so a warning can only come from an image
    that is refused anyway.
    """
    header = read_header(data)
    if header is None:
        raise DecodeError("image", "not a PNG, JPEG, GIF or WebP image", code="image_invalid")
    if header.pixels > MAX_IMAGE_PIXELS:
        raise _too_large(header.width, header.height)
    try:
        with Image.open(io.BytesIO(data), formats=(header.format,)) as opened:
            width, height = opened.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_large(width, height)
            if width <= 0 or height <= 0:
                raise DecodeError("image", "the image has no pixels", code="image_invalid")
            if opened.format == "JPEG":
                opened.draft("L", opened.size)  # decode straight to grey, full size
            return _to_grey(opened)
    except DecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecodeError("image", "the image has too many pixels", code="image_too_large") from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, ...
        raise DecodeError("image", "the image cannot be read", code="image_invalid") from exc


def _to_grey(image: Image.Image) -> Image.Image:
    """``image`` in mode ``L``; transparent pixels become white, not black."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _WHITE_RGBA)
        background.alpha_composite(rgba)
        return background.convert("L")
    return image.convert("L")


def _too_large(width: int, height: int) -> DecodeError:
    return DecodeError(
        "image",
        f"the image has {width}x{height} pixels, more than {MAX_IMAGE_PIXELS}",
        code="image_too_large",
        width=width,
        height=height,
    )
