"""POST /v1/certificates/batch: per-item results, roles, limits and quota."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

import verifier
from api.audit import AUDIT_LOGGER
from api.ratelimit import Rate
from keys.trust_list import parse_certificates


async def test_mixed_batch_keeps_indexes_and_good_items_verify(
    service: Any, make_request: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    positive = make_request(result="detected")
    naat_with_device = make_request(type="naat")
    items = [make_request(), positive, make_request(type="naat", device=None), naat_with_device]
    items[2]["test"].pop("device")
    items.append("not an object")
    response = await service.client.post(
        "/v1/certificates/batch", json={"items": items}, headers=service.auth()
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["issued"], body["failed"]) == (2, 3)
    results = body["results"]
    assert [result["index"] for result in results] == [0, 1, 2, 3, 4]
    good = [results[0], results[2]]
    bad = [results[1], results[3], results[4]]
    trust = parse_certificates((await service.client.get("/v1/trust-list")).content)
    for result in good:
        assert "error" not in result
        report = verifier.verify(result["hc1"], trust=trust, now=datetime.now(UTC))
        assert report.valid, report.to_dict()
    for result in bad:
        assert set(result) == {"index", "error"}
        problem = result["error"]
        assert problem["status"] == 422
        assert problem["code"] == "request_invalid"
        assert problem["type"].endswith("/request_invalid")
        assert problem["errors"]
    assert any(e["field"] == "test.result" for e in results[1]["error"]["errors"])
    audits = [json.loads(r.getMessage()) for r in caplog.records if r.name == AUDIT_LOGGER]
    assert sorted(a["uvci"] for a in audits) == sorted(r["uvci"] for r in good)


async def test_pharmacist_cannot_batch(service: Any, make_request: Any) -> None:
    response = await service.client.post(
        "/v1/certificates/batch",
        json={"items": [make_request()]},
        headers=service.auth(service.pharmacist_key),
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "role_forbidden"


async def test_batch_needs_a_key(service: Any, make_request: Any) -> None:
    response = await service.client.post("/v1/certificates/batch", json={"items": []})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"items": []}, "items_invalid"),
        ({"items": "x"}, "items_invalid"),
        ({"items": [{}], "priority": 1}, "unknown_field"),
        ([], "body_not_object"),
    ],
)
async def test_batch_shape_errors(service: Any, body: Any, code: str) -> None:
    response = await service.client.post(
        "/v1/certificates/batch", json=body, headers=service.auth()
    )
    assert response.status_code == 422
    assert code in {error["code"] for error in response.json()["errors"]}


async def test_batch_over_the_item_limit(start_service: Any, make_request: Any) -> None:
    service = await start_service({"max_batch_items": 3})
    response = await service.client.post(
        "/v1/certificates/batch",
        json={"items": [make_request() for _ in range(4)]},
        headers=service.auth(),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "batch_too_large"


async def test_batch_spends_n_units_and_larger_than_burst_is_422(
    start_service: Any, make_request: Any
) -> None:
    service = await start_service({"rate_lab": Rate.parse("5/hour")})

    async def batch(n: int) -> Any:
        return await service.client.post(
            "/v1/certificates/batch",
            json={"items": [make_request() for _ in range(n)]},
            headers=service.auth(),
        )

    too_big = await batch(6)
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["code"] == "batch_exceeds_burst"
    assert "retry-after" not in too_big.headers
    first = await batch(3)
    assert first.status_code == 200
    assert first.headers["ratelimit-remaining"] == "2"
    second = await batch(3)  # 3 > 2 left: denied, and spends nothing
    assert second.status_code == 429
    assert second.json()["code"] == "rate_limited"
    assert int(second.headers["retry-after"]) > 0
    third = await batch(2)
    assert third.status_code == 200
    assert third.json()["issued"] == 2


async def test_global_ceiling_applies_to_every_account(
    start_service: Any, make_request: Any
) -> None:
    service = await start_service({"rate_global": Rate.parse("3/hour")})
    for key in (service.lab_key, service.pharmacist_key, service.lab_key):
        ok = await service.client.post(
            "/v1/certificates", json=make_request(), headers=service.auth(key)
        )
        assert ok.status_code == 201
    denied = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth(service.pharmacist_key)
    )
    assert denied.status_code == 429
    assert "deployment" in denied.json()["detail"]
