"""validate_issue_request: every DESIGN rule, its code and field path, and hostile bodies."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcert.valuesets import DeviceRegistry
from issuer.request import (
    DESIGN_EXAMPLE,
    IssueRequestInput,
    NegativeTestRequest,
    RequestPolicy,
    validate_issue_request,
)
from signing.errors import ConfigError, DccError, FieldError, RequestInvalid

NOW = datetime(2021, 7, 8, 12, 31, 2, tzinfo=UTC)  # just after the example's sample time
FORMAT_ONLY = DeviceRegistry.format_only()
DELETE = object()
SERVER_FIELDS = ("tg", "co", "is", "ci", "iat", "exp", "kid", "uvci")


def body(**changes: object) -> dict[str, Any]:
    """The DESIGN example with changes keyed "section__field" (DELETE removes the field)."""
    data = copy.deepcopy(DESIGN_EXAMPLE)
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if value is DELETE:
            data[section].pop(field, None)
        else:
            data[section][field] = value
    return data


def validate(data: object, **kwargs: Any) -> NegativeTestRequest:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("devices", FORMAT_ONLY)
    return validate_issue_request(data, **kwargs)


def errors_of(data: object, **kwargs: Any) -> list[tuple[str, str]]:
    """The (field, code) pairs of the RequestInvalid that ``data`` must raise."""
    with pytest.raises(RequestInvalid) as caught:
        validate(data, **kwargs)
    assert caught.value.code == "request_invalid"
    return [(e.field, e.code) for e in caught.value.errors]


# --- the DESIGN example --------------------------------------------------------------


EXPECTED = NegativeTestRequest(
    family_name="Müller-Schmidt",
    given_name="Anna Maria",
    family_name_standardised="MUELLER<SCHMIDT",
    given_name_standardised="ANNA<MARIA",
    date_of_birth="1985-03-02",
    test_type="LP217198-3",
    device="1232",
    naat_name=None,
    sample_collected_at=datetime(2021, 7, 8, 12, 30, tzinfo=UTC),
    result="260415000",
    facility="Pharmacie du Centre, Luxembourg",
)


def test_design_example_with_gateway_device_list(valuesets_file: Path) -> None:
    """The DESIGN example is valid against the gateway's 309 device ids and normalises."""
    result = validate(DESIGN_EXAMPLE, devices=DeviceRegistry.from_file(valuesets_file))
    assert result == EXPECTED
    assert result.sample_collected_at.isoformat() == "2021-07-08T12:30:00+00:00"


def test_design_example_with_eu_value_set(schema_dir: Path) -> None:
    """The same request is valid against the EU test-manf value set (names, active flags)."""
    registry = DeviceRegistry.from_file(schema_dir / "eu-dcc-valuesets" / "test-manf-example.json")
    assert validate(DESIGN_EXAMPLE, devices=registry) == EXPECTED


def test_pydantic_model_agrees_with_the_rules() -> None:
    """The OpenAPI model accepts the example, refuses extras, and validates to the same result."""
    model = IssueRequestInput.model_validate(DESIGN_EXAMPLE)
    assert validate(model) == EXPECTED
    with pytest.raises(ValueError, match="extra"):
        IssueRequestInput.model_validate(body(test__kid="x"))
    schema = IssueRequestInput.model_json_schema()
    assert schema["examples"] == [DESIGN_EXAMPLE]


def test_naat_normalises_to_loinc_without_device() -> None:
    """naat: LOINC LP6464-4, optional free-text name kept trimmed, no device."""
    result = validate(body(test__type="naat", test__device=DELETE, test__name="  cobas  "))
    assert (result.test_type, result.device, result.naat_name) == ("LP6464-4", None, "cobas")


def test_loinc_codes_and_snomed_result_are_accepted() -> None:
    """The contract's codes are accepted as aliases of the friendly values."""
    result = validate(body(test__type="LP217198-3", test__result="260415000"))
    assert (result.test_type, result.result) == ("LP217198-3", "260415000")


# --- person ----------------------------------------------------------------------------


def test_names_are_trimmed_and_nfc() -> None:
    """Decomposed umlauts come out composed; surrounding whitespace goes."""
    result = validate(body(person__family_name="  Mu\u0308ller\t", person__given_name="Anna "))
    assert result.family_name == "Müller"
    assert result.given_name == "Anna"
    assert result.family_name_standardised == "MUELLER"


