"""POST /v1/verify: by HC1 string, by image (multipart and raw), quota per client address."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from api.ratelimit import Rate
from issuer.render.qr import render_png

PROBLEM = "application/problem+json"


async def issue(service: Any, make_request: Any) -> str:
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth()
    )
    assert response.status_code == 201
    hc1: str = response.json()["hc1"]
    return hc1


async def test_verify_hc1_string(service: Any, make_request: Any) -> None:
    hc1 = await issue(service, make_request)
    response = await service.client.post("/v1/verify", json={"hc1": hc1})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    report = response.json()
    assert report["valid"] is True
    names = [check["name"] for check in report["checks"]]
    assert names[:7] == ["prefix", "base45", "zlib", "cose", "kid", "signature", "expiry"]
    assert report["issuer"] == "LU"


async def test_verify_reports_a_broken_certificate_as_invalid(
    service: Any, make_request: Any
) -> None:
    hc1 = await issue(service, make_request)
    tampered = hc1[:-8] + ("0" if hc1[-8] != "0" else "1") + hc1[-7:]
    response = await service.client.post("/v1/verify", json={"hc1": tampered})
    assert response.status_code == 200
    assert response.json()["valid"] is False
    garbage = await service.client.post("/v1/verify", json={"hc1": "HC2:nonsense"})
    assert garbage.status_code == 200
    assert garbage.json()["error"]["check"] == "prefix"


async def test_verify_multipart_image(service: Any, make_request: Any) -> None:
    hc1 = await issue(service, make_request)
    files = {"image": ("qr.png", render_png(hc1), "image/png")}
    response = await service.client.post("/v1/verify", files=files)
    assert response.status_code == 200, response.text
    assert response.json()["valid"] is True


@pytest.mark.parametrize("media", ["image/png", "image/jpeg"])
async def test_verify_raw_image_body(service: Any, make_request: Any, media: str) -> None:
    hc1 = await issue(service, make_request)
    png = render_png(hc1)
    if media == "image/jpeg":
        out = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("L").save(out, format="JPEG", quality=95)
        png = out.getvalue()
    response = await service.client.post("/v1/verify", content=png, headers={"Content-Type": media})
    assert response.status_code == 200
    assert response.json()["valid"] is True


async def test_image_without_qr_is_an_invalid_report(service: Any) -> None:
    out = io.BytesIO()
    Image.new("L", (64, 64), 255).save(out, format="PNG")
    response = await service.client.post(
        "/v1/verify", content=out.getvalue(), headers={"Content-Type": "image/png"}
    )
    assert response.status_code == 200
    assert response.json()["valid"] is False


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"hc1": 5}}, 422, "request_invalid"),
        ({"json": {"hc1": "HC1:", "extra": 1}}, 422, "request_invalid"),
        ({"json": {"hc1": "HC1:" + "A" * 5000}}, 422, "request_invalid"),
        ({"json": ["HC1:"]}, 422, "request_invalid"),
        ({"content": b"HC1:...", "headers": {"Content-Type": "text/plain"}}, 415, None),
        ({"content": b"{", "headers": {"Content-Type": "application/json"}}, 400, "json_invalid"),
        ({"files": {"other": ("a.png", b"x", "image/png")}}, 422, "request_invalid"),
        (
            {"content": b"--x\r\ngarbage", "headers": {"Content-Type": "multipart/form-data"}},
            400,
            "multipart_invalid",
        ),
        (
            {
                "content": b"--x\r\ngarbage",
                "headers": {"Content-Type": "multipart/form-data; boundary=x"},
            },
            422,
            "request_invalid",
        ),
    ],
)
async def test_verify_bad_bodies(
    service: Any, kwargs: dict[str, Any], status: int, code: str | None
) -> None:
    response = await service.client.post("/v1/verify", **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == (code or "unsupported_media_type")


async def test_oversized_image_is_413(start_service: Any) -> None:
    service = await start_service({"max_image_bytes": 1000})
    response = await service.client.post(
        "/v1/verify", content=b"\x89PNG" + b"\0" * 2000, headers={"Content-Type": "image/png"}
    )
    assert response.status_code == 413
    files = {"image": ("qr.png", b"\x89PNG" + b"\0" * 40_000, "image/png")}
    multipart = await service.client.post("/v1/verify", files=files)
    assert multipart.status_code == 413


async def test_verify_quota_is_per_client_address_and_ignores_forwarded_for(
    start_service: Any,
) -> None:
    service = await start_service({"rate_verify": Rate.parse("2/minute")})
    body = {"hc1": "HC1:X"}
    statuses = []
    for forwarded in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        response = await service.client.post(
            "/v1/verify", json=body, headers={"X-Forwarded-For": forwarded}
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-limit"] == "2"


async def test_an_integer_beyond_64_bits_in_a_signed_certificate_is_not_a_500(
    service: Any,
) -> None:
    """ver = -2^64 in a validly signed certificate: orjson cannot write it as a number."""
    from keys.load import load_signing_keys
    from loadtests.fuzz.target import FuzzTarget
    from verifier import TrustStore

    keys = load_signing_keys(service.resources.settings.keys_dir)
    target = FuzzTarget(keys, TrustStore([keys.certificate]))
    claims = target.claims()
    claims[-260][1]["ver"] = -(2**64)
    response = await service.client.post("/v1/verify", json={"hc1": target.hc1(claims)})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["certificate"]["ver"] == str(-(2**64))
    assert report["valid"] is False


async def test_image_decodes_are_bounded_per_process(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five uploads at once: IMAGE_DECODES decode, the others wait for a turn."""
    import asyncio
    import threading

    import verifier.source
    from api.work_limits import IMAGE_DECODES
    from tests.waiting import async_wait_until

    release, lock = threading.Event(), threading.Lock()
    active: list[int] = [0, 0]  # now, most at once

    def blocking_read(data: bytes) -> str:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        release.wait(30)
        with lock:
            active[0] -= 1
        return "HC1:"

    monkeypatch.setattr(verifier.source, "read_qr", blocking_read)
    limiter = service.resources.image_decodes
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    uploads = [
        asyncio.ensure_future(
            service.client.post("/v1/verify", content=png, headers={"Content-Type": "image/png"})
        )
        for _ in range(5)
    ]
    await async_wait_until(
        lambda: active[0] == IMAGE_DECODES and limiter.statistics().tasks_waiting == 3,
        what=lambda: f"{active} decoding, {limiter.statistics()}",
    )
    release.set()
    responses = await asyncio.gather(*uploads)
    assert [response.status_code for response in responses] == [200] * 5
    assert active[1] == IMAGE_DECODES
