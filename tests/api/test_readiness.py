"""``/readyz`` of a real two-worker ``dcc serve``: every worker gives the same answer, before,
during and after a Redis outage; under ``degrade`` the replica stays in (200 ``degraded``).
(``fail-closed`` → 503 is shown in process: tests/api/test_operations.py.)"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.waiting import wait_until

if TYPE_CHECKING:
    from conftest import Deployment, RedisServer, ServeFactory

PROBES = 10


def readiness_answers(url: str) -> Counter[tuple[int, str, str]]:
    """``PROBES`` readiness answers, each on a new connection (so both workers take some)."""
    answers: Counter[tuple[int, str, str]] = Counter()
    for _ in range(PROBES):
        with httpx.Client(base_url=url, timeout=5, headers={"Connection": "close"}) as http:
            response = http.get("/readyz")
        body: dict[str, Any] = response.json()
        answers[(response.status_code, body["status"], body["limiter"]["state"])] += 1
    return answers


@pytest.mark.slow
def test_workers_of_one_replica_answer_alike(
    own_redis: RedisServer,
    deployment: Deployment,
    start_dcc_serve: ServeFactory,
) -> None:
    server = start_dcc_serve(
        deployment.with_env(redis_url=own_redis.url, ratelimit_failure="degrade"), workers=2
    )
    server.wait_ready()
    wait_until(lambda: len(server.worker_pids()) == 2, what="two workers")
    assert readiness_answers(server.url) == {(200, "ready", "ok"): PROBES}
    own_redis.kill()
    # No quota decision was made by either worker: the probes alone see the outage.
    assert readiness_answers(server.url) == {(200, "degraded", "degraded"): PROBES}
    own_redis.start()
    assert readiness_answers(server.url) == {(200, "ready", "ok"): PROBES}
