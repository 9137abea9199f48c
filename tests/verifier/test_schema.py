"""verifier.schema: the DCC payload schema, checked against the official JSON schema.

``jsonschema`` (Draft 2020-12, test-only) with the official 1.3.3 schema files is the
oracle. It gets the same documented leniency/strictness as ours: a lenient ``date-time``
(hcert.md §2), a strict ``date``, ``co`` anchored, and real month/day values for ``dob``.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from verifier.schema import dcc_type, validate_dcc

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "dcc-testdata"
SCHEMA_FILES = (
    "DCC.schema.json",
    "DCC.Core.Types.schema.json",
    "DCC.Types.schema.json",
    "DCC.ValueSets.schema.json",
)

_ORACLE_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?([Zz]|[+-]\d{2}(?::?\d{2})?)",
    re.ASCII,
)


def _oracle_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = _ORACLE_DATE_TIME.fullmatch(value)
    if match is None:
        return False
    day, clock, fraction, offset = match.groups()
    if offset in ("Z", "z"):
        offset = "+00:00"
    elif len(offset) == 3:
        offset += ":00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    micro = f".{fraction[:6].ljust(6, '0')}" if fraction else ""
    hour, minute = int(offset[1:3]), int(offset[4:6])
    if hour > 23 or minute > 59:
        return False
    try:
        datetime.fromisoformat(f"{day}T{clock.replace(':60', ':59')}{micro}{offset}")
    except ValueError:
        return False
    return True


def _oracle_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _oracle_dob(value: object) -> bool:
    """The pattern is in the schema; this adds real month and day values."""
    if not isinstance(value, str) or len(value) <= 4:
        return True
    parts = value.split("-")
    month = int(parts[1]) if parts[1].isdigit() else 0
    if len(parts) == 2:
        return 1 <= month <= 12
    return _oracle_date(value)


@pytest.fixture(scope="module")
def oracle(schema_dir: Path) -> Draft202012Validator:
    folder = schema_dir / "eu-dcc-schema"
    contents = {name: json.loads((folder / name).read_text()) for name in SCHEMA_FILES}
    # Our documented choices: co anchored, dob with real dates.
    contents["DCC.ValueSets.schema.json"]["$defs"]["country_vt"]["pattern"] = "^[A-Z]{1,10}$"
    contents["DCC.schema.json"]["properties"]["dob"]["format"] = "dcc-dob"
    registry: Registry[Any] = Registry().with_resources(
        (document["$id"], Resource.from_contents(document)) for document in contents.values()
    )
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_oracle_date_time)
    checker.checks("date")(_oracle_date)
    checker.checks("dcc-dob")(_oracle_dob)
    return Draft202012Validator(
        contents["DCC.schema.json"], registry=registry, format_checker=checker
    )


def _agree(oracle: Draft202012Validator, document: object) -> bool:
    ours = validate_dcc(document) == []
    theirs = oracle.is_valid(document)
    assert ours == theirs, (ours, [str(v) for v in validate_dcc(document)])
    return ours


def test_official_valid_files(oracle: Draft202012Validator, schema_dir: Path) -> None:
    folder = schema_dir / "eu-dcc-schema"
    files = sorted([*(folder / "test" / "valid").glob("*.json"), *folder.glob("examples/*/*")])
    assert len(files) >= 20
    for path in files:
        assert _agree(oracle, json.loads(path.read_text())), path.name


def test_official_invalid_files(oracle: Draft202012Validator, schema_dir: Path) -> None:
    files = sorted((schema_dir / "eu-dcc-schema" / "test" / "invalid").glob("*.json"))
    assert len(files) == 6
    for path in files:
        assert not _agree(oracle, json.loads(path.read_text())), path.name


def test_every_vector_json_agrees(oracle: Draft202012Validator, testdata_dir: Path) -> None:
    outcomes = []
    for path in sorted(testdata_dir.rglob("*.json")):
        vector = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(vector.get("JSON"), dict):
            outcomes.append(_agree(oracle, vector["JSON"]))
    assert len(outcomes) > 350
    assert True in outcomes
    assert False in outcomes


RAT: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Müller", "fnt": "MUELLER", "gn": "Anna", "gnt": "ANNA"},
    "dob": "1985-03-02",
    "t": [
        {
            "tg": "840539006",
            "tt": "LP217198-3",
            "ma": "1232",
            "sc": "2021-07-08T12:30:00Z",
            "tr": "260415000",
            "tc": "Pharmacie du Centre",
            "co": "LU",
            "is": "Ministry of Health",
            "ci": "URN:UVCI:01:LU:ABCDEF123456#X",
        }
    ],
}


def _with(path: str, value: object) -> dict[str, Any]:
    """RAT with ``path`` (dotted, ``t.0.sc``) set to ``value``, or removed for ``...``."""
    document = copy.deepcopy(RAT)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target: Any = document
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "code", "where"),
    [
        ("ver", ..., "schema_missing_field", "ver"),
        ("ver", "1.3", "schema_pattern", "ver"),
        ("ver", 1.3, "schema_wrong_type", "ver"),
        ("nam", "MUELLER", "schema_wrong_type", "nam"),
        ("nam.fnt", "Mueller", "schema_pattern", "nam.fnt"),
        ("nam.fnt", "A" * 81, "schema_too_long", "nam.fnt"),
        ("nam.fn", "x" * 81, "schema_too_long", "nam.fn"),
        ("dob", "1985-02-30", "schema_pattern", "dob"),
        ("dob", "1985-13", "schema_pattern", "dob"),
        ("dob", "1899-01-01", "schema_pattern", "dob"),
        ("dob", "85", "schema_pattern", "dob"),
        ("dob", None, "schema_wrong_type", "dob"),
        ("t", [], "schema_entry_count", "t"),
        ("t", {}, "schema_wrong_type", "t"),
        ("t.0", "entry", "schema_wrong_type", "t[0]"),
        ("t.0.sc", ..., "schema_missing_field", "t[0].sc"),
        ("t.0.sc", "2021-07-08T12:30:00", "schema_date_format", "t[0].sc"),
        ("t.0.sc", "2021-07-08", "schema_date_format", "t[0].sc"),
        ("t.0.sc", "2021-02-30T12:30:00Z", "schema_date_format", "t[0].sc"),
        ("t.0.sc", "2021-07-08T24:30:00Z", "schema_date_format", "t[0].sc"),
        ("t.0.sc", 1625747400, "schema_wrong_type", "t[0].sc"),
        ("t.0.tr", 260415000, "schema_wrong_type", "t[0].tr"),
        ("t.0.tc", "x" * 81, "schema_too_long", "t[0].tc"),
        ("t.0.co", "lu", "schema_pattern", "t[0].co"),
        ("t.0.co", "", "schema_pattern", "t[0].co"),
        ("t.0.ci", "U" * 81, "schema_too_long", "t[0].ci"),
        ("t.0.is", None, "schema_wrong_type", "t[0].is"),
        ("v", RAT["t"], "schema_group", ""),
    ],
)
def test_violation_codes(
    oracle: Draft202012Validator, path: str, value: object, code: str, where: str
) -> None:
    assert not _agree(oracle, _with(path, value))
    violations = validate_dcc(_with(path, value))
    assert (where, code) in [(v.path, v.code) for v in violations]
    assert all("MUELLER" not in str(v) and "1985" not in str(v) for v in violations)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("dob", ""),
        ("dob", "1985"),
        ("dob", "1985-03"),
        ("dob", "2000-02-29"),
        ("nam.fnt", ...),
        ("nam.fnt", ""),
        ("nam.gn", ...),
        ("t.0.sc", "2021-07-08T14:30:00+02"),
        ("t.0.sc", "2021-07-08T14:30:00+0200"),
        ("t.0.sc", "2021-07-08T14:30:00+02:00"),
        ("t.0.sc", "2021-07-08T12:30:00.123456Z"),
        ("t.0.sc", "2021-07-08T12:30:00,5-01:30"),
        ("t.0.ma", ...),
        ("t.0.co", "UNHCR"),
        ("t.0.tg", "not-a-value-set-code"),
        ("extra", {"anything": [1, 2]}),
    ],
)
def test_accepted_variants(oracle: Draft202012Validator, path: str, value: object) -> None:
    assert _agree(oracle, _with(path, value))


def test_missing_both_standardised_names() -> None:
    document = _with("nam", {"fn": "Müller", "gn": "Anna"})
    assert [(v.path, v.code) for v in validate_dcc(document)] == [("nam", "schema_missing_field")]


@pytest.mark.parametrize(("value", "ok"), [(1, True), (1.0, True), (0, False), (True, False)])
def test_dose_numbers(value: object, ok: bool) -> None:
    vaccination = {
        "ver": "1.3.0",
        "nam": {"fnt": "X"},
        "dob": "",
        "v": [
            {
                "tg": "840539006",
                "vp": "J07BX03",
                "mp": "EU/1/20/1528",
                "ma": "ORG-100030215",
                "dn": value,
                "sd": 2,
                "dt": "2021-06-11",
                "co": "LU",
                "is": "Ministry of Health",
                "ci": "URN:UVCI:01:LU:X",
            }
        ],
    }
    assert (validate_dcc(vaccination) == []) is ok


def test_type_and_group_detection() -> None:
    assert dcc_type(RAT) == "test"
    assert dcc_type({**RAT, "v": []}) is None
    assert dcc_type({"r": []}) == "recovery"
    assert dcc_type([]) is None
    assert validate_dcc([]) != []
    assert [v.code for v in validate_dcc({})] == [
        "schema_missing_field",
        "schema_missing_field",
        "schema_missing_field",
        "schema_group",
    ]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)
_PATHS = st.sampled_from(
    [
        "ver",
        "nam",
        "nam.fnt",
        "nam.gnt",
        "nam.fn",
        "dob",
        "t",
        "t.0",
        "t.0.sc",
        "t.0.tt",
        "t.0.co",
        "t.0.ci",
        "t.0.tc",
        "t.0.nm",
        "v",
        "r",
    ]
)


@settings(max_examples=60, deadline=None)
@given(edits=st.lists(st.tuples(_PATHS, _JSON_VALUES | st.just(...)), min_size=1, max_size=3))
def test_random_edits_agree_with_the_oracle(
    oracle: Draft202012Validator, edits: list[tuple[str, object]]
) -> None:
    document: Any = copy.deepcopy(RAT)
    for path, value in edits:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = document
        try:
            for part in parents:
                target = target[part]
            if value is ...:
                del target[last]
            else:
                target[last] = value
        except (KeyError, IndexError, TypeError):
            continue
    _agree(oracle, document)