@pytest.mark.parametrize("absent", [DELETE, None, "", "   "])
def test_one_name_is_enough(absent: object) -> None:
    """Only a given name (family absent, null or blank) is fine; its fnt is None."""
    result = validate(body(person__family_name=absent))
    assert (result.family_name, result.family_name_standardised) == (None, None)
    assert result.given_name_standardised == "ANNA<MARIA"


def test_name_missing() -> None:
    """Neither name: one error on "person"."""
    data = body(person__family_name=DELETE, person__given_name=" ")
    assert errors_of(data) == [("person", "name_missing")]


def test_name_length_is_counted_after_trim_and_nfc() -> None:
    """80 characters pass (even decomposed, padded), 81 are too_long."""
    assert validate(body(person__family_name=" " + "A" * 80 + " ")).family_name == "A" * 80
    decomposed = "u\u0308" * 80  # 160 code points, 80 after NFC
    assert validate(body(person__family_name=decomposed)).family_name == "ü" * 80
    assert errors_of(body(person__given_name="B" * 81)) == [("person.given_name", "too_long")]
    huge = "C" * 100_000
    assert errors_of(body(person__given_name=huge)) == [("person.given_name", "too_long")]


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x07", "\n", "\x7f", "\x85", "\u202e", "\u202a", "\u2066", "\u2069", "\u200f",
     "\u061c", "\ud800", "\u2028", "\ue000", "\uffff", "\ufdd0"],
)  # fmt: skip
def test_invalid_characters_in_names_and_free_text(bad: str) -> None:
    """Controls, bidi formatting, lone surrogates, private use, noncharacters are refused."""
    data = body(person__family_name=f"Mül{bad}ler", test__facility=f"Centre{bad}X")
    assert errors_of(data) == [
        ("person.family_name", "invalid_characters"),
        ("test.facility", "invalid_characters"),
    ]
    naat = body(test__type="naat", test__device=DELETE, test__name=f"PCR{bad}1")
    assert errors_of(naat) == [("test.name", "invalid_characters")]


def test_standardised_override_replaces_transliteration() -> None:
    """A valid override wins over the derived form."""
    result = validate(body(person__family_name_standardised="MULLER<SCHMIDT"))
    assert result.family_name_standardised == "MULLER<SCHMIDT"
    assert result.given_name_standardised == "ANNA<MARIA"


@pytest.mark.parametrize("bad", ["muller", "MÜLLER", "MULLER SCHMIDT", "MULLER-1", "A" * 81])
def test_standardised_format(bad: str) -> None:
    """Overrides must match ^[A-Z<]{1,80}$."""
    assert errors_of(body(person__given_name_standardised=bad)) == [
        ("person.given_name_standardised", "standardised_format")
    ]


def test_standardised_without_name() -> None:
    """An override needs the name it standardises."""
    data = body(person__given_name=DELETE, person__given_name_standardised="ANNA")
    assert errors_of(data) == [("person.given_name_standardised", "standardised_without_name")]


def test_transliteration_empty_asks_for_override() -> None:
    """A name with no Latin transliteration (CJK) needs its _standardised override."""
    data = body(person__family_name="王")
    with pytest.raises(RequestInvalid) as caught:
        validate(data)
    [error] = caught.value.errors
    assert (error.field, error.code) == ("person.family_name", "transliteration_empty")
    assert "family_name_standardised" in error.message
    fixed = validate(body(person__family_name="王", person__family_name_standardised="WANG"))
    assert (fixed.family_name, fixed.family_name_standardised) == ("王", "WANG")


@pytest.mark.parametrize("dob", ["1985", "1985-03", "1900-01-01", "2000-02-29", "2021-07-08"])
def test_dob_valid(dob: str) -> None:
    """Full, year-month and year-only dates from 1900 up to today pass unchanged."""
    assert validate(body(person__date_of_birth=dob)).date_of_birth == dob


@pytest.mark.parametrize(
    ("dob", "code"),
    [
        ("1985/03/02", "dob_format"),
        ("85-03-02", "dob_format"),
        ("1985-3-2", "dob_format"),
        ("", "dob_format"),
        ("１９８５", "dob_format"),  # fullwidth digits are not ASCII digits
        ("1985-03-02T00:00", "dob_format"),
        ("2021-02-30", "dob_invalid"),
        ("1999-02-29", "dob_invalid"),
        ("2021-04-31", "dob_invalid"),
        ("2021-13", "dob_invalid"),
        ("2021-00-10", "dob_invalid"),
        ("1899-12-31", "dob_too_early"),
        ("1899", "dob_too_early"),
        ("2022", "dob_in_future"),
        ("2021-08", "dob_in_future"),
        ("2021-07-10", "dob_in_future"),
    ],
)
def test_dob_refused(dob: str, code: str) -> None:
    """Each broken date rule has its own code on person.date_of_birth."""
    assert errors_of(body(person__date_of_birth=dob)) == [("person.date_of_birth", code)]


