"""The limiters' state in ``/readyz`` and ``/metrics``: in-process, and with Redis unreachable
(a closed loopback port) under each issuance policy. The full fault drill against a real
``dcc serve`` and redis-server is in ``test_redis_faults.py``."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once
STATES = ("ok", "degraded", "failing-closed", "open-fallback")


async def metric_values(service: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await service.client.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def state_of(found: dict[Any, float], limiter: str) -> list[str]:
    """The states whose gauge reads 1 for ``limiter`` (exactly one is expected)."""
    return [
        state
        for state in STATES
        if found[("dcc_ratelimit_state", (("limiter", limiter), ("state", state)))] == 1
    ]


def event_count(found: dict[Any, float], limiter: str, event: str) -> float:
    return found[("dcc_ratelimit_events_total", (("event", event), ("limiter", limiter)))]


async def test_in_process_limiters_report_ok_and_a_closed_circuit(service: Any) -> None:
    found = await metric_values(service)
    for limiter in ("issue", "verify"):
        assert state_of(found, limiter) == ["ok"]
        assert found[("dcc_ratelimit_circuit_open", (("limiter", limiter),))] == 0


@pytest.mark.parametrize(
    ("policy", "issue_status", "issue_state"),
    [("degrade", 201, "degraded"), ("fail-closed", 503, "failing-closed")],
)
async def test_unreachable_redis_is_visible_in_readyz_metrics_and_logged_once(
    policy: str,
    issue_status: int,
    issue_state: str,
    start_service: Any,
    make_request: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="api.ratelimit.resilient")
    service = await start_service({"redis_url": DEAD_REDIS, "ratelimit_failure": policy})
    found = await metric_values(service)
    assert state_of(found, "issue") == ["ok"]
    assert event_count(found, "issue", "ratelimit_circuit_open") == 0

    statuses = []
    for _ in range(6):  # two hits (account, global) per request: the breaker opens at 3
        issued = await service.client.post(
            "/v1/certificates", json=make_request(), headers=service.auth()
        )
        statuses.append(issued.status_code)
    assert statuses == [issue_status] * 6
    if issue_status == 503:
        assert int(issued.headers["retry-after"]) >= 1
        assert issued.json()["code"] == "rate_limiter_unavailable"
    for _ in range(4):
        verified = await service.client.post("/v1/verify", json={"hc1": "HC1:NOT BASE45!"})
        assert verified.status_code == 200  # a report (invalid), never a limiter failure
        assert verified.json()["valid"] is False

    ready = await service.client.get("/readyz")
    assert ready.status_code == (200 if policy == "degrade" else 503)
    assert ready.json()["limiter"] == {"backend": "redis", "state": issue_state, "policy": policy}
    found = await metric_values(service)
    assert state_of(found, "issue") == [issue_state]
    assert state_of(found, "verify") == ["open-fallback"]
    for limiter, start_event in (
        ("issue", f"ratelimit_{issue_state.replace('-', '_')}_start"),
        ("verify", "ratelimit_fail_open_start"),
    ):
        assert found[("dcc_ratelimit_circuit_open", (("limiter", limiter),))] == 1
        assert event_count(found, limiter, "ratelimit_circuit_open") == 1
        assert event_count(found, limiter, start_event) == 1
        assert event_count(found, limiter, "ratelimit_recovered") == 0
    logged = [getattr(record, "event", "") for record in caplog.records]
    assert logged.count("ratelimit_circuit_open") == 2  # once per limiter, not per request
    opened = [r.getMessage() for r in caplog.records if "circuit_open" in r.getMessage()]
    assert sorted(message.rsplit("(", 1)[1] for message in opened) == sorted(
        [f"policy {policy})", "policy fail-open)"]
    )
