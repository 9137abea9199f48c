"""The self-check of every QR image and PDF the service hands out.

No certificate leaves as an image unless the project's QR reader
(:func:`verifier.qr_read.read_qr`) reads that very image back to the HC1 text it should
hold: the PNG as returned, the SVG as returned (its path is parsed back into modules and
read), and for the PDF the PNG that is embedded in it byte for byte (its IDAT becomes the
PDF image). A mismatch is a bug in a QR writer, never the client's fault:
:class:`RenderCheckFailed` (a 500), the ``dcc_render_self_check_failures`` alert metric,
and an error log line without the text (the HC1 holds a name and a date of birth).
Cost: ~0.3-0.6 ms per image (zxing-cpp on a 404 px PNG), inside the PDF's budget.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from typing import Final, Literal

from PIL import Image, ImageDraw

from hcert.valuesets import DeviceRegistry
from issuer.issuer import IssuedCertificate
from issuer.render import RenderFormat, render
from issuer.render.qr import QrEncoder, qr_matrix
from signing.errors import DccError, DecodeError
from verifier.qr_read import read_qr

__all__ = ["CheckedRenderer", "RenderCheckFailed", "svg_to_png"]

_LOGGER = logging.getLogger("dcc.api")
_VIEWBOX: Final = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
_RUN: Final = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\d+z")
_MAX_SVG_MODULES: Final = 400
_SVG_READ_SCALE: Final = 2


class RenderCheckFailed(DccError):
    """A QR image or PDF did not read back to its HC1 (``render_self_check_failed``): a 500."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"the {kind} QR image did not read back to the certificate",
            code="render_self_check_failed",
            kind=kind,
        )


class CheckedRenderer:
    """:func:`issuer.render.render` with every QR image read back before it is used.

    ``on_failure(kind)`` counts a failed check (the alert metric); ``encoder`` makes QR
    matrices (the seam the tests corrupt).
    """

    def __init__(
        self, on_failure: Callable[[str], None], *, encoder: QrEncoder = qr_matrix
    ) -> None:
        self.on_failure = on_failure
        self.encoder = encoder

    def render(
        self,
        issued: IssuedCertificate,
        kind: RenderFormat,
        *,
        timezone: str,
        devices: DeviceRegistry | None = None,
        scale: int = 4,
    ) -> bytes:
        """``issued`` as PNG, SVG or PDF (see :func:`issuer.render.render`), checked."""
        return render(
            issued,
            kind,
            timezone=timezone,
            devices=devices,
            scale=scale,
            encoder=self.encoder,
            check=self.check,
        )

    def check(self, kind: Literal["png", "svg"], image: bytes, text: str) -> None:
        """Raise :class:`RenderCheckFailed` unless ``image`` reads back to ``text``."""
        try:
            read = read_qr(image, pure=True) if kind == "png" else read_qr(svg_to_png(image))
        except DecodeError:
            read = None
        if read != text:
            self.on_failure(kind)
            _LOGGER.error(
                "QR self-check failed: a %s image did not read back to its HC1 (%s); "
                "the request is answered 500",
                kind,
                "unreadable" if read is None else "different text",
            )
            raise RenderCheckFailed(kind)


def svg_to_png(svg: bytes) -> bytes:
    """The SVG of :func:`issuer.render.qr.render_svg` drawn back as a PNG, from its path.

    Refuses (``image_invalid``) anything but that SVG's shape: a square viewBox of at most
    :data:`_MAX_SVG_MODULES` modules and horizontal runs inside it.
    """
    text = svg.decode("ascii", "replace")
    box = _VIEWBOX.search(text)
    if box is None or box.group(1) != box.group(2) or int(box.group(1)) > _MAX_SVG_MODULES:
        raise DecodeError("image", "not a QR SVG of this service", code="image_invalid")
    side, scale = int(box.group(1)), _SVG_READ_SCALE
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for match in _RUN.finditer(text):
        x, y, width = (int(value) for value in match.groups())
        if x + width > side or y >= side:
            raise DecodeError("image", "a QR SVG run is outside its box", code="image_invalid")
        draw.rectangle((x * scale, y * scale, (x + width) * scale - 1, (y + 1) * scale - 1), fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()