def test_dob_today_somewhere_on_earth_is_not_future() -> None:
    """At 12:31 UTC it is already the 9th in UTC+14, so a birth on the 9th is accepted."""
    assert validate(body(person__date_of_birth="2021-07-09")).date_of_birth == "2021-07-09"
    late = datetime(2021, 7, 8, 9, 0, tzinfo=UTC)  # 23:00 in UTC+14: still the 8th there
    data = body(person__date_of_birth="2021-07-09", test__sample_collected_at="2021-07-08T08:00Z")
    assert errors_of(data, now=late)[0] == ("person.date_of_birth", "dob_in_future")


# --- test ------------------------------------------------------------------------------


def test_unknown_test_type() -> None:
    """Only rapid-antigen, naat and their LOINC codes (case-sensitive)."""
    for bad in ("pcr", "RAPID-ANTIGEN", "LP217198-4", ""):
        assert errors_of(body(test__type=bad)) == [("test.type", "test_type_unknown")]


def test_device_rules() -> None:
    """Device required for RAT, forbidden for NAAT; name only for NAAT."""
    assert errors_of(body(test__device=DELETE)) == [("test.device", "device_required")]
    assert errors_of(body(test__device="  ")) == [("test.device", "device_required")]
    assert errors_of(body(test__type="naat")) == [("test.device", "device_forbidden")]
    assert errors_of(body(test__name="cobas")) == [("test.name", "name_forbidden")]
    naat = body(test__type="naat", test__device=DELETE, test__name="x" * 81)
    assert errors_of(naat) == [("test.name", "too_long")]


def test_device_checked_against_registry(schema_dir: Path) -> None:
    """Unknown, inactive and malformed ids are refused with the registry's codes."""
    registry = DeviceRegistry.from_file(schema_dir / "eu-dcc-valuesets" / "test-manf-example.json")
    cases = {"9999": "device_unknown", "1065": "device_inactive", "12a": "device_format"}
    for device, code in cases.items():
        assert errors_of(body(test__device=device), devices=registry) == [("test.device", code)]
    unknown_type = body(test__type="pcr", test__device="12a")
    assert errors_of(unknown_type) == [
        ("test.type", "test_type_unknown"),
        ("test.device", "device_format"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-07-08T12:30:00Z", datetime(2021, 7, 8, 12, 30, tzinfo=UTC)),
        ("2021-07-08t12:30:00z", datetime(2021, 7, 8, 12, 30, tzinfo=UTC)),
        ("2021-07-08T07:30:00.987654321-05:00", datetime(2021, 7, 8, 12, 30, tzinfo=UTC)),
        ("2021-07-09T02:00:00+13:30", datetime(2021, 7, 8, 12, 30, tzinfo=UTC)),
        ("2021-07-05T12:31:02Z", datetime(2021, 7, 5, 12, 31, 2, tzinfo=UTC)),  # exactly 72 h
        ("2021-07-08T12:36:02Z", datetime(2021, 7, 8, 12, 36, 2, tzinfo=UTC)),  # skew edge
    ],
)
def test_sample_time_normalised_to_utc(text: str, expected: datetime) -> None:
    """Offsets are applied, fractions dropped, the result is UTC."""
    sampled = validate(body(test__sample_collected_at=text)).sample_collected_at
    assert sampled == expected
    assert sampled.utcoffset() == timedelta(0)
    assert sampled.microsecond == 0


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2021-07-08T12:30:00", "sample_time_offset_missing"),
        ("2021-07-08T12:30:00.5", "sample_time_offset_missing"),
        ("2021-07-08T12:30:00+0200", "sample_time_format"),
        ("2021-07-08T12:30:00+02", "sample_time_format"),
        ("2021-07-08 12:30:00Z", "sample_time_format"),
        ("2021-07-08", "sample_time_format"),
        ("yesterday", "sample_time_format"),
        ("2021-02-30T12:00:00Z", "sample_time_format"),
        ("2021-07-08T24:00:00Z", "sample_time_format"),
        ("2021-07-08T12:30:60Z", "sample_time_format"),
        ("2021-07-08T12:30:00+24:00", "sample_time_format"),
        ("0000-01-01T00:00:00Z", "sample_time_format"),
        ("2021-07-08T12:36:03Z", "sample_time_in_future"),
        ("9999-12-31T23:59:59-23:59", "sample_time_in_future"),
        ("2021-07-05T12:31:01Z", "sample_time_too_old"),
        ("0001-01-01T00:00:00+23:59", "sample_time_too_old"),
    ],
)
def test_sample_time_refused(text: str, code: str) -> None:
    """RFC 3339 with an explicit offset, no later than now + 5 min, no older than 72 h."""
    data = body(test__sample_collected_at=text)
    assert errors_of(data) == [("test.sample_collected_at", code)]


