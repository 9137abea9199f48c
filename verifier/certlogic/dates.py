"""CertLogic's date-times: reading the forms it accepts, ``plusTime``, ``dccDateOfBirth``.

What CertLogic (specification 1.x, its test suite) reads as a date-time:

* ``YYYY-MM-DD`` is midnight UTC of that day;
* ``YYYY-MM-DDThh:mm:ss`` with optional fractions and an optional offset (``Z``, ``±h``,
  ``±hh``, ``±hhmm``, ``±hh:mm``); no offset means UTC;
* the partial dates of a DCC's ``dob``, ``YYYY`` and ``YYYY-MM``, are the last day of that
  year or month (midnight UTC): the conservative reading for "is this person a minor?"
  (the suite's "recognising minors" cases).

``plusTime`` adds whole hours, days, months or years in UTC. Months and years keep the
day-of-month when it exists and otherwise clamp to the month's last day (31 January + 1
month = 28/29 February; 29 February + 1 year = 28 February), as ``java.time`` does in the
Kotlin engine of the EU verifier apps.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Literal

from verifier.certlogic.errors import CertLogicError

__all__ = ["TIME_UNITS", "TimeUnit", "date_of_birth", "parse_date_time", "plus_time"]

TimeUnit = Literal["year", "month", "day", "hour"]
TIME_UNITS: Final[tuple[TimeUnit, ...]] = ("year", "month", "day", "hour")

_YEAR: Final = re.compile(r"(\d{4})", re.ASCII)
_YEAR_MONTH: Final = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DATE_TIME: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:(Z)|([+-])(\d{1,2}):?(\d{2})?)?",
    re.ASCII,
)
_MAX_OFFSET_HOURS: Final = 23


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _date(year: int, month: int, day: int, text: str) -> datetime:
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        raise CertLogicError(f"not a valid date: {text}") from None


def _partial_date(text: str) -> datetime | None:
    """``YYYY-MM-DD`` as that day; ``YYYY-MM``/``YYYY`` as the last day of the period."""
    if match := _DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return _date(year, month, day, text)
    if match := _YEAR_MONTH.fullmatch(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise CertLogicError(f"not a valid date: {text}")
        return _date(year, month, _last_day(year, month), text)
    if match := _YEAR.fullmatch(text):
        return _date(int(match[1]), 12, 31, text)
    return None


def parse_date_time(text: str) -> datetime:
    """The aware instant ``text`` names; raise :class:`CertLogicError` for other text."""
    partial = _partial_date(text)
    if partial is not None:
        return partial
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise CertLogicError(f"not an allowed date or date-time format: {text}")
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction = match[7] or ""
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    zone: timezone = UTC
    if match[9] is not None:
        hours, minutes = int(match[10]), int(match[11] or "0")
        if hours > _MAX_OFFSET_HOURS or minutes > 59:
            raise CertLogicError(f"not a valid time-zone offset: {text}")
        offset = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-offset if match[9] == "-" else offset)
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError:
        raise CertLogicError(f"not a valid date-time: {text}") from None


def date_of_birth(text: str) -> datetime:
    """``dccDateOfBirth``: a DCC ``dob`` (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) as a date."""
    partial = _partial_date(text)
    if partial is None:
        raise CertLogicError(f"not a valid date of birth: {text}")
    return partial


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise CertLogicError("plusTime leaves the range of representable dates")
    return moment.replace(year=year, month=month, day=min(moment.day, _last_day(year, month)))


def plus_time(moment: datetime, amount: int, unit: TimeUnit) -> datetime:
    """``moment`` moved by ``amount`` ``unit``\\ s (negative moves back)."""
    try:
        if unit == "hour":
            return moment + timedelta(hours=amount)
        if unit == "day":
            return moment + timedelta(days=amount)
    except OverflowError:
        raise CertLogicError("plusTime leaves the range of representable dates") from None
    utc = moment.astimezone(UTC)
    if unit == "month":
        return _add_months(utc, amount)
    return _add_months(utc, 12 * amount)
