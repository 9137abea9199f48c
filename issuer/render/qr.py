"""QR rendering of HC1 text: one module matrix, drawn as PNG or SVG.

The matrix comes from zxing-cpp (its writer is libzint, in C): about 3 ms for a 598-char
HC1 as a PNG, where ``qrcode`` and ``segno`` spend ~40 ms choosing the mask in pure Python
(performance.md §5). ``qrcode`` stays as the portable reference implementation and the
benchmark baseline (:func:`render_png_reference`).

Every symbol is error-correction level Q in one **alphanumeric** segment (hcert.md §1.7).
libzint optimises its segments and would put a long digit run into a numeric segment
(measured: 7+ digits at either end of the text, 13+ in the middle, or an all-digit text).
Text like that (guarded with a margin of one digit; in real HC1 ~1e-4 of certificates,
those ending in 6+ digits), and any symbol whose version differs from the one a single
alphanumeric segment needs, is built with ``qrcode`` instead, forced to one alphanumeric
segment (~40 ms). Only text ``qrcode`` cannot encode at all (long runs of ``0``: an
all-zero data block) keeps libzint's mixed-segment symbol.
"""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import qrcode
import zxingcpp
from PIL import Image
from qrcode.image.pil import PilImage
from qrcode.util import MODE_ALPHA_NUM, QRData

from signing.errors import DccError

__all__ = [
    "ALPHANUMERIC_CAPACITY_Q",
    "MAX_BORDER",
    "MAX_QR_TEXT_CHARS",
    "MAX_SCALE",
    "QrCheck",
    "QrEncoder",
    "QrMatrix",
    "alphanumeric_version",
    "qr_matrix",
    "render_png",
    "render_png_reference",
    "render_svg",
]

# Characters of one alphanumeric segment at level Q, versions 1..40 (ISO/IEC 18004 table 7).
ALPHANUMERIC_CAPACITY_Q: Final[tuple[int, ...]] = (
    16, 29, 47, 67, 87, 108, 125, 157, 189, 221,
    259, 296, 352, 376, 426, 470, 531, 574, 644, 702,
    742, 823, 890, 963, 1041, 1094, 1172, 1263, 1322, 1429,
    1499, 1618, 1700, 1787, 1867, 1966, 2071, 2181, 2298, 2420,
)  # fmt: skip
MAX_QR_TEXT_CHARS: Final = ALPHANUMERIC_CAPACITY_Q[-1]
MAX_SCALE: Final = 40
MAX_BORDER: Final = 40

_ALPHANUMERIC_TEXT: Final = re.compile(r"[0-9A-Z $%*+\-./:]+")
_NOT_ALPHANUMERIC: Final = re.compile(r"[^0-9A-Z $%*+\-./:]")
# Digit runs libzint may encode as a numeric segment (thresholds measured, minus one).
_NUMERIC_RUN: Final = re.compile(r"\A[0-9]+\Z|\A[0-9]{6}|[0-9]{6}\Z|[0-9]{12}")
_DARK_RUN: Final = re.compile(rb"\x01+")
_L_TO_DARK: Final = bytes.maketrans(b"\x00\xff", b"\x01\x00")
_DARK_TO_L: Final = bytes.maketrans(b"\x00\x01", b"\xff\x00")
_PNG_COMPRESS_LEVEL: Final = 1


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """The modules of one QR symbol, without quiet zone.

    ``rows`` holds ``size`` rows of ``size`` bytes each: 1 for a dark module, 0 for light.
    """

    size: int
    version: int
    rows: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.size != 4 * self.version + 17 or not 1 <= self.version <= 40:
            raise DccError("QR size and version disagree", code="qr_render_failed")
        if len(self.rows) != self.size or any(len(row) != self.size for row in self.rows):
            raise DccError("QR rows do not form a square matrix", code="qr_render_failed")

    def is_dark(self, x: int, y: int) -> bool:
        """Whether the module in column ``x``, row ``y`` is dark."""
        return self.rows[y][x] == 1


QrEncoder = Callable[[str], QrMatrix]
"""Text -> its QR matrix (:func:`qr_matrix`; a seam the self-check tests corrupt)."""
QrCheck = Callable[[Literal["png", "svg"], bytes, str], None]
"""Called with (kind, image, text) for every QR image before it is used; raises to refuse it."""


def alphanumeric_version(length: int) -> int:
    """The smallest QR version whose level-Q alphanumeric segment holds ``length`` chars."""
    if not 0 <= length <= MAX_QR_TEXT_CHARS:
        raise DccError("text does not fit a QR code at level Q", code="qr_text_invalid")
    return bisect.bisect_left(ALPHANUMERIC_CAPACITY_Q, length) + 1


def qr_matrix(text: str) -> QrMatrix:
    """The level-Q, single-alphanumeric-segment QR matrix of ``text`` (zxing-cpp if it can)."""
    _check_text(text)
    if _NUMERIC_RUN.search(text) is None:
        matrix = _zxing_matrix(text)
        if matrix.version == alphanumeric_version(len(text)):
            return matrix
    try:
        return _qrcode_matrix(text)
    except ValueError:
        # qrcode's Reed-Solomon code fails ("glog(0)") on an all-zero data block, which only
        # long runs of "0" produce (not base45 of compressed data). libzint's symbol, with a
        # numeric segment, is still a valid ISO 18004 symbol that every reader decodes.
        return _zxing_matrix(text)


