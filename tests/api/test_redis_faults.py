"""Redis faults during load against a real ``dcc serve`` on loopback, under each policy.

Eight clients issue and verify continuously while Redis is SIGKILLed and restarted on the
same port, frozen with SIGSTOP/SIGCONT, and paused with ``CLIENT PAUSE 2000 ALL``. The
service must answer every request: no 5xx but the designed 503 + ``Retry-After`` of
``fail-closed`` issuance (none at all under ``degrade``), verify always 200; p99 latency
bounded by the 0.1 s socket timeouts and the circuit breaker; Redis deciding again within
seconds of its return (``/readyz`` back to ``ok``, the account's key back in Redis); the
server process alive; each limiter transition logged once per fault, not once per request.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.accounts import add_account

if TYPE_CHECKING:
    from conftest import DccServer, Deployment, RedisServer, ServeFactory

CLIENTS = 8
THINK = 0.01  # seconds each client waits between requests: loaded, not CPU-saturated
P99_BOUND = 1.0
RECOVERY_BOUND = 5.0
OUTAGE_STATE = {"degrade": "degraded", "fail-closed": "failing-closed"}


@dataclass(frozen=True)
class Sample:
    """One request of the load: when it started, how long it took, what came back."""

    kind: str
    started: float
    seconds: float
    status: int  # 0: no HTTP answer at all
    retry_after: str | None
    code: str | None


@dataclass(frozen=True)
class Fault:
    """One injected fault: when it began, when Redis was back, when Redis decided again."""

    name: str
    began: float
    back: float
    recovered: float

    @property
    def recovery(self) -> float:
        """Seconds from Redis being back to Redis deciding again."""
        return self.recovered - self.back

    def overlaps(self, sample: Sample) -> bool:
        """Whether ``sample`` was in flight at some moment of this fault."""
        return sample.started <= self.recovered and sample.started + sample.seconds >= self.began


async def load(
    url: str, key: str, body: dict[str, Any], hc1: str, stop: asyncio.Event
) -> list[Sample]:
    """``CLIENTS`` clients alternating issue and verify calls until ``stop`` is set."""
    samples: list[Sample] = []
    auth = {"Authorization": f"Bearer {key}"}

    async def one(http: httpx.AsyncClient, kind: str, path: str, **kwargs: Any) -> None:
        started = time.monotonic()
        try:
            response = await http.post(path, **kwargs)
        except httpx.HTTPError:
            samples.append(Sample(kind, started, time.monotonic() - started, 0, None, None))
            return
        problem = response.headers["content-type"] == "application/problem+json"
        samples.append(
            Sample(
                kind,
                started,
                time.monotonic() - started,
                response.status_code,
                response.headers.get("retry-after"),
                response.json().get("code") if problem else None,
            )
        )

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=5.0) as http:
            while not stop.is_set():
                await one(http, "issue", "/v1/certificates", json=body, headers=auth)
                await one(http, "verify", "/v1/verify", json={"hc1": hc1})
                await asyncio.sleep(THINK)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return samples


async def wait_until_redis_decides(
    server: DccServer, redis: RedisServer, bucket: str, deadline: float = 8.0
) -> float:
    """Poll until ``/readyz`` is ready with the limiter ``ok``, both limiters are ``ok`` in
    the metrics and the account's bucket is back in Redis; return that moment (monotonic)."""
    give_up = time.monotonic() + deadline
    async with httpx.AsyncClient(base_url=server.url, timeout=2.0) as http:
        while time.monotonic() < give_up:
            ready = await http.get("/readyz")
            ok = ready.status_code == 200 and ready.json()["limiter"]["state"] == "ok"
            ok = ok and states(await metric_values(server)) == {"issue": "ok", "verify": "ok"}
            if ok and await asyncio.to_thread(bucket_exists, redis, bucket):
                return time.monotonic()
            await asyncio.sleep(0.05)
    raise AssertionError(f"Redis did not decide again within {deadline} s:\n{server.log()}")


def states(found: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, str]:
    """The state each limiter reports in ``dcc_ratelimit_state``."""
    return {
        dict(labels)["limiter"]: dict(labels)["state"]
        for (name, labels), value in found.items()
        if name == "dcc_ratelimit_state" and value == 1
    }


def bucket_exists(redis: RedisServer, bucket: str) -> bool:
    with redis.client() as client:
        return bool(client.exists(bucket))


def client_pause(redis: RedisServer, milliseconds: int) -> None:
    with redis.client() as client:
        client.execute_command("CLIENT", "PAUSE", str(milliseconds), "ALL")


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


