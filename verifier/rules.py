"""Business rules for test certificates, as named profiles (hcert.md §7.2).

A :class:`RulesProfile` fixes how old a negative test may be at the validation time.
Luxembourg's rules on the EU gateway (TR-LU-0001..0004):

* ``LU_2021_07`` (default; from 2021-07-16): RAT 48 h, NAAT 72 h;
* ``LU_2021_12`` (from 2021-12-18): RAT 24 h, NAAT 48 h.

Checks, in this order, the first failure wins (codes in brackets):

1. ``tt`` is RAT (``LP217198-3``) or NAAT (``LP6464-4``) [``test_type_unknown``];
2. ``tr`` is "not detected" (``260415000``) [``test_result_not_negative``];
3. ``sc`` is not in the future (5 minutes of clock skew allowed) [``sample_in_future``];
4. now ≤ ``sc`` + the profile's hours for the test type [``test_too_old``];
5. for a RAT, when the profile has ``require_device_in_list`` and a :class:`DeviceRegistry`
   with a configured list is given: ``ma`` is present and an active device of that list
   [``rat_device_missing``, ``rat_device_unknown``, ``rat_device_inactive``]. LU's own
   gateway rules have no device rule; without a configured list it is not checked.

The entry is assumed to have passed :mod:`verifier.schema` (``sc`` is a date-time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from hcert.valuesets import (
    RESULT_NOT_DETECTED,
    TEST_TYPE_NAAT,
    TEST_TYPE_RAT,
    DeviceRegistry,
)
from verifier.dates import format_instant, parse_date_time

__all__ = [
    "CLOCK_SKEW",
    "DEFAULT_PROFILE",
    "LU_2021_07",
    "LU_2021_12",
    "PROFILES",
    "RuleViolation",
    "RulesProfile",
    "check_test_rules",
    "profile_by_name",
]

CLOCK_SKEW: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RulesProfile:
    """How long a negative test is accepted, per test type, and whether RAT devices must be
    in the configured device list."""

    name: str
    rat_hours: int
    naat_hours: int
    require_device_in_list: bool = True

    def max_age(self, test_type: str) -> timedelta | None:
        """The accepted age of a test of ``test_type``; None for an unknown type."""
        hours = {TEST_TYPE_RAT: self.rat_hours, TEST_TYPE_NAAT: self.naat_hours}.get(test_type)
        return None if hours is None else timedelta(hours=hours)


LU_2021_07: Final = RulesProfile("LU_2021_07", rat_hours=48, naat_hours=72)
LU_2021_12: Final = RulesProfile("LU_2021_12", rat_hours=24, naat_hours=48)
DEFAULT_PROFILE: Final = LU_2021_07
PROFILES: Final[Mapping[str, RulesProfile]] = MappingProxyType(
    {profile.name: profile for profile in (LU_2021_07, LU_2021_12)}
)


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """A broken business rule: a stable code and an English message."""

    code: str
    message: str


def profile_by_name(name: str) -> RulesProfile:
    """The named profile; raise ``KeyError`` naming the known ones for an unknown name."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown rules profile {name!r}; known: {', '.join(PROFILES)}") from None


def _device_violation(entry: Mapping[str, Any], devices: DeviceRegistry) -> RuleViolation | None:
    device = entry.get("ma")
    if not isinstance(device, str):
        return RuleViolation("rat_device_missing", "a rapid antigen test must name its device")
    problem = devices.check(device)
    if problem is None:
        return None
    if problem.code == "device_inactive":
        return RuleViolation(
            "rat_device_inactive", "the test device is no longer in the EU common list"
        )
    return RuleViolation("rat_device_unknown", "the test device is not in the EU device list")


def check_test_rules(
    entry: Mapping[str, Any],
    *,
    now: datetime,
    profile: RulesProfile = DEFAULT_PROFILE,
    devices: DeviceRegistry | None = None,
) -> RuleViolation | None:
    """The first rule the test entry ``t[0]`` breaks at ``now``, or None when it passes."""
    test_type = entry.get("tt")
    max_age = profile.max_age(test_type) if isinstance(test_type, str) else None
    if max_age is None:
        return RuleViolation("test_type_unknown", "the test type is neither RAT nor NAAT")
    if entry.get("tr") != RESULT_NOT_DETECTED:
        return RuleViolation("test_result_not_negative", "the test result is not 'not detected'")
    sampled = parse_date_time(entry["sc"]) if isinstance(entry.get("sc"), str) else None
    if sampled is None:
        return RuleViolation("test_too_old", "the sample collection time cannot be read")
    if sampled > now + CLOCK_SKEW:
        return RuleViolation(
            "sample_in_future",
            f"the sample was collected in the future ({format_instant(sampled)})",
        )
    if now > sampled + max_age:
        hours = int(max_age.total_seconds()) // 3600
        return RuleViolation(
            "test_too_old",
            f"the test is older than {hours} h (profile {profile.name}; "
            f"sample collected {format_instant(sampled)})",
        )
    if (
        test_type == TEST_TYPE_RAT
        and profile.require_device_in_list
        and devices is not None
        and devices.configured
    ):
        return _device_violation(entry, devices)
    return None
