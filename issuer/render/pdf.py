"""The printable certificate: one A4 page, the QR code and the details in English and French.

:func:`render_pdf` draws an :class:`~issuer.issuer.IssuedCertificate` with the project's own
one-page PDF writer (:mod:`issuer.render.pdf_doc`; fonts and their subsets are read once and
cached, :mod:`issuer.render.pdf_font`). The QR code is the PNG of
:func:`issuer.render.qr.render_png` (:data:`PDF_QR_SCALE` pixels per module, a 4-module quiet
zone), handed to ``check`` when given, then embedded as it is, at 0.75 mm per module, between
50 and 85 mm a side, far above the 35 mm a phone camera needs at arm's length. Times (sample, issue,
expiry) are printed in the issuer's local time with their UTC offset, never bare UTC
(field.md §4).

Names may be in any script: the page embeds DejaVu Sans (Debian ``fonts-dejavu-core``)
found in :data:`FONT_DIRS` (Latin, Greek, Cyrillic, Georgian, Armenian...). Without it the
page falls back to the PDF core font, which holds Latin-1 only. A name the font cannot
show (CJK without DejaVu glyphs; Arabic and Hebrew, which would need a shaping engine) is
printed in its ICAO 9303 standardised form, which is always on the page anyway; other
text loses only the characters the font lacks.
Rendering costs a few milliseconds (the first PDF of a process, or of a new script, ~0.1 s
more to read the font and subset it); call it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hcert.valuesets import DISEASE_COVID19, RESULT_NOT_DETECTED, TEST_TYPE_NAAT, TEST_TYPE_RAT
from issuer.issuer import IssuedCertificate
from issuer.render.page import DENSITIES, Page, Row
from issuer.render.qr import QrCheck, QrEncoder, qr_matrix, render_png
from signing.errors import ConfigError, DccError

__all__ = [
    "DEFAULT_TIMEZONE",
    "FONT_DIRS",
    "PDF_QR_SCALE",
    "find_unicode_font",
    "format_local",
    "render_pdf",
]

DEFAULT_TIMEZONE: Final = "Europe/Luxembourg"
FONT_DIRS: Final[tuple[Path, ...]] = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu (fonts-dejavu-core)
    Path("/usr/share/fonts/dejavu-sans-fonts"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/share/fonts/dejavu"),  # Alpine
)
PDF_QR_SCALE: Final = 4
"""Pixels per module of the QR image in the PDF (1-bit; sharp at any print resolution)."""
_QUIET_ZONE: Final = 4
_REGULAR: Final = "DejaVuSans.ttf"
_BOLD: Final = "DejaVuSans-Bold.ttf"


_TEST_TYPES: Final = {
    TEST_TYPE_RAT: "Rapid antigen test / Test antigénique rapide",
    TEST_TYPE_NAAT: "NAAT (e.g. PCR) / TAAN (p. ex. PCR)",
}
_RESULTS: Final = {RESULT_NOT_DETECTED: "Not detected / Non détecté"}
_DISEASES: Final = {DISEASE_COVID19: "COVID-19"}


def find_unicode_font(dirs: Sequence[Path] = FONT_DIRS) -> tuple[Path, Path] | None:
    """(regular, bold) DejaVu Sans files from the first directory holding both, or None."""
    for directory in dirs:
        regular, bold = directory / _REGULAR, directory / _BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def format_local(moment: datetime, zone: tzinfo) -> str:
    """``2021-07-08 14:30 (UTC+02:00)``: ``moment`` in ``zone``, to the minute, with offset."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def render_pdf(
    issued: IssuedCertificate,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    device_name: str | None = None,
    font_dirs: Sequence[Path] = FONT_DIRS,
    encoder: QrEncoder = qr_matrix,
    check: QrCheck | None = None,
) -> bytes:
    """The printable certificate of ``issued``: one A4 page of PDF.

    ``timezone`` (IANA name) is the issuer's: every time is printed in it with its offset.
    ``device_name`` is the RAT device's display name, printed beside its id when known.
    ``font_dirs`` are searched for DejaVu Sans (see the module doc for the fallback).
    ``encoder`` makes the QR matrix; ``check`` (when given) is called with ``("png", image,
    hc1)`` for the QR image before it is embedded, and raises to refuse it.
    Raises :class:`ConfigError` (``timezone_invalid``) for an unknown time zone and
    :class:`DccError` (``pdf_render_failed``) for a certificate without a test entry.
    """
    zone = _zone(timezone)
    entry = _test_entry(issued.certificate)
    fonts = find_unicode_font(font_dirs)
    details = _test_rows(issued, entry, zone, device_name)
    matrix = encoder(issued.hc1)
    qr_png = render_png(
        issued.hc1, scale=PDF_QR_SCALE, border=_QUIET_ZONE, encoder=lambda _: matrix
    )
    if check is not None:
        check("png", qr_png, issued.hc1)
    for density in DENSITIES:
        page = Page(fonts, density=density)
        holder = _holder_rows(issued, zone, shows=page.can_show)
        page.header()
        page.holder(qr_png, matrix.size + 2 * _QUIET_ZONE, holder)
        page.table(details)
        page.footer(timezone)
        if not page.overflows:
            break
    return page.finish(issued.issued_at)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            "unknown time zone for the printable certificate (IANA name expected)",
            code="timezone_invalid",
            timezone=name[:64],
        ) from exc


