"""Rotation across ``dcc serve`` processes: two replicas (one of them with two workers) share
the keys directory and the database; a DSC rotated while clients issue on both is published
everywhere before it signs, every worker switches at its activation time without restart,
and every certificate verifies on the other replica at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from keys.generate import generate_keys
from keys.lifecycle import rotate_dsc
from keys.manifest import read_manifest
from tests.accounts import add_account
from tests.waiting import async_wait_until

if TYPE_CHECKING:
    from conftest import Deployment, ServeFactory

CLOSE = {"Connection": "close"}  # a fresh connection per request: every worker takes some


@pytest.mark.slow
async def test_dcc_serve_replicas_switch_at_activation_without_restart(
    deployment: Deployment, start_dcc_serve: ServeFactory, tmp_path: Path, make_request: Any
) -> None:
    keys = tmp_path / "rotating-keys"
    generate_keys(keys, country="LU")
    old_kid = read_manifest(keys).dscs[0].kid
    lab = add_account(deployment.database_url, name="lab", role="lab")
    env = deployment.with_env(
        keys_dir=str(keys), rate_lab="100000/minute", rate_verify="100000/minute"
    )
    replicas = [start_dcc_serve(env, workers=1), start_dcc_serve(env, workers=2)]
    for replica in replicas:
        replica.wait_ready()
    workers_before = [replica.worker_pids() for replica in replicas]
    auth = {"Authorization": f"Bearer {lab.api_key}", **CLOSE}
    issued: list[tuple[str, str]] = []
    statuses: list[int] = []

    async with httpx.AsyncClient(timeout=10) as http:

        async def issue_on(index: int) -> str:
            url = replicas[index % 2].url
            response = await http.post(f"{url}/v1/certificates", json=make_request(), headers=auth)
            statuses.append(response.status_code)
            body = response.json()
            issued.append((body.get("kid", ""), body.get("hc1", "")))
            verify = await http.post(
                f"{replicas[(index + 1) % 2].url}/v1/verify",
                json={"hc1": body.get("hc1", "")},
                headers=CLOSE,
            )
            assert verify.json()["valid"] is True, verify.json()
            kid: str = body["kid"]
            return kid

        for index in range(6):
            assert await issue_on(index) == old_kid
        new_kid = rotate_dsc(keys, activates_at=datetime.now(UTC) + timedelta(seconds=3)).record.kid
        streak = {"new": 0, "sent": 0}

        async def all_switched() -> bool:
            kid = await issue_on(streak["sent"])
            streak["sent"] += 1
            streak["new"] = streak["new"] + 1 if kid == new_kid else 0
            return streak["new"] >= 12

        await async_wait_until(all_switched, what="every worker signing with the new DSC")
        for replica in replicas:
            listing = await http.get(f"{replica.url}/v1/trust-list", headers=CLOSE)
            assert {entry["kid"] for entry in listing.json()} == {old_kid, new_kid}
            report = await http.post(
                f"{replica.url}/v1/verify", json={"hc1": issued[0][1]}, headers=CLOSE
            )
            assert report.json()["valid"] is True
    assert set(statuses) == {201}
    kids = [kid for kid, _ in issued]
    assert kids.index(new_kid) > 6
    for replica, before in zip(replicas, workers_before, strict=True):
        assert replica.alive
        assert replica.worker_pids() == before  # no worker was restarted
