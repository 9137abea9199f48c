"""QR codes for HC1 text: rendering (:mod:`issuer.qr_render`) and reading (:mod:`issuer.qr_read`).

Import from here; the two modules behind it are cut by direction only.
"""

from __future__ import annotations

from issuer.qr_read import IMAGE_FORMATS, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, read_qr
from issuer.qr_render import (
    ALPHANUMERIC_CAPACITY_Q,
    MAX_BORDER,
    MAX_QR_TEXT_CHARS,
    MAX_SCALE,
    QrMatrix,
    alphanumeric_version,
    qr_matrix,
    render_png,
    render_png_reference,
    render_svg,
)

__all__ = [
    "ALPHANUMERIC_CAPACITY_Q",
    "IMAGE_FORMATS",
    "MAX_BORDER",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_QR_TEXT_CHARS",
    "MAX_SCALE",
    "QrMatrix",
    "alphanumeric_version",
    "qr_matrix",
    "read_qr",
    "render_png",
    "render_png_reference",
    "render_svg",
]
