"""ICAO Doc 9303 Part 3 transliteration of names for the DCC ``fnt`` / ``gnt`` fields.

The output alphabet is ``A-Z`` plus the filler ``<`` (schema pattern ``^[A-Z<]*$``, at most
80 characters). Rules (hcert.md §2.1, ICAO 9303-3 §6 "Transliterations recommended for use
by States"):

* the input is NFKC-normalised (decomposed input gives the same result as composed, and
  compatibility forms such as NBSP, full-width letters or ligatures fold to their plain form),
  then upper-cased;
* every kind of space and dash (hyphen, en/em dash, non-breaking hyphen, NBSP, ...) becomes
  ``<``; runs of separators collapse to one ``<`` and none is kept at either end;
* apostrophes, other punctuation, digits and symbols are dropped;
* Latin letters follow the ICAO table: most diacritics drop to the base letter, with the
  multi-letter exceptions Ä→AE, Å→AA, Æ→AE, Ö→OE, Ø→OE, Œ→OE, Ü→UE, ß/ẞ→SS, Þ→TH, Ĳ→IJ;
  Latin letters missing from the table fall back to their Unicode base letter;
* Cyrillic, Greek and Arabic follow their ICAO tables (Cyrillic without the per-language
  variants, since the language is unknown); Greek adds the digraphs Greek passports use
  (ELOT 743): ΟΥ→OU, ΑΥ/ΕΥ/ΗΥ→AV/EV/IV (AF/EF/IF before a voiceless consonant or at the end),
  Γ before Γ/Ξ/Χ → N; Georgian follows the national system used in Georgian passports;
* characters without any mapping (other scripts, emoji) are dropped: the result may be ``""``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

from signing.errors import ConfigError

__all__ = ["MAX_STANDARDISED_LENGTH", "is_standardised", "to_icao"]

MAX_STANDARDISED_LENGTH: Final = 80
"""Schema limit of ``fnt`` / ``gnt``."""


def _letters(spec: str) -> dict[int, str]:
    """``"A:ÀÁ C:Ç"`` → ``{ord("À"): "A", ord("Á"): "A", ord("Ç"): "C"}``."""
    return {
        ord(ch): out for item in spec.split() for out, chars in [item.split(":")] for ch in chars
    }


def _pairs(spec: str) -> dict[int, str]:
    """``"Ж:ZH Ь:"`` → ``{ord("Ж"): "ZH", ord("Ь"): ""}`` (one source character per item)."""
    return {ord(src): out for item in spec.split() for src, out in [item.split(":")]}


# ICAO 9303-3 Latin table (upper case: the input is upper-cased first; ß upper-cases to SS).
_LATIN: Final = _letters(
    "A:ÀÁÂÃĀĂĄ AE:ÄÆ AA:Å C:ÇĆĈĊČ D:ÐĎĐ E:ÈÉÊËĒĔĖĘĚ G:ĜĞĠĢ H:ĤĦ I:ÌÍÎÏĨĪĬĮİ IJ:Ĳ J:Ĵ K:Ķ "
    "L:ĹĻĽĿŁ N:ÑŃŅŇŊ O:ÒÓÔÕŌŎŐ OE:ÖØŒ R:ŔŖŘ S:ŚŜŞŠȘ SS:ẞ T:ŢŤŦȚ TH:Þ U:ÙÚÛŨŪŬŮŰŲ UE:Ü W:Ŵ "
    "Y:ÝŶŸ Z:ŹŻŽ"
)

# ICAO 9303-3 Cyrillic table (general column; Ь is not transliterated).
_CYRILLIC: Final = _pairs(
    "А:A Б:B В:V Г:G Ґ:G Д:D Ђ:D Ѓ:G Е:E Ё:E Є:IE Ж:ZH З:Z Ѕ:DZ И:I І:I Ї:I Й:I Ј:J К:K "
    "Л:L Љ:LJ М:M Н:N Њ:NJ О:O П:P Р:R С:S Т:T Ћ:C Ќ:K У:U Ў:U Ф:F Х:KH Ц:TS Ч:CH Џ:DZ Ш:SH "
    "Щ:SHCH Ъ:IE Ы:Y Ь: Э:E Ю:IU Я:IA"
)

# ICAO 9303-3 Greek table (letter by letter; the digraphs are rewritten before, see _greek).
_GREEK: Final = _pairs(
    "Α:A Ά:A Β:V Γ:G Δ:D Ε:E Έ:E Ζ:Z Η:I Ή:I Θ:TH Ι:I Ί:I Ϊ:I Κ:K Λ:L Μ:M Ν:N Ξ:X Ο:O Ό:O "
    "Π:P Ρ:R Σ:S Τ:T Υ:Y Ύ:Y Ϋ:Y Φ:F Χ:CH Ψ:PS Ω:O Ώ:O"
)

# ICAO 9303-3 Arabic table (teh marbuta and shadda are handled in context, see _arabic).
_ARABIC: Final = _pairs(
    "ء:XE آ:XAA أ:XAE ؤ:U إ:I ئ:XI ا:A ب:B ة:XTA ت:T ث:XTH ج:J ح:XH خ:XKH د:D ذ:XDH ر:R ز:Z "
    "س:S ش:XSH ص:XSS ض:XDZ ط:XTT ظ:XZZ ع:E غ:G ـ: ف:F ق:Q ك:K ل:L م:M ن:N ه:H و:W ى:XAY ي:Y "
    "ٱ:XXA ٹ:XXT ټ:XRT پ:P ځ:XKE څ:XXH چ:XC ڈ:XXD ډ:XDR ڑ:XXR ړ:XRR ږ:XRX ژ:XJ ښ:XXS ک:XKK "
    "ګ:XXK ڭ:XNG گ:XGG ں:XNN ڼ:XXN ھ:XDO ۀ:XYH ہ:XXG ۂ:XGE ۃ:XTG ی:XYA ۍ:XXY ې:Y ے:XYB ۓ:XBE"
)

# Georgian national romanisation (2002), as printed in Georgian passports; not in ICAO 9303.
# str.upper() maps Mkhedruli (U+10D0..) to Mtavruli (U+1C90..), so both are listed.
_GEORGIAN_MKHEDRULI: Final = _pairs(
    "ა:A ბ:B გ:G დ:D ე:E ვ:V ზ:Z თ:T ი:I კ:K ლ:L მ:M ნ:N ო:O პ:P ჟ:ZH რ:R ს:S ტ:T უ:U ფ:P "
    "ქ:K ღ:GH ყ:Q შ:SH ჩ:CH ც:TS ძ:DZ წ:TS ჭ:CH ხ:KH ჯ:J ჰ:H"
)
_GEORGIAN: Final = {
    **_GEORGIAN_MKHEDRULI,
    **{cp - 0x10D0 + 0x1C90: out for cp, out in _GEORGIAN_MKHEDRULI.items()},
}

_SPACES: Final = " \t\n\r\v\f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
_SPACES_2: Final = "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_DASHES: Final = "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e17"
_DASHES_2: Final = "\u2e1a\u2e3a\u2e3b\u2e40\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d"
_SEPARATORS: Final = _SPACES + _SPACES_2 + _DASHES + _DASHES_2

# The whole translate table: ASCII (A-Z and < kept, separators to "<", the rest dropped), the
# script tables, every separator, and combining marks (dropped: they only remain where no
# precomposed letter exists, and the base letter is transliterated on its own).
# A-Z map to themselves explicitly: str.translate raises (and swallows) a LookupError for
# every character missing from the table, which costs more than the lookup itself.
_TABLE: Final[dict[int, str | None]] = {
    **{cp: None if not 0x41 <= cp <= 0x5A else chr(cp) for cp in range(0x80)},
    **{cp: None for cp in range(0x300, 0x370)},
    **{ord(ch): "<" for ch in _SEPARATORS},
    ord("<"): "<",  # already standardised input stays as it is
    **_LATIN,
    **_CYRILLIC,
    **_GREEK,
    **_ARABIC,
    **_GEORGIAN,
}

# Dropped before NFKC, which would turn them into a space plus a combining mark (a spurious
# separator): spacing accents used as apostrophes (´ ` ¨ ...), and the micro sign (NFKC: μ).
_PRE_NFKC_DROP_RE: Final = re.compile(
    "[\u00a8\u00af\u00b4\u00b5\u00b8\u02d8\u02d9\u02da\u02db\u02dc\u02dd\u037a\u0384"
    "\u0385\u1fbd\u1fbf\u1fc0\u1fc1\u1fcd\u1fce\u1fcf\u1fdd\u1fde\u1fdf\u1fed\u1fee"
    "\u1fef\u1ffd\u1ffe\u203e\uffe3]"
)  # fmt: skip

_SEPARATOR_CATEGORIES: Final = frozenset({"Zs", "Zl", "Zp", "Pd"})

_STANDARDISED_RE: Final = re.compile(r"[A-Z<]{1,80}")
_UNMAPPED_RE: Final = re.compile(r"[^A-Z<]")
_SEPARATOR_RUN_RE: Final = re.compile(r"<{2,}")
_GREEK_RE: Final = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_ARABIC_RE: Final = re.compile(r"[\u0600-\u06ff]")

# Greek digraphs, matched on the upper-cased NFD form ("[\u0300-\u036f]*" skips accents).
_MARKS: Final = "[\u0300-\u036f]*"
_NO_DIALYTIKA: Final = f"(?!{_MARKS}\u0308)"
_GREEK_VOWEL_UPSILON_RE: Final = re.compile(
    f"([ΑΕΗ])Υ{_NO_DIALYTIKA}{_MARKS}(?=([^\u0300-\u036f])?)"
)
_GREEK_OU_RE: Final = re.compile(f"ΟΥ{_NO_DIALYTIKA}")
_GREEK_NASAL_GAMMA_RE: Final = re.compile(f"Γ(?={_MARKS}[ΓΞΧ])")
_GREEK_VOICED: Final = frozenset("ΑΕΗΙΟΥΩΒΓΔΖΛΜΝΡ")
_GREEK_VOWEL_LATIN: Final = {"Α": "A", "Ε": "E", "Η": "I"}

# Arabic: shadda doubles the consonant it sits on; teh marbuta ending a name part is XAH.
_ARABIC_SHADDA_RE: Final = re.compile(
    "([\u0621-\u064a\u066e-\u06d3])([\u064b-\u0650\u0652]*)\u0651"
)
_ARABIC_FINAL_TEH_MARBUTA_RE: Final = re.compile(
    "\u0629(?=[\u064b-\u0652]*(?:[^\u0600-\u06ff]|\\Z))"
)


def to_icao(name: str, *, max_length: int = MAX_STANDARDISED_LENGTH) -> str:
    """Transliterate ``name`` to the ICAO 9303 form used in ``fnt`` / ``gnt``.

    Returns only ``A-Z`` and single ``<`` between name parts, at most ``max_length``
    characters (cut at the limit, then any trailing ``<`` removed). Returns ``""`` when
    nothing in ``name`` can be transliterated; the caller reports that as a field error.
    """
    if max_length < 1:
        raise ConfigError("max_length must be at least 1", code="transliteration_config_invalid")
    if name.isascii():  # the table maps every ASCII character to A-Z, "<" or nothing
        text = name.upper().translate(_TABLE)
    else:
        # Most names are Latin or Cyrillic: one lookup per character (see _direct_table); a
        # character outside that table stays as it is, is found unmapped, and takes the
        # full path.
        text = name.translate(_direct_table())
        if _UNMAPPED_RE.search(text):
            text = _transliterate(name)
    return _tidy(text, max_length)


def _transliterate(name: str) -> str:
    """The letters of ``name`` in ``A-Z`` and ``<``, before separators are tidied."""
    if _PRE_NFKC_DROP_RE.search(name):
        name = _PRE_NFKC_DROP_RE.sub("", name)
    text = unicodedata.normalize("NFKC", name).upper()
    # upper() can decompose (ΐ → Ϊ + U+0301): compose again so the tables match.
    text = unicodedata.normalize("NFC", text)
    if _GREEK_RE.search(text):
        text = _greek(text)
    if _ARABIC_RE.search(text):
        text = _arabic(text)
    text = text.translate(_TABLE)
    if _UNMAPPED_RE.search(text):
        text = _UNMAPPED_RE.sub(_fallback, text)
    return text


def _tidy(text: str, max_length: int) -> str:
    """Collapse separator runs, drop them at both ends, cut at ``max_length``."""
    if "<<" in text:
        text = _SEPARATOR_RUN_RE.sub("<", text)
    text = text.strip("<")
    if len(text) > max_length:
        text = text[:max_length].rstrip("<")
    return text


# ASCII, Latin-1 Supplement, Latin Extended-A, and Cyrillic (which has no context rules).
_DIRECT_RANGES: Final = (range(0x180), range(0x400, 0x500))


@functools.cache
def _direct_table() -> dict[int, str]:
    """``_transliterate(ch)`` for each character of ``_DIRECT_RANGES`` that stands alone.

    A name made only of such characters transliterates character by character: each one's
    compatibility decomposition starts with a starter (combining class 0) and none is Greek
    or Arabic, so normalisation, upper-casing and the context rules never join neighbours
    (tests/issuer/test_transliterate_fast.py checks every pair against the full path).
    """
    table = {}
    for cp in (cp for block in _DIRECT_RANGES for cp in block):
        char = _PRE_NFKC_DROP_RE.sub("", chr(cp))
        forms = [unicodedata.normalize("NFKD", form) for form in (char, char.upper())]
        if any(form and unicodedata.combining(form[0]) for form in forms):
            continue
        if any(_GREEK_RE.search(form) or _ARABIC_RE.search(form) for form in forms):
            continue
        table[cp] = _transliterate(chr(cp))
    return table


def is_standardised(value: str) -> bool:
    """Whether ``value`` is a valid standardised name: ``^[A-Z<]{1,80}$`` (no newline)."""
    return _STANDARDISED_RE.fullmatch(value) is not None


def _greek(text: str) -> str:
    """Rewrite the Greek digraphs of upper-cased ``text`` to Latin; other letters stay."""
    text = unicodedata.normalize("NFD", text)
    text = _GREEK_VOWEL_UPSILON_RE.sub(_greek_vowel_upsilon, text)
    text = _GREEK_OU_RE.sub("OU", text)
    text = _GREEK_NASAL_GAMMA_RE.sub("N", text)
    return unicodedata.normalize("NFC", text)


def _greek_vowel_upsilon(match: re.Match[str]) -> str:
    """ΑΥ/ΕΥ/ΗΥ → AV/EV/IV before a vowel or voiced consonant, else AF/EF/IF."""
    following = match[2]
    voiced = following is not None and following in _GREEK_VOICED
    return _GREEK_VOWEL_LATIN[match[1]] + ("V" if voiced else "F")


def _arabic(text: str) -> str:
    """Apply the context rules of the Arabic table (shadda, final teh marbuta)."""
    text = _ARABIC_SHADDA_RE.sub(r"\1\1\2", text)
    return _ARABIC_FINAL_TEH_MARBUTA_RE.sub("XAH", text)


def _fallback(match: re.Match[str]) -> str:
    """Characters the table does not know: separators, else the base letter, else nothing."""
    char = match[0]
    if unicodedata.category(char) in _SEPARATOR_CATEGORIES:
        return "<"
    base = unicodedata.normalize("NFKD", char)[0]
    if base == char:
        return ""
    base = base.upper()
    if len(base) == 1 and "A" <= base <= "Z":
        return base
    mapped = _TABLE.get(ord(base[0]))
    return mapped if mapped is not None and mapped != "<" else ""
