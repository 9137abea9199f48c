"""A rate limit setting: ``count`` cells per ``period_seconds``, with a bucket ``burst`` deep.

Settings spell rates as ``<count>/<unit>`` (``DCC_RATE_LAB=600/minute``); the burst equals
the count unless ``<NAME>_BURST`` sets it. The GCRA works on whole microseconds: the
emission interval is rounded to the nearest microsecond (an error below one part per
million for any rate this service uses), which keeps every decision exact and identical in
Python and in the Redis script.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from signing.errors import ConfigError

__all__ = ["MAX_BURST", "MAX_COUNT", "Rate"]

MAX_COUNT = 1_000_000
"""Largest ``count`` accepted (also the largest emission rate: one cell per microsecond)."""

MAX_BURST = 1_000_000
"""Largest ``burst`` accepted."""

_MAX_DEPTH_US = 2**51
"""Largest bucket depth (burst x emission interval, about 26 days): keeps every number in
the Redis script (Lua doubles, epoch microseconds) an exact integer below 2**53."""

_UNITS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
}
_RATE_RE = re.compile(r"\s*(?P<count>[0-9]+)\s*/\s*(?P<unit>[A-Za-z]+)\s*")


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` cells per ``period_seconds``; at most ``burst`` cells at once."""

    count: int
    period_seconds: float
    burst: int
    # Derived once here, not at every hit (each limiter decision reads them).
    _interval_us: int = field(init=False, repr=False, compare=False)
    _policy: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_COUNT:
            raise _invalid(f"rate count must be between 1 and {MAX_COUNT}, got {self.count}")
        if not 1 <= self.burst <= MAX_BURST:
            raise _invalid(f"rate burst must be between 1 and {MAX_BURST}, got {self.burst}")
        if not (math.isfinite(self.period_seconds) and self.period_seconds > 0):
            raise _invalid("rate period must be a positive number of seconds")
        if self.period_seconds * 1_000_000 / self.count < 0.5:
            raise _invalid("rate too fast: more than one cell per microsecond")
        interval_us = max(1, round(self.period_seconds * 1_000_000 / self.count))
        object.__setattr__(self, "_interval_us", interval_us)
        object.__setattr__(self, "_policy", self._format_policy())
        if self.depth_us > _MAX_DEPTH_US:
            raise _invalid("rate bucket too deep: burst x period / count exceeds 26 days")

    @classmethod
    def parse(cls, text: str, burst: int | None = None) -> Rate:
        """Parse ``"<count>/<second|minute|hour>"`` (also ``s``, ``min``, ``h``, plurals).

        ``burst`` defaults to the count. Raises :class:`ConfigError` (``rate_invalid``) for
        anything else, a count of zero, or a burst below one.
        """
        match = _RATE_RE.fullmatch(text)
        unit = _UNITS.get(match.group("unit").lower()) if match else None
        if match is None or unit is None:
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise _invalid(
                f"rate {shown!r} is not '<count>/<second|minute|hour>' (e.g. '600/minute')"
            )
        count = int(match.group("count"))
        return cls(count=count, period_seconds=unit, burst=count if burst is None else burst)

    @property
    def emission_interval(self) -> float:
        """Seconds between two cells at the sustained rate (``period / count``)."""
        return self.period_seconds / self.count

    @property
    def emission_interval_us(self) -> int:
        """The emission interval in whole microseconds, as the GCRA uses it (at least 1)."""
        return self._interval_us

    @property
    def depth_us(self) -> int:
        """Microseconds of backlog the bucket holds when empty: ``burst`` intervals."""
        return self.burst * self._interval_us

    @property
    def policy(self) -> str:
        """The ``RateLimit-Policy`` value: ``"<count>;w=<period>"``, plus ``;burst=<burst>``
        when the burst differs from the count."""
        return self._policy

    def _format_policy(self) -> str:
        period = self.period_seconds
        window = str(int(period)) if period.is_integer() else f"{period:g}"
        text = f"{self.count};w={window}"
        return text if self.burst == self.count else f"{text};burst={self.burst}"

    def divided(self, divisor: int) -> Rate:
        """A conservative share of this rate: count and burst divided (rounded down, min 1).

        With ``divisor`` replicas each enforcing the share locally, the whole fleet admits
        no more than this rate would.
        """
        if divisor < 1:
            raise _invalid(f"rate divisor must be at least 1, got {divisor}")
        if divisor == 1:
            return self
        return Rate(
            count=max(1, self.count // divisor),
            period_seconds=self.period_seconds,
            burst=max(1, self.burst // divisor),
        )


def _invalid(message: str) -> ConfigError:
    return ConfigError(message, code="rate_invalid")