async def metric_values(server: DccServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["degrade", "fail-closed"])
async def test_redis_killed_frozen_and_paused_during_load(
    policy: str,
    own_redis: RedisServer,
    deployment: Deployment,
    start_dcc_serve: ServeFactory,
    make_request: Any,
) -> None:
    lab = add_account(deployment.accounts_file, name="lab", role="lab")
    bucket = f"dcc:rl:lab:{lab.account.id}"
    env = deployment.with_env(
        redis_url=own_redis.url,
        ratelimit_failure=policy,
        rate_lab="10000/hour",  # generous, and slow enough (0.36 s a cell) for the key to stay
        rate_verify="100000/minute",
    )
    server = start_dcc_serve(env)
    await asyncio.to_thread(server.wait_ready)
    body = make_request()
    async with httpx.AsyncClient(base_url=server.url) as http:
        first = await http.post(
            "/v1/certificates", json=body, headers={"Authorization": f"Bearer {lab.api_key}"}
        )
    assert first.status_code == 201

    stop = asyncio.Event()
    running = asyncio.create_task(load(server.url, lab.api_key, body, first.json()["hc1"], stop))
    faults: list[Fault] = []
    during_outage: dict[str, Any] = {}

    async def fault(name: str, inject: Callable[[], Awaitable[float]]) -> None:
        began = time.monotonic()
        back = await inject()
        recovered = await wait_until_redis_decides(server, own_redis, bucket)
        faults.append(Fault(name, began, back, recovered))

    async def kill_and_restart() -> float:
        await asyncio.to_thread(own_redis.kill)
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=server.url) as http:
            ready = await http.get("/readyz")
        during_outage["readyz"] = (ready.status_code, ready.json())
        during_outage["metrics"] = await metric_values(server)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(own_redis.start)
        return time.monotonic()

    async def freeze() -> float:
        own_redis.pause(1.5)  # SIGSTOP now, SIGCONT in 1.5 s: TCP accepts, nothing answers
        await asyncio.sleep(1.5)
        return time.monotonic()

    async def client_paused() -> float:
        await asyncio.to_thread(client_pause, own_redis, 2000)
        await asyncio.sleep(2.0)
        return time.monotonic()

    try:
        await asyncio.sleep(0.7)
        await fault("sigkill+restart", kill_and_restart)
        await fault("sigstop+sigcont", freeze)
        await fault("client-pause", client_paused)
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        samples = await running

    # -- every request was answered as designed
    by_kind = {
        kind: Counter(s.status for s in samples if s.kind == kind) for kind in ("issue", "verify")
    }
    assert set(by_kind["verify"]) == {200}, by_kind
    killed = faults[0]
    while_down = [
        s.status
        for s in samples
        if s.kind == "issue" and killed.began + 0.2 <= s.started <= killed.back - 0.1
    ]
    if policy == "degrade":
        assert set(by_kind["issue"]) == {201}, by_kind
        assert set(while_down) == {201}  # issuance went on, on local limits
    else:
        assert set(by_kind["issue"]) == {201, 503}, by_kind
        refused = [s for s in samples if s.status == 503]
        assert {s.code for s in refused} == {"rate_limiter_unavailable"}
        # Retry-After: when the breaker next tries Redis (breaker_reset is 2 s)
        assert {s.retry_after for s in refused} <= {"1", "2"}
        assert set(while_down) == {503}
        for s in refused:  # only while a fault lasted
            assert any(f.overlaps(s) for f in faults), s

    # -- bounded latency while faults lasted, and overall
    in_faults = [s.seconds for s in samples if any(f.overlaps(s) for f in faults)]
    overall = [s.seconds for s in samples]
    assert p99(in_faults) < P99_BOUND
    assert max(overall) < 2 * P99_BOUND

    # -- the outage was visible, then Redis decided again within seconds
    status, ready = during_outage["readyz"]
    assert status == 503
    assert ready["limiter"] == {"backend": "redis", "state": OUTAGE_STATE[policy]}
    assert states(during_outage["metrics"]) == {
        "issue": OUTAGE_STATE[policy],
        "verify": "open-fallback",
    }
    assert [f.recovery < RECOVERY_BOUND for f in faults] == [True] * 3, faults
    after = await metric_values(server)
    assert states(after) == {"issue": "ok", "verify": "ok"}
    for limiter in ("issue", "verify"):
        events = {
            event: after[("dcc_ratelimit_events_total", (("event", event), ("limiter", limiter)))]
            for event in (
                "ratelimit_circuit_open",
                "ratelimit_circuit_closed",
                "ratelimit_recovered",
            )
        }
        assert events == dict.fromkeys(events, 3.0), (limiter, events)

    # -- no crash, and each transition logged once per fault (not per request)
    assert server.alive
    server.close()
    log = server.log()
    assert "Traceback" not in log
    lines = log.splitlines()
    answered = Counter(re.findall(r'"POST /v1/\S+ HTTP/1\.1" (\d{3})', log))  # access log
    assert sum(answered.values()) == len(samples) + 1  # the server saw every request
    assert {status for status in answered if status >= "500"} <= {"503"}, answered
    assert answered["503"] == (by_kind["issue"][503] if policy == "fail-closed" else 0)
    for limiter_policy, start_event in (
        (policy, f"ratelimit_{OUTAGE_STATE[policy].replace('-', '_')}_start"),
        ("fail-open", "ratelimit_fail_open_start"),
    ):
        mine = [line for line in lines if f"(policy {limiter_policy})" in line]
        for event in (
            "ratelimit_circuit_open",
            "ratelimit_circuit_closed",
            start_event,
            "ratelimit_recovered",
        ):
            assert sum(f"{event}:" in line for line in mine) == 3, (event, mine)

    report = ", ".join(
        f"{f.name} recovered {f.recovery:.2f} s after Redis returned" for f in faults
    )
    print(
        f"\n[{policy}] {len(samples)} requests, {dict(by_kind['issue'])} issue, "
        f"p99 during faults {p99(in_faults) * 1000:.0f} ms (n={len(in_faults)}), "
        f"max overall {max(overall) * 1000:.0f} ms; {report}"
    )
