"""The July-surge scenario: its timeline, the load shape and the users of the locustfile.

:mod:`surge_record`'s phases are checked directly. The locustfile imports locust, which
monkey-patches the standard library with gevent on import, so everything that needs it
runs in one subprocess that prints what it saw as JSON (locust is never started).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from loadtests.surge_record import SURGE_FACTOR, SurgePhases, phases_for

PROBE = r"""
import base64, json, sys
from loadtests import locustfile as lf

shape = lf.JulySurge()
times = [t / 2 for t in range(0, int(shape.phases.end * 2) + 11)]
ticks = []
for t in times:
    shape.get_run_time = lambda t=t: t
    ticks.append([t, shape.tick()])

def user(cls):
    names = [task.__name__ for task in cls.tasks]
    waits = [cls.wait_time(None) for _ in range(200)]
    return {"weight": cls.weight, "tasks": {n: names.count(n) for n in set(names)},
            "wait": [min(waits), max(waits)], "host": cls.host}

class Response:
    def __init__(self, status, headers=None):
        self.status_code, self.headers, self.outcome = status, headers or {}, None
    def success(self):
        self.outcome = "success"
    def failure(self, message):
        self.outcome = message

checks = []
for status, headers, expected in [
    (201, {}, 201), (200, {}, 201), (429, {"Retry-After": "2"}, 201),
    (429, {"Retry-After": "300"}, 200), (429, {"Retry-After": "soon"}, 200),
    (429, {}, 201), (500, {}, 201),
]:
    response = Response(status, headers)
    checks.append([status, headers, lf._check(response, expected), response.outcome])

data = lf.SurgeData({"pharmacists": ["p1", "p2"], "labs": ["l1"], "hc1": ["HC1:X"],
                     "png_b64": [base64.b64encode(b"\x89PNG").decode()]})
json.dump({
    "base_users": shape.base_users,
    "phases": [shape.phases.calm, shape.phases.ramp, shape.phases.plateau, shape.phases.fall],
    "ticks": ticks,
    "users": {c.__name__: user(c) for c in (lf.Pharmacist, lf.Lab, lf.Traveller)},
    "checks": checks,
    "designed": lf.DESIGNED_429,
    "keys": [data.pharmacist_key() for _ in range(3)] + [data.lab_key(), data.lab_key()],
    "pngs": [base64.b64encode(p).decode() for p in data.pngs],
}, sys.stdout)
"""


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    env = {**os.environ, "DCC_SURGE_SECONDS": "120", "DCC_SURGE_BASE_USERS": "5"}
    env.pop("DCC_SURGE_DATA", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("total", [12, 60, 120, 180, 600])
def test_phases_cover_the_run_with_a_ramp_of_at_most_a_minute(total: float) -> None:
    phases = phases_for(total)
    assert phases.end == pytest.approx(total)
    assert phases.calm == pytest.approx(total / 6) == pytest.approx(phases.fall)
    assert 0 < phases.ramp <= 60
    assert phases.plateau > 0
    assert [phases.name_at(t) for t in (0, phases.calm, phases.ramp_end, phases.plateau_end)] == [
        "calm",
        "ramp",
        "plateau",
        "fall",
    ]
    assert phases.name_at(phases.end) == "end"


def test_a_surge_needs_twelve_seconds() -> None:
    with pytest.raises(ValueError, match="12 seconds"):
        phases_for(11.9)


def _users(phases: SurgePhases, base: int, step: float = 0.25) -> list[tuple[float, int | None]]:
    times = [n * step for n in range(int((phases.end + 5) / step))]
    return [(t, phases.users_at(t, base)) for t in times]


@pytest.mark.parametrize(("total", "base"), [(180, 12), (120, 5), (30, 1), (900, 40)])
def test_users_calm_ramp_tenfold_plateau_fall_then_stop(total: float, base: int) -> None:
    phases = phases_for(total)
    peak = base * SURGE_FACTOR
    users = _users(phases, base)
    by_phase: dict[str, list[int | None]] = {}
    for t, count in users:
        by_phase.setdefault(phases.name_at(t), []).append(count)
    assert set(by_phase["calm"]) == {base}
    ramp = by_phase["ramp"]
    assert ramp == sorted(ramp)  # never down while ramping
    assert all(isinstance(n, int) and base <= n <= peak for n in ramp)
    assert set(by_phase["plateau"]) == {peak}
    fall = by_phase["fall"]
    assert fall == sorted(fall, key=lambda n: -(n or 0))  # never up while falling
    assert fall[0] is not None
    assert fall[0] > base
    assert fall[-1] == base  # calm again before the end
    assert set(by_phase["end"]) == {None}
    assert phases.ramp <= 60  # ten-fold within a minute
    assert phases.users_at(phases.ramp_end, base) == peak


def test_fall_returns_to_baseline_in_its_first_third() -> None:
    phases = phases_for(180)
    third = phases.plateau_end + phases.fall / 3
    assert phases.users_at(third, 12) == 12
    assert phases.users_at(phases.plateau_end + phases.fall / 6, 12) == 66


def test_the_shape_follows_its_own_phases(probe: dict[str, Any]) -> None:
    base = probe["base_users"]
    calm, ramp, plateau, fall = probe["phases"]
    assert base == 5
    phases = SurgePhases(calm, ramp, plateau, fall)
    assert phases == phases_for(120)
    ticks = probe["ticks"]
    assert ticks[-1][1] is None
    for elapsed, tick in ticks:
        expected = phases.users_at(elapsed, base)
        if expected is None:
            assert tick is None
        else:
            assert tick == [expected, float(base * 2)]  # spawn rate: 2x the baseline per s
    peaks = [tick[0] for _, tick in ticks if tick is not None]
    assert max(peaks) == base * SURGE_FACTOR
    assert peaks[0] == base


def test_users_pharmacists_labs_travellers(probe: dict[str, Any]) -> None:
    users = probe["users"]
    assert set(users) == {"Pharmacist", "Lab", "Traveller"}
    weights = {name: user["weight"] for name, user in users.items()}
    assert weights["Pharmacist"] > weights["Traveller"] > weights["Lab"] >= 1
    assert users["Pharmacist"]["tasks"] == {"issue_pdf": 7, "issue_json": 2, "issue_png": 1}
    assert users["Lab"]["tasks"] == {"batch": 1}
    assert users["Traveller"]["tasks"] == {"verify_hc1": 1, "verify_image": 1}
    for user in users.values():
        low, high = user["wait"]
        assert 0 < low <= high <= 3.0
        assert user["host"] is None  # given by the surge runner, never hard-coded
    assert users["Pharmacist"]["wait"][1] <= 0.6  # about two requests per second


def test_responses_are_judged_and_429s_honoured(probe: dict[str, Any]) -> None:
    designed = probe["designed"]
    assert probe["checks"] == [
        [201, {}, 0.0, "success"],
        [200, {}, 0.0, "unexpected HTTP 200"],
        [429, {"Retry-After": "2"}, 2.0, designed],
        [429, {"Retry-After": "300"}, 30.0, designed],  # capped
        [429, {"Retry-After": "soon"}, 1.0, designed],
        [429, {}, 0.0, "unexpected HTTP 429"],  # a 429 without Retry-After is not designed
        [500, {}, 0.0, "unexpected HTTP 500"],
    ]


def test_surge_data_hands_out_keys_round_robin(probe: dict[str, Any]) -> None:
    assert probe["keys"] == ["p1", "p2", "p1", "l1", "l1"]
    assert probe["pngs"] == ["iVBORw=="]
