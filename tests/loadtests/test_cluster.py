"""HAProxy in front of three ``dcc serve`` replicas sharing a real Redis and PostgreSQL.

One deployment, three phases (bounded by request counts):

1. one pharmacist quota across the replicas: exactly its burst is issued, the rest is 429;
   each traveller (client address, as HAProxy forwards it) has its own verify quota, which
   a spoofed ``X-Forwarded-For`` does not escape;
2. under load, one replica is SIGKILLed: the balancer routes around it; every 201 has its
   register row in PostgreSQL; failures are at most the requests that were in flight (at
   most the client's concurrency) and only 502/503 or a dropped connection;
3. under load, a rolling restart of all three replicas (each taken out of the balancer
   through HAProxy's runtime API, then SIGTERM: it drains and exits; started again on the
   same port, put back once ready): no request fails. (A bare SIGTERM without taking the
   replica out first lost 1 request in 2,771 in one run: a connection accepted but not yet
   read when uvicorn shuts down is closed unanswered — see docs/deploy.md.)
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from loadtests.cluster import HaproxyCluster
from store import Store

CONCURRENCY = 6
BURST = 10
PHASE_REQUESTS = 50  # answered requests at least, after the fault
PHASE_TIMEOUT = 60.0


@dataclass
class Load:
    """Issue requests through the balancer until told to stop; what came back."""

    url: str
    key: str
    body: dict[str, Any]
    statuses: Counter[int | str] = field(default_factory=Counter)
    uvcis: list[str] = field(default_factory=list)
    running: bool = True

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    async def client(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            while self.running:
                try:
                    response = await http.post("/v1/certificates", json=self.body, headers=headers)
                except httpx.TransportError as exc:
                    self.statuses[type(exc).__name__] += 1
                    continue
                self.statuses[response.status_code] += 1
                if response.status_code == 201:
                    self.uvcis.append(response.json()["uvci"])

    def start(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.client()) for _ in range(CONCURRENCY)]

    async def stop(self, clients: list[asyncio.Task[None]]) -> None:
        self.running = False
        await asyncio.gather(*clients)

    async def answers(self, count: int, what: str) -> None:
        """Wait until ``count`` requests were answered in all (bounded by PHASE_TIMEOUT)."""
        async with asyncio.timeout(PHASE_TIMEOUT):
            while self.answered < count:
                await asyncio.sleep(0.05)


async def registered(database_url: str, uvcis: list[str]) -> set[str]:
    store = Store.open(database_url)
    try:
        return await store.register.uvcis(uvcis)
    finally:
        await store.close()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
async def test_three_replicas_behind_haproxy(make_request: Any) -> None:
    env = {
        "DCC_RATE_PHARMACIST": f"{BURST}/hour",
        "DCC_RATE_LAB": "1000000/hour",
        "DCC_RATE_VERIFY": "3/hour",
    }
    with HaproxyCluster(replicas=3, env=env) as cluster:
        pharmacy = await asyncio.to_thread(cluster.add_account, "pharmacy", "pharmacist")
        lab = await asyncio.to_thread(cluster.add_account, "lab", "lab")

        # 1. one quota across the three replicas
        quota = Counter[int]()
        async with httpx.AsyncClient(base_url=cluster.url, timeout=30) as http:
            headers = {"Authorization": f"Bearer {pharmacy}", "Connection": "close"}
            for _ in range(3 * BURST):
                answer = await http.post("/v1/certificates", json=make_request(), headers=headers)
                quota[answer.status_code] += 1
        assert quota == {201: BURST, 429: 2 * BURST}

        # 1b. the verify quota is per traveller behind the balancer (X-Forwarded-For from
        # HAProxy only), and a traveller cannot pick another bucket by sending the header
        for traveller in ("127.0.0.3", "127.0.0.4"):
            transport = httpx.AsyncHTTPTransport(local_address=traveller)
            statuses = []
            async with httpx.AsyncClient(base_url=cluster.url, transport=transport) as http:
                for spoof in range(4):
                    answer = await http.post(
                        "/v1/verify",
                        json={"hc1": "HC1:X"},
                        headers={"X-Forwarded-For": f"198.51.100.{spoof}"},
                    )
                    statuses.append(answer.status_code)
            assert statuses == [200, 200, 200, 429], (traveller, statuses)

        # 2. SIGKILL one replica under load
        killed = Load(cluster.url, lab, make_request())
        clients = killed.start()
        try:
            await killed.answers(30, "before the kill")
            cluster.kill(1)
            answered_at_kill = killed.answered
            await killed.answers(answered_at_kill + PHASE_REQUESTS, "after the kill")
        finally:
            await killed.stop(clients)
        failures = {k: v for k, v in killed.statuses.items() if k != 201}
        assert set(failures) <= {502, 503, "RemoteProtocolError", "ReadError"}, killed.statuses
        assert sum(failures.values()) <= CONCURRENCY, killed.statuses  # in flight on the dead
        assert killed.statuses[201] >= answered_at_kill  # it went on issuing
        assert await registered(cluster.database_url, killed.uvcis) == set(killed.uvcis)

        # 3. rolling restart of all three under load (replica 1 comes back first): no failure
        rolling = Load(cluster.url, lab, make_request())

        def restart_all() -> None:
            for index in (1, 0, 2):
                cluster.restart(index)
                cluster.settle()

        clients = rolling.start()
        try:
            await rolling.answers(10, "before the restarts")
            await asyncio.to_thread(restart_all)
            await rolling.answers(rolling.answered + PHASE_REQUESTS // 2, "after the restarts")
        finally:
            await rolling.stop(clients)
        assert set(rolling.statuses) == {201}, rolling.statuses
        assert await registered(cluster.database_url, rolling.uvcis) == set(rolling.uvcis)