def render_png(
    text: str, *, scale: int = 4, border: int = 4, encoder: QrEncoder = qr_matrix
) -> bytes:
    """A 1-bit PNG of ``text``: ``scale`` px per module, a ``border``-module quiet zone."""
    _check_layout(scale, border)
    matrix = encoder(text)
    side = matrix.size + 2 * border
    pad = b"\x00" * border
    quiet_row = b"\x00" * side
    modules = b"".join(
        [quiet_row * border, *(pad + row + pad for row in matrix.rows), quiet_row * border]
    )
    image = Image.frombytes("L", (side, side), modules.translate(_DARK_TO_L))
    image = image.convert("1", dither=Image.Dither.NONE)
    if scale != 1:
        image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=_PNG_COMPRESS_LEVEL)
    return out.getvalue()


def render_svg(
    text: str, *, scale: int = 4, border: int = 4, encoder: QrEncoder = qr_matrix
) -> str:
    """An SVG of ``text``: one path of horizontal dark runs, viewBox in modules."""
    _check_layout(scale, border)
    matrix = encoder(text)
    side = matrix.size + 2 * border
    pixels = side * scale
    segments = [
        f"M{run.start() + border} {y + border}h{width}v1h-{width}z"
        for y, row in enumerate(matrix.rows)
        for run in _DARK_RUN.finditer(row)
        for width in (run.end() - run.start(),)
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}" '
        f'viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(segments)}"/></svg>'
    )


def render_png_reference(text: str, *, scale: int = 4, border: int = 4) -> bytes:
    """The same PNG made with ``qrcode`` alone (automatic mask): portable, ~15x slower."""
    _check_text(text)
    _check_layout(scale, border)
    try:
        symbol = _qrcode_symbol(text, box_size=scale, border=border)
    except ValueError as exc:  # see qr_matrix: all-zero data blocks
        raise DccError("qrcode cannot encode this text", code="qr_render_failed") from exc
    out = io.BytesIO()
    symbol.make_image(image_factory=PilImage).save(out)
    return out.getvalue()


def _check_text(text: str) -> None:
    """Refuse text a level-Q alphanumeric QR code cannot carry (code ``qr_text_invalid``)."""
    if not isinstance(text, str) or not text:
        raise DccError("QR text is empty", code="qr_text_invalid")
    if len(text) > MAX_QR_TEXT_CHARS:
        raise DccError(
            f"QR text has {len(text)} chars, more than {MAX_QR_TEXT_CHARS} (version 40-Q)",
            code="qr_text_invalid",
            length=len(text),
        )
    if _ALPHANUMERIC_TEXT.fullmatch(text) is None:
        bad = _NOT_ALPHANUMERIC.search(text)
        position = bad.start() if bad is not None else -1
        raise DccError(
            f"QR text has a character outside the QR alphanumeric set at index {position}",
            code="qr_text_invalid",
            position=position,
        )


def _check_layout(scale: int, border: int) -> None:
    """Keep the image size bounded: 1..MAX_SCALE px per module, 0..MAX_BORDER modules."""
    if not 1 <= scale <= MAX_SCALE or not 0 <= border <= MAX_BORDER:
        raise DccError(
            f"QR scale must be 1..{MAX_SCALE} and border 0..{MAX_BORDER}",
            code="qr_layout_invalid",
            scale=scale,
            border=border,
        )


def _zxing_matrix(text: str) -> QrMatrix:
    """The matrix libzint (through zxing-cpp) makes at level Q."""
    try:
        barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
        image = barcode.to_image(scale=1, add_quiet_zones=False)
    except (ValueError, RuntimeError) as exc:
        raise DccError("the QR writer failed", code="qr_render_failed") from exc
    height, width = image.shape
    # zxingcpp.Image has the buffer protocol (8-bit grey, row-major); its stub does not say so.
    pixels = bytes(memoryview(cast(Any, image)))
    if width != height or len(pixels) != width * height or pixels.translate(None, b"\x00\xff"):
        raise DccError("the QR writer returned an unexpected bitmap", code="qr_render_failed")
    dark = pixels.translate(_L_TO_DARK)
    rows = tuple(dark[start : start + width] for start in range(0, len(dark), width))
    return QrMatrix(size=width, version=(width - 17) // 4, rows=rows)


def _qrcode_matrix(text: str) -> QrMatrix:
    """The matrix ``qrcode`` makes with one alphanumeric segment (slow: automatic mask)."""
    symbol = _qrcode_symbol(text, box_size=1, border=0)
    rows = tuple(bytes(row) for row in symbol.modules)
    return QrMatrix(size=len(rows), version=int(symbol.version), rows=rows)


def _qrcode_symbol(text: str, *, box_size: int, border: int) -> qrcode.QRCode:
    """A built ``qrcode.QRCode`` at level Q holding ``text`` as one alphanumeric segment."""
    symbol = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=box_size, border=border
    )
    symbol.add_data(QRData(text.encode("ascii"), mode=MODE_ALPHA_NUM))
    symbol.make(fit=True)
    return symbol
