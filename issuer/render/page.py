"""Drawing the printable certificate's A4 page (the layout of :mod:`issuer.render.pdf`).

Top to bottom: the title in English and French; the QR code on the left with the holder's
rows beside it (label above value); the test rows as a two-column table; the footer. The
QR code is a PNG at a whole number of pixels per module with a 4-module quiet zone, placed
at 0.75 mm per module (50 to 85 mm a side). Text is laid out here (greedy word wrap on the
fonts' advance widths) and written by :class:`issuer.render.pdf_doc.Canvas`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from issuer.render.pdf_doc import A4_MM, Canvas, Colour, Face, parse_png
from issuer.render.pdf_font import load_core_face, load_face

__all__ = ["DENSITIES", "Page", "Row"]

Row = tuple[str, str, str]
"""(English label, French label, value)."""
DENSITIES: Final = (1.0, 0.86, 0.74)
"""Scales of type and QR code, tried in turn until the longest fields fit the page."""

TITLE: Final = "EU Digital COVID Certificate / Certificat COVID numérique de l'UE"
_MODULE_MM: Final = 0.75
_QR_MIN_MM: Final = 50.0
_QR_MAX_MM: Final = 85.0
_MARGIN: Final = 15.0
_CELL_PADDING: Final = 1.0
_LABEL_WIDTH: Final = 62.0
_GUTTER: Final = 8.0
_FOOTER_HEIGHT: Final = 17.0
_PT_PER_MM: Final = 72 / 25.4
_INK: Final = (0, 0, 0)
_MUTED: Final = (70, 70, 70)
_RULE: Final = (160, 160, 160)


_RIGHT_TO_LEFT: Final = frozenset({"R", "AL"})
"""Bidi classes of Hebrew and Arabic letters: without a shaping engine they would print
unjoined and left to right, so they count as not showable."""


class Page:
    """One A4 page being drawn; the methods run top to bottom."""

    def __init__(self, fonts: tuple[Path, Path] | None, *, density: float = 1.0) -> None:
        """Start the page with the (regular, bold) TTF files, or the core font for None;
        ``density`` scales type sizes, line heights and the largest QR side."""
        self.density = density
        faces: tuple[Face, Face] = (
            (load_face(fonts[0]), load_face(fonts[1]))
            if fonts is not None
            else (load_core_face(False), load_core_face(True))
        )
        self.canvas = Canvas(faces)
        self._faces = faces
        self.y = _MARGIN
        self.width = A4_MM[0]
        self.height = A4_MM[1]

    def can_show(self, text: str) -> bool:
        """Whether the page's font shows every character of ``text`` as it should."""
        if not text.isascii() and any(
            unicodedata.bidirectional(char) in _RIGHT_TO_LEFT for char in text
        ):
            return False
        return self._faces[0].has(text)

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

    def _lines(self, text: str, width: float, size: float, bold: bool) -> list[str]:
        """``text`` wrapped greedily at spaces to ``width`` mm (a word too long is split)."""
        face = self._faces[1 if bold else 0]
        limit = width * _PT_PER_MM
        if face.width(text, size) <= limit:
            return [text]
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if face.width(candidate, size) <= limit:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            for char in word:
                if current and face.width(current + char, size) > limit:
                    lines.append(current)
                    current = ""
                current += char
        lines.append(current)
        return lines

    def _write(
        self,
        x: float,
        width: float,
        height: float,
        text: str,
        *,
        size: float,
        bold: bool = False,
        colour: Colour = _INK,
        align: str = "L",
    ) -> None:
        """``text`` wrapped to ``width`` at ``x``, from the cursor down (line ``height`` mm)."""
        size *= self.density
        height *= self.density
        face = self._faces[1 if bold else 0]
        inner = width - 2 * _CELL_PADDING
        for line in self._lines(self._safe(text), inner, size, bold):
            left = x + _CELL_PADDING
            if align == "C":
                left = x + (width - face.width(line, size) / _PT_PER_MM) / 2
            baseline = self.y + height / 2 + 0.3 * size / _PT_PER_MM
            if line:
                self.canvas.text(left, baseline, line, bold=bold, size=size, colour=colour)
            self.y += height

    def header(self) -> None:
        """The title block, in English and French."""
        width = self.width - 2 * _MARGIN
        self._write(
            _MARGIN, width, 8, "EU Digital COVID Certificate", size=17, bold=True, align="C"
        )
        self._write(
            _MARGIN,
            width,
            7,
            "Certificat COVID numérique de l'UE",
            size=13,
            colour=_MUTED,
            align="C",
        )
        self._write(
            _MARGIN,
            width,
            7,
            "Test certificate · Certificat de test",
            size=11,
            bold=True,
            align="C",
        )
        self.y += 3

    def holder(self, qr_png: bytes, modules: int, rows: Sequence[Row]) -> None:
        """The QR code on the left (``qr_png``: ``modules`` a side with its quiet zone) and
        the holder's rows on the right, label above value."""
        top = self.y
        side = min(_QR_MAX_MM * self.density, max(_QR_MIN_MM, modules * _MODULE_MM))
        self.canvas.image(parse_png(qr_png), _MARGIN, top, side, side)
        x = _MARGIN + side + _GUTTER
        width = self.width - _MARGIN - x
        self.y = top + 1
        for english, french, value in rows:
            self._write(x, width, 3.8, english, size=8.5, bold=True)
            self._write(x, width, 3.6, french, size=8, colour=_MUTED)
            self._write(x, width, 5, value, size=11)
            self.y += 2
        self.y = max(top + side, self.y) + 4

    def table(self, rows: Sequence[Row]) -> None:
        """Full-width rows: labels (English above French) left, value right."""
        value_x = _MARGIN + _LABEL_WIDTH
        value_width = self.width - _MARGIN - value_x
        right = self.width - _MARGIN
        for english, french, value in rows:
            top = self.y
            self.canvas.line(_MARGIN, top, right, top, _RULE)
            self.y = top + 1
            self._write(_MARGIN, _LABEL_WIDTH - 2, 3.8, english, size=8.5, bold=True)
            self._write(_MARGIN, _LABEL_WIDTH - 2, 3.6, french, size=8, colour=_MUTED)
            label_bottom = self.y
            self.y = top + 1.5
            self._write(value_x, value_width, 5, value, size=10.5)
            self.y = max(label_bottom, self.y) + 1
        self.canvas.line(_MARGIN, self.y, right, self.y, _RULE)

    def footer(self, timezone: str) -> None:
        """Where the times come from and how to check the certificate, in both languages."""
        self.y = max(self.y + 3, self.height - _MARGIN - _FOOTER_HEIGHT)
        for text in (
            f"Times are local time in {timezone}, with their offset from UTC.",
            f"Les heures sont en heure locale ({timezone}), avec leur décalage par rapport à UTC.",
            "Scan the QR code with an EU DCC verifier to check this certificate.",
            "Scannez le code QR avec un vérificateur de certificats COVID de l'UE.",
        ):
            self._write(_MARGIN, self.width - 2 * _MARGIN, 4, text, size=8.5, colour=_MUTED)

    @property
    def overflows(self) -> bool:
        """Whether what was drawn runs past the bottom margin."""
        return self.y > self.height - _MARGIN / 2

    def finish(self, created: datetime) -> bytes:
        """The PDF bytes (creation date ``created``, so equal input gives equal output)."""
        return self.canvas.finish(title=TITLE, lang="en", created=created)
