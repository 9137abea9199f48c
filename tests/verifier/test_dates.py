"""verifier.dates: lenient date-times (hcert.md §2), strict dates, dates of birth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from verifier.dates import format_instant, is_date, is_date_of_birth, parse_date_time

NOON = datetime(2021, 6, 11, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-06-11T15:30:00Z", NOON),
        ("2021-06-11t15:30:00z", NOON),
        ("2021-06-11T17:30:00+02", NOON),
        ("2021-06-11T17:30:00+0200", NOON),
        ("2021-06-11T17:30:00+02:00", NOON),
        ("2021-06-11T13:00:00-02:30", NOON),
        ("2021-06-11T15:30:00.5Z", NOON + timedelta(milliseconds=500)),
        ("2021-06-11T15:30:00,25Z", NOON + timedelta(milliseconds=250)),
        ("2021-06-11T15:30:00.123456789Z", NOON + timedelta(microseconds=123456)),
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_lenient_date_times(text: str, expected: datetime) -> None:
    assert parse_date_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2021-06-11T15:30:00",
        "2021-06-11 15:30:00Z",
        "2021-06-11T15:30Z",
        "2021-06-11",
        "2021-02-29T00:00:00Z",
        "2021-06-11T24:00:00Z",
        "2021-06-11T15:60:00Z",
        "2021-06-11T15:30:61Z",
        "2021-06-11T15:30:00+24:00",
        "2021-06-11T15:30:00+02:60",
        "2021-06-11T15:30:00.1234567890Z",
        "2021-06-11T15:30:00Z\n",
        "２０２１-06-11T15:30:00Z",
        "0000-01-01T00:00:00Z",
        "",
    ],
)
def test_refused_date_times(text: str) -> None:
    assert parse_date_time(text) is None


def test_offsets_keep_the_instant() -> None:
    parsed = parse_date_time("2021-06-11T17:30:00+02:00")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=2)
    assert format_instant(parsed) == "2021-06-11T15:30:00Z"
    assert format_instant(datetime(2021, 6, 11, 16, 30, 0, 999, timezone(timedelta(hours=1)))) == (
        "2021-06-11T15:30:00Z"
    )


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2021-06-11", True),
        ("2020-02-29", True),
        ("2021-02-29", False),
        ("2021-6-11", False),
        ("2021-06-11T00:00:00", False),
        ("2021-13-01", False),
        ("", False),
    ],
)
def test_dates(text: str, ok: bool) -> None:
    assert is_date(text) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("", True),
        ("1900", True),
        ("2099", True),
        ("1985-03", True),
        ("1985-03-02", True),
        ("2000-02-29", True),
        ("1899", False),
        ("2100", False),
        ("1985-00", False),
        ("1985-13", False),
        ("1963-00-00", False),
        ("1985-02-30", False),
        ("1985-3-2", False),
        ("1985-03-02T00:00:00", False),
        ("85", False),
        ("1985\n", False),
    ],
)
def test_dates_of_birth(text: str, ok: bool) -> None:
    assert is_date_of_birth(text) is ok
