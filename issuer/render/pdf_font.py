"""Fonts of the printable certificate: metrics to lay text out, and cached embeddable subsets.

A :class:`TrueTypeFace` reads a TTF once per process (:func:`load_face`; ~70 ms with
fontTools). Text is measured from its advance widths. What a PDF embeds is a
:class:`FontSubset`: the glyphs of whole 128-code-point *pages* of Unicode (the Latin pages
are always in, so a certificate in a Latin script reuses one subset), subset once with
fontTools and kept in a small LRU cache per face (~15 ms on a miss, a dict look-up on a
hit). Text is written as 2-byte glyph ids (Identity-H) with a ToUnicode map, so a PDF
reader extracts and searches it.

The PDF core font (Helvetica, WinAnsi, Latin-1 only) is :class:`CoreFace`: nothing is
embedded, widths come from fpdf2's tables of the Adobe metrics.
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont

__all__ = ["CoreFace", "FontFace", "FontSubset", "TrueTypeFace", "load_core_face", "load_face"]

_PAGE_BITS: Final = 7
_ALWAYS_PAGES: Final = frozenset({0, 1, 2})
"""U+0000-U+017F: ASCII, Latin-1 Supplement, Latin Extended-A (most European names)."""
_SUBSETS_CACHED: Final = 32


@dataclass(frozen=True, slots=True, eq=False)
class FontSubset:
    """An embeddable subset: the font program, its glyph ids and widths (1/1000 em).

    Compared and hashed by identity: each is built once and cached."""

    name: str
    program: bytes
    """The subset TTF, zlib-compressed (a FontFile2 stream with /Length1 = raw_length)."""
    raw_length: int
    gids: dict[int, int]
    """Code point -> glyph id in the subset."""
    widths: tuple[int, ...]
    """Advance width of each glyph id of the subset."""
    to_unicode: bytes
    """The ToUnicode CMap (uncompressed)."""
    hex_glyphs: dict[int, str]
    """Code point -> its glyph id as 4 hex digits (a ``str.translate`` table)."""


class FontFace(Protocol):
    """What the page needs of a font: which characters it has and how wide text is."""

    def has(self, text: str) -> bool: ...

    def width(self, text: str, size: float) -> float: ...


class TrueTypeFace:
    """One TrueType font: code points, advance widths, vertical metrics, cached subsets."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data = path.read_bytes()
        font = TTFont(io.BytesIO(self._data), lazy=True)
        scale = 1000 / font["head"].unitsPerEm
        head, hhea = font["head"], font["hhea"]
        self.ascent = round(hhea.ascent * scale)
        self.descent = round(hhea.descent * scale)
        self.bbox = tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax))
        self.postscript_name = str(font["name"].getDebugName(6) or path.stem).replace(" ", "")
        metrics = font["hmtx"].metrics
        self.glyph_names: dict[int, str] = dict(font.getBestCmap())
        self.advances: dict[int, float] = {
            code: metrics[name][0] * scale / 1000 for code, name in self.glyph_names.items()
        }
        """Advance of each code point in em (multiply by the size in points)."""
        self._missing_advance: float = metrics[".notdef"][0] * scale / 1000
        self._chars = frozenset(map(chr, self.advances))
        self._subset_for_pages = functools.lru_cache(maxsize=_SUBSETS_CACHED)(self._pages_subset)
        self._subset_for_chars = functools.lru_cache(maxsize=_SUBSETS_CACHED)(self._build_subset)

    def has(self, text: str) -> bool:
        """Whether the font has a glyph for every character of ``text``."""
        return self._chars.issuperset(text)

    def width(self, text: str, size: float) -> float:
        """Width of ``text`` in points at ``size`` points."""
        advances, missing = self.advances, self._missing_advance
        return sum([advances.get(code, missing) for code in map(ord, text)]) * size

    def subset(self, text: Iterable[str], *, exact: bool = False) -> FontSubset:
        """The cached subset holding every page of code points ``text`` uses, or with
        ``exact`` only its characters (for text that never changes, such as the labels:
        a smaller font, but a new subset for every new set of characters)."""
        chars = set(text)
        if exact:
            return self._subset_for_chars(frozenset(map(ord, chars)))
        pages = frozenset([ord(char) >> _PAGE_BITS for char in chars]) | _ALWAYS_PAGES
        return self._subset_for_pages(pages)

    def _pages_subset(self, pages: frozenset[int]) -> FontSubset:
        return self._build_subset(
            frozenset(code for code in self.glyph_names if code >> _PAGE_BITS in pages)
        )

    def _build_subset(self, wanted: frozenset[int]) -> FontSubset:
        codes = sorted(code for code in wanted if code in self.glyph_names and code >= 0x20)
        options = ft_subset.Options()
        options.hinting = False
        options.layout_features = []
        options.name_IDs = [1, 2, 6]
        options.notdef_outline = True
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
        font = TTFont(io.BytesIO(self._data))
        subsetter = ft_subset.Subsetter(options)
        subsetter.populate(unicodes=codes)
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
        raw = out.getvalue()
        cmap = font.getBestCmap()
        gids = {code: font.getGlyphID(cmap[code]) for code in codes if code in cmap}
        hmtx, scale = font["hmtx"].metrics, 1000 / font["head"].unitsPerEm
        widths = tuple(round(hmtx[name][0] * scale) for name in font.getGlyphOrder())
        tag = _subset_tag(codes)
        return FontSubset(
            name=f"{tag}+{self.postscript_name}",
            program=zlib.compress(raw, 6),
            raw_length=len(raw),
            gids=gids,
            widths=widths,
            to_unicode=_to_unicode_cmap(gids),
            hex_glyphs={code: f"{gid:04x}" for code, gid in gids.items()},
        )


