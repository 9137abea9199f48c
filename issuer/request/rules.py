"""The value rules of an issue request, one function per kind of field.

Each rule takes a value whose JSON type is already checked (a ``str``) and returns either
the normalised value or the :class:`FieldError` it breaks. Messages name the rule, never
the submitted value: names and dates of birth are personal data.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

from hcert.valuesets import (
    RESULT_DETECTED,
    RESULT_NOT_DETECTED,
    TEST_TYPE_NAAT,
    TEST_TYPE_RAT,
)
from issuer.request.charset import FREE_TEXT, NAME, Charset, collapse_spaces
from issuer.transliterate import to_icao
from signing.errors import FieldError

__all__ = [
    "FREE_TEXT_MAX_LENGTH",
    "MIN_BIRTH_YEAR",
    "RESULT_ALIASES",
    "TEST_TYPE_ALIASES",
    "check_date_of_birth",
    "check_result",
    "check_sample_time",
    "check_test_type",
    "clean_name",
    "clean_text",
    "has_forbidden_characters",
    "standardise_name",
]

FREE_TEXT_MAX_LENGTH = 80
MIN_BIRTH_YEAR = 1900

TEST_TYPE_ALIASES: dict[str, str] = {
    "rapid-antigen": TEST_TYPE_RAT,
    "naat": TEST_TYPE_NAAT,
    TEST_TYPE_RAT: TEST_TYPE_RAT,
    TEST_TYPE_NAAT: TEST_TYPE_NAAT,
}
RESULT_ALIASES: dict[str, str] = {
    "not-detected": RESULT_NOT_DETECTED,
    RESULT_NOT_DETECTED: RESULT_NOT_DETECTED,
    "detected": RESULT_DETECTED,
    RESULT_DETECTED: RESULT_DETECTED,
}

# One character class for every code point free text must not hold:
# - control characters (category Cc: C0, DEL, C1), line and paragraph separators (Zl, Zp),
#   lone surrogates (Cs: cannot be encoded as UTF-8) and private-use code points (Co);
# - explicit bidi formatting characters: embeddings and overrides (U+202A-U+202E), isolates
#   (U+2066-U+2069), and the invisible marks LRM, RLM and ALM, which reorder or disguise how
#   a name is displayed on the certificate;
# - noncharacters: U+FDD0-U+FDEF and the last two code points of every plane.
# These categories are fixed by Unicode's stability policy, so the class equals the former
# per-character unicodedata.category() test (checked over all 1,114,112 code points).
# Every one of them is also non-printable for str.isprintable() (which refuses categories
# Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs but the space; checked over all code points in
# tests/issuer/test_request_rules.py), so printable text skips the search: isprintable()
# costs a tenth of it.
_PLANE_ENDS = "".join(rf"\U{plane:04x}fffe\U{plane:04x}ffff" for plane in range(17))
_FORBIDDEN_CHARACTER = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
    r"\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\U000f0000-\U000ffffd\U00100000-\U0010fffd"
    + _PLANE_ENDS
    + "]"
)

# ASCII digits only: a bare \d would also match other scripts' digits.
_DOB = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
# The spellings nearly every client sends, which date/datetime.fromisoformat read several
# times faster than the general parse: a full birth date, and a sample time with seconds, no
# fraction, "T", and an offset in range (hours <= 23, minutes and seconds <= 59 throughout).
# fromisoformat refuses impossible dates; whatever it refuses takes the general parse, which
# finds the error, so these shortcuts only ever accept what the general parse accepts.
_DOB_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RFC3339_PLAIN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
# A birth date is in the future only once no time zone has reached it (UTC+14 is first).
_EARLIEST_ZONE = timedelta(hours=14)


def has_forbidden_characters(text: str) -> bool:
    """True when ``text`` holds a control, bidi-formatting, surrogate or private-use char."""
    return not text.isprintable() and _FORBIDDEN_CHARACTER.search(text) is not None


def clean_text(
    value: str, field: str, *, max_length: int, charset: Charset = FREE_TEXT
) -> str | FieldError | None:
    """Trim and NFC-normalise free text (``charset`` FREE_TEXT) or a name (``NAME``), and
    collapse runs of spaces; None when blank.

    Codes: ``invalid_characters`` (outside ``charset``, see :mod:`issuer.request.charset`,
    or without a letter), ``too_long`` (more than ``max_length`` characters after trimming
    and normalisation).
    """
    text = value.strip()
    if not text:
        return None
    if len(text) > 4 * max_length:  # bound the work before normalising
        return _too_long(field, max_length)
    if not text.isprintable() and _FORBIDDEN_CHARACTER.search(text) is not None:
        return FieldError(
            field,
            "invalid_characters",
            "must not contain control characters, bidirectional formatting characters "
            "or other invisible code points",
        )
    if not text.isascii():  # ASCII is already NFC
        text = unicodedata.normalize("NFC", text)
    problem = charset.problem(text)
    if problem is not None:
        return FieldError(field, "invalid_characters", problem)
    text = collapse_spaces(text)
    return _too_long(field, max_length) if len(text) > max_length else text


def clean_name(value: str, field: str, *, max_length: int) -> str | FieldError | None:
    """:func:`clean_text` with the characters names may hold (:data:`charset.NAME`)."""
    return clean_text(value, field, max_length=max_length, charset=NAME)


def standardise_name(name: str, field: str, max_length: int) -> str | FieldError:
    """The ICAO 9303 form (``fnt``/``gnt``) of a cleaned name, or why it has none.

    ``field`` is the name's dotted path (``person.family_name``); the override a client may
    send instead is named after it (``person.family_name_standardised``). Code:
    ``transliteration_empty``.
    """
    standardised = to_icao(name, max_length=max_length)
    if standardised:
        return standardised
    override = field.rpartition(".")[2] + "_standardised"
    return FieldError(
        field,
        "transliteration_empty",
        f"has no ICAO 9303 transliteration to Latin letters; send {override} "
        "(A-Z, with < between name parts)",
    )


def _too_long(field: str, max_length: int) -> FieldError:
    return FieldError(field, "too_long", f"must be at most {max_length} characters")


def check_date_of_birth(value: str, field: str, *, now: datetime) -> str | FieldError:
    """A ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` date, real, from 1900, not in the future.

    Codes: ``dob_format``, ``dob_invalid``, ``dob_too_early``, ``dob_in_future``.
    """
    if _is_plain_birth_date(value, now):
        return value
    return _read_birth_date(value, field, now)


def _is_plain_birth_date(value: str, now: datetime) -> bool:
    """True for a valid full date in the plain spelling (see _DOB_DAY)."""
    if _DOB_DAY.fullmatch(value) is None:
        return False
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return False
    return born.year >= MIN_BIRTH_YEAR and born <= _latest_birth_date(now)


def _read_birth_date(value: str, field: str, now: datetime) -> str | FieldError:
    """Any accepted spelling; the error of the first rule ``value`` breaks."""
    match = _DOB.fullmatch(value)
    if match is None:
        return FieldError(field, "dob_format", "must be YYYY-MM-DD, YYYY-MM or YYYY")
    year = int(match[1])
    month = int(match[2]) if match[2] else None
    day = int(match[3]) if match[3] else None
    if month is not None and not 1 <= month <= 12:
        return FieldError(field, "dob_invalid", "is not a real calendar date")
    if day is not None and month is not None:
        try:  # year 0 is checked as year 1 (not a leap year); it is too early anyway
            date(max(year, 1), month, day)
        except ValueError:
            return FieldError(field, "dob_invalid", "is not a real calendar date")
    if year < MIN_BIRTH_YEAR:
        return FieldError(field, "dob_too_early", f"must not be before {MIN_BIRTH_YEAR}")
    latest = _latest_birth_date(now)
    given = (year, month or 0, day or 0)
    limit = (latest.year, latest.month if month else 0, latest.day if day else 0)
    if given > limit:
        return FieldError(field, "dob_in_future", "must not be in the future")
    return value


def _latest_birth_date(now: datetime) -> date:
    return (now.astimezone(UTC) + _EARLIEST_ZONE).date()


def check_sample_time(
    value: str, field: str, *, now: datetime, clock_skew: timedelta, max_age: timedelta
) -> datetime | FieldError:
    """An RFC 3339 date-time with an explicit offset, within ``max_age`` before ``now``.

    Returns the time in UTC without fractions. Codes: ``sample_time_format``,
    ``sample_time_offset_missing``, ``sample_time_in_future``, ``sample_time_too_old``.
    """
    plain = _read_plain_time(value)
    sampled = plain if plain is not None else _read_sample_time(value, field)
    if isinstance(sampled, FieldError):
        return sampled
    # Compare before converting: an extreme year with an offset could overflow astimezone().
    if sampled > now + clock_skew:
        return FieldError(field, "sample_time_in_future", "must not be in the future")
    if sampled < now - max_age:
        hours = max_age / timedelta(hours=1)
        return FieldError(
            field,
            "sample_time_too_old",
            f"must not be more than {hours:g} hours ago",
        )
    return sampled.astimezone(UTC)


def _read_plain_time(value: str) -> datetime | None:
    """The time of the plain spelling (see _RFC3339_PLAIN); None for anything else."""
    if _RFC3339_PLAIN.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _read_sample_time(value: str, field: str) -> datetime | FieldError:
    """Any RFC 3339 spelling: fractions are dropped, the offset is required."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        return _bad_sample_format(field)
    year, month, day, hour, minute, second, _, zone = match.groups()
    if zone is None:
        return FieldError(
            field,
            "sample_time_offset_missing",
            "must carry a UTC offset: Z or +hh:mm / -hh:mm",
        )
    offset = _parse_offset(zone)
    if offset is None:
        return _bad_sample_format(field)
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), 0, offset
        )
    except ValueError:
        return _bad_sample_format(field)


def _bad_sample_format(field: str) -> FieldError:
    return FieldError(
        field,
        "sample_time_format",
        "must be an RFC 3339 date-time such as 2021-07-08T14:30:00+02:00",
    )


@functools.lru_cache(maxsize=128)
def _parse_offset(text: str) -> timezone | None:
    """The zone of ``Z`` or ``±hh:mm`` (None when out of range); a handful of distinct
    offsets reach the service, so each is parsed once."""
    if text in ("Z", "z"):
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def check_test_type(value: str, field: str) -> str | FieldError:
    """``rapid-antigen``, ``naat`` or their LOINC code; returns the LOINC code.

    Code: ``test_type_unknown``.
    """
    code = TEST_TYPE_ALIASES.get(value)
    if code is None:
        return FieldError(
            field,
            "test_type_unknown",
            f"must be 'rapid-antigen' or 'naat' (or {TEST_TYPE_RAT} / {TEST_TYPE_NAAT})",
        )
    return code


def check_result(value: str, field: str) -> str | FieldError:
    """Only a negative result; returns its SNOMED CT code.

    Codes: ``result_positive`` (refused: negative certificates only), ``result_unknown``.
    """
    code = RESULT_ALIASES.get(value)
    if code == RESULT_NOT_DETECTED:
        return code
    if code == RESULT_DETECTED:
        return FieldError(
            field, "result_positive", "this service issues certificates for negative tests only"
        )
    return FieldError(field, "result_unknown", f"must be 'not-detected' (or {RESULT_NOT_DETECTED})")
