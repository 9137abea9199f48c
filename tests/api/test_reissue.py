"""Guided re-issue: the corrected request issued, the old certificate revoked (``reissued``)
in the same transaction; once only, by the issuing account, never after a fraud revocation."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

from tests.api.conftest import Service
from tests.api.test_revocations import issue, operator, verify_over_http
from tests.conftest import issue_request


def path(uvci: str) -> str:
    return f"/v1/certificates/{quote(uvci, safe='')}/reissue"


def corrected() -> dict[str, Any]:
    body = issue_request()
    body["person"]["family_name"] = "Corrected"
    return body


async def test_a_reissue_replaces_the_old_certificate(service: Service) -> None:
    old = await issue(service, service.pharmacist_key)
    response = await service.client.post(
        path(old["uvci"]), json=corrected(), headers=service.auth(service.pharmacist_key)
    )
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["uvci"] != old["uvci"]
    assert response.headers["DCC-Replaces"] == old["uvci"]
    assert response.headers["DCC-UVCI"] == new["uvci"]
    assert new["certificate"]["nam"]["fn"] == "Corrected"
    record = await service.resources.store.revocations.get(old["uvci"])
    assert record is not None
    assert (record.reason, record.replaced_by) == ("reissued", new["uvci"])
    row = await service.resources.store.register.get(new["uvci"])
    assert row is not None
    assert row.channel == "reissue"
    assert (await verify_over_http(service, old["hc1"]))["error"]["code"] == "revoked"
    assert (await verify_over_http(service, new["hc1"]))["valid"] is True

    again = await service.client.post(
        path(old["uvci"]), json=corrected(), headers=service.auth(service.pharmacist_key)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "certificate_not_reissuable"


async def test_who_may_reissue_what(service: Service) -> None:
    ops = await operator(service)
    mine = await issue(service, service.pharmacist_key)
    theirs = await service.client.post(path(mine["uvci"]), json=corrected(), headers=service.auth())
    assert theirs.status_code == 409
    assert theirs.json()["code"] == "certificate_not_yours"
    unknown = await service.client.post(
        path("URN:UVCI:01:LU:NOPE#A"), json=corrected(), headers=service.auth()
    )
    assert unknown.status_code == 404
    by_operator = await service.client.post(path(mine["uvci"]), json=corrected(), headers=ops)
    assert by_operator.status_code == 403

    fraud = await issue(service, service.pharmacist_key)
    await service.client.post(
        "/v1/revocations/certificate", json={"uvci": fraud["uvci"], "reason": "fraud"}, headers=ops
    )
    refused = await service.client.post(
        path(fraud["uvci"]), json=corrected(), headers=service.auth(service.pharmacist_key)
    )
    assert refused.status_code == 409

    leaked = await issue(service, service.pharmacist_key)
    revoked_key = await service.client.post(
        "/v1/revocations/key", json={"kid": leaked["kid"], "reason": "key_compromise"}, headers=ops
    )
    assert revoked_key.json()["signing_key"] is True  # this service still signs with it
    replaced = await service.client.post(
        path(leaked["uvci"]), json=corrected(), headers=service.auth(service.pharmacist_key)
    )
    assert replaced.status_code == 201, replaced.text
    record = await service.resources.store.revocations.get(leaked["uvci"])
    assert record is not None
    assert (record.reason, record.replaced_by) == ("key_compromise", replaced.json()["uvci"])


async def test_a_uvci_whose_check_character_is_a_slash_is_found(service: Service) -> None:
    """The check character of a UVCI may be ``/`` or ``:`` (Luhn mod 38): the path takes it
    URL-encoded or not."""
    old = await issue(service, service.pharmacist_key)
    row = await service.resources.store.register.get(old["uvci"])
    assert row is not None
    slashed = old["uvci"][:-1] + "/"
    await service.resources.store.register.record([dataclasses.replace(row, uvci=slashed)])
    for shown in (quote(slashed, safe=""), slashed.replace("#", "%23")):
        response = await service.client.post(
            f"/v1/certificates/{shown}/reissue",
            json=corrected(),
            headers=service.auth(service.pharmacist_key),
        )
        assert response.status_code in (201, 409), response.text
        assert response.headers.get("DCC-Replaces", slashed) == slashed
    record = await service.resources.store.revocations.get(slashed)
    assert record is not None
    assert record.reason == "reissued"


async def test_an_invalid_request_revokes_nothing(service: Service) -> None:
    old = await issue(service, service.pharmacist_key)
    response = await service.client.post(
        path(old["uvci"]), json={"person": {}}, headers=service.auth(service.pharmacist_key)
    )
    assert response.status_code == 422
    assert await service.resources.store.revocations.get(old["uvci"]) is None
