"""The value rules' shortcuts agree with the general rules they shorten.

clean_text skips the forbidden-character search for printable text; the date rules read the
plain spellings with ``fromisoformat`` and leave everything else (and every refusal) to the
general parse. Each shortcut must accept only what the general rule accepts, identically.
"""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.request.charset import FREE_TEXT
from issuer.request.rules import (
    _FORBIDDEN_CHARACTER,
    _is_plain_birth_date,
    _read_birth_date,
    _read_plain_time,
    _read_sample_time,
    check_date_of_birth,
    clean_text,
    has_forbidden_characters,
)
from signing.errors import FieldError

NOW = datetime(2021, 7, 8, 12, 31, 2, tzinfo=UTC)


def test_printable_text_never_holds_a_forbidden_character() -> None:
    """clean_text skips the forbidden-character search for printable text: sound only if
    every forbidden code point is non-printable, which this checks for all of them."""
    printable_but_forbidden = [
        hex(cp)
        for cp in range(sys.maxunicode + 1)
        if chr(cp).isprintable() and _FORBIDDEN_CHARACTER.match(chr(cp))
    ]
    assert printable_but_forbidden == []


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(codec=None, categories=None), max_size=12))
def test_has_forbidden_characters_is_the_search(text: str) -> None:
    """The shortcut answers exactly what the search answers."""
    assert has_forbidden_characters(text) == (_FORBIDDEN_CHARACTER.search(text) is not None)
    outcome = clean_text(text, "f", max_length=80)
    stripped = text.strip()
    forbidden = _FORBIDDEN_CHARACTER.search(stripped) is not None
    refused = isinstance(outcome, FieldError) and outcome.code == "invalid_characters"
    outside = bool(stripped) and FREE_TEXT.problem(unicodedata.normalize("NFC", stripped))
    assert refused == (forbidden or bool(outside))


def test_every_calendar_day_of_a_leap_cycle() -> None:
    """Real dates pass and impossible days are dob_invalid, for every month of 2000-2003."""
    for year in range(2000, 2004):
        for month in range(1, 13):
            for day in range(33):
                try:
                    real = date(year, month, day) is not None
                except ValueError:
                    real = False
                text = f"{year}-{month:02d}-{day:02d}"
                outcome = check_date_of_birth(text, "f", now=NOW)
                assert (outcome == text) == real
                if not real:
                    assert isinstance(outcome, FieldError)
                    assert outcome.code == "dob_invalid"


_DIGITS_TIME = st.from_regex(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?",
    fullmatch=True,
)


@st.composite
def _real_times(draw: st.DrawFn) -> str:
    """Real date-times in any offset up to ±23:59, in the plain spelling or close to it."""
    minutes = draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1))
    zone = timezone(timedelta(minutes=minutes))
    moment = draw(st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)))
    text = moment.replace(tzinfo=zone, microsecond=0).isoformat()
    if minutes == 0 and draw(st.booleans()):
        text = text[:-6] + draw(st.sampled_from(["Z", "z", "-00:00"]))
    return text


_EDGE_TIMES = st.sampled_from(
    ["2021-07-08T23:59:59+23:59", "2021-07-08T24:00:00Z", "2021-07-08T12:00:60Z",
     "2021-07-08T12:60:00Z", "2021-07-08T12:00:00+24:00", "2021-07-08T12:00:00+01:60",
     "2020-02-29T00:00:00Z", "2021-02-29T00:00:00Z", "0000-01-01T00:00:00Z",
     "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2021-07-08T12:00:00.5Z"]
)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(_DIGITS_TIME | _real_times() | _EDGE_TIMES)
def test_plain_sample_times_read_like_the_general_parse(text: str) -> None:
    """Whatever the plain reader accepts, the general parse reads as the same instant and
    offset; it leaves the rest (every refusal among them) to the general parse."""
    plain = _read_plain_time(text)
    if plain is not None:
        general = _read_sample_time(text, "f")
        assert isinstance(general, datetime)
        assert (plain, plain.utcoffset()) == (general, general.utcoffset())


_DIGITS_DATE = st.from_regex(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?", fullmatch=True)
_REAL_DATES = st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat)


@settings(max_examples=1500, deadline=None)
@given(_DIGITS_DATE | _REAL_DATES | st.sampled_from(["2021-07-09", "2021-07-10", "1900-01-01"]))
def test_plain_birth_dates_read_like_the_general_parse(text: str) -> None:
    """The plain reader accepts only dates the general parse accepts; same outcome."""
    general = _read_birth_date(text, "f", NOW)
    if _is_plain_birth_date(text, NOW):
        assert general == text
    assert check_date_of_birth(text, "f", now=NOW) == general


def test_plain_spellings_take_the_shortcut() -> None:
    """The spellings clients send are read directly; the others by the general parse."""
    assert _read_plain_time("2021-07-08T14:30:00+02:00") == datetime(2021, 7, 8, 12, 30, tzinfo=UTC)
    assert _read_plain_time("2021-07-08T12:30:00Z") == datetime(2021, 7, 8, 12, 30, tzinfo=UTC)
    for general in ("2021-07-08t12:30:00z", "2021-07-08T12:30:00.5Z", "2021-02-30T12:00:00Z"):
        assert _read_plain_time(general) is None
    assert _is_plain_birth_date("1985-03-02", NOW)
    assert not _is_plain_birth_date("1985-03", NOW)
    assert not _is_plain_birth_date("1899-12-31", NOW)
