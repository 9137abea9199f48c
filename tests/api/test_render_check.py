"""Every QR image and PDF is read back before it leaves: a corrupting QR writer gives a 500."""

from __future__ import annotations

from typing import Any

import pytest

from api.render_check import CheckedRenderer, svg_to_png
from issuer.render.qr import QrMatrix, qr_matrix, render_svg
from verifier.qr_read import read_qr

ACCEPT = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
METRIC = "dcc_render_self_check_failures_total"


def _other_text(text: str) -> QrMatrix:
    """A valid QR code of slightly different text: a writer that silently corrupts."""
    return qr_matrix(text[:-1] + ("B" if text[-1] == "A" else "A"))


def _blank(text: str) -> QrMatrix:
    """A symbol of the right size with no dark module: unreadable."""
    size = qr_matrix(text).size
    return QrMatrix(size=size, version=(size - 17) // 4, rows=(b"\x00" * size,) * size)


def _failures(service: Any, kind: str) -> float:
    value = service.resources.metrics.registry.get_sample_value(METRIC, {"kind": kind})
    return value or 0.0


def _corrupt(service: Any, encoder: Any) -> None:
    metrics = service.resources.metrics
    service.resources.renderer = CheckedRenderer(
        metrics.count_render_check_failure, encoder=encoder
    )


@pytest.mark.parametrize("product", ["png", "svg", "pdf"])
@pytest.mark.parametrize("encoder", [_other_text, _blank])
async def test_a_corrupted_qr_code_is_a_500_with_an_alert(
    service: Any, make_request: Any, product: str, encoder: Any
) -> None:
    _corrupt(service, encoder)
    headers = {**service.auth(), "Accept": ACCEPT[product]}
    response = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error"
    kind = "svg" if product == "svg" else "png"  # the PDF's QR code is its embedded PNG
    assert _failures(service, kind) == 1


async def test_the_render_endpoint_checks_too(service: Any, make_request: Any) -> None:
    issued = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth()
    )
    hc1 = issued.json()["hc1"]
    _corrupt(service, _other_text)
    headers = {**service.auth(), "Accept": "application/pdf"}
    response = await service.client.post(
        "/v1/certificates/render", json={"hc1": hc1}, headers=headers
    )
    assert response.status_code == 500
    assert _failures(service, "png") == 1


@pytest.mark.parametrize("product", ["png", "svg", "pdf"])
async def test_good_images_pass_without_alert(
    service: Any, make_request: Any, product: str
) -> None:
    headers = {**service.auth(), "Accept": ACCEPT[product]}
    response = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    assert response.status_code == 201
    assert _failures(service, "png") == 0
    assert _failures(service, "svg") == 0


def test_the_svg_is_read_back_from_its_path() -> None:
    text = "HC1:" + "6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDE" * 6
    assert read_qr(svg_to_png(render_svg(text).encode())) == text


def test_the_pure_read_of_the_self_check_agrees_with_the_full_search() -> None:
    from issuer.render.qr import render_png

    text = "HC1:" + "6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4"
    for scale in (1, 2, 4):
        image = render_png(text, scale=scale)
        assert read_qr(image, pure=True) == read_qr(image) == text
    corrupted = render_png(text[:-1] + "A")
    assert read_qr(corrupted, pure=True) != text
