"""to_icao's per-character table agrees with the full transliteration path.

Names made only of characters in ``_direct_table`` (ASCII, Latin-1, Latin Extended-A,
Cyrillic) are transliterated with one table lookup per character; every other name takes
the full path (NFKC, upper-casing, the Greek and Arabic context rules, the fallback).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.transliterate import (
    MAX_STANDARDISED_LENGTH,
    _direct_table,
    _tidy,
    _transliterate,
    to_icao,
)

TABLE = _direct_table()
DIRECT = "".join(map(chr, sorted(TABLE)))


def full_path(name: str, max_length: int = MAX_STANDARDISED_LENGTH) -> str:
    return _tidy(_transliterate(name), max_length)


def test_table_covers_ascii_latin_and_cyrillic_letters() -> None:
    """All of ASCII, Latin-1 and Latin Extended-A; Cyrillic but its combining marks."""
    assert set(range(0x180)) <= set(TABLE)
    assert set(range(0x400, 0x500)) - set(TABLE) == set(range(0x483, 0x488))
    assert all(value == _transliterate(chr(cp)) for cp, value in TABLE.items())
    assert all(re.fullmatch("[A-Z<]*", value) for value in TABLE.values())


def test_every_pair_of_table_characters_transliterates_like_the_full_path() -> None:
    """Normalisation and upper-casing never join two table characters: checked pairwise."""
    wrong = [
        a + b
        for a in DIRECT
        for b in DIRECT
        if _transliterate(a + b) != TABLE[ord(a)] + TABLE[ord(b)]
    ]
    assert wrong == []


_MIXED = st.text(
    st.sampled_from(DIRECT)
    | st.sampled_from("ΑΥΟΥΓΓάΐ\u0301\u0308ة\u0651ب ‐–·ǅǰẞ王😀\u00a0")
    | st.characters(codec=None, categories=None),
    max_size=30,
)


@settings(max_examples=1000, deadline=None)
@given(st.text(st.sampled_from(DIRECT), max_size=90), st.integers(1, MAX_STANDARDISED_LENGTH))
def test_table_names_agree_with_the_full_path(name: str, max_length: int) -> None:
    assert to_icao(name, max_length=max_length) == full_path(name, max_length)


@settings(max_examples=1000, deadline=None)
@given(_MIXED, st.integers(1, MAX_STANDARDISED_LENGTH))
def test_any_name_agrees_with_the_full_path(name: str, max_length: int) -> None:
    assert to_icao(name, max_length=max_length) == full_path(name, max_length)
