"""The full collector: every rule on every field of an issue request, every error at once.

It alone words errors: :mod:`issuer.request.fast` hands it anything that is not plainly
valid. Fields are read by :class:`~issuer.request.reader.SectionReader`; values are judged
by the rules of :mod:`issuer.request.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hcert.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT, DeviceRegistry
from issuer.request.contract import NegativeTestRequest, RequestPolicy
from issuer.request.models import IssueRequestInput, PersonInput, TestInput
from issuer.request.reader import SectionReader, blank_to_none
from issuer.request.rules import (
    FREE_TEXT_MAX_LENGTH,
    check_date_of_birth,
    check_result,
    check_sample_time,
    check_test_type,
    clean_name,
    clean_text,
    standardise_name,
)
from issuer.transliterate import is_standardised
from signing.errors import FieldError, RequestInvalid

__all__ = ["BODY_FIELDS", "PERSON_FIELDS", "TEST_FIELDS", "collect"]

# The field names of each object, read once (pydantic's ``model_fields`` is a descriptor).
BODY_FIELDS = frozenset(IssueRequestInput.model_fields)
PERSON_FIELDS = frozenset(PersonInput.model_fields)
TEST_FIELDS = frozenset(TestInput.model_fields)


def collect(
    data: object, *, now: datetime, devices: DeviceRegistry, policy: RequestPolicy
) -> NegativeTestRequest:
    """The full collector: every rule on every field, every error in one RequestInvalid."""
    if not isinstance(data, Mapping):
        raise RequestInvalid(
            [FieldError("", "body_not_object", "the request body must be a JSON object")]
        )
    body = SectionReader(data, "", [])
    body.refuse_unknown(BODY_FIELDS)
    person = body.section("person")
    test = body.section("test")
    names = _person(person, now, policy) if person is not None else None
    event = _test(test, now, devices, policy) if test is not None else None
    if body.errors or names is None or event is None:
        raise RequestInvalid(body.errors, omitted=body.omitted[0])
    family, given, fnt, gnt, dob = names
    test_type, device, naat_name, sampled, result, facility = event
    return NegativeTestRequest(
        family, given, fnt, gnt, dob, test_type, device, naat_name, sampled, result, facility
    )


_Names = tuple[str | None, str | None, str | None, str | None, str]
_Event = tuple[str, str | None, str | None, datetime, str, str | None]


def _person(person: SectionReader, now: datetime, policy: RequestPolicy) -> _Names | None:
    before = len(person.errors)
    person.refuse_unknown(PERSON_FIELDS)
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
    name = person.check(key, False, clean_name, max_length=policy.max_name_length)
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
    return name, person.keep(standardise_name(name, person.path(key), policy.max_name_length))


def _test(
    test: SectionReader, now: datetime, devices: DeviceRegistry, policy: RequestPolicy
) -> _Event | None:
    before = len(test.errors)
    test.refuse_unknown(TEST_FIELDS)
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
