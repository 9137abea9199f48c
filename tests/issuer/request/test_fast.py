"""The fast path of validate_issue_request agrees with the full collector.

``quick`` reads a plainly shaped request directly and gives up (``Unclear``) on anything
else; ``collect`` applies every rule and reports every error. For any body, a request the
fast path returns must be exactly the collector's, and validate_issue_request must give the
collector's outcome (the same NegativeTestRequest, or the same error list in the same order).
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from hcert.valuesets import Device, DeviceRegistry
from issuer.request import (
    DESIGN_EXAMPLE,
    NegativeTestRequest,
    RequestPolicy,
    validate_issue_request,
)
from issuer.request.collect import collect
from issuer.request.fast import Unclear, quick
from loadtests.fixtures import sample_requests
from signing.errors import RequestInvalid

NOW = datetime(2021, 7, 8, 12, 31, 2, tzinfo=UTC)
FORMAT_ONLY = DeviceRegistry.format_only()
LISTED = DeviceRegistry(
    [Device("1232", "Abbott", True), Device("1304", None, True), Device("1065", "Old", False)]
)
POLICIES = (
    RequestPolicy(),
    RequestPolicy(max_sample_age=timedelta(hours=24), clock_skew=timedelta(0), max_name_length=12),
)

Outcome = tuple[str, object]


def _full(data: object, now: datetime, devices: DeviceRegistry, policy: RequestPolicy) -> Outcome:
    try:
        request = collect(data, now=now, devices=devices, policy=policy)
    except RequestInvalid as exc:
        return ("invalid", exc.errors)
    return ("valid", (request, repr(request)))


def _public(data: object, now: datetime, devices: DeviceRegistry, policy: RequestPolicy) -> Outcome:
    try:
        request = validate_issue_request(data, now=now, devices=devices, policy=policy)
    except RequestInvalid as exc:
        return ("invalid", exc.errors)
    return ("valid", (request, repr(request)))


def _fast(
    data: object, now: datetime, devices: DeviceRegistry, policy: RequestPolicy
) -> NegativeTestRequest | None:
    if type(data) is not dict:
        return None
    try:
        return quick(data, now, devices, policy)
    except Unclear:
        return None


def assert_agree(
    data: object,
    *,
    now: datetime = NOW,
    devices: DeviceRegistry = FORMAT_ONLY,
    policy: RequestPolicy = POLICIES[0],
) -> NegativeTestRequest | None:
    """Check the agreement; return what the fast path accepted (None when it gave up)."""
    snapshot = copy.deepcopy(data)
    full = _full(data, now, devices, policy)
    fast = _fast(data, now, devices, policy)
    if fast is not None:
        assert full == ("valid", (fast, repr(fast)))
    assert _public(data, now, devices, policy) == full
    assert data == snapshot  # nobody writes into the body
    return fast


# --- realistic and hand-picked requests ----------------------------------------------


def test_realistic_requests_take_the_fast_path() -> None:
    """The load-test requests (Latin, Greek, Cyrillic names; RAT and NAAT) are all fast."""
    for data in [DESIGN_EXAMPLE, *sample_requests(64, now=NOW)]:
        assert assert_agree(data) is not None
        listed = data["test"].get("device") in (None, "1232", "1304")
        assert (assert_agree(data, devices=LISTED) is not None) == listed


class _Str(str):
    """A str subclass: valid for the rules, but the fast path leaves it to the collector."""


def _body(**changes: object) -> dict[str, Any]:
    data = copy.deepcopy(DESIGN_EXAMPLE)
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if value is _DELETE:
            data[section].pop(field, None)
        else:
            data[section][field] = value
    return data


_DELETE = object()
_NAAT = {"test__type": "naat", "test__device": _DELETE}

EDGE_CASES = [
    _body(test__device="  ", **{k: v for k, v in _NAAT.items() if k != "test__device"}),
    _body(test__device=None),
    _body(test__device=" 1232"),
    _body(test__device="1065"),
    _body(test__device="9999"),
    _body(**_NAAT, test__name="  cobas "),
    _body(**_NAAT, test__name="  "),
    _body(test__name=""),
    _body(test__name=None),
    SUBCLASSED := _body(person__family_name=_Str("Weber")),
    _body(test__result=_Str("not-detected")),
    _body(person__family_name="  Mu\u0308ller\t", person__given_name=None),
    _body(person__family_name="王"),
    _body(person__family_name="王", person__family_name_standardised=" WANG "),
    _body(person__family_name_standardised="  "),
    _body(person__family_name_standardised=None),
    _body(person__family_name_standardised=1),
    _body(person__given_name=" ", person__given_name_standardised="ANNA"),
    _body(person__family_name="Anna\u00a0Maria"),  # NBSP: not printable, yet allowed
    _body(person__family_name="u\u0308" * 80),  # 160 code points, 80 after NFC
    _body(person__family_name="A" * 81),
    _body(person__family_name="Øster-Ågren ŉ ſ Ĳ"),
    _body(person__date_of_birth="1985"),
    _body(person__date_of_birth="1985-03"),
    _body(person__date_of_birth="2021-07-09"),
    _body(person__date_of_birth="0000-02-29"),
    _body(test__sample_collected_at="2021-07-08t12:30:00z"),
    _body(test__sample_collected_at="2021-07-08T07:30:00.987654321-05:00"),
    _body(test__sample_collected_at="2021-07-08T24:00:00Z"),
    _body(test__sample_collected_at="2021-07-08T12:30:00+23:60"),
    _body(test__sample_collected_at="9999-12-31T23:59:59-23:59"),
    _body(test__result="260415000", test__type="LP217198-3"),
    _body(test__facility="  "),
    _body(test__facility=["x"]),
    {**DESIGN_EXAMPLE, "co": "LU"},
    {"person": DESIGN_EXAMPLE["person"]},
    {1: "x", **DESIGN_EXAMPLE},
    [DESIGN_EXAMPLE],
]


@pytest.mark.parametrize("data", EDGE_CASES)
@pytest.mark.parametrize("policy", POLICIES)
def test_edge_cases_agree(data: object, policy: RequestPolicy) -> None:
    """Blank, absent, null, subclassed, decomposed, boundary values: same outcome."""
    for devices in (FORMAT_ONLY, LISTED):
        assert_agree(data, devices=devices, policy=policy)


def test_str_subclasses_are_left_to_the_collector() -> None:
    """A str subclass is valid for the rules; only the collector decides it."""
    assert _fast(SUBCLASSED, NOW, FORMAT_ONLY, POLICIES[0]) is None
    assert validate_issue_request(SUBCLASSED, now=NOW, devices=FORMAT_ONLY).family_name == "Weber"


# --- properties ------------------------------------------------------------------------


_NAMES = st.sampled_from(
    [
        "Müller-Schmidt", "Anna Maria", "  Weber ", "Παπαδόπουλος", "Шевченко", "王", "O'Brien",
        "Mu\u0308ller", "Łukasz Żółć", "Ştefan", "Nguyễn Thị", "x\u202ey", "a\x00", "Ǆ ǈ",
        "", "   ", "A" * 81, "Ab" * 7, "ŉ", "¨Ä´",
    ]
) | st.text(max_size=14)  # fmt: skip
_OVERRIDES = st.sampled_from(["MUELLER", "ANNA<MARIA", " WANG ", "", "  ", "mueller", "A" * 81])
_DOBS = st.sampled_from(
    ["1985-03-02", "1985", "1985-03", "2021-07-09", "2021-07-10", "1899-12-31", "2021-02-30",
     "1999-02-29", "2000-02-29", "1985-13-01", "1985-3-2", "１９８５", "0000-02-29"]
) | st.dates().map(date.isoformat)  # fmt: skip
_TYPES = st.sampled_from(["rapid-antigen", "naat", "LP217198-3", "LP6464-4", "pcr", ""])
_DEVICES = st.sampled_from(["1232", "1304", "1065", "9999", "12a", " ", "", " 1232", "1232 "])
_RESULTS = st.sampled_from(["not-detected", "260415000", "detected", "260373001", "negative"])
_FACILITIES = st.sampled_from(["Pharmacie du Centre", "  ", "F" * 81, "Centre\u2066X", "Café"])
_OFFSETS = st.sampled_from(["Z", "z", "+00:00", "-00:00", "+02:00", "-05:00", "+13:30", "+14:00"])
_JUNK = st.none() | st.booleans() | st.integers() | st.lists(st.integers(), max_size=2)


@st.composite
def _sample_times(draw: st.DrawFn, *, strict: bool = False) -> str:
    """Around NOW (inside and outside the limits), in the RFC 3339 spellings; ``strict``:
    within 20 hours before NOW, in the plain spelling with seconds and an offset."""
    seconds = draw(st.integers(0, 20 * 3600) if strict else st.integers(-3 * 3600, 80 * 3600))
    moment = NOW - timedelta(seconds=seconds)
    zone = draw(_OFFSETS)
    if zone in ("Z", "z"):
        local = moment.astimezone(UTC)
    else:
        sign = -1 if zone[0] == "-" else 1
        local = moment.astimezone(
            timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        )
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if strict:
        return text + zone
    fraction = draw(st.sampled_from(["", "", ".5", ".123456789"]))
    separator = draw(st.sampled_from(["T", "T", "T", "t", " "]))
    zone = draw(st.sampled_from([zone, zone, zone, "", "+24:00", "+01:60", "+0100"]))
    return text[:10] + separator + text[11:] + fraction + zone


_VALID: dict[str, st.SearchStrategy[object]] = {
    "person.family_name": st.sampled_from(["Müller-Schmidt", "Παπαδόπουλος", "Шевченко", "Weber"]),
    "person.given_name": st.sampled_from(["Anna Maria", " Léa ", "Νίκος", "Олена", "Ǆ", "Ab" * 7]),
    "person.date_of_birth": st.sampled_from(["1985-03-02", "1985", "1990-11", "2021-07-09"])
    | st.dates(date(1900, 1, 1), date(2021, 7, 8)).map(date.isoformat),
    "test.type": st.sampled_from(["rapid-antigen", "LP217198-3"]),
    "test.device": st.sampled_from(["1232", "1304"]),
    "test.sample_collected_at": _sample_times(strict=True),
    "test.result": st.sampled_from(["not-detected", "260415000"]),
    "test.facility": st.sampled_from(["Pharmacie du Centre", "Café", " Labo "]),
}
_BROKEN: dict[str, st.SearchStrategy[object]] = {
    "person.family_name": _NAMES,
    "person.given_name": _NAMES,
    "person.family_name_standardised": _OVERRIDES,
    "person.given_name_standardised": _OVERRIDES,
    "person.date_of_birth": _DOBS,
    "test.type": _TYPES,
    "test.device": _DEVICES,
    "test.name": st.sampled_from(["cobas", " PCR ", "  ", "x" * 81]),
    "test.sample_collected_at": _sample_times(),
    "test.result": _RESULTS,
    "test.facility": _FACILITIES,
    "person.kid": _JUNK,
    "test.co": _JUNK,
    "test." + "x" * 70: _JUNK,
}


@st.composite
def _requests(draw: st.DrawFn) -> object:
    """A valid request (RAT or NAAT) with none, one or a few fields changed: set to another
    (often broken) value, removed, null, of another type; sometimes a broken structure."""
    body: dict[str, Any] = {"person": {}, "test": {}}
    for path, values in _VALID.items():
        section, field = path.split(".")
        body[section][field] = draw(values)
    if draw(st.booleans()):
        body["test"].update(type=draw(st.sampled_from(["naat", "LP6464-4"])))
        del body["test"]["device"]
        if draw(st.booleans()):
            body["test"]["name"] = "cobas"
    changes = draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))
    for path in draw(st.lists(st.sampled_from(sorted(_BROKEN)), max_size=changes, unique=True)):
        section, field = path.split(".")
        value = draw(_BROKEN[path] | st.just(_DELETE) | _JUNK)
        if value is _DELETE:
            body[section].pop(field, None)
        else:
            body[section][field] = value
    shape = draw(st.integers(0, 19))
    if shape == 0:
        body[draw(st.sampled_from(["person", "test"]))] = draw(_JUNK)
    elif shape == 1:
        body["tg"] = "840539006"
    elif shape == 2:
        del body[draw(st.sampled_from(["person", "test"]))]
    return body


@settings(max_examples=1500, deadline=None)
@given(_requests(), st.sampled_from([FORMAT_ONLY, LISTED]), st.sampled_from(POLICIES))
def test_fast_path_agrees_with_the_collector(
    data: object, devices: DeviceRegistry, policy: RequestPolicy
) -> None:
    """Valid and mutated requests: same NegativeTestRequest, or the same error list."""
    fast = assert_agree(data, devices=devices, policy=policy)
    event("fast path" if fast is not None else "collector")
