"""The benchmarks' inputs are honest: every sample request is one the service accepts, they
vary the way real traffic does, and the keys and runtime are the service's own."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loadtests.fixtures import (
    KEYS_SUBDIR,
    Cycle,
    issuing_runtime,
    make_keys,
    sample_request,
    sample_requests,
)

COUNT = 64


def _scripts(text: str) -> set[str]:
    """The scripts of the letters of ``text`` (LATIN, GREEK, CYRILLIC, ...)."""
    return {unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()}


def test_keys_are_made_under_the_directory_given(tmp_path: Path) -> None:
    keys_dir = make_keys(tmp_path)
    assert keys_dir == tmp_path / KEYS_SUBDIR
    assert {"csca.pem", "csca.key", "dsc.pem", "dsc.key"} <= {p.name for p in keys_dir.iterdir()}
    assert issuing_runtime(keys_dir).keys.kid


def test_every_sample_request_validates_and_issues(keys_dir: Path) -> None:
    issuer = issuing_runtime(keys_dir).issuer
    bodies = sample_requests(COUNT, now=datetime.now(UTC))
    validated = [issuer.validate(body) for body in bodies]
    assert len(validated) == COUNT
    for body in bodies[:3]:
        assert issuer.issue(body).hc1.startswith("HC1:")


def test_sample_requests_vary_like_real_traffic() -> None:
    bodies = sample_requests(COUNT, now=datetime(2021, 7, 8, 12, 0, tzinfo=UTC))
    types = [body["test"]["type"] for body in bodies]
    assert set(types) == {"rapid-antigen", "naat"}
    assert types.count("rapid-antigen") > types.count("naat") > 0
    for body in bodies:
        has_device = "device" in body["test"]
        assert has_device == (body["test"]["type"] == "rapid-antigen")
    scripts = set().union(*(_scripts(body["person"]["family_name"]) for body in bodies))
    assert {"LATIN", "GREEK", "CYRILLIC"} <= scripts
    assert any(not name.isascii() for name in (b["person"]["given_name"] for b in bodies))
    assert len({b["person"]["family_name"] for b in bodies}) >= 10
    assert len({b["person"]["date_of_birth"] for b in bodies}) == COUNT
    assert len({b["test"]["facility"] for b in bodies}) > 1
    assert len({b["test"].get("device") for b in bodies}) > 2


def test_sample_times_are_recent_past_and_deterministic() -> None:
    now = datetime(2021, 7, 8, 12, 0, tzinfo=UTC)
    bodies = sample_requests(COUNT, now=now)
    for body in bodies:
        sampled = datetime.fromisoformat(body["test"]["sample_collected_at"])
        assert sampled.tzinfo is not None
        assert timedelta(minutes=20) <= now - sampled <= timedelta(hours=11)
    assert sample_requests(COUNT, now=now) == bodies
    assert sample_request(5, now=now) == bodies[5]


def test_cycle_hands_out_items_round_robin() -> None:
    cycle = Cycle(["a", "b", "c"])
    assert [cycle.next() for _ in range(7)] == ["a", "b", "c", "a", "b", "c", "a"]


def test_cycle_refuses_nothing_to_cycle() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Cycle([])
