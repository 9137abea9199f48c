"""Drawing the printable certificate's A4 page with fpdf2 (the layout of :mod:`issuer.render.pdf`).

Top to bottom: the title in English and French; the QR code on the left with the holder's
rows beside it (label above value); the test rows as a two-column table; the footer. The
QR code is the PNG of :func:`issuer.render.qr.render_png` at a whole number of pixels per module
with a 4-module quiet zone, placed at 0.75 mm per module (50 to 85 mm a side).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from issuer.render.qr import qr_matrix, render_png

__all__ = ["DENSITIES", "Page", "Row"]

Row = tuple[str, str, str]
"""(English label, French label, value)."""
DENSITIES: Final = (1.0, 0.86, 0.74)
"""Scales of type and QR code, tried in turn until the longest fields fit the page."""

_FAMILY: Final = "dejavu"
_CORE_FAMILY: Final = "helvetica"
_MODULE_MM: Final = 0.75
_QR_MIN_MM: Final = 50.0
_QR_MAX_MM: Final = 85.0
_QR_PNG_SCALE: Final = 8
_QUIET_ZONE: Final = 4
_MARGIN: Final = 15.0
_LABEL_WIDTH: Final = 62.0
_GUTTER: Final = 8.0
_FOOTER_HEIGHT: Final = 17.0
_INK: Final = (0, 0, 0)
_MUTED: Final = (70, 70, 70)
_RULE: Final = (160, 160, 160)


_RIGHT_TO_LEFT: Final = frozenset({"R", "AL"})
"""Bidi classes of Hebrew and Arabic letters: fpdf2 without a shaping engine would print
them unjoined and left to right, so they count as not showable."""


class Page:
    """One A4 page being drawn; the methods run top to bottom."""

    def __init__(self, fonts: tuple[Path, Path] | None, *, density: float = 1.0) -> None:
        """Start the page with the (regular, bold) TTF files, or the core font for None;
        ``density`` scales type sizes, line heights and the largest QR side."""
        self.density = density
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
        pdf.set_auto_page_break(auto=False)
        pdf.set_title("EU Digital COVID Certificate / Certificat COVID numérique de l'UE")
        pdf.set_lang("en")
        pdf.set_creator("dcc-service")
        self.family = _FAMILY if fonts is not None else _CORE_FAMILY
        self._glyphs: frozenset[int] | None = None
        if fonts is not None:
            pdf.add_font(_FAMILY, "", str(fonts[0]))
            pdf.add_font(_FAMILY, "B", str(fonts[1]))
            font = pdf.fonts[_FAMILY]
            self._glyphs = frozenset(font.cmap) if isinstance(font, TTFFont) else None
        pdf.add_page()
        self.pdf = pdf

    def can_show(self, text: str) -> bool:
        """Whether the page's font shows every character of ``text`` as it should."""
        if any(unicodedata.bidirectional(char) in _RIGHT_TO_LEFT for char in text):
            return False
        if self._glyphs is None:
            return all(ord(char) < 0x100 for char in text)
        return all(ord(char) in self._glyphs for char in text)

    def _font(
        self, size: float, *, bold: bool = False, colour: tuple[int, int, int] = _INK
    ) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size * self.density)
        self.pdf.set_text_color(*colour)

    def _safe(self, text: str) -> str:
        """``text`` as the font can show it: a character it lacks becomes its decomposed
        base letter when the font has that (core fonts: Latin-1 only), else ``?``."""
        if self.can_show(text):
            return text
        out = []
        for char in text:
            if self.can_show(char):
                out.append(char)
                continue
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if self.can_show(c))
            out.append(base or "?")
        return "".join(out)

    def _write(self, x: float, width: float, height: float, text: str) -> None:
        """Left-aligned text wrapped to ``width`` at ``x``, continuing below the cursor."""
        self.pdf.set_x(x)
        self.pdf.multi_cell(
            width,
            height * self.density,
            self._safe(text),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def header(self) -> None:
        """The title block, in English and French."""
        width = self.pdf.w - 2 * _MARGIN
        self._font(17, bold=True)
        self.pdf.cell(width, 8, "EU Digital COVID Certificate", align="C")
        self.pdf.ln(8)
        self._font(13, colour=_MUTED)
        self.pdf.cell(width, 7, "Certificat COVID numérique de l'UE", align="C")
        self.pdf.ln(7)
        self._font(11, bold=True)
        self.pdf.cell(width, 7, self._safe("Test certificate · Certificat de test"), align="C")
        self.pdf.ln(10)

    def holder(self, hc1: str, rows: Sequence[Row]) -> None:
        """The QR code on the left (whole PNG pixels per module, 4-module quiet zone) and
        the holder's rows on the right, label above value."""
        pdf = self.pdf
        top = pdf.get_y()
        modules = qr_matrix(hc1).size + 2 * _QUIET_ZONE
        side = min(_QR_MAX_MM * self.density, max(_QR_MIN_MM, modules * _MODULE_MM))
        png = render_png(hc1, scale=_QR_PNG_SCALE, border=_QUIET_ZONE)
        pdf.image(io.BytesIO(png), x=_MARGIN, y=top, w=side, h=side)
        x = _MARGIN + side + _GUTTER
        width = pdf.w - _MARGIN - x
        pdf.set_y(top + 1)
        for english, french, value in rows:
            self._font(8.5, bold=True)
            self._write(x, width, 3.8, english)
            self._font(8, colour=_MUTED)
            self._write(x, width, 3.6, french)
            self._font(11)
            self._write(x, width, 5, value)
            pdf.ln(2)
        pdf.set_y(max(top + side, pdf.get_y()) + 4)

    def table(self, rows: Sequence[Row]) -> None:
        """Full-width rows: labels (English above French) left, value right."""
        pdf = self.pdf
        value_x = _MARGIN + _LABEL_WIDTH
        value_width = pdf.w - _MARGIN - value_x
        pdf.set_draw_color(*_RULE)
        for english, french, value in rows:
            top = pdf.get_y()
            pdf.line(_MARGIN, top, pdf.w - _MARGIN, top)
            pdf.set_y(top + 1)
            self._font(8.5, bold=True)
            self._write(_MARGIN, _LABEL_WIDTH - 2, 3.8, english)
            self._font(8, colour=_MUTED)
            self._write(_MARGIN, _LABEL_WIDTH - 2, 3.6, french)
            label_bottom = pdf.get_y()
            pdf.set_y(top + 1.5)
            self._font(10.5)
            self._write(value_x, value_width, 5, value)
            pdf.set_y(max(label_bottom, pdf.get_y()) + 1)
        pdf.line(_MARGIN, pdf.get_y(), pdf.w - _MARGIN, pdf.get_y())

    def footer(self, timezone: str) -> None:
        """Where the times come from and how to check the certificate, in both languages."""
        pdf = self.pdf
        pdf.set_y(max(pdf.get_y() + 3, pdf.h - _MARGIN - _FOOTER_HEIGHT))
        self._font(8.5, colour=_MUTED)
        for text in (
            f"Times are local time in {timezone}, with their offset from UTC.",
            f"Les heures sont en heure locale ({timezone}), avec leur décalage par rapport à UTC.",
            "Scan the QR code with an EU DCC verifier to check this certificate.",
            "Scannez le code QR avec un vérificateur de certificats COVID de l'UE.",
        ):
            self._write(_MARGIN, pdf.w - 2 * _MARGIN, 4, text)

    @property
    def overflows(self) -> bool:
        """Whether what was drawn runs past the bottom margin."""
        return self.pdf.get_y() > self.pdf.h - _MARGIN / 2

    def finish(self, created: datetime) -> bytes:
        """The PDF bytes (creation date ``created``, so equal input gives equal output)."""
        self.pdf.set_creation_date(created.astimezone(UTC))
        return bytes(self.pdf.output())
