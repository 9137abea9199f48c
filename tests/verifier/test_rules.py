"""verifier.rules: the LU business-rule profiles for negative test certificates."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hcert.valuesets import Device, DeviceRegistry
from verifier.rules import (
    DEFAULT_PROFILE,
    LU_2021_07,
    LU_2021_12,
    PROFILES,
    RulesProfile,
    check_test_rules,
    profile_by_name,
)

SAMPLE = datetime(2021, 7, 8, 12, 0, tzinfo=UTC)
RAT: dict[str, Any] = {
    "tg": "840539006",
    "tt": "LP217198-3",
    "ma": "1232",
    "sc": "2021-07-08T14:00:00+02:00",
    "tr": "260415000",
    "co": "LU",
    "is": "Ministry of Health",
    "ci": "URN:UVCI:01:LU:X",
}
NAAT: dict[str, Any] = {**{k: v for k, v in RAT.items() if k != "ma"}, "tt": "LP6464-4"}
DEVICES = DeviceRegistry([Device("1232", "Abbott", True), Device("308", "Old test", False)])


def code(entry: dict[str, Any], now: datetime, **options: Any) -> str | None:
    violation = check_test_rules(entry, now=now, **options)
    return None if violation is None else violation.code


def test_profiles() -> None:
    assert DEFAULT_PROFILE is LU_2021_07
    assert (LU_2021_07.rat_hours, LU_2021_07.naat_hours) == (48, 72)
    assert (LU_2021_12.rat_hours, LU_2021_12.naat_hours) == (24, 48)
    assert dict(PROFILES) == {"LU_2021_07": LU_2021_07, "LU_2021_12": LU_2021_12}
    assert profile_by_name("LU_2021_12") is LU_2021_12
    with pytest.raises(KeyError, match="LU_2021_07"):
        profile_by_name("FR")
    with pytest.raises(TypeError):
        PROFILES["X"] = LU_2021_07  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        LU_2021_07.rat_hours = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("entry", "profile", "age", "expected"),
    [
        (RAT, LU_2021_07, timedelta(hours=48), None),
        (RAT, LU_2021_07, timedelta(hours=48, seconds=1), "test_too_old"),
        (RAT, LU_2021_12, timedelta(hours=24), None),
        (RAT, LU_2021_12, timedelta(hours=24, seconds=1), "test_too_old"),
        (NAAT, LU_2021_07, timedelta(hours=72), None),
        (NAAT, LU_2021_07, timedelta(hours=72, seconds=1), "test_too_old"),
        (NAAT, LU_2021_12, timedelta(hours=48), None),
        (NAAT, LU_2021_12, timedelta(hours=49), "test_too_old"),
        (RAT, LU_2021_07, timedelta(minutes=-5), None),
        (RAT, LU_2021_07, timedelta(minutes=-6), "sample_in_future"),
    ],
)
def test_sample_age(
    entry: dict[str, Any], profile: RulesProfile, age: timedelta, expected: str | None
) -> None:
    assert code(entry, SAMPLE + age, profile=profile) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"tt": "94558-4"}, "test_type_unknown"),
        ({"tt": None}, "test_type_unknown"),
        ({"tr": "260373001"}, "test_result_not_negative"),
        ({"tr": None}, "test_result_not_negative"),
        ({"sc": "not a time"}, "test_too_old"),
    ],
)
def test_entry_rules(change: dict[str, Any], expected: str) -> None:
    assert code({**RAT, **change}, SAMPLE) == expected


def test_device_list() -> None:
    assert code(RAT, SAMPLE, devices=DEVICES) is None
    assert code({**RAT, "ma": "308"}, SAMPLE, devices=DEVICES) == "rat_device_inactive"
    assert code({**RAT, "ma": "99999"}, SAMPLE, devices=DEVICES) == "rat_device_unknown"
    assert code({**RAT, "ma": "abc"}, SAMPLE, devices=DEVICES) == "rat_device_unknown"
    without_device = {k: v for k, v in RAT.items() if k != "ma"}
    assert code(without_device, SAMPLE, devices=DEVICES) == "rat_device_missing"
    # Not checked: no registry, a format-only registry, a NAAT, or a profile that opts out.
    assert code({**RAT, "ma": "99999"}, SAMPLE) is None
    assert code({**RAT, "ma": "99999"}, SAMPLE, devices=DeviceRegistry.format_only()) is None
    assert code(NAAT, SAMPLE, devices=DEVICES) is None
    lenient = dataclasses.replace(LU_2021_07, require_device_in_list=False)
    assert code({**RAT, "ma": "99999"}, SAMPLE, devices=DEVICES, profile=lenient) is None


def test_rule_messages_name_no_person() -> None:
    violation = check_test_rules(RAT, now=SAMPLE + timedelta(days=9))
    assert violation is not None
    assert "LU_2021_07" in violation.message
    assert "48 h" in violation.message
