"""Revocation over HTTP, end to end: issue → revoke → the list holds the three hashes
(checked against an independent computation from the spec text) → /v1/verify says revoked.

Also: roles, idempotence, ETag/304, the fraud drill (one account's 1,000 certificates
revoked in one call, another account's untouched) and the leak drill (a DSC revoked: its
certificates fail, another DSC's pass), metrics.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from hcert.hc1 import decode_hc1
from keys.generate import generate_keys
from keys.load import load_signing_keys
from signing.cose import parse_sign1
from tests.accounts import add_account
from tests.api.conftest import Service, ServiceFactory
from tests.conftest import issue_request
from verifier import RevocationList, verify


def spec_hashes(hc1: str) -> dict[str, str]:
    """hcert.md §8, from the text: the first 128 bits of SHA-256, base64. SIGNATURE over
    the COSE signature (ES256: r, its first 32 bytes), UCI over ci, COUNTRYCODEUCI over
    iss + ci (UTF-8)."""
    message = parse_sign1(decode_hc1(hc1))
    claims_iss = "LU"
    signature = message.signature
    ci = _ci(hc1)

    def prefix(data: bytes) -> str:
        return base64.b64encode(hashlib.sha256(data).digest()[:16]).decode()

    return {
        "SIGNATURE": prefix(signature[:32] if len(signature) == 64 else signature),
        "UCI": prefix(ci.encode()),
        "COUNTRYCODEUCI": prefix((claims_iss + ci).encode()),
    }


def _ci(hc1: str) -> str:
    from hcert.claims import parse_claims

    ci: str = parse_claims(parse_sign1(decode_hc1(hc1)).payload).dcc["t"][0]["ci"]
    return ci


def listed(document: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(kid, hashType) → hashes of a list document."""
    found: dict[tuple[str, str], set[str]] = {}
    for batch in document["batches"]:
        key = (batch["kid"], batch["hashType"])
        found.setdefault(key, set()).update(entry["hash"] for entry in batch["entries"])
    return found


async def issue(service: Service, key: str | None = None) -> dict[str, Any]:
    response = await service.client.post(
        "/v1/certificates", json=issue_request(), headers=service.auth(key)
    )
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


async def operator(service: Service, name: str = "ops") -> dict[str, str]:
    url = service.resources.settings.database_url
    created = await asyncio.to_thread(add_account, url, name=name, role="operator")
    await service.resources.accounts.refresh()
    return service.auth(created.api_key)


