"""Which characters names and free text may hold, by Unicode general category.

Invisible and format characters make two certificates look identical while their payloads
differ (ZWSP U+200B, WORD JOINER U+2060, BOM U+FEFF, SOFT HYPHEN U+00AD, the TAG block
U+E0000-U+E007F), and fillers such as HANGUL FILLER U+3164 (a *letter* by category) pass
for a name while showing nothing. So the allowed characters are listed, not the refused:

* **names** (``person.family_name`` / ``given_name``): letters (L*), combining marks (M*),
  the space U+0020, the hyphen-minus, the apostrophes ``'`` and ``’`` (U+2019) and the full
  stop; at least one visible letter;
* **free text** (``test.facility``, ``test.name``): letters, marks, numbers (N*),
  punctuation (P*), symbols (S*) and the space U+0020; at least one visible letter or digit.

Everything else is refused: other spaces and separators (NBSP, U+3000, Zl, Zp), controls
(Cc), format characters (Cf: ZWSP, ZWJ, WORD JOINER, BOM, soft hyphen, bidi controls, tag
characters), surrogates (Cs), private use (Co), unassigned code points (Cn, as of the
running Python's Unicode database), and the default-ignorable code points Unicode files
under letters or marks (Hangul fillers, variation selectors, the combining grapheme joiner,
Khmer inherent vowels, Mongolian variation selectors) plus the blank BRAILLE PATTERN U+2800.
Text is checked after NFC normalisation, and runs of spaces are collapsed to one (two
spellings that differ only in their number of spaces look the same on paper).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

__all__ = ["FREE_TEXT", "NAME", "Charset", "collapse_spaces"]

# Default_Ignorable_Code_Point (DerivedCoreProperties.txt) outside the categories refused
# anyway (Cc, Cf, Cn), plus U+2800 (So, shows nothing).
_INVISIBLE: Final = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0}
    | set(range(0x180B, 0x1810))
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)
_SPACES: Final = re.compile(" {2,}")


def collapse_spaces(text: str) -> str:
    """``text`` with every run of spaces made one space."""
    return _SPACES.sub(" ", text) if "  " in text else text


@dataclass(frozen=True, slots=True)
class Charset:
    """Allowed general categories (first letter or full name), extra characters, and which
    categories count as visible content (a text needs at least one)."""

    categories: frozenset[str]
    extra: frozenset[str]
    content: frozenset[str]
    ascii_pattern: re.Pattern[str]
    allowed: str
    content_message: str

    def problem(self, text: str) -> str | None:
        """Why ``text`` (NFC, stripped, non-empty) is refused, or None when it is allowed."""
        if text.isascii():
            if self.ascii_pattern.fullmatch(text) is None:
                return self.allowed
            return None if any(char.isalnum() for char in text) else self.content_message
        has_content = False
        for char in text:
            if char in self.extra:
                continue
            category = unicodedata.category(char)
            if ord(char) in _INVISIBLE or (
                category not in self.categories and category[0] not in self.categories
            ):
                return self.allowed
            if category[0] in self.content:
                has_content = True
        return None if has_content else self.content_message


NAME: Final = Charset(
    categories=frozenset({"L", "M"}),
    extra=frozenset(" -'’."),
    content=frozenset({"L"}),
    ascii_pattern=re.compile(r"[A-Za-z '.\-]+"),
    allowed="may hold only letters, combining marks, spaces, hyphens, apostrophes and "
    "full stops (no invisible, format or control characters)",
    content_message="must contain a letter",
)

FREE_TEXT: Final = Charset(
    categories=frozenset({"L", "M", "N", "P", "S"}),
    extra=frozenset(" "),
    content=frozenset({"L", "N"}),
    ascii_pattern=re.compile(r"[ -~]+"),
    allowed="may hold only letters, marks, digits, punctuation, symbols and spaces "
    "(no invisible, format or control characters)",
    content_message="must contain a letter or a digit",
)
