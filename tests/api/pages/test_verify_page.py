"""The traveller's page in headless Chromium; accessibility and phone width of both pages."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from hcert.hc1 import decode_hc1, encode_hc1
from issuer.render.qr import render_png
from issuer.request import DESIGN_EXAMPLE
from tests.accounts import add_account
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def issued(live_service: Any) -> dict[str, Any]:
    """One certificate issued over the API (the DESIGN example, sampled an hour ago)."""
    body = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    response = httpx.post(
        live_service.base_url + "/v1/certificates",
        json=body,
        headers={"Authorization": f"Bearer {live_service.api_key}"},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _tampered(hc1: str) -> str:
    """The same certificate with one byte of its signature changed."""
    cose = bytearray(decode_hc1(hc1))
    cose[-1] ^= 0x01
    return encode_hc1(bytes(cose))


def test_a_screenshot_of_the_qr_uploads_as_valid(browse: Any, issued: dict[str, Any]) -> None:
    page = browse.page
    browse.goto("/verify")
    png = render_png(issued["hc1"], scale=3)
    page.set_input_files(
        "#image", files=[{"name": "screenshot.png", "mimeType": "image/png", "buffer": png}]
    )
    expect(page.locator("#verdict")).to_have_text("✓ VALID")
    expect(page.locator("#verdict-box")).to_have_class("verdict valid")
    expect(page.locator("#details")).to_contain_text(issued["uvci"])
    expect(page.locator("#details")).to_contain_text("Rapid antigen test")
    expect(page.locator("#details")).to_contain_text("(UTC+")
    expect(page.locator("#checks li.ok")).to_have_count(11)
    expect(page.locator("#photo")).to_be_hidden()  # a desktop has the file picker alone
    browse.assert_clean()


def test_a_tampered_certificate_shows_invalid_with_the_reason(
    browse: Any, issued: dict[str, Any]
) -> None:
    page = browse.page
    browse.goto("/verify")
    page.fill("#hc1", _tampered(issued["hc1"]))
    page.click("#check")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_text("✗ INVALID")
    expect(page.locator("#verdict-box")).to_have_class("verdict invalid")
    expect(page.locator("#verdict-reason")).to_contain_text("Reason: The signature does not match")
    expect(page.locator("#verdict-reason")).to_contain_text("signature · signature_invalid")
    expect(page.locator("#unverified")).to_be_visible()
    expect(page.locator("#checks li.bad")).to_contain_text(["Signature: failed"])
    # In French the verdict and the reason follow.
    page.click("button[data-lang=fr]")
    expect(verdict).to_have_text("✗ NON VALIDE")
    expect(page.locator("#verdict-reason")).to_contain_text("Raison : La signature ne correspond")
    browse.assert_clean()


def test_an_image_without_a_qr_code_says_so(browse: Any) -> None:
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    browse.goto("/verify")
    browse.page.set_input_files(
        "#image", files=[{"name": "blank.png", "mimeType": "image/png", "buffer": blank.getvalue()}]
    )
    expect(browse.page.locator("#verdict")).to_have_text("✗ INVALID")
    expect(browse.page.locator("#verdict-reason")).to_contain_text("No QR code was found")
    browse.assert_clean()


def test_the_verifier_works_with_the_keyboard_alone(browse: Any, issued: dict[str, Any]) -> None:
    page = browse.page
    browse.goto("/verify")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    for _ in range(20):
        if page.evaluate("() => document.activeElement.id") == "hc1":
            break
        page.keyboard.press("Tab")
    expect(page.locator("#hc1")).to_be_focused()
    page.keyboard.insert_text(issued["hc1"])
    page.keyboard.press("Tab")
    expect(page.locator("#check")).to_be_focused()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus ring shows
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_have_text("✓ VALID")
    expect(page.locator("#verdict")).to_be_focused()
    browse.assert_clean()


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
    .filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length) &&
                    !el.getAttribute('aria-label'))
    .map((el) => el.id || el.name)"""


@pytest.mark.parametrize("path", ["/", "/verify"])
def test_every_input_has_a_label_and_the_page_fits_a_phone(
    open_browse: Any, live_service: Any, path: str
) -> None:
    browse = open_browse(width=360, height=740)
    page = browse.page
    browse.goto(path)
    if path == "/":
        page.fill("#api-key", live_service.api_key)
        page.keyboard.press("Enter")
        page.wait_for_selector("#issue-form:not([hidden])")
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    browse.assert_clean()


def test_on_a_phone_the_verifier_offers_the_camera(open_browse: Any) -> None:
    browse = open_browse(width=360, height=740, is_mobile=True, has_touch=True)
    browse.goto("/verify")
    photo = browse.page.locator("#photo")
    expect(photo).to_be_visible()
    expect(photo).to_have_attribute("capture", "environment")
    expect(browse.page.locator("#image")).to_be_visible()  # screenshots from the gallery
    browse.assert_clean()


def test_a_revoked_certificate_says_revoked_in_both_languages(
    browse: Any, live_service: Any
) -> None:
    body = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    base = live_service.base_url
    issued = httpx.post(
        base + "/v1/certificates",
        json=body,
        headers={"Authorization": f"Bearer {live_service.api_key}"},
    ).json()
    ops = add_account(live_service.settings.database_url, name="page-ops", role="operator")
    revocation = {"uvci": issued["uvci"], "reason": "issued_in_error"}
    answers: list[int] = []

    def revoked() -> bool:
        response = httpx.post(
            base + "/v1/revocations/certificate",
            json=revocation,
            headers={"Authorization": f"Bearer {ops.api_key}"},
        )
        answers.append(response.status_code)
        return response.status_code == 200

    wait_until(revoked, what=lambda: f"the operator's key works (answers {answers[-3:]})")
    page = browse.page
    browse.goto("/verify")
    page.fill("#hc1", issued["hc1"])
    page.click("#check")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_text("✗ REVOKED")
    expect(page.locator("#verdict-box")).to_have_class("verdict invalid revoked")
    expect(page.locator("#verdict-reason")).to_contain_text("The issuer has revoked this")
    expect(page.locator("#verdict-reason")).to_contain_text("revocation · revoked")
    expect(page.locator("#checks li.bad")).to_contain_text(["Not revoked: failed"])
    page.click("button[data-lang=fr]")
    expect(verdict).to_have_text("✗ RÉVOQUÉ")
    expect(page.locator("#verdict-reason")).to_contain_text("L'émetteur a révoqué ce certificat")
    browse.assert_clean()
