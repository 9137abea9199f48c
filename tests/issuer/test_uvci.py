"""UVCI: Luhn mod 38 check character, generation, validation and the equality key."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.uvci import (
    CHECK_ALPHABET,
    MAX_UVCI_LENGTH,
    UvciGenerator,
    generate_uvci,
    luhn_mod38_check,
    uvci_key,
    validate_uvci,
)
from signing.errors import ConfigError, DccError

# hcert.md §4: vectors of the agreed algorithm (AT, NL and SE samples).
VECTORS = [
    ("URN:UVCI:01:NL:187/37512422923", "Z"),
    ("URN:UVCI:01:SE:EHM/V12907267LAJW", "E"),
    ("URN:UVCI:01:AT:8DSO00MVRHH8UYCT3A69ZX2X6", "A"),
]

SCHEME_1_RE = re.compile(r"URN:UVCI:01:LU:[A-Z0-9]{26}#[A-Z0-9/:]")


def _invalid(uvci: str) -> DccError:
    with pytest.raises(DccError) as info:
        validate_uvci(uvci)
    assert info.value.code == "uvci_invalid"
    return info.value


@pytest.mark.parametrize(("body", "check"), VECTORS)
def test_check_character_vectors(body: str, check: str) -> None:
    assert luhn_mod38_check(body) == check
    assert luhn_mod38_check(body.lower()) == check


@pytest.mark.parametrize(("body", "check"), VECTORS)
def test_vectors_validate_with_their_check(body: str, check: str) -> None:
    validate_uvci(f"{body}#{check}")
    validate_uvci(f"{body}#{check}".lower())
    validate_uvci(body)  # the check character is optional


@pytest.mark.parametrize(("body", "check"), VECTORS)
def test_vectors_with_any_other_check_are_refused(body: str, check: str) -> None:
    for wrong in CHECK_ALPHABET.replace(check, ""):
        assert _invalid(f"{body}#{wrong}").context["reason"] == "check_character"


@pytest.mark.parametrize("text", ["", "URN:UVCI:01:LU:ABC#", "ABC-DEF", "AB C", "ÉTAT", "STRAßE"])
def test_check_refuses_characters_outside_the_alphabet(text: str) -> None:
    # "ß".upper() is "SS": non-ASCII must be refused before upper-casing.
    with pytest.raises(DccError) as info:
        luhn_mod38_check(text)
    assert info.value.code == "uvci_invalid"


def test_generated_uvci_has_the_right_shape() -> None:
    uvci = generate_uvci("LU")
    assert SCHEME_1_RE.fullmatch(uvci)
    assert len(uvci) == 43 <= MAX_UVCI_LENGTH
    body, _, check = uvci.partition("#")
    assert luhn_mod38_check(body) == check
    validate_uvci(uvci)


def test_generated_scheme_2_uvci() -> None:
    uvci = generate_uvci("LU", issuer_prefix="MSAN", opaque_length=20)
    assert re.fullmatch(r"URN:UVCI:01:LU:MSAN/[A-Z0-9]{20}#[A-Z0-9/:]", uvci)
    validate_uvci(uvci)


def test_longest_allowed_uvci_is_80_characters() -> None:
    uvci = generate_uvci("LU", opaque_length=63)
    assert len(uvci) == MAX_UVCI_LENGTH
    validate_uvci(uvci)
    with pytest.raises(ConfigError) as info:
        generate_uvci("LU", opaque_length=64)
    assert info.value.code == "uvci_config_invalid"
    with pytest.raises(ConfigError):
        generate_uvci("LU", opaque_length=58, issuer_prefix="ABCDE")  # 81 characters


def test_ten_thousand_generated_uvcis_are_distinct() -> None:
    uvcis = {generate_uvci("LU") for _ in range(10_000)}
    assert len(uvcis) == 10_000
    assert len({uvci_key(uvci) for uvci in uvcis}) == 10_000


def test_opaque_part_uses_the_whole_alphabet() -> None:
    # 2,000 × 26 draws: a missing letter or digit would mean a biased generator.
    seen = set("".join(generate_uvci("LU")[15:41] for _ in range(2_000)))
    assert seen == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"country": "lu"}, "country"),
        ({"country": "LUX"}, "country"),
        ({"country": "L1"}, "country"),
        ({"country": ""}, "country"),
        ({"country": "LU\n"}, "country"),
        ({"country": "LU", "issuer_prefix": ""}, "issuer_prefix"),
        ({"country": "LU", "issuer_prefix": "MS/AN"}, "issuer_prefix"),
        ({"country": "LU", "issuer_prefix": "ms-an"}, "issuer_prefix"),
        ({"country": "LU", "opaque_length": 15}, "opaque_length"),
        ({"country": "LU", "opaque_length": 0}, "opaque_length"),
    ],
)
def test_generate_refuses_bad_settings(kwargs: dict[str, object], setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        generate_uvci(**kwargs)  # type: ignore[arg-type]
    assert info.value.code == "uvci_config_invalid"
    assert info.value.context["setting"] == setting


def test_every_single_substitution_is_detected() -> None:
    uvci = generate_uvci("LU", issuer_prefix="MSAN")
    body, _, check = uvci.partition("#")
    substitutions = 0
    for position, original in enumerate(body):
        for replacement in CHECK_ALPHABET:
            if replacement == original:
                continue
            mutated = body[:position] + replacement + body[position + 1 :]
            assert luhn_mod38_check(mutated) != check
            _invalid(f"{mutated}#{check}")
            substitutions += 1
    assert substitutions == len(body) * (len(CHECK_ALPHABET) - 1)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=CHECK_ALPHABET, min_size=1, max_size=80),
    st.integers(min_value=0),
    st.sampled_from(CHECK_ALPHABET),
)
def test_luhn_mod_38_detects_any_single_substitution(
    body: str, position_seed: int, replacement: str
) -> None:
    position = position_seed % len(body)
    mutated = body[:position] + replacement + body[position + 1 :]
    if mutated != body:
        assert luhn_mod38_check(mutated) != luhn_mod38_check(body)


@pytest.mark.parametrize(
    ("uvci", "reason"),
    [
        ("", "syntax"),
        ("URN:UVCI:02:LU:ABC", "syntax"),
        ("URN:UCI:01:NL:187/37512422923", "syntax"),
        ("01/LU/UCXXWTMKD2VM#5R", "syntax"),  # LU's national short form
        ("URN:UVCI:V1:CY:PYE1LE1O2X54P5845G8RRMM9JE", "syntax"),
        ("URN:UVCI:01:LUX:ABC", "syntax"),
        ("URN:UVCI:01:LU:", "syntax"),
        ("URN:UVCI:01:LU:A//B", "syntax"),
        ("URN:UVCI:01:LU:A/B/C/D", "syntax"),
        ("URN:UVCI:01:LU:ABC#", "syntax"),
        ("URN:UVCI:01:LU:ABC#AB", "syntax"),
        ("URN:UVCI:01:LU:ABC\n", "syntax"),
        (" URN:UVCI:01:LU:ABC", "syntax"),
        ("URN:UVCI:01:LU:ÄBC", "character"),
        ("URN:UVCI:01:LU:" + "A" * 66, "length"),
    ],
)
def test_validate_refuses_bad_syntax(uvci: str, reason: str) -> None:
    assert _invalid(uvci).context["reason"] == reason


def test_validate_accepts_the_registered_variants() -> None:
    validate_uvci("01:LU:ABC123")  # the URN prefix is optional
    validate_uvci("URN:UVCI:01:LU:ABC/DEF/123")  # scheme 3
    validate_uvci("urn:uvci:01:lu:abc123")
    validate_uvci("URN:UVCI:01:LU:" + "A" * 65)  # exactly 80 characters


def test_errors_do_not_carry_the_uvci() -> None:
    uvci = generate_uvci("LU")
    opaque = uvci[15:41]
    error = _invalid(uvci[:-1] + ("A" if uvci[-1] != "A" else "B"))
    assert opaque not in str(error)
    assert all(opaque not in str(value) for value in error.context.values())


def test_uvci_key_ignores_case_and_check() -> None:
    body, check = VECTORS[0]
    assert uvci_key(f"{body}#{check}") == body
    assert uvci_key(f"{body}#{check}".lower()) == body
    assert uvci_key(body) == body
    assert uvci_key("01/LU/ucxxwtmkd2vm#5R") == "01/LU/UCXXWTMKD2VM"  # no validation
    assert uvci_key("urn:uvci:01:de:straße") == "URN:UVCI:01:DE:STRAßE"  # ASCII folding only


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[A-Z]{2}", fullmatch=True),
    st.none() | st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True),
    st.integers(min_value=16, max_value=50),
)
def test_generated_uvcis_validate(country: str, prefix: str | None, opaque_length: int) -> None:
    uvci = generate_uvci(country, opaque_length=opaque_length, issuer_prefix=prefix)
    validate_uvci(uvci)
    validate_uvci(uvci.lower())
    assert len(uvci) <= MAX_UVCI_LENGTH
    assert uvci.startswith(f"URN:UVCI:01:{country}:" + (f"{prefix}/" if prefix else ""))
    key = uvci_key(uvci)
    assert uvci == f"{key}#{luhn_mod38_check(key)}"
    assert uvci_key(uvci.lower()) == key


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=100), st.text(alphabet="URNVCI:01LU/#AZ9", max_size=100)))
def test_validate_raises_only_dcc_errors(text: str) -> None:
    error: DccError | None = None
    try:
        validate_uvci(text)
    except DccError as raised:
        error = raised
    if error is None:
        assert re.fullmatch(r"(URN:UVCI:)?01:[A-Z]{2}:[A-Z0-9/]+(#.)?", text.upper())
    else:
        assert error.code == "uvci_invalid"


# Member states whose samples follow the agreed mod 38 algorithm (others use national
# schemes: BE, BG, DE, ES, FI, FR partly, IE, IT, LU, PT, RO).
MOD_38_COUNTRIES = ["AT", "DK", "GR", "HU", "IS", "LT", "SI", "SM", "common"]


def _uvcis(root: Path) -> Iterator[str]:
    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "ci" and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for path in sorted(root.rglob("*.json")):
        try:
            yield from walk(json.loads(path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue


@pytest.mark.parametrize("country", MOD_38_COUNTRIES)
def test_member_state_samples_validate(testdata_dir: Path, country: str) -> None:
    with_check = {uvci for uvci in _uvcis(testdata_dir / country) if "#" in uvci}
    assert with_check
    for uvci in with_check:
        validate_uvci(uvci)


def test_schema_example_uvci_validates(schema_dir: Path) -> None:
    example = schema_dir / "eu-dcc-schema" / "examples" / "test" / "transliterated.json"
    uvci = json.loads(example.read_text(encoding="utf-8"))["t"][0]["ci"]
    assert "#" in uvci
    validate_uvci(uvci)


@pytest.mark.parametrize("prefix", [None, "MSAN", "ABC"])
@pytest.mark.parametrize("opaque_length", [16, 17, 26, 27, 40, 51])
def test_a_generator_makes_valid_uvcis_of_its_configuration(
    prefix: str | None, opaque_length: int
) -> None:
    """The prefix's Luhn sum, computed once, fits odd and even opaque lengths alike."""
    generate = UvciGenerator("LU", opaque_length=opaque_length, issuer_prefix=prefix)
    head = "URN:UVCI:01:LU:" + (f"{prefix}/" if prefix else "")
    uvcis = [generate() for _ in range(300)]
    assert len(set(uvcis)) == len(uvcis)
    for uvci in uvcis:
        body, _, check = uvci.partition("#")
        assert body.startswith(head)
        assert re.fullmatch(r"[A-Z0-9]+", body[len(head) :])
        assert len(body) == len(head) + opaque_length
        assert luhn_mod38_check(body) == check
        validate_uvci(uvci)


def test_a_generator_checks_its_settings_once_at_construction() -> None:
    with pytest.raises(ConfigError) as info:
        UvciGenerator("lu")
    assert info.value.context["setting"] == "country"
    with pytest.raises(ConfigError) as info:
        UvciGenerator("LU", opaque_length=58, issuer_prefix="ABCDE")
    assert info.value.context["setting"] == "opaque_length"
    assert len(UvciGenerator("LU", opaque_length=63)()) == MAX_UVCI_LENGTH
