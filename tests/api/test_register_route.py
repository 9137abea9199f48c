"""``GET /v1/register/{uvci}`` with API keys: the row of one's own certificate, whatever the
UVCI's check character (``/`` is one of the 38)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

from api.issuance import register_rows


async def test_a_uvci_ending_in_a_slash_is_found(service: Any, make_request: Any) -> None:
    issued = service.resources.runtime.issuer.issue(make_request())
    [row] = register_rows([issued], account_id=service.lab_id, channel="single")
    for uvci in (row.uvci[:-1] + "/", "URN:UVCI:01:LU:AB/CD#/"):
        await service.resources.store.commits.record([replace(row, uvci=uvci)])
        found = await service.client.get(
            f"/v1/register/{quote(uvci, safe='')}", headers=service.auth()
        )
        assert found.status_code == 200, found.text
        assert found.json()["uvci"] == uvci


async def test_an_unknown_uvci_is_404(service: Any) -> None:
    missing = await service.client.get(
        f"/v1/register/{quote('URN:UVCI:01:LU:NOPE#/', safe='')}", headers=service.auth()
    )
    assert missing.status_code == 404