def test_policy_changes_limits() -> None:
    """A deployment's policy moves the sample-age and skew limits."""
    policy = RequestPolicy(max_sample_age=timedelta(hours=24), clock_skew=timedelta(0))
    data = body(test__sample_collected_at="2021-07-07T12:00:00Z")
    assert errors_of(data, policy=policy) == [("test.sample_collected_at", "sample_time_too_old")]
    assert "24 hours" in _messages(data, policy=policy)[0]
    future = body(test__sample_collected_at="2021-07-08T12:31:03Z")
    assert errors_of(future, policy=policy) == [
        ("test.sample_collected_at", "sample_time_in_future")
    ]
    short = RequestPolicy(max_name_length=10)
    assert errors_of(body(), policy=short) == [("person.family_name", "too_long")]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_name_length": 81},
        {"max_name_length": 0},
        {"max_sample_age": timedelta(0)},
        {"clock_skew": timedelta(seconds=-1)},
    ],
)
def test_policy_refuses_impossible_limits(kwargs: dict[str, Any]) -> None:
    """Limits that would produce schema-invalid certificates are a ConfigError."""
    with pytest.raises(ConfigError):
        RequestPolicy(**kwargs)


def test_result_positive_is_refused_clearly() -> None:
    """detected / 260373001 → result_positive with the fixed message."""
    for positive in ("detected", "260373001"):
        with pytest.raises(RequestInvalid) as caught:
            validate(body(test__result=positive))
        [error] = caught.value.errors
        assert error == FieldError(
            "test.result",
            "result_positive",
            "this service issues certificates for negative tests only",
        )


def test_result_unknown() -> None:
    """Anything but the two negative spellings (or a positive) is result_unknown."""
    for bad in ("negative", "Not-Detected", "", "260415000 "):
        assert errors_of(body(test__result=bad)) == [("test.result", "result_unknown")]


def test_facility() -> None:
    """Facility: trimmed, blank means absent, at most 80 characters."""
    assert validate(body(test__facility="  ")).facility is None
    assert validate(body(test__facility=DELETE)).facility is None
    assert validate(body(test__facility=" F" * 40)).facility == ("F " * 40).strip()
    assert errors_of(body(test__facility="F" * 81)) == [("test.facility", "too_long")]


# --- structure -------------------------------------------------------------------------


@pytest.mark.parametrize("field", SERVER_FIELDS)
def test_server_fields_are_unknown_fields(field: str) -> None:
    """Clients cannot set tg, co, is, ci, iat, exp, kid, uvci (at any level)."""
    top = {**DESIGN_EXAMPLE, field: "x"}
    assert errors_of(top) == [(field, "unknown_field")]
    nested = body(**{f"test__{field}": "x", f"person__{field}": 1})
    assert errors_of(nested) == [
        (f"person.{field}", "unknown_field"),
        (f"test.{field}", "unknown_field"),
    ]


def test_unknown_key_names_are_echoed_only_when_harmless() -> None:
    """Long or non-printable keys appear as "?" in the path."""
    data = body(person__nationality="LU")
    data["person"]["x" * 65] = 1
    data["person"]["bad\nkey"] = 1
    assert errors_of(data) == [
        ("person.nationality", "unknown_field"),
        ("person.?", "unknown_field"),
        ("person.?", "unknown_field"),
    ]


@pytest.mark.parametrize("junk", [[], "x", 1, None, True, [DESIGN_EXAMPLE]])
def test_body_not_object(junk: object) -> None:
    """Anything but a JSON object is refused as a whole."""
    assert errors_of(junk) == [("", "body_not_object")]


def test_type_and_required_errors() -> None:
    """Wrong JSON types and missing fields name their path."""
    assert errors_of({"person": "Anna", "test": []}) == [("person", "type"), ("test", "type")]
    assert errors_of({}) == [("person", "required"), ("test", "required")]
    data = body(
        person__given_name=42,
        person__date_of_birth=DELETE,
        test__device=1232,
        test__result=None,
        test__facility=["x"],
    )
    assert errors_of(data) == [
        ("person.given_name", "type"),
        ("person.date_of_birth", "required"),
        ("test.device", "type"),
        ("test.result", "required"),
        ("test.facility", "type"),
    ]


