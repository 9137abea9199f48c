"""A one-page PDF written directly (PDF 1.7 syntax, ISO 32000-1): text, rules and one image.

:class:`Canvas` records what the page draws, in millimetres from the top-left corner;
:func:`Canvas.finish` writes the file: catalog, page, one Flate content stream, the fonts
(embedded TrueType subsets as Type0/Identity-H with a ToUnicode map, or the Helvetica core
font) and the QR code as an image XObject whose data are the PNG's own IDAT bytes (Flate
with the PNG predictor), so the image in the PDF is exactly the PNG that was checked. The
font objects of a cached subset are serialised once (:func:`_font_objects`).
Equal input gives equal bytes.
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from issuer.render.pdf_font import CoreFace, FontSubset, TrueTypeFace
from signing.errors import DccError

__all__ = ["A4_MM", "Canvas", "PngImage", "parse_png"]

A4_MM: Final = (210.0, 297.0)
_PT_PER_MM: Final = 72 / 25.4
_PAGE_HEIGHT_PT: Final = A4_MM[1] * _PT_PER_MM
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
Colour = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class PngImage:
    """A greyscale PNG as a PDF image: size, bit depth and the concatenated IDAT data."""

    width: int
    height: int
    bits: int
    idat: bytes


def parse_png(png: bytes) -> PngImage:
    """The IHDR and IDAT of a non-interlaced greyscale PNG (what the QR renderer writes)."""
    if not png.startswith(_PNG_SIGNATURE):
        raise DccError("the QR image is not a PNG", code="pdf_render_failed")
    position, header, idat = len(_PNG_SIGNATURE), b"", []
    while position + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[position : position + 8])
        data = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            idat.append(data)
        elif kind == b"IEND":
            break
        position += 12 + length
    if len(header) != 13:
        raise DccError("the QR image has no PNG header", code="pdf_render_failed")
    width, height, bits, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if colour_type != 0 or interlace != 0 or not idat:
        raise DccError("the QR image is not plain greyscale", code="pdf_render_failed")
    return PngImage(width, height, bits, b"".join(idat))


Face = TrueTypeFace | CoreFace


@dataclass(slots=True)
class _Run:
    font: int
    size: float
    colour: Colour
    x: float
    baseline: float
    text: str


class Canvas:
    """One A4 page being drawn: text runs, lines and one image (units mm, origin top-left)."""

    def __init__(self, faces: tuple[Face, Face]) -> None:
        """``faces`` are (regular, bold): both TrueType, or both core fonts."""
        self.faces = faces
        self._runs: list[_Run] = []
        self._ops: list[str | _Run] = []
        self._image: tuple[PngImage, float, float, float, float] | None = None
        self._stroke: Colour = (0, 0, 0)

    def text(
        self, x: float, baseline: float, text: str, *, bold: bool, size: float, colour: Colour
    ) -> None:
        """``text`` starting at ``x``, its baseline at ``baseline`` (mm), ``size`` in points."""
        run = _Run(1 if bold else 0, size, colour, x, baseline, text)
        self._runs.append(run)
        self._ops.append(run)

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: Colour) -> None:
        """A 0.2 mm rule from (x1, y1) to (x2, y2)."""
        self._ops.append(f"{_rgb(colour)} RG {_pt(x1)} {_y(y1)} m {_pt(x2)} {_y(y2)} l S")

    def image(self, png: PngImage, x: float, y: float, width: float, height: float) -> None:
        """The page's one image, its top-left corner at (x, y)."""
        self._image = (png, x, y, width, height)

    def finish(self, *, title: str, lang: str, created: datetime) -> bytes:
        """The PDF file."""
        fonts = self._fonts()
        content = zlib.compress(self._content(fonts).encode("latin-1"), 1)
        objects: dict[int, bytes] = {
            1: f"<< /Type /Catalog /Pages 2 0 R /Lang {_text_string(lang)} >>".encode(),
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            4: _stream(b"/Filter /FlateDecode", content),
            5: (
                f"<< /Title {_text_string(title)} /Creator (dcc-service) /Producer (dcc-service)"
                f" /CreationDate {_text_string(_pdf_date(created))} >>"
            ).encode(),
        }
        number, xobjects = 6, ""
        if self._image is not None:
            png = self._image[0]
            objects[number] = _stream(
                f"/Type /XObject /Subtype /Image /Width {png.width} /Height {png.height}"
                f" /ColorSpace /DeviceGray /BitsPerComponent {png.bits} /Filter /FlateDecode"
                f" /DecodeParms << /Predictor 15 /Colors 1 /BitsPerComponent {png.bits}"
                f" /Columns {png.width} >>".encode(),
                png.idat,
            )
            xobjects = f" /XObject << /Q {number} 0 R >>"
            number += 1
        references = []
        for index, (face, subset) in enumerate(zip(self.faces, fonts, strict=True)):
            font_objects = _font_objects(face, subset, number)
            objects.update(font_objects)
            references.append(f"/F{index} {number} 0 R")
            number += len(font_objects)
        objects[3] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_pt(A4_MM[0])} {_pt(A4_MM[1])}]"
            f" /Resources << /ProcSet [/PDF /Text /ImageB] /Font << {' '.join(references)} >>"
            f"{xobjects} >> /Contents 4 0 R >>"
        ).encode()
        return _assemble(objects)

    def _fonts(self) -> tuple[FontSubset | None, FontSubset | None]:
        chosen: list[FontSubset | None] = []
        for index, face in enumerate(self.faces):
            if isinstance(face, TrueTypeFace):
                text = "".join(run.text for run in self._runs if run.font == index)
                # bold is for the fixed labels only: its exact characters make a small subset
                chosen.append(face.subset(text, exact=index == 1))
            else:
                chosen.append(None)
        return chosen[0], chosen[1]

    def _content(self, fonts: tuple[FontSubset | None, FontSubset | None]) -> str:
        parts = ["0.57 w"]
        if self._image is not None:
            _, x, y, width, height = self._image
            parts.append(f"q {_pt(width)} 0 0 {_pt(height)} {_pt(x)} {_y(y + height)} cm /Q Do Q")
        for op in self._ops:
            if isinstance(op, str):
                parts.append(op)
                continue
            subset = fonts[op.font]
            encoded = _encode(op.text, subset)
            parts.append(
                f"BT /F{op.font} {op.size:.2f} Tf {_rgb(op.colour)} rg"
                f" {_pt(op.x)} {_y(op.baseline)} Td <{encoded}> Tj ET"
            )
        return "\n".join(parts)


