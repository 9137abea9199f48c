"""Re-rendering a certificate this service issued: HC1 text → QR PNG/SVG or printable PDF.

The pharmacist's page issues once (JSON) and then asks for the QR image and the PDF of
*that* certificate, so what the page shows and prints is the certificate whose UVCI it
shows. Only a certificate that verifies against this service's own trust store is
rendered: the service never prints a PDF under its issuer's name for text it did not sign.
The work (verification, QR matrix, PDF) is synchronous CPU work for a worker thread.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Final, Literal

import verifier
from issuer.errors import FieldError, RequestInvalid
from issuer.hc1 import decode_hc1
from issuer.issuer import IssuedCertificate
from issuer.pdf import render_pdf
from issuer.qr import render_png, render_svg
from issuer.valuesets import DeviceRegistry
from signing.cose import parse_sign1

__all__ = [
    "MEDIA_TYPES",
    "PNG_SCALE",
    "RenderFormat",
    "issued_from_hc1",
    "pdf_disposition",
    "render_hc1",
    "render_issued",
]

RenderFormat = Literal["png", "svg", "pdf"]
MEDIA_TYPES: Final[dict[RenderFormat, str]] = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}
PNG_SCALE: Final = 8
"""Pixels per module of the on-screen PNG (~840 px for a test certificate)."""


def issued_from_hc1(
    hc1: str,
    *,
    trust: verifier.TrustStore,
    now: datetime,
    devices: DeviceRegistry | None = None,
) -> IssuedCertificate:
    """The certificate ``hc1`` holds, when it verifies as valid against ``trust`` at ``now``.

    Raises :class:`RequestInvalid` on field ``hc1`` (the report's error code) otherwise.
    """
    report = verifier.verify(hc1, trust=trust, now=now, devices=devices)
    certificate = report.certificate
    if (
        not report.valid
        or certificate is None
        or report.kid is None
        or report.issued_at is None
        or report.expires_at is None
    ):
        error = report.error
        code = error.code if error is not None else "certificate_invalid"
        message = error.message if error is not None else "the certificate is not valid"
        raise RequestInvalid(
            [FieldError("hc1", code, f"only a valid certificate of this service: {message}")],
            message="only a valid certificate signed by this service can be rendered",
        )
    entry = certificate["t"][0]
    return IssuedCertificate(
        uvci=str(entry["ci"]),
        hc1=hc1,
        kid=base64.b64decode(report.kid),
        test_type=str(entry["tt"]),
        issued_at=datetime.fromisoformat(report.issued_at),
        expires_at=datetime.fromisoformat(report.expires_at),
        certificate=certificate,
        signature=parse_sign1(decode_hc1(hc1)).signature,
    )


def pdf_disposition(uvci: str) -> str:
    """``Content-Disposition`` of a certificate's PDF: ``dcc-<UVCI body>.pdf``, ASCII only.

    The check character may be ``/`` or ``:``, so every run of other characters becomes ``-``.
    """
    body = uvci.upper().removeprefix("URN:UVCI:")
    safe = re.sub(r"[^A-Z0-9]+", "-", body).strip("-")
    return f'attachment; filename="dcc-{safe or "certificate"}.pdf"'


def render_issued(
    issued: IssuedCertificate,
    kind: RenderFormat,
    *,
    timezone: str,
    devices: DeviceRegistry | None = None,
) -> bytes:
    """``issued`` as a QR PNG, a QR SVG (UTF-8) or the printable PDF."""
    if kind == "png":
        return render_png(issued.hc1, scale=PNG_SCALE)
    if kind == "svg":
        return render_svg(issued.hc1).encode("utf-8")
    device = issued.certificate["t"][0].get("ma")
    known = devices.get(device) if devices is not None and isinstance(device, str) else None
    return render_pdf(
        issued, timezone=timezone, device_name=known.name if known is not None else None
    )


def render_hc1(
    hc1: str,
    kind: RenderFormat,
    *,
    trust: verifier.TrustStore,
    now: datetime,
    timezone: str,
    devices: DeviceRegistry | None = None,
) -> tuple[IssuedCertificate, bytes]:
    """Verify ``hc1`` (:func:`issued_from_hc1`), then render it (:func:`render_issued`)."""
    issued = issued_from_hc1(hc1, trust=trust, now=now, devices=devices)
    return issued, render_issued(issued, kind, timezone=timezone, devices=devices)
