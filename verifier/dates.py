"""Dates and date-times as DCC payloads carry them, read with the leniency of hcert.md §2.

``date-time`` (``sc``): ``YYYY-MM-DDThh:mm:ss`` with optional fractions (``.`` or ``,``, up
to 9 digits) and a mandatory offset ``Z``, ``±hh``, ``±hhmm`` or ``±hh:mm`` (the official
"valid" test files use ``+02`` and ``+0200``, which strict RFC 3339 checkers refuse). A
time without an offset is refused: it names no instant. ``date``: ``YYYY-MM-DD``, a real
calendar date. ``dob``: the schema pattern (``""``, ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``,
years 1900-2099) plus real month and day values.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

__all__ = ["format_instant", "is_date", "is_date_of_birth", "parse_date_time"]

_DATE_TIME: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)",
    re.ASCII,
)
_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DOB: Final = re.compile(r"(?:(19|20)\d\d(?:-(\d\d)(?:-(\d\d))?)?)?", re.ASCII)
_MAX_OFFSET_HOURS: Final = 23
_LEAP_SECOND: Final = 60
_FOUR_DIGIT_YEAR: Final = 1000


_DAYS_IN_MONTH: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FEBRUARY: Final = 2


def _real_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or year < 1:
        return False
    last = _DAYS_IN_MONTH[month]
    if month == _FEBRUARY and calendar.isleap(year):
        last = 29
    return 1 <= day <= last


@functools.lru_cache(maxsize=64)
def parse_date_time(text: str) -> datetime | None:
    """The aware instant ``text`` names, or None when it is not a (lenient) date-time.

    Cached (a few entries): a verification reads the sample time twice, in the schema check
    and in the rules; the answer is immutable.
    """
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    if not _real_date(year, month, day) or hour > 23 or minute > 59 or second > _LEAP_SECOND:
        return None
    fraction = match.group(7) or ""
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    if match.group(8):
        tz = UTC
    else:
        off_h = int(match.group(10))
        off_m = int(match.group(11) or "0")
        if off_h > _MAX_OFFSET_HOURS or off_m > 59:
            return None
        sign = -1 if match.group(9) == "-" else 1
        tz = timezone(sign * timedelta(hours=off_h, minutes=off_m))
    leap = second == _LEAP_SECOND
    try:
        moment = datetime(year, month, day, hour, minute, 59 if leap else second, micro, tz)
        return moment + timedelta(seconds=1) if leap else moment
    except (ValueError, OverflowError):
        return None


def is_date(text: str) -> bool:
    """True when ``text`` is ``YYYY-MM-DD`` naming a real calendar date (schema ``date``)."""
    match = _DATE.fullmatch(text)
    if match is None:
        return False
    year, month, day = (int(g) for g in match.groups())
    return _real_date(year, month, day)


def is_date_of_birth(text: str) -> bool:
    """True for ``""``, ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (1900-2099, real values)."""
    match = _DOB.fullmatch(text)
    if match is None:
        return False
    if not text:
        return True
    year = int(text[:4])
    month, day = match.group(2), match.group(3)
    if month is None:
        return True
    if day is None:
        return 1 <= int(month) <= 12
    return _real_date(year, int(month), int(day))


def format_instant(moment: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC, whole seconds (the report's time format)."""
    if moment.tzinfo is UTC and moment.year >= _FOUR_DIGIT_YEAR:
        # What strftime writes below, without its per-call cost (years ≥ 1000 have 4 digits).
        return (
            f"{moment.year}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
        )
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