def _encode(text: str, subset: FontSubset | None) -> str:
    if subset is None:
        return text.encode("cp1252", "replace").hex()
    encoded = text.translate(subset.hex_glyphs)
    if len(encoded) == 4 * len(text):
        return encoded
    gids = subset.gids  # a character outside the subset: glyph 0 (.notdef)
    return "".join(f"{gids.get(ord(char), 0):04x}" for char in text)


@functools.lru_cache(maxsize=64)
def _font_objects(face: Face, subset: FontSubset | None, first: int) -> dict[int, bytes]:
    """The PDF objects of one font, numbered from ``first`` (serialised once per subset)."""
    if subset is None:
        assert isinstance(face, CoreFace)
        return {
            first: (
                f"<< /Type /Font /Subtype /Type1 /BaseFont /{face.base_font}"
                " /Encoding /WinAnsiEncoding >>"
            ).encode()
        }
    assert isinstance(face, TrueTypeFace)
    widths = " ".join(map(str, subset.widths))
    bbox = " ".join(map(str, face.bbox))
    return {
        first: (
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{subset.name} /Encoding /Identity-H"
            f" /DescendantFonts [{first + 1} 0 R] /ToUnicode {first + 4} 0 R >>"
        ).encode(),
        first + 1: (
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{subset.name}"
            " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
            f" /FontDescriptor {first + 2} 0 R /CIDToGIDMap /Identity /DW 600"
            f" /W [0 [{widths}]] >>"
        ).encode(),
        first + 2: (
            f"<< /Type /FontDescriptor /FontName /{subset.name} /Flags 32"
            f" /FontBBox [{bbox}] /ItalicAngle 0 /Ascent {face.ascent} /Descent {face.descent}"
            f" /CapHeight {face.ascent} /StemV 80 /FontFile2 {first + 3} 0 R >>"
        ).encode(),
        first + 3: _stream(
            f"/Filter /FlateDecode /Length1 {subset.raw_length}".encode(), subset.program
        ),
        first + 4: _stream(b"/Filter /FlateDecode", zlib.compress(subset.to_unicode, 6)),
    }


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _assemble(objects: dict[int, bytes]) -> bytes:
    """Header, the objects, the cross-reference table and the trailer."""
    out = [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
    position = len(out[0])
    count = max(objects) + 1
    offsets = [0] * count
    for number in sorted(objects):
        chunk = b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
        offsets[number] = position
        position += len(chunk)
        out.append(chunk)
    xref = [b"xref\n0 %d\n0000000000 65535 f \n" % count]
    xref += [b"%010d 00000 n \n" % offsets[n] for n in range(1, count)]
    out += xref
    out.append(
        b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (count, position)
    )
    return b"".join(out)


def _pt(mm: float) -> str:
    return f"{mm * _PT_PER_MM:.2f}"


def _y(mm: float) -> str:
    return f"{_PAGE_HEIGHT_PT - mm * _PT_PER_MM:.2f}"


def _rgb(colour: Colour) -> str:
    return " ".join(f"{c / 255:.3f}" for c in colour)


def _text_string(text: str) -> str:
    """A PDF text string: hex of UTF-16BE with its byte-order mark."""
    return "<feff" + text.encode("utf-16-be").hex() + ">"


def _pdf_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
