"""Crash test: ``dcc serve --workers 2`` on PostgreSQL under load, both workers killed with
SIGKILL mid-run. Every certificate a client received (201, or a batch's 200) has its register
row: none is lost. Rows of certificates signed but never answered may exist; the test counts
them (they can still be revoked).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from api.ratelimit import Rate
from loadtests.postgres import PostgresServer, find_postgres_bin
from tests.accounts import add_account, run_on_store, upgrade
from tests.waiting import async_wait_until

if TYPE_CHECKING:
    from conftest import Deployment, ServeFactory

CLIENTS = 12
BEFORE_KILL = 150
AFTER_KILL = 150


@pytest.fixture
def crash_postgres() -> Iterator[PostgresServer]:
    if find_postgres_bin() is None:
        pytest.skip("PostgreSQL binaries not found: `make test` installs Debian's postgresql")
    with PostgresServer() as server:  # fsync on: durable as in a deployment
        yield server


@pytest.mark.slow
async def test_no_answered_certificate_is_lost_when_every_worker_is_killed(
    deployment: Deployment,
    start_dcc_serve: ServeFactory,
    crash_postgres: PostgresServer,
    make_request: Any,
) -> None:
    database = upgrade(crash_postgres.url)
    key = add_account(database, name="lab", role="lab", rate=Rate.parse("100000/hour")).api_key
    env = deployment.with_env(database_url=database, rate_global="100000/second")
    server = start_dcc_serve(env, workers=2)
    server.wait_ready()
    received: list[str] = []
    failures: list[str] = []
    stop = asyncio.Event()
    headers = {"Authorization": f"Bearer {key}"}

    async def client(number: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=headers) as http:
            while not stop.is_set():
                try:
                    if number % 4 == 0:
                        batch = {"items": [make_request() for _ in range(5)]}
                        answer = await http.post("/v1/certificates/batch", json=batch)
                        if answer.status_code == 200:
                            results = answer.json()["results"]
                            received.extend(item["uvci"] for item in results if "uvci" in item)
                    else:
                        answer = await http.post("/v1/certificates", json=make_request())
                        if answer.status_code == 201:
                            received.append(answer.json()["uvci"])
                    if answer.status_code not in (200, 201):
                        failures.append(str(answer.status_code))
                except httpx.TransportError as error:  # the request in flight on a dead worker
                    failures.append(type(error).__name__)

    clients = [asyncio.create_task(client(number)) for number in range(CLIENTS)]
    await async_wait_until(lambda: len(received) >= BEFORE_KILL, what="load before the kill")
    workers = server.worker_pids()
    assert len(workers) == 2
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    killed_at = len(received)
    await async_wait_until(
        lambda: len(received) >= killed_at + AFTER_KILL,
        what="issuing resumed on restarted workers",
        timeout=60,
    )
    stop.set()
    await asyncio.gather(*clients)

    rows = run_on_store(database, lambda store: store.register.uvcis(received))
    lost = set(received) - rows
    assert lost == set(), f"{len(lost)} answered certificates have no register row"
    total = run_on_store(database, lambda store: store.register.count())
    unanswered = total - len(set(received))
    print(
        f"\ncrash test: {len(received)} certificates answered, {total} register rows, "
        f"{unanswered} rows of certificates signed but never answered, "
        f"{len(failures)} failed requests ({sorted(set(failures))})"
    )
    assert unanswered >= 0
    assert len(set(received)) == len(received)