def _test_entry(certificate: Mapping[str, Any]) -> Mapping[str, Any]:
    tests = certificate.get("t")
    if not isinstance(tests, list) or not tests or not isinstance(tests[0], Mapping):
        raise DccError("the certificate holds no test entry", code="pdf_render_failed")
    entry: Mapping[str, Any] = tests[0]
    return entry


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _names(certificate: Mapping[str, Any], shows: Callable[[str], bool]) -> tuple[str, str, str]:
    """(family name, given name, standardised ``FNT<<GNT``) as printed: a name the font
    cannot show (a script it lacks, right-to-left text) is printed in its standardised form."""
    nam = certificate.get("nam")
    nam = nam if isinstance(nam, Mapping) else {}
    fnt, gnt = _text(nam.get("fnt")), _text(nam.get("gnt"))
    family, given = _text(nam.get("fn")), _text(nam.get("gn"))
    if not shows(family):
        family = fnt.replace("<", " ")
    if not shows(given):
        given = gnt.replace("<", " ")
    return family or "-", given or "-", f"{fnt}<<{gnt}" if gnt else fnt


def _holder_rows(
    issued: IssuedCertificate, zone: tzinfo, *, shows: Callable[[str], bool]
) -> list[Row]:
    """What is read first, beside the QR code: who, and until when."""
    family, given, _ = _names(issued.certificate, shows)
    return [
        ("Family name(s)", "Nom(s) de famille", family),
        ("Given name(s)", "Prénom(s)", given),
        ("Date of birth", "Date de naissance", _text(issued.certificate.get("dob"))),
        ("Valid until", "Valable jusqu'au", format_local(issued.expires_at, zone)),
    ]


def _test_rows(
    issued: IssuedCertificate, entry: Mapping[str, Any], zone: tzinfo, device_name: str | None
) -> list[Row]:
    """The identifiers, then the test and the issuer in the order of the EU template."""
    _, _, standardised = _names(issued.certificate, lambda _: True)
    test_type = _text(entry.get("tt"))
    rows = [
        ("Standardised name (ICAO 9303)", "Nom normalisé (OACI 9303)", standardised),
        ("Certificate identifier", "Identifiant du certificat", issued.uvci),
        ("Disease or agent targeted", "Maladie ou agent ciblé", _disease(entry)),
        ("Type of test", "Type de test", _TEST_TYPES.get(test_type, test_type)),
    ]
    if test_type == TEST_TYPE_RAT:
        device = _text(entry.get("ma"))
        value = f"{device_name} ({device})" if device_name else device
        rows.append(("Test device (EU RAT id)", "Dispositif de test (id UE)", value))
    elif entry.get("nm"):
        rows.append(("Test name", "Nom du test", _text(entry.get("nm"))))
    rows += [
        ("Sample collected", "Prélèvement", _sample_time(entry, zone)),
        ("Test result", "Résultat du test", _RESULTS.get(_text(entry.get("tr")), "?")),
        ("Testing centre", "Centre de test", _text(entry.get("tc")) or "-"),
        ("Member State of test", "État membre du test", _text(entry.get("co"))),
        ("Certificate issuer", "Émetteur du certificat", _text(entry.get("is"))),
        ("Issued", "Délivré le", format_local(issued.issued_at, zone)),
    ]
    return rows


def _disease(entry: Mapping[str, Any]) -> str:
    code = _text(entry.get("tg"))
    return _DISEASES.get(code, code)


def _sample_time(entry: Mapping[str, Any], zone: tzinfo) -> str:
    raw = _text(entry.get("sc"))
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    return format_local(moment if moment.tzinfo else moment.replace(tzinfo=UTC), zone)