async def verify_over_http(service: Service, hc1: str) -> dict[str, Any]:
    response = await service.client.post("/v1/verify", json={"hc1": hc1})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_issue_revoke_list_verify(service: Service) -> None:
    ops = await operator(service)
    revoked, kept = await issue(service), await issue(service)
    empty = await service.client.get("/v1/revocation-list")
    assert empty.status_code == 200
    assert empty.json() == {"country": "LU", "batches": []}
    response = await service.client.post(
        "/v1/revocations/certificate",
        json={"uvci": revoked["uvci"], "reason": "issued_in_error"},
        headers=ops,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "scope": "certificate",
        "reason": "issued_in_error",
        "matched": 1,
        "revoked": 1,
        "already_revoked": 0,
    }
    again = await service.client.post(
        "/v1/revocations/certificate",
        json={"uvci": revoked["uvci"], "reason": "fraud"},
        headers=ops,
    )
    assert (again.json()["revoked"], again.json()["already_revoked"]) == (0, 1)

    listing = await service.client.get("/v1/revocation-list")
    assert listing.status_code == 200
    assert listing.headers["etag"] != empty.headers["etag"]
    expected = spec_hashes(revoked["hc1"])
    assert listed(listing.json()) == {
        (revoked["kid"], hash_type): {value} for hash_type, value in expected.items()
    }
    for batch in listing.json()["batches"]:
        assert batch["expires"] == revoked["expires_at"]
        assert batch["country"] == "LU"

    report = await verify_over_http(service, revoked["hc1"])
    assert report["valid"] is False
    assert report["error"]["check"] == "revocation"
    assert report["error"]["code"] == "revoked"
    fine = await verify_over_http(service, kept["hc1"])
    assert fine["valid"] is True
    assert {"name": "revocation", "ok": True} in fine["checks"]

    assert listing.headers["content-encoding"] == "gzip"  # httpx accepts it, and decodes
    plain = await service.client.get("/v1/revocation-list", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json() == listing.json()
    assert plain.headers["etag"] != listing.headers["etag"]
    for response in (listing, plain):
        unchanged = await service.client.get(
            "/v1/revocation-list",
            headers={
                "If-None-Match": response.headers["etag"],
                "Accept-Encoding": response.headers.get("content-encoding", "identity"),
            },
        )
        assert unchanged.status_code == 304
        assert unchanged.headers["etag"] == response.headers["etag"]
    assert service.resources.revocation_list.builds == 2  # empty, then after the revocation


async def test_roles_and_bad_requests(service: Service) -> None:
    ops = await operator(service)
    issued = await issue(service)
    body = {"uvci": issued["uvci"], "reason": "fraud"}
    for key in (service.lab_key, service.pharmacist_key):
        refused = await service.client.post(
            "/v1/revocations/certificate", json=body, headers=service.auth(key)
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "role_forbidden"
    anonymous = await service.client.post("/v1/revocations/certificate", json=body)
    assert anonymous.status_code == 401
    no_issuing = await service.client.post("/v1/certificates", json=issue_request(), headers=ops)
    assert no_issuing.status_code == 403
    unknown = await service.client.post(
        "/v1/revocations/certificate",
        json={"uvci": "URN:UVCI:01:LU:NOPE#A", "reason": "fraud"},
        headers=ops,
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "certificate_not_found"
    invalid = await service.client.post(
        "/v1/revocations/account",
        json={"account_id": "x", "issued_from": "yesterday", "reason": "reissued", "extra": 1},
        headers=ops,
    )
    assert invalid.status_code == 422
    codes = {error["code"] for error in invalid.json()["errors"]}
    assert codes == {"unknown_field", "time_invalid", "required", "reason_invalid"}
    far = await service.client.post(
        "/v1/revocations/key",
        json={
            "kid": "AAECAwQFBgc=",
            "reason": "key_compromise",
            "distrust_at": "9999-12-31T23:59:59-14:00",
        },
        headers=ops,
    )
    assert far.status_code == 422
    assert far.json()["errors"][0]["code"] == "time_invalid"
    bad_kid = await service.client.post(
        "/v1/revocations/key", json={"kid": "short", "reason": "key_compromise"}, headers=ops
    )
    assert bad_kid.status_code == 422
    listing = await service.client.get("/v1/revocations/keys", headers=service.auth())
    assert listing.status_code == 403


@pytest.mark.slow
async def test_fraud_drill_one_account_revoked_in_one_call(
    start_service: ServiceFactory,
) -> None:
    service: Service = await start_service()
    ops = await operator(service)
    started = datetime.now(UTC) - timedelta(minutes=1)
    batch = {"items": [issue_request() for _ in range(1000)]}
    response = await service.client.post(
        "/v1/certificates/batch", json=batch, headers=service.auth()
    )
    assert response.status_code == 200, response.text
    assert response.json()["issued"] == 1000
    fraudulent = [item["hc1"] for item in response.json()["results"]]
    innocent = [await issue(service, service.pharmacist_key) for _ in range(3)]
    revoked = await service.client.post(
        "/v1/revocations/account",
        json={
            "account_id": service.lab_id,
            "issued_from": started.isoformat(),
            "issued_until": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
            "reason": "fraud",
        },
        headers=ops,
    )
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["matched"], revoked.json()["revoked"]) == (1000, 1000)
    document = (await service.client.get("/v1/revocation-list")).json()
    assert [len(batch["entries"]) for batch in document["batches"]] == [1000, 1000, 1000]
    signatures = next(iter(listed(document).values()))
    assert len(signatures) == 1000
    for hc1 in fraudulent[::250]:
        report = await verify_over_http(service, hc1)
        assert report["error"]["code"] == "revoked"
    for issued in innocent:
        assert (await verify_over_http(service, issued["hc1"]))["valid"] is True
        assert await service.resources.store.revocations.get(issued["uvci"]) is None
    metrics = (await service.client.get("/metrics")).text
    assert 'dcc_revocations_total{reason="fraud"} 1000.0' in metrics
    assert "dcc_revocation_list_certificates 1000.0" in metrics
    assert 'dcc_revoked_certificates{reason="fraud"} 1000.0' in metrics


async def test_leak_drill_a_revoked_dsc_fails_another_passes(
    start_service: ServiceFactory, settings: Settings, tmp_path: Path
) -> None:
    old = await start_service()
    leaked = [await issue(old) for _ in range(2)]
    new_keys = tmp_path / "new-keys"
    generate_keys(new_keys, country="LU")
    new = await start_service({"keys_dir": new_keys})
    fresh = [await issue(new) for _ in range(2)]
    ops = await operator(new)
    leaked_kid = leaked[0]["kid"]
    assert fresh[0]["kid"] != leaked_kid
    response = await new.client.post(
        "/v1/revocations/key", json={"kid": leaked_kid, "reason": "key_compromise"}, headers=ops
    )
    assert (response.json()["matched"], response.json()["revoked"]) == (2, 2)
    assert response.json()["signing_key"] is False  # the new service signs with the new DSC
    keys = (await new.client.get("/v1/revocations/keys", headers=ops)).json()
    assert [(key["kid"], key["distrusted"]) for key in keys] == [(leaked_kid, True)]
    assert await new.resources.store.revocations.revoked_kids(now=2**40) == {leaked_kid}
    published = await new.resources.revocation_list.current()
    assert published.distrusted_kids(2**40) == {leaked_kid}

    document = (await new.client.get("/v1/revocation-list")).json()
    assert {kid for kid, _ in listed(document)} == {leaked_kid}
    trust = [
        load_signing_keys(settings.keys_dir).certificate,
        load_signing_keys(new_keys).certificate,
    ]
    revocations = RevocationList.from_documents([document])
    now = datetime.now(UTC)
    for issued in leaked:
        report = verify(issued["hc1"], trust=trust, now=now, revocation=revocations)
        assert report.error is not None
        assert report.error.code == "revoked"
    for issued in fresh:
        assert verify(issued["hc1"], trust=trust, now=now, revocation=revocations).valid
