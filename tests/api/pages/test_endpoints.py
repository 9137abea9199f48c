"""The endpoints behind the pharmacist's page, over real HTTP on the loopback service."""

from __future__ import annotations

import copy
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdfium2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import verifier
from api.issuing_runtime import build_issuing_runtime
from api.routes.names import preview_names
from api.settings import Settings
from hcert.hc1 import decode_hc1, encode_hc1
from hcert.valuesets import DeviceRegistry
from issuer.request import DESIGN_EXAMPLE, validate_issue_request
from keys.generate import generate_keys
from signing.errors import RequestInvalid
from verifier.qr_read import read_qr


def _now() -> datetime:
    return datetime.now(UTC)


def _request() -> dict[str, Any]:
    body = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    return body


@pytest.fixture(scope="module")
def client(live_service: Any) -> Any:
    with httpx.Client(base_url=live_service.base_url, timeout=10) as opened:
        yield opened


@pytest.fixture(scope="module")
def issued(client: httpx.Client, live_service: Any) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {live_service.api_key}"}
    response = client.post("/v1/certificates", json=_request(), headers=auth)
    assert response.status_code == 201
    result: dict[str, Any] = response.json()
    return result


def _auth(live_service: Any, accept: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {live_service.api_key}", "Accept": accept}


def test_devices_are_listed_by_name(client: httpx.Client) -> None:
    response = client.get("/v1/devices")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    body = response.json()
    assert body["configured"] is True
    names = [device["name"] for device in body["devices"]]
    assert names == sorted(names, key=str.casefold)
    assert {"id": "1232", "name": "Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test"} in (
        body["devices"]
    )


def test_preview_needs_a_key_and_answers_the_standardised_names(
    client: httpx.Client, live_service: Any
) -> None:
    body = {"family_name": "Müller-Schmidt", "given_name": "Ελένη"}
    assert client.post("/v1/names/preview", json=body).status_code == 401
    response = client.post("/v1/names/preview", json=body, headers=_auth(live_service))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "family_name_standardised": "MUELLER<SCHMIDT",
        "given_name_standardised": "ELENI",
        "errors": [],
    }
    unknown = client.post("/v1/names/preview", json={"dob": "x"}, headers=_auth(live_service))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["code"] == "unknown_field"


@settings(max_examples=60, deadline=None)
@given(family=st.text(max_size=90), given_name=st.text(max_size=90))
def test_preview_equals_what_issuing_signs(family: str, given_name: str) -> None:
    preview = preview_names({"family_name": family, "given_name": given_name}, max_length=80)
    body = _request()
    body["person"] = {"family_name": family, "given_name": given_name, "date_of_birth": "1985"}
    try:
        request = validate_issue_request(
            body, now=datetime.now(UTC), devices=DeviceRegistry.format_only()
        )
    except RequestInvalid as refused:
        name_errors = {(e.field, e.code) for e in refused.errors if e.field.startswith("person.")}
        shown = {(e["field"], e["code"]) for e in preview["errors"]}
        assert shown <= name_errors  # every preview error is one issuing reports
        return
    assert preview["errors"] == []
    assert preview["family_name_standardised"] == request.family_name_standardised
    assert preview["given_name_standardised"] == request.given_name_standardised


def test_render_gives_the_qr_and_the_pdf_of_the_same_certificate(
    client: httpx.Client, live_service: Any, issued: dict[str, Any]
) -> None:
    body = {"hc1": issued["hc1"]}
    assert client.post("/v1/certificates/render", json=body).status_code == 401
    png = client.post("/v1/certificates/render", json=body, headers=_auth(live_service, "*/*"))
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.headers["dcc-uvci"] == issued["uvci"]
    assert read_qr(png.content) == issued["hc1"]
    pdf = client.post(
        "/v1/certificates/render", json=body, headers=_auth(live_service, "application/pdf")
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="dcc-')
    assert pdf.content.startswith(b"%PDF-")
    svg = client.post(
        "/v1/certificates/render", json=body, headers=_auth(live_service, "image/svg+xml")
    )
    assert svg.status_code == 200
    assert svg.text.startswith("<svg")


def test_issuing_with_accept_pdf_answers_the_printable_certificate(
    client: httpx.Client, live_service: Any
) -> None:
    response = client.post(
        "/v1/certificates", json=_request(), headers=_auth(live_service, "application/pdf")
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/pdf"
    uvci = response.headers["dcc-uvci"]
    opaque = uvci.split(":")[4].split("#")[0]
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="dcc-[A-Z0-9-]+\.pdf"', disposition)
    assert opaque in disposition
    document = pypdfium2.PdfDocument(response.content)
    try:
        page = document[0]
        text = page.get_textpage().get_text_bounded()
        image = page.render(scale=150 / 72).to_pil()
    finally:
        document.close()
    assert uvci in text
    raster = io.BytesIO()
    image.save(raster, format="PNG")
    report = verifier.verify(read_qr(raster.getvalue()), trust=[live_service.dsc], now=_now())
    assert report.valid
    assert report.certificate is not None
    assert report.certificate["t"][0]["ci"] == uvci


def test_render_refuses_what_this_service_did_not_sign(
    client: httpx.Client, live_service: Any, issued: dict[str, Any], tmp_path: Path
) -> None:
    cose = bytearray(decode_hc1(issued["hc1"]))
    cose[-1] ^= 0x01
    tampered = client.post(
        "/v1/certificates/render",
        json={"hc1": encode_hc1(bytes(cose))},
        headers=_auth(live_service, "application/pdf"),
    )
    assert tampered.status_code == 422
    assert tampered.json()["errors"][0]["field"] == "hc1"
    assert tampered.json()["errors"][0]["code"] == "signature_invalid"

    generate_keys(tmp_path / "other", country="LU")
    other = build_issuing_runtime(Settings(keys_dir=tmp_path / "other")).issuer.issue(_request())
    foreign = client.post(
        "/v1/certificates/render", json={"hc1": other.hc1}, headers=_auth(live_service, "image/png")
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["code"] == "kid_unknown"

    shape = client.post(
        "/v1/certificates/render", json={"hc1": 5}, headers=_auth(live_service, "image/png")
    )
    assert shape.status_code == 422
    json_only = client.post(
        "/v1/certificates/render",
        json={"hc1": issued["hc1"]},
        headers=_auth(live_service, "application/json"),
    )
    assert json_only.status_code == 406
