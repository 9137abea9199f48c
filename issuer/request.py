"""Validation of an issue request into the :class:`NegativeTestRequest` the issuer consumes.

:func:`validate_issue_request` walks an already-parsed JSON body, checks every rule of the
DESIGN "Issue request" contract, and raises :class:`RequestInvalid` with *all* broken rules
(one :class:`FieldError` each, with a dotted path and a stable code). A fast path reads the
common valid request directly and hands anything else to the full collector, which alone
words errors (see "the fast path" below). The JSON models for the OpenAPI document live in
:mod:`issuer.request_models` and are re-exported here; the value rules live in
:mod:`issuer.request_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from issuer.errors import ConfigError, FieldError, RequestInvalid
from issuer.request_models import DESIGN_EXAMPLE, IssueRequestInput, PersonInput, TestInput
from issuer.request_reader import SectionReader, Unclear, blank_to_none, exact_str, quick_text
from issuer.request_rules import (
    FREE_TEXT_MAX_LENGTH,
    TEST_TYPE_ALIASES,
    check_date_of_birth,
    check_result,
    check_sample_time,
    check_test_type,
    clean_text,
)
from issuer.transliterate import is_standardised, to_icao
from issuer.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT, DeviceRegistry

__all__ = [
    "DESIGN_EXAMPLE",
    "IssueRequestInput",
    "NegativeTestRequest",
    "PersonInput",
    "RequestPolicy",
    "TestInput",
    "validate_issue_request",
]


@dataclass(frozen=True, slots=True)
class RequestPolicy:
    """Limits a deployment may tune; the defaults follow the DESIGN contract."""

    max_sample_age: timedelta = timedelta(hours=72)
    clock_skew: timedelta = timedelta(minutes=5)
    max_name_length: int = 80

    def __post_init__(self) -> None:
        if self.max_sample_age <= timedelta(0) or self.clock_skew < timedelta(0):
            raise ConfigError(
                "max_sample_age must be positive and clock_skew not negative", code="policy_invalid"
            )
        if not 1 <= self.max_name_length <= FREE_TEXT_MAX_LENGTH:
            raise ConfigError(
                f"max_name_length must be between 1 and {FREE_TEXT_MAX_LENGTH}",
                code="policy_invalid",
            )


@dataclass(frozen=True, slots=True)
class NegativeTestRequest:
    """A validated, normalised issue request: what the issuer turns into a certificate.

    Names are trimmed and NFC; each standardised form is the client's override or the ICAO
    9303 transliteration, None only when its name is absent. ``test_type`` and ``result``
    are the LOINC / SNOMED CT codes; ``sample_collected_at`` is UTC without fractions.
    """

    family_name: str | None
    given_name: str | None
    family_name_standardised: str | None
    given_name_standardised: str | None
    date_of_birth: str
    test_type: str
    device: str | None
    naat_name: str | None
    sample_collected_at: datetime
    result: str
    facility: str | None


_DEFAULT_POLICY = RequestPolicy()
# The field names of each object, read once (pydantic's ``model_fields`` is a descriptor).
_BODY_FIELDS = frozenset(IssueRequestInput.model_fields)
_PERSON_FIELDS = frozenset(PersonInput.model_fields)
_TEST_FIELDS = frozenset(TestInput.model_fields)


def validate_issue_request(
    data: object,
    *,
    now: datetime,
    devices: DeviceRegistry,
    policy: RequestPolicy = _DEFAULT_POLICY,
) -> NegativeTestRequest:
    """Check an issue request against every rule and return it normalised.

    ``data`` is the parsed JSON body (or an :class:`IssueRequestInput`); ``now`` must be
    timezone-aware and decides "in the future" and the sample's age. Raises
    :class:`RequestInvalid` listing every broken rule.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if type(data) is not dict and isinstance(data, BaseModel):
        data = data.model_dump(exclude_unset=True)
    if type(data) is dict:
        try:
            return _quick(data, now, devices, policy)
        except Unclear:
            pass  # the full collector names every broken rule
    return _collect(data, now=now, devices=devices, policy=policy)


def _collect(
    data: object, *, now: datetime, devices: DeviceRegistry, policy: RequestPolicy
) -> NegativeTestRequest:
    """The full collector: every rule on every field, every error in one RequestInvalid."""
    if not isinstance(data, Mapping):
        raise RequestInvalid(
            [FieldError("", "body_not_object", "the request body must be a JSON object")]
        )
    body = SectionReader(data, "", [])
    body.refuse_unknown(_BODY_FIELDS)
    person = body.section("person")
    test = body.section("test")
    names = _person(person, now, policy) if person is not None else None
    event = _test(test, now, devices, policy) if test is not None else None
    if body.errors or names is None or event is None:
        raise RequestInvalid(body.errors)
    family, given, fnt, gnt, dob = names
    test_type, device, naat_name, sampled, result, facility = event
    return NegativeTestRequest(
        family, given, fnt, gnt, dob, test_type, device, naat_name, sampled, result, facility
    )


_Names = tuple[str | None, str | None, str | None, str | None, str]
_Event = tuple[str, str | None, str | None, datetime, str, str | None]


def _person(person: SectionReader, now: datetime, policy: RequestPolicy) -> _Names | None:
    before = len(person.errors)
    person.refuse_unknown(_PERSON_FIELDS)
    if not person.present("family_name") and not person.present("given_name"):
        person.add("", "name_missing", "needs a family_name or a given_name (or both)")
    family, fnt = _name(person, "family_name", policy)
    given, gnt = _name(person, "given_name", policy)
    dob = person.check("date_of_birth", True, check_date_of_birth, now=now)
    if len(person.errors) > before or dob is None:
        return None
    return family, given, fnt, gnt, dob