def test_deeply_nested_values_are_type_errors() -> None:
    """A 10 000-deep value in a field is refused by type without being walked."""
    deep: object = "x"
    for _ in range(10_000):
        deep = [deep]
    data = body(person__family_name=deep, test__facility={"a": deep})
    assert errors_of(data) == [("person.family_name", "type"), ("test.facility", "type")]


def test_all_errors_are_reported_together() -> None:
    """One request breaking many rules gets one RequestInvalid naming all of them."""
    data = body(
        person__family_name="\u202eX",
        person__date_of_birth="2021-02-30",
        test__type="naat",
        test__sample_collected_at="2021-07-08T12:30:00",
        test__result="detected",
        test__facility="F" * 81,
        test__kid="client-kid",
    )
    with pytest.raises(RequestInvalid) as caught:
        validate(data)
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("person.family_name", "invalid_characters"),
        ("person.date_of_birth", "dob_invalid"),
        ("test.kid", "unknown_field"),
        ("test.device", "device_forbidden"),
        ("test.sample_collected_at", "sample_time_offset_missing"),
        ("test.result", "result_positive"),
        ("test.facility", "too_long"),
    ]
    message = str(caught.value)
    assert message.startswith("issue request invalid (7 errors): person.family_name")
    assert "and 2 more" in message
    assert isinstance(caught.value, DccError)
    assert caught.value.errors[0].to_dict()["code"] == "invalid_characters"


def test_naive_now_is_a_programming_error() -> None:
    """``now`` must be aware; that is the caller's bug, not the client's."""
    with pytest.raises(ValueError, match="aware"):
        validate(DESIGN_EXAMPLE, now=datetime(2021, 7, 8, 12, 31))


# --- properties ------------------------------------------------------------------------


def _messages(data: object, **kwargs: Any) -> list[str]:
    with pytest.raises(RequestInvalid) as caught:
        validate(data, **kwargs)
    return [e.message for e in caught.value.errors] + [str(caught.value)]


_ODD_TEXT = st.text(
    alphabet=st.characters(codec=None, categories=None) | st.sampled_from("\x00\u202e\ud800 <-"),
    max_size=12,
)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | _ODD_TEXT
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ODD_TEXT, inner, max_size=4),
    max_leaves=12,
)
_PERSON_KEYS = ["family_name", "given_name", "family_name_standardised", "date_of_birth", "x"]
_TEST_KEYS = ["type", "device", "name", "sample_collected_at", "result", "facility", "kid"]
_LIKELY = _JSON | st.sampled_from(
    ["naat", "rapid-antigen", "1232", "not-detected", "detected", "1985", "2021-07-08T12:00:00Z"]
)
_NEAR_VALID = st.fixed_dictionaries(
    {},
    optional={
        "person": st.dictionaries(st.sampled_from(_PERSON_KEYS), _LIKELY, max_size=5) | _JSON,
        "test": st.dictionaries(st.sampled_from(_TEST_KEYS), _LIKELY, max_size=7) | _JSON,
        "co": _JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_JSON, _NEAR_VALID))
def test_junk_bodies_never_crash(data: object) -> None:
    """Any JSON-like body gives a NegativeTestRequest or RequestInvalid, nothing else."""
    outcome = _outcome(data)
    if isinstance(outcome, RequestInvalid):
        assert outcome.errors
        assert all(isinstance(e, FieldError) and e.code and e.message for e in outcome.errors)
    else:
        assert isinstance(outcome, NegativeTestRequest)


def _outcome(data: object) -> NegativeTestRequest | RequestInvalid:
    try:
        return validate(data)
    except RequestInvalid as exc:
        return exc


_MARKED_NAME = st.text(min_size=1, max_size=100).map(lambda t: f"Zqx{t}")
_DOBS = st.sampled_from(["2021-02-30", "1899-05-05", "2030-01-01", "1985-13-01", "19850302"])


@settings(max_examples=100, deadline=None)
@given(_MARKED_NAME, _MARKED_NAME, _DOBS)
def test_messages_never_echo_personal_data(family: str, given_name: str, dob: str) -> None:
    """Whatever is wrong, no message repeats the submitted names or date of birth."""
    data = body(
        person__family_name=family,
        person__given_name=given_name,
        person__given_name_standardised=given_name,
        person__date_of_birth=dob,
    )
    for message in _messages(data):
        assert "Zqx" not in message
        assert dob not in message
        assert dob[:4] not in message
