"""Rate settings: parsing ``<count>/<unit>``, validation, derived intervals, the fallback share."""

from __future__ import annotations

import pytest

from api.ratelimit.rate import Rate
from signing.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [
        ("10/second", 10, 1.0),
        ("10/seconds", 10, 1.0),
        ("10/s", 10, 1.0),
        ("600/minute", 600, 60.0),
        ("600/minutes", 600, 60.0),
        ("600/min", 600, 60.0),
        ("5000/hour", 5000, 3600.0),
        ("5000/hours", 5000, 3600.0),
        ("5000/h", 5000, 3600.0),
        (" 7 / Minute ", 7, 60.0),
    ],
)
def test_parse_accepts_every_documented_unit(text: str, count: int, period: float) -> None:
    """Every unit spelling maps to its period; the burst defaults to the count."""
    assert Rate.parse(text) == Rate(count=count, period_seconds=period, burst=count)


def test_parse_takes_an_explicit_burst() -> None:
    """``<NAME>_BURST`` overrides the default burst."""
    assert Rate.parse("60/minute", burst=5) == Rate(count=60, period_seconds=60.0, burst=5)


@pytest.mark.parametrize(
    "text",
    ["", "10", "10/", "/minute", "ten/minute", "10/day", "10/ms", "10/m", "-1/second",
     "1.5/second", "10 per minute", "10/minute/2", "0/second", "1000001/second"],
)  # fmt: skip
def test_parse_rejects_bad_text_with_rate_invalid(text: str) -> None:
    """Anything but ``<count>/<second|minute|hour>`` with 1 <= count <= 10**6 is a ConfigError."""
    with pytest.raises(ConfigError) as caught:
        Rate.parse(text)
    assert caught.value.code == "rate_invalid"


@pytest.mark.parametrize("burst", [0, -3, 1_000_001])
def test_parse_rejects_a_burst_out_of_range(burst: int) -> None:
    """A burst below one (or absurdly large) is a ConfigError naming the burst."""
    with pytest.raises(ConfigError, match="burst") as caught:
        Rate.parse("10/second", burst=burst)
    assert caught.value.code == "rate_invalid"


def test_constructor_validates_like_parse() -> None:
    """Rates built directly are checked too: zero count, bad period, a bucket too deep."""
    for kwargs in (
        {"count": 0, "period_seconds": 1.0, "burst": 1},
        {"count": 1, "period_seconds": 0.0, "burst": 1},
        {"count": 1, "period_seconds": float("nan"), "burst": 1},
        {"count": 1, "period_seconds": 3600.0, "burst": 1_000_000},
    ):
        with pytest.raises(ConfigError):
            Rate(**kwargs)  # type: ignore[arg-type]


def test_emission_interval_is_period_over_count() -> None:
    """T = period / count, in seconds and in whole microseconds (rounded to nearest)."""
    assert Rate.parse("6/minute").emission_interval == 10.0
    assert Rate.parse("6/minute").emission_interval_us == 10_000_000
    assert Rate.parse("3/second").emission_interval == pytest.approx(1 / 3)
    assert Rate.parse("3/second").emission_interval_us == 333_333
    assert Rate.parse("1000000/second").emission_interval_us == 1


def test_policy_names_quota_window_and_a_differing_burst() -> None:
    """``RateLimit-Policy`` is ``<count>;w=<seconds>``, plus ``;burst=`` when it differs."""
    assert Rate.parse("6/minute").policy == "6;w=60"
    assert Rate.parse("100/hour").policy == "100;w=3600"
    assert Rate.parse("60/minute", burst=10).policy == "60;w=60;burst=10"


def test_divided_rounds_down_and_keeps_at_least_one() -> None:
    """The per-replica outage share divides count and burst, never below one."""
    rate = Rate.parse("10/minute", burst=7)
    assert rate.divided(1) is rate
    assert rate.divided(3) == Rate(count=3, period_seconds=60.0, burst=2)
    assert rate.divided(100) == Rate(count=1, period_seconds=60.0, burst=1)
    with pytest.raises(ConfigError):
        rate.divided(0)