class CoreFace:
    """Helvetica (regular or bold), a PDF core font: Latin-1 text, nothing embedded."""

    def __init__(self, base_font: str, widths: dict[str, int]) -> None:
        self.base_font = base_font
        self._widths = {ord(char): width / 1000 for char, width in widths.items()}

    def has(self, text: str) -> bool:
        return all(ord(char) < 0x100 for char in text)

    def width(self, text: str, size: float) -> float:
        widths = self._widths
        return sum([widths.get(code, 0.5) for code in map(ord, text)]) * size


@functools.cache
def load_face(path: Path) -> TrueTypeFace:
    """The face of the TTF at ``path``, read once per process."""
    return TrueTypeFace(path)


@functools.cache
def load_core_face(bold: bool) -> CoreFace:
    """Helvetica or Helvetica-Bold with the Adobe widths fpdf2 ships."""
    from fpdf.fonts import CORE_FONTS_CHARWIDTHS

    key = "helveticaB" if bold else "helvetica"
    return CoreFace("Helvetica-Bold" if bold else "Helvetica", CORE_FONTS_CHARWIDTHS[key])


def _subset_tag(codes: Iterable[int]) -> str:
    """Six capital letters naming the subset (PDF 32000 §9.6.4), stable for its characters."""
    value = zlib.crc32(",".join(map(str, codes)).encode())
    letters = []
    for _ in range(6):
        value, digit = divmod(value, 26)
        letters.append(chr(ord("A") + digit))
    return "".join(letters)


def _to_unicode_cmap(gids: dict[int, int]) -> bytes:
    """A ToUnicode CMap from 2-byte glyph ids back to code points (first code per glyph)."""
    by_gid: dict[int, int] = {}
    for code, gid in sorted(gids.items()):
        by_gid.setdefault(gid, code)
    entries = sorted(by_gid.items())
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{gid:04X}> <{_utf16_hex(code)}>" for gid, code in chunk)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _utf16_hex(code: int) -> str:
    return chr(code).encode("utf-16-be", "surrogatepass").hex().upper()
