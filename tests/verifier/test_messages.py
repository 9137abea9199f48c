"""Every verification error code has a text for people in English and French.

The codes are enumerated three ways and must agree: :data:`verifier.messages.CODES_BY_CHECK`,
the error-code table of docs/verification-report.md, and what the verifier's source raises
(read with ``ast``, as tests/signing/test_error_codes.py does); each is in the project's
vocabulary (signing/error_codes.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from signing.error_codes import ERROR_CODES
from tests.signing.test_error_codes import raised_codes
from verifier import CHECK_NAMES
from verifier.messages import CODES_BY_CHECK, LANGUAGES, MESSAGES, message_for

ROOT = Path(__file__).resolve().parents[2]
ALL_CODES = sorted(code for codes in CODES_BY_CHECK.values() for code in codes)
# Raised in verifier/ but never in a report: reading trust lists (dcc, start-up).
NOT_IN_REPORTS = {
    "trust_file_unreadable",
    "trust_list_invalid",
    "trust_list_key_invalid",
    "trust_list_key_missing",
    "trust_list_signature_invalid",
    # the destination's request fields and rule files: 422s and start-up errors, not reports
    "at_invalid",
    "lang_invalid",
    "country_invalid",
    "rules_invalid",
    "certlogic_error",
    # a revocation list file that cannot be read: a start-up or usage error
    "revocation_list_invalid",
}
TECHNICAL_WORDS = ("zlib", "cbor", "cose", "base45", "kid", "eku", "schema", "internal_error")


def _documented() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "verification-report.md").read_text(encoding="utf-8")
    table = text[text.index("## Error codes per check") :]
    rows: dict[str, set[str]] = {}
    for line in table.splitlines():
        cells = line.split("|")
        if len(cells) > 3 and re.fullmatch(r"`?[a-z_0-9]+`?", cells[1].strip()):
            check = cells[1].strip().strip("`")
            if check == "check":
                continue  # the header row
            rows[check] = set(re.findall(r"`([a-z][a-z0-9_]+)`", cells[2])) & ERROR_CODES
    return rows


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", ALL_CODES)
def test_every_code_has_a_text_in_each_language(code: str, language: str) -> None:
    text = message_for(code, language)  # type: ignore[arg-type]
    assert text, f"no {language} text for {code} in verifier/messages.py"
    assert text[0].isupper()
    assert text.endswith(".")
    assert not any(word in text.lower() for word in TECHNICAL_WORDS), text


def test_the_texts_are_translated_not_copied() -> None:
    for code, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), code
        assert texts["en"] != texts["fr"], code


def test_no_text_for_a_code_that_does_not_exist() -> None:
    assert sorted(MESSAGES) == ALL_CODES
    assert len(ALL_CODES) == len(set(ALL_CODES))
    assert set(ALL_CODES) <= ERROR_CODES
    assert message_for("no_such_code") is None


def test_the_code_list_is_the_documented_table() -> None:
    documented = _documented()
    assert set(documented) == {*CHECK_NAMES, "any"}
    assert {check: set(codes) for check, codes in CODES_BY_CHECK.items()} == documented


def test_every_code_the_verifier_raises_is_listed() -> None:
    in_verifier = {
        code
        for code, places in raised_codes().items()
        if any(place.startswith("verifier/") for place in places)
    }
    assert sorted(in_verifier - set(ALL_CODES) - NOT_IN_REPORTS) == []
