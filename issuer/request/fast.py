"""The fast path of validation: the plainly valid request, read directly.

Nearly every request is valid and plainly shaped. :func:`quick` reads such a request
directly (exact types, dict lookups, the same value rules) and gives up with
:class:`Unclear` at the first thing that is absent where the contract needs it, of another
type, unknown, or refused by a rule; :func:`issuer.request.validate_issue_request` then runs
the full collector, which reports every problem. So :func:`quick` accepts a subset of what
the collector accepts, with the same result, and never decides an error list.

Hot path (BENCHMARKS.md, "validation"): keep tests/issuer/request/test_fast.py, which checks
it against the collector, green.
"""

from __future__ import annotations

from datetime import datetime

from hcert.valuesets import TEST_TYPE_RAT, DeviceRegistry
from issuer.request.charset import FREE_TEXT, NAME, Charset
from issuer.request.collect import BODY_FIELDS, PERSON_FIELDS, TEST_FIELDS
from issuer.request.contract import NegativeTestRequest, RequestPolicy
from issuer.request.rules import (
    FREE_TEXT_MAX_LENGTH,
    TEST_TYPE_ALIASES,
    check_date_of_birth,
    check_result,
    check_sample_time,
    clean_text,
)
from issuer.transliterate import is_standardised, to_icao
from signing.errors import FieldError

__all__ = ["Unclear", "exact_str", "quick", "quick_text"]


class Unclear(Exception):
    """The fast path cannot vouch for a request: the full collector must judge it.

    Raised for anything but the plain valid shape, so that only the collector ever decides
    (and words) an error.
    """


def exact_str(value: object) -> str:
    """``value`` when it is exactly a ``str`` (subclasses go to the collector too)."""
    if type(value) is not str:
        raise Unclear
    return value


def quick_text(value: object, max_length: int, charset: Charset = FREE_TEXT) -> str | None:
    """Optional free text cleaned by :func:`clean_text`; None when absent or blank."""
    if value is None:
        return None
    text = clean_text(exact_str(value), "", max_length=max_length, charset=charset)
    if isinstance(text, FieldError):
        raise Unclear
    return text


def quick(
    data: dict[object, object], now: datetime, devices: DeviceRegistry, policy: RequestPolicy
) -> NegativeTestRequest:
    """The request normalised as the collector would; Unclear when it might not be valid."""
    person = data.get("person")
    test = data.get("test")
    if type(person) is not dict or type(test) is not dict or not data.keys() <= BODY_FIELDS:
        raise Unclear
    if not (person.keys() <= PERSON_FIELDS and test.keys() <= TEST_FIELDS):
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
    """The cleaned name and its standardised form, as the collector finds them."""
    name = quick_text(value, limit, NAME)
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