def _name(person: SectionReader, key: str, policy: RequestPolicy) -> tuple[str | None, str | None]:
    """The cleaned name and its standardised form (override or transliteration)."""
    std_key = f"{key}_standardised"
    name = person.check(key, False, clean_text, max_length=policy.max_name_length)
    override = blank_to_none(person.string(std_key))
    if override is not None:
        override = override.strip()
        if not is_standardised(override):
            person.add(std_key, "standardised_format", "must match ^[A-Z<]{1,80}$")
            override = None
        elif not person.present(key):
            person.add(std_key, "standardised_without_name", f"is allowed only with {key}")
    if name is None or override is not None:
        return name, override
    standardised = to_icao(name, max_length=policy.max_name_length)
    if not standardised:
        person.add(
            key,
            "transliteration_empty",
            f"has no ICAO 9303 transliteration to Latin letters; send {std_key} "
            "(A-Z, with < between name parts)",
        )
        return name, None
    return name, standardised


def _test(
    test: SectionReader, now: datetime, devices: DeviceRegistry, policy: RequestPolicy
) -> _Event | None:
    before = len(test.errors)
    test.refuse_unknown(_TEST_FIELDS)
    test_type = test.check("type", True, check_test_type)
    device = blank_to_none(test.string("device"))  # None also after a type error
    if not test.present("device") and test_type == TEST_TYPE_RAT:
        test.add("device", "device_required", "is required for a rapid antigen test")
    elif device is not None and test_type == TEST_TYPE_NAAT:
        test.add("device", "device_forbidden", "is only for rapid antigen tests, not NAAT")
    elif device is not None:
        test.keep(devices.check(device))
    naat_name = test.check("name", False, clean_text, max_length=FREE_TEXT_MAX_LENGTH)
    if naat_name is not None and test_type == TEST_TYPE_RAT:
        test.add("name", "name_forbidden", "is only for NAAT tests, not rapid antigen tests")
    sampled = test.check(
        "sample_collected_at",
        True,
        check_sample_time,
        now=now,
        clock_skew=policy.clock_skew,
        max_age=policy.max_sample_age,
    )
    result = test.check("result", True, check_result)
    facility = test.check("facility", False, clean_text, max_length=FREE_TEXT_MAX_LENGTH)
    if len(test.errors) > before or test_type is None or sampled is None or result is None:
        return None
    return test_type, device, naat_name, sampled, result, facility


# --- the fast path -----------------------------------------------------------------------
#
# Nearly every request is valid and plainly shaped. _quick reads such a request directly
# (exact types, dict lookups, the same value rules) and gives up with Unclear at the first
# thing that is absent where the contract needs it, of another type, unknown, or refused by
# a rule; validate_issue_request then runs _collect, which reports every problem. So _quick
# accepts a subset of what _collect accepts, with the same result (checked by
# tests/issuer/test_request_fast.py), and never decides an error list.


def _quick(
    data: dict[object, object], now: datetime, devices: DeviceRegistry, policy: RequestPolicy
) -> NegativeTestRequest:
    """The request normalised as :func:`_collect` would; Unclear when it might not be valid."""
    person = data.get("person")
    test = data.get("test")
    if type(person) is not dict or type(test) is not dict or not data.keys() <= _BODY_FIELDS:
        raise Unclear
    if not (person.keys() <= _PERSON_FIELDS and test.keys() <= _TEST_FIELDS):
        raise Unclear
    # The cheap rules first, so that a broken request reaches _collect soon.
    dob = check_date_of_birth(exact_str(person.get("date_of_birth")), "", now=now)
    result = check_result(exact_str(test.get("result")), "")
    test_type = TEST_TYPE_ALIASES.get(exact_str(test.get("type")))
    if isinstance(dob, FieldError) or isinstance(result, FieldError) or test_type is None:
        raise Unclear
    sampled = check_sample_time(
        exact_str(test.get("sample_collected_at")),
        "",
        now=now,
        clock_skew=policy.clock_skew,
        max_age=policy.max_sample_age,
    )
    if isinstance(sampled, FieldError):
        raise Unclear
    device = test.get("device")
    if device is not None and (type(device) is not str or not device.strip()):
        raise Unclear  # of another type, or blank (= absent for the rules)
    naat_name = quick_text(test.get("name"), FREE_TEXT_MAX_LENGTH)
    if test_type == TEST_TYPE_RAT:
        if device is None or naat_name is not None or devices.check(device) is not None:
            raise Unclear
    elif device is not None:  # NAAT
        raise Unclear
    facility = quick_text(test.get("facility"), FREE_TEXT_MAX_LENGTH)
    get, limit = person.get, policy.max_name_length
    family, fnt = _quick_name(get("family_name"), get("family_name_standardised"), limit)
    given, gnt = _quick_name(get("given_name"), get("given_name_standardised"), limit)
    if family is None and given is None:
        raise Unclear
    return NegativeTestRequest(
        family, given, fnt, gnt, dob, test_type, device, naat_name, sampled, result, facility
    )


def _quick_name(value: object, override: object, limit: int) -> tuple[str | None, str | None]:
    """The cleaned name and its standardised form, as :func:`_name` finds them."""
    name = quick_text(value, limit)
    if override is not None:
        override = exact_str(override).strip()
        if override:
            if name is None or not is_standardised(override):
                raise Unclear
            return name, override
    if name is None:
        return None, None
    standardised = to_icao(name, max_length=limit)
    if not standardised:
        raise Unclear
    return name, standardised
