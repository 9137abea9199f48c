"""Names and free text hold only characters that show: by Unicode general category.

Invisible and format characters (ZWSP, WORD JOINER, BOM, soft hyphen, TAG characters) and
fillers (HANGUL FILLER as a whole name) used to be accepted and printed, making two
certificates look identical while their payloads differ.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcert.valuesets import DeviceRegistry
from issuer.request import DESIGN_EXAMPLE, validate_issue_request
from issuer.request.charset import FREE_TEXT, NAME
from issuer.request.rules import clean_name, clean_text
from signing.errors import FieldError, RequestInvalid

NOW = datetime(2021, 7, 8, 12, 31, 2, tzinfo=UTC)

INVISIBLE = {
    "ZWSP": "\u200b",
    "ZWNJ": "\u200c",
    "ZWJ": "\u200d",
    "WORD JOINER": "\u2060",
    "BOM": "\ufeff",
    "SOFT HYPHEN": "\u00ad",
    "TAG LATIN A": "\U000e0041",
    "LANGUAGE TAG": "\U000e0001",
    "CANCEL TAG": "\U000e007f",
    "HANGUL FILLER": "\u3164",
    "HANGUL CHOSEONG FILLER": "\u115f",
    "HALFWIDTH HANGUL FILLER": "\uffa0",
    "BRAILLE BLANK": "\u2800",
    "VARIATION SELECTOR-16": "\ufe0f",
    "COMBINING GRAPHEME JOINER": "\u034f",
    "MONGOLIAN FVS1": "\u180b",
    "NBSP": "\u00a0",
    "IDEOGRAPHIC SPACE": "\u3000",
    "EN SPACE": "\u2002",
    "LINE SEPARATOR": "\u2028",
    "PRIVATE USE": "\ue000",
    "UNASSIGNED": "\u0378",
    "NUL": "\x00",
    "RLO": "\u202e",
    "INVISIBLE TIMES": "\u2062",
}


def _request(**person: str) -> dict[str, object]:
    data = {key: dict(value) for key, value in DESIGN_EXAMPLE.items()}
    data["person"].update(person)
    return data


def _errors(data: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(RequestInvalid) as caught:
        validate_issue_request(data, now=NOW, devices=DeviceRegistry.format_only())
    return [(error.field, error.code) for error in caught.value.errors]


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_characters_are_refused_in_names_and_free_text(char: str) -> None:
    # Leading and trailing whitespace (NBSP, U+3000, ...) is trimmed, not refused.
    edges = () if char.isspace() else (f"{char}Müller", f"Müller{char}")
    for text in (f"Mül{char}ler", f"Mul{char}ler", *edges):
        refused = clean_name(text, "person.family_name", max_length=80)
        assert isinstance(refused, FieldError), text
        assert refused.code == "invalid_characters"
        if not char.isspace():
            facility = clean_text(f"Centre{char}3", "test.facility", max_length=80)
            assert isinstance(facility, FieldError), text


@pytest.mark.parametrize("name", ["\u3164", "\u3164\u3164", "\u115f\u1160", "-", "'.", "\u0301"])
def test_a_name_without_a_visible_letter_is_refused(name: str) -> None:
    assert _errors(_request(family_name=name, given_name="Anna")) == [
        ("person.family_name", "invalid_characters")
    ]


def test_the_issue_cases_through_the_request_rules() -> None:
    bad = _request(family_name="Mu\u200bller", given_name="\u3164")
    assert _errors(bad) == [
        ("person.family_name", "invalid_characters"),
        ("person.given_name", "invalid_characters"),
    ]
    facility = {key: dict(value) for key, value in DESIGN_EXAMPLE.items()}
    facility["test"]["facility"] = "Centre\U000e0041\U000e0042"
    assert _errors(facility) == [("test.facility", "invalid_characters")]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Müller-Schmidt", "Müller-Schmidt"),
        ("O'Brien", "O'Brien"),
        ("O’Brien", "O’Brien"),
        ("St. John", "St. John"),
        ("Mu\u0308ller", "Müller"),  # NFD in, NFC out
        ("Nguyễn", "Nguyễn"),
        ("Ñúñez", "Ñúñez"),
        ("김민준", "김민준"),
        ("Αθηνά", "Αθηνά"),
        ("Анна-Мария", "Анна-Мария"),
        ("محمد", "محمد"),
        ("अनुष्का", "अनुष्का"),  # combining marks (Mn, Mc)
        ("Anna   Maria", "Anna Maria"),  # runs of spaces collapsed
    ],
)
def test_real_names_are_accepted_normalised(given: str, expected: str) -> None:
    assert clean_name(given, "person.given_name", max_length=80) == expected


def test_free_text_takes_digits_punctuation_and_symbols() -> None:
    text = "Test centre #3 (Luxembourg) & Co., 2° étage, €5/kit: «PCR»"
    assert clean_text(text, "test.facility", max_length=80) == text
    assert isinstance(clean_name("Henry 8", "person.given_name", max_length=80), FieldError)


_ANY = st.text(st.characters(codec=None, categories=None), min_size=1, max_size=10)
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@settings(max_examples=400, deadline=None)
@given(text=_ANY)
def test_whatever_is_accepted_is_nfc_visible_text(text: str) -> None:
    for charset in (NAME, FREE_TEXT):
        cleaned = clean_text(text, "f", max_length=80, charset=charset)
        if cleaned is None or isinstance(cleaned, FieldError):
            continue
        assert unicodedata.is_normalized("NFC", cleaned)
        categories = {unicodedata.category(char) for char in cleaned}
        assert not categories & _REFUSED_CATEGORIES
        assert not set(cleaned) & set(INVISIBLE.values())
        assert any(unicodedata.category(char)[0] in "LN" for char in cleaned)
        assert "  " not in cleaned
