"""POST /v1/certificates and /v1/certificates/batch: products, problems, quota, audit."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image, ImageDraw

import verifier
from api.audit import AUDIT_LOGGER
from api.routes.certificates import UVCI_HEADER
from hcert.hc1 import decode_hc1
from keys.trust_list import parse_certificates
from signing.cose import parse_sign1
from verifier.qr_read import read_qr

PROBLEM = "application/problem+json"


async def trusted(service: Any) -> list[Any]:
    """The certificates of GET /v1/trust-list (the only trust the tests give the verifier)."""
    response = await service.client.get("/v1/trust-list")
    assert response.status_code == 200
    return parse_certificates(response.content)


def verify(hc1_or_image: str | bytes, trust: list[Any]) -> Any:
    return verifier.verify(hc1_or_image, trust=trust, now=datetime.now(UTC))


async def test_issue_json_verifies_against_the_trust_list(service: Any, make_request: Any) -> None:
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth()
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["ratelimit-limit"] == "1000"
    body = response.json()
    assert set(body) == {"uvci", "hc1", "kid", "issued_at", "expires_at", "certificate"}
    assert response.headers[UVCI_HEADER] == body["uvci"]
    report = verify(body["hc1"], await trusted(service))
    assert report.valid, report.to_dict()
    assert report.to_dict()["certificate"]["t"][0]["ci"] == body["uvci"]


async def test_issue_png_reads_back_and_verifies(service: Any, make_request: Any) -> None:
    headers = {**service.auth(service.pharmacist_key), "Accept": "image/png"}
    response = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    assert response.status_code == 201
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    hc1 = read_qr(response.content)
    report = verify(hc1, await trusted(service))
    assert report.valid
    assert report.to_dict()["certificate"]["t"][0]["ci"] == response.headers[UVCI_HEADER]
    assert verify(response.content, await trusted(service)).valid  # the image itself


async def test_issue_svg_carries_the_certificate(service: Any, make_request: Any) -> None:
    headers = {**service.auth(), "Accept": "image/svg+xml, application/json;q=0.5"}
    response = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("image/svg+xml")
    svg = response.text
    assert svg.startswith("<svg")
    assert "<path" in svg
    uvci = response.headers[UVCI_HEADER]
    assert uvci.startswith("URN:UVCI:01:LU:")
    # The SVG is the QR of an HC1 only the server saw: rasterise it and read it back.
    image = _rasterise_svg(svg)
    hc1 = read_qr(image)
    report = verify(hc1, await trusted(service))
    assert report.valid
    assert report.to_dict()["certificate"]["t"][0]["ci"] == uvci


def _rasterise_svg(svg: str) -> bytes:
    """Paint the SVG's path (``M x y h w v1 h-w z`` runs, in modules) into a PNG."""
    view = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert view is not None
    side = int(view.group(1))
    scale = 4
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)", svg):
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle([left, top, left + int(width) * scale - 1, top + scale - 1], fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_unacceptable_accept_is_406(service: Any, make_request: Any) -> None:
    headers = {**service.auth(), "Accept": "text/html"}
    response = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


async def test_invalid_request_lists_every_field_error(service: Any, make_request: Any) -> None:
    body = make_request(result="detected", type="naat")
    body["person"]["date_of_birth"] = "1850-01-01"
    body["person"]["nickname"] = "x"
    response = await service.client.post("/v1/certificates", json=body, headers=service.auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "https://dcc-service.example/problems/request_invalid"
    assert problem["title"] == "Unprocessable Content"
    assert problem["status"] == 422
    assert problem["code"] == "request_invalid"
    fields = {error["field"] for error in problem["errors"]}
    assert {"person.date_of_birth", "person.nickname", "test.result"} <= fields
    assert all(set(error) == {"field", "code", "message"} for error in problem["errors"])
    assert "Müller" not in response.text  # no personal data echoed


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "json_invalid"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "json_invalid"),
        (b"[]", "application/json", 422, "request_invalid"),
        (b"{}", "text/plain", 415, "unsupported_media_type"),
        (b"{}", None, 415, "unsupported_media_type"),
        (b"{" + b" " * 20_000 + b"}", "application/json", 413, "body_too_large"),
    ],
)
async def test_bad_bodies(
    service: Any, content: bytes, content_type: str | None, status: int, code: str
) -> None:
    headers = service.auth()
    if content_type:
        headers["Content-Type"] = content_type
    response = await service.client.post("/v1/certificates", content=content, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == code


async def test_chunked_body_is_counted_while_streaming(service: Any) -> None:
    async def chunks() -> Any:
        for _ in range(40):
            yield b" " * 1024

    headers = {**service.auth(), "Content-Type": "application/json"}
    response = await service.client.post("/v1/certificates", content=chunks(), headers=headers)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "authentication_required"),
        ("Basic dXNlcjpwYXNz", "authentication_required"),
        ("Bearer dcc_0123456789abcdef_wrong", "api_key_invalid"),
        ("Bearer not-even-shaped-like-a-key", "api_key_invalid"),
    ],
)
async def test_missing_or_wrong_key_is_401(
    service: Any, make_request: Any, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == code


async def test_a_tampered_key_of_a_real_account_is_refused(service: Any, make_request: Any) -> None:
    tampered = service.lab_key[:-1] + ("A" if service.lab_key[-1] != "A" else "B")
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth(tampered)
    )
    assert response.status_code == 401


async def test_audit_line_has_identifiers_and_no_personal_data(
    service: Any, make_request: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth()
    )
    assert response.status_code == 201
    body = response.json()
    audit = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert len(audit) == 1
    record = json.loads(audit[0].getMessage())
    signature = parse_sign1(decode_hc1(body["hc1"])).signature

    def prefix(data: bytes) -> str:  # hcert §8: first 128 bits of SHA-256, base64
        return base64.b64encode(hashlib.sha256(data).digest()[:16]).decode()

    issued_at = datetime.fromisoformat(body["issued_at"])
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert record == {
        "event": "certificate_issued",
        "account": service.lab_id,
        "member": None,
        "channel": "single",
        "uvci": body["uvci"],
        "kid": body["kid"],
        "test_type": "LP217198-3",
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "signature_hash": prefix(signature[:32]),  # ES256: r only
        "uci_hash": prefix(body["uvci"].encode()),
        "country_uci_hash": prefix(("LU" + body["uvci"]).encode()),
    }
    row = await service.resources.store.register.get(body["uvci"])
    assert row is not None
    assert (row.account_id, row.channel, row.signature_hash, row.issued_at) == (
        service.lab_id,
        "single",
        record["signature_hash"],
        record["iat"],
    )
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for personal in ("Müller", "MUELLER", "Anna", "1985-03-02"):
        assert personal not in everything


async def test_pharmacist_quota_answers_429_with_headers(
    start_service: Any, make_request: Any
) -> None:
    from api.ratelimit import Rate

    service = await start_service({"rate_pharmacist": Rate.parse("2/hour")})
    headers = service.auth(service.pharmacist_key)
    statuses = []
    for _ in range(3):
        response = await service.client.post(
            "/v1/certificates", json=make_request(), headers=headers
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 429]
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["retry-after"]) >= 1700  # one cell per 30 minutes
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-policy"] == "2;w=3600"
    # X-Forwarded-For changes nothing: the quota belongs to the account.
    spoofed = {**headers, "X-Forwarded-For": "203.0.113.7"}
    again = await service.client.post("/v1/certificates", json=make_request(), headers=spoofed)
    assert again.status_code == 429
