"""Redis faults during load against a real ``dcc serve`` on loopback, under each policy.

Eight clients issue and verify continuously while Redis is SIGKILLed and restarted on the
same port, frozen with SIGSTOP/SIGCONT, and paused with ``CLIENT PAUSE 2000 ALL``. Each
fault lasts until the service has shown it: both limiters' circuits opened, and, for the
kill and the freeze (which the test itself ends), requests of both kinds answered while
Redis still could not answer; no request waits for Redis to come back. The service must
answer every request: no 5xx but the designed 503 + ``Retry-After`` of ``fail-closed``
issuance (none at all under ``degrade``), verify always 200; Redis deciding again after
its return (``/readyz`` back to ``ok``, the account's key back in Redis); the server
process alive; each limiter transition logged once per fault, not once per request.

The steps wait on states (polled with a deadline), never for a fixed time; latencies are
printed, not asserted (speed is measured by the benchmarks, BENCHMARKS.md).
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
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.accounts import add_account
from tests.waiting import async_wait_until

if TYPE_CHECKING:
    from conftest import DccServer, Deployment, RedisServer, ServeFactory

CLIENTS = 8
THINK = 0.01  # seconds each client waits between requests: the offered load, not a wait
CLIENT_PAUSE_MS = 2000  # Redis itself ends a CLIENT PAUSE (CLIENT UNPAUSE is paused too)
PHASE_TIMEOUT = 30.0  # generous deadline for each awaited state; never the point
POLL_SERVER = 0.05  # seconds between two polls that ask the server
OUTAGE_STATE = {"degrade": "degraded", "fail-closed": "failing-closed"}
OUTAGE_ISSUE_STATUSES = {"degrade": {201}, "fail-closed": {503}}


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
    url: str,
    key: str,
    body: dict[str, Any],
    hc1: str,
    stop: asyncio.Event,
    samples: list[Sample],
) -> None:
    """``CLIENTS`` clients alternating issue and verify calls until ``stop`` is set; each
    answered request is appended to ``samples`` as it ends."""
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


def answered(samples: list[Sample], since: float) -> Callable[[], bool]:
    """A condition: ``CLIENTS`` requests of each kind started at or after ``since`` (a
    monotonic moment) have been answered over HTTP."""

    def reached() -> bool:
        kinds = Counter(s.kind for s in samples if s.started >= since and s.status)
        return kinds["issue"] >= CLIENTS and kinds["verify"] >= CLIENTS

    return reached


async def wait_until_redis_decides(
    server: DccServer, redis_server: RedisServer, bucket: str
) -> float:
    """Wait until ``/readyz`` is ready with the limiter ``ok``, both limiters are ``ok`` in
    the metrics and the account's bucket is back in Redis; return that moment (monotonic)."""

    async def decides() -> bool:
        async with httpx.AsyncClient(base_url=server.url, timeout=2.0) as http:
            ready = await http.get("/readyz")
        ok = ready.status_code == 200 and ready.json()["limiter"]["state"] == "ok"
        ok = ok and states(await metric_values(server)) == {"issue": "ok", "verify": "ok"}
        return ok and await asyncio.to_thread(bucket_exists, redis_server, bucket)

    await async_wait_until(
        decides,
        what=lambda: f"Redis deciding again:\n{server.log()}",
        timeout=PHASE_TIMEOUT,
        interval=POLL_SERVER,
    )
    return time.monotonic()


async def wait_until_circuits_opened(server: DccServer, times: int) -> float:
    """Wait until both limiters' circuits have opened ``times`` times in all (the metrics);
    return that moment (monotonic)."""

    async def opened() -> bool:
        found = await metric_values(server)
        return all(
            found.get(
                (
                    "dcc_ratelimit_events_total",
                    (("event", "ratelimit_circuit_open"), ("limiter", limiter)),
                ),
                0,
            )
            >= times
            for limiter in ("issue", "verify")
        )

    await async_wait_until(
        opened,
        what=lambda: f"both circuits opened {times} times:\n{server.log()}",
        timeout=PHASE_TIMEOUT,
        interval=POLL_SERVER,
    )
    return time.monotonic()


def states(found: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, str]:
    """The state each limiter reports in ``dcc_ratelimit_state``."""
    return {
        dict(labels)["limiter"]: dict(labels)["state"]
        for (name, labels), value in found.items()
        if name == "dcc_ratelimit_state" and value == 1
    }


def bucket_exists(redis_server: RedisServer, bucket: str) -> bool:
    with redis_server.client() as client:
        return bool(client.exists(bucket))


