"""With ``DCC_REDIS_URL`` the app shares quotas through a real (loopback) redis-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from api.ratelimit import Rate
from tests.waiting import wait_until


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throw-away redis-server on 127.0.0.1 (skips when Debian's redis-server is absent)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make system-deps)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers_ping() -> bool:
        assert server.poll() is None, "redis-server exited"
        try:
            with redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(answers_ping, what="redis-server answering PING")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=5)


async def test_quotas_live_in_redis(start_service: Any, make_request: Any, redis_url: str) -> None:
    changes = {
        "redis_url": redis_url,
        "rate_pharmacist": Rate.parse("1/hour"),
        "rate_global": Rate.parse("100/hour"),  # keys of fast rates expire within ms
    }
    service = await start_service(changes)
    ready = (await service.client.get("/readyz")).json()
    assert ready["limiter"] == {"backend": "redis", "state": "ok", "policy": "degrade"}
    assert ready["status"] == "ready"
    headers = service.auth(service.pharmacist_key)
    first = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    second = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    assert (first.status_code, second.status_code) == (201, 429)
    verified = await service.client.post("/v1/verify", json={"hc1": first.json()["hc1"]})
    assert verified.json()["valid"] is True
    with redis.Redis.from_url(redis_url) as client:
        keys = {key.decode() for key in client.keys("*")}
    assert (
        f"dcc:rl:pharmacist:{service.resources.accounts.authenticate(service.pharmacist_key).id}"
        in keys
    )
    assert "dcc:rl:global" in keys
    assert any(key.startswith("dcc:rl:verify:") for key in keys)
