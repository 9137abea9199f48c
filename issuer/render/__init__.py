"""An issued certificate on screen or on paper: the QR code (PNG, SVG) or the printable PDF.

:func:`render` is the one entry point the HTTP routes and the CLI use; :mod:`issuer.render.qr`
draws QR codes (zxing-cpp on the hot path, ``qrcode`` as the portable reference) and
:mod:`issuer.render.pdf` lays out the A4 page (:mod:`issuer.render.page` draws it).
Rendering is synchronous CPU work (milliseconds for a QR code, more for a PDF): call it from
a worker thread when serving.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from hcert.valuesets import DeviceRegistry
from issuer.issuer import IssuedCertificate
from issuer.render.pdf import render_pdf
from issuer.render.qr import QrCheck, QrEncoder, qr_matrix, render_png, render_svg

__all__ = ["MEDIA_TYPES", "PAGE_PNG_SCALE", "RenderFormat", "pdf_disposition", "render"]

RenderFormat = Literal["png", "svg", "pdf"]
MEDIA_TYPES: Final[dict[RenderFormat, str]] = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}
PAGE_PNG_SCALE: Final = 8
"""Pixels per module of the PNG the web page shows (~840 px for a test certificate)."""


def render(
    issued: IssuedCertificate,
    kind: RenderFormat,
    *,
    timezone: str,
    devices: DeviceRegistry | None = None,
    scale: int = 4,
    encoder: QrEncoder = qr_matrix,
    check: QrCheck | None = None,
) -> bytes:
    """``issued`` as a QR PNG (``scale`` pixels per module), a QR SVG (UTF-8) or the PDF.

    The PDF prints times in ``timezone`` and the RAT device by its name from ``devices``.
    ``encoder`` makes the QR matrix; ``check``, when given, sees every QR image before it
    is used (the PNG or SVG returned, the PNG embedded in the PDF) and raises to refuse it.
    """
    if kind == "png":
        png = render_png(issued.hc1, scale=scale, encoder=encoder)
        if check is not None:
            check("png", png, issued.hc1)
        return png
    if kind == "svg":
        svg = render_svg(issued.hc1, encoder=encoder).encode("utf-8")
        if check is not None:
            check("svg", svg, issued.hc1)
        return svg
    device = issued.certificate["t"][0].get("ma")
    known = devices.get(device) if devices is not None and isinstance(device, str) else None
    return render_pdf(
        issued,
        timezone=timezone,
        device_name=known.name if known is not None else None,
        encoder=encoder,
        check=check,
    )


def pdf_disposition(uvci: str) -> str:
    """``Content-Disposition`` of a certificate's PDF: ``dcc-<UVCI body>.pdf``, ASCII only.

    The check character may be ``/`` or ``:``, so every run of other characters becomes ``-``.
    """
    body = uvci.upper().removeprefix("URN:UVCI:")
    safe = re.sub(r"[^A-Z0-9]+", "-", body).strip("-")
    return f'attachment; filename="dcc-{safe or "certificate"}.pdf"'