def client_pause(redis_server: RedisServer, milliseconds: int) -> float:
    """``CLIENT PAUSE milliseconds ALL``, then return the moment (monotonic) a command sent
    during the pause is answered: Redis has ended the pause."""
    probe = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=PHASE_TIMEOUT)
    with redis_server.client() as client, probe:
        probe.ping()  # connected before the pause: its next command waits for the end
        client.execute_command("CLIENT", "PAUSE", str(milliseconds), "ALL")
        probe.ping()
    return time.monotonic()


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
    lab = add_account(deployment.database_url, name="lab", role="lab")
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

    samples: list[Sample] = []
    stop = asyncio.Event()
    load_began = time.monotonic()
    running = asyncio.create_task(
        load(server.url, lab.api_key, body, first.json()["hc1"], stop, samples)
    )
    faults: list[Fault] = []
    windows: dict[str, tuple[float, float]] = {}  # from the outage seen to the test ending it
    during_outage: dict[str, Any] = {}

    async def requests_answered(since: float, during: str) -> None:
        await async_wait_until(
            answered(samples, since), what=f"requests answered {during}", timeout=PHASE_TIMEOUT
        )

    async def fault(name: str, inject: Callable[[], Awaitable[float]]) -> None:
        began = time.monotonic()
        back = await inject()
        recovered = await wait_until_redis_decides(server, own_redis, bucket)
        faults.append(Fault(name, began, back, recovered))

    async def kill_and_restart() -> float:
        await asyncio.to_thread(own_redis.kill)
        seen = await wait_until_circuits_opened(server, 1)
        async with httpx.AsyncClient(base_url=server.url) as http:
            ready = await http.get("/readyz")
        during_outage["readyz"] = (ready.status_code, ready.json())
        during_outage["metrics"] = await metric_values(server)
        await requests_answered(seen, "while Redis is dead")
        windows["sigkill+restart"] = (seen, time.monotonic())
        await asyncio.to_thread(own_redis.start)
        return time.monotonic()

    async def freeze() -> float:
        own_redis.pause(PHASE_TIMEOUT)  # SIGSTOP: TCP accepts, nothing answers
        try:
            seen = await wait_until_circuits_opened(server, 2)
            await requests_answered(seen, "while Redis is frozen")
            windows["sigstop+sigcont"] = (seen, time.monotonic())
        finally:
            own_redis.resume()  # SIGCONT
        return time.monotonic()

    async def client_paused() -> float:
        pause_ended = asyncio.create_task(
            asyncio.to_thread(client_pause, own_redis, CLIENT_PAUSE_MS)
        )
        await wait_until_circuits_opened(server, 3)
        return await pause_ended

    try:
        await requests_answered(load_began, "before the faults")
        await fault("sigkill+restart", kill_and_restart)
        await fault("sigstop+sigcont", freeze)
        await fault("client-pause", client_paused)
        await requests_answered(faults[-1].recovered, "after the faults")
    finally:
        stop.set()
        await running

    # -- every request was answered as designed
    by_kind = {
        kind: Counter(s.status for s in samples if s.kind == kind) for kind in ("issue", "verify")
    }
    assert set(by_kind["verify"]) == {200}, by_kind
    for name, (seen, ended) in windows.items():  # Redis unavailable all along
        inside = {
            s.status
            for s in samples
            if s.kind == "issue" and seen <= s.started and s.started + s.seconds <= ended
        }
        assert inside == OUTAGE_ISSUE_STATUSES[policy], (name, inside)
    if policy == "degrade":
        assert set(by_kind["issue"]) == {201}, by_kind  # issuance went on, on local limits
    else:
        assert set(by_kind["issue"]) == {201, 503}, by_kind
        refused = [s for s in samples if s.status == 503]
        assert {s.code for s in refused} == {"rate_limiter_unavailable"}
        # Retry-After: when the breaker next tries Redis (breaker_reset is 2 s)
        assert {s.retry_after for s in refused} <= {"1", "2"}
        for s in refused:  # only while a fault lasted
            assert any(f.overlaps(s) for f in faults), s
    settled = [s for s in samples if s.started >= faults[-1].recovered]
    assert {(s.kind, s.status) for s in settled} == {("issue", 201), ("verify", 200)}

    # -- the outage was visible, then Redis decided again
    status, ready = during_outage["readyz"]
    assert status == (200 if policy == "degrade" else 503)  # degraded replicas keep serving
    assert ready["limiter"] == {"backend": "redis", "state": OUTAGE_STATE[policy], "policy": policy}
    assert states(during_outage["metrics"]) == {
        "issue": OUTAGE_STATE[policy],
        "verify": "open-fallback",
    }
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
    answered_by_server = Counter(re.findall(r'"POST /v1/\S+ HTTP/1\.1" (\d{3})', log))
    assert sum(answered_by_server.values()) == len(samples) + 1  # it saw every request
    assert {status for status in answered_by_server if status >= "500"} <= {"503"}
    assert answered_by_server["503"] == (by_kind["issue"][503] if policy == "fail-closed" else 0)
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

    in_faults = [s.seconds for s in samples if any(f.overlaps(s) for f in faults)]
    overall = [s.seconds for s in samples]
    report = ", ".join(
        f"{f.name} recovered {f.recovery:.2f} s after Redis returned" for f in faults
    )
    print(  # for information only: latency is not what this test checks
        f"\n[{policy}] {len(samples)} requests, {dict(by_kind['issue'])} issue, "
        f"p99 during faults {p99(in_faults) * 1000:.0f} ms (n={len(in_faults)}), "
        f"max overall {max(overall) * 1000:.0f} ms; {report}"
    )
