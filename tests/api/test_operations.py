"""Trust list, liveness, readiness, metrics, 404/405/500 problems and the lifespan."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.ratelimit import InMemoryLimiter
from api.ratelimit.redis_gcra import RedisLimiter
from api.ratelimit.resilient import ResilientLimiter
from api.settings import Settings
from keys.kid import kid_b64
from keys.trust_list import parse_certificates
from signing.errors import KeyMaterialError

PROBLEM = "application/problem+json"


async def test_trust_list_holds_the_signing_certificate(service: Any) -> None:
    response = await service.client.get("/v1/trust-list")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    entries = response.json()
    assert len(entries) == 1
    assert entries[0]["kid"] == kid_b64(service.resources.runtime.keys.kid)
    assert entries[0]["certificateType"] == "DSC"
    assert entries[0]["country"] == "LU"
    assert parse_certificates(response.content) == [service.resources.runtime.keys.certificate]


async def test_healthz_and_readyz(service: Any) -> None:
    health = await service.client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = await service.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"keys": True, "store": True, "limiter": True},
        "limiter": {"backend": "memory", "state": "ok", "policy": "in-process"},
    }


def dead_redis_limiter(policy: Any) -> ResilientLimiter:
    """A real Redis limiter pointed at a closed loopback port (nothing listens on 1)."""
    from api.ratelimit.factory import create_redis_client

    client = create_redis_client("redis://127.0.0.1:1/0")
    return ResilientLimiter(
        RedisLimiter(client), InMemoryLimiter(), policy=policy, breaker_threshold=1
    )


@pytest.mark.parametrize(
    ("policy", "status_code", "status", "state"),
    [
        ("degrade", 200, "degraded", "degraded"),
        ("fail-closed", 503, "not-ready", "failing-closed"),
    ],
)
async def test_readyz_with_the_limiter_store_down_follows_the_policy(
    start_service: Any, policy: str, status_code: int, status: str, state: str
) -> None:
    # No quota decision was made: the probe alone notices the outage.
    service = await start_service(issue_limiter=dead_redis_limiter(policy))
    response = await service.client.get("/readyz")
    assert response.status_code == status_code
    body = response.json()
    assert body["status"] == status
    assert body["checks"]["limiter"] is False
    assert body["limiter"] == {"backend": "memory", "state": state, "policy": policy}


async def test_limiter_unavailable_is_503_with_retry_after(
    start_service: Any, make_request: Any
) -> None:
    service = await start_service(issue_limiter=dead_redis_limiter("fail-closed"))
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth()
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "rate_limiter_unavailable"
    assert int(response.headers["retry-after"]) >= 1


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_count_issuance_verification_and_decisions(
    service: Any, make_request: Any
) -> None:
    headers = service.auth()
    ok = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    bad = make_request(result="detected")
    await service.client.post("/v1/certificates", json=bad, headers=headers)
    await service.client.post("/v1/verify", json={"hc1": ok.json()["hc1"]})
    response = await service.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    issued = "dcc_certificates_issued_total"
    assert found[(issued, (("outcome", "issued"), ("type", "rapid-antigen")))] == 1
    assert found[(issued, (("outcome", "invalid"), ("type", "unknown")))] == 1
    assert found[("dcc_verifications_total", (("input", "hc1"), ("result", "valid")))] == 1
    assert found[("dcc_ratelimit_decisions_total", (("kind", "lab"), ("outcome", "allowed")))] == 2
    assert (
        found[("dcc_ratelimit_decisions_total", (("kind", "global"), ("outcome", "allowed")))] == 2
    )
    route = (("method", "POST"), ("route", "/v1/certificates"), ("status", "201"))
    assert found[("dcc_http_request_duration_seconds_count", route)] == 1
    assert found[("dcc_signer_wait_seconds_count", (("outcome", "obtained"),))] == 1
    assert found[("dcc_signer_slots", ())] == 4
    assert ("dcc_issue_duration_seconds_count", (("product", "json"),)) in found


async def test_each_app_has_its_own_registry(start_service: Any, make_request: Any) -> None:
    first = await start_service()
    second = await start_service()
    await first.client.post("/v1/certificates", json=make_request(), headers=first.auth())
    text = (await second.client.get("/metrics")).text
    key = ("dcc_certificates_issued_total", (("outcome", "issued"), ("type", "rapid-antigen")))
    assert samples(text).get(key, 0) == 0


async def test_unknown_path_and_method_are_problems(service: Any) -> None:
    missing = await service.client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["code"] == "not_found"
    wrong = await service.client.get("/v1/certificates")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["allow"]


async def test_unexpected_exception_is_a_generic_500_without_details(
    start_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    service = await start_service()

    async def explode() -> None:
        raise RuntimeError("Müller-Schmidt 1985-03-02")

    service.app.add_api_route("/explode", explode)
    caplog.set_level(logging.ERROR)
    response = await service.client.get("/explode")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["code"] == "internal_error"
    assert "Müller" not in response.text
    assert "Traceback" not in response.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "builtins.RuntimeError" in logged
    assert "/explode" in logged
    assert "Müller" not in logged
    assert "1985" not in logged


async def test_a_start_up_error_seen_late_is_a_hidden_500(
    start_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    service = await start_service()

    async def late() -> None:
        raise KeyMaterialError("/secret/path/dsc.key is unreadable", code="key_file_unreadable")

    service.app.add_api_route("/late", late)
    response = await service.client.get("/late")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "/secret" not in response.text
    assert "key_file_unreadable" in caplog.text


async def test_fastapi_validation_errors_are_problems(start_service: Any) -> None:
    service = await start_service()

    async def paged(page: int) -> dict[str, int]:
        return {"page": page}

    service.app.add_api_route("/paged", paged)
    response = await service.client.get("/paged", params={"page": "many"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "request_invalid"
    assert problem["errors"][0]["field"] == "page"
    assert "many" not in response.text


async def test_startup_fails_fast_on_missing_keys(
    settings: Settings, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from dataclasses import replace

    app = create_app(replace(settings, keys_dir=tmp_path / "nowhere"))
    with pytest.raises(KeyMaterialError) as caught:
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover
    assert caught.value.code == "key_file_missing"
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1
    assert "key_file_missing" in critical[0].getMessage()


async def test_app_without_lifespan_resources_answers_500(settings: Settings) -> None:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
