"""Takes the README screenshots of both pages (desktop and phone widths). Run by hand:

    .venv/bin/pytest tests/api/pages/screenshots.py -q

The file name does not match ``test_*.py``, so ``make test`` never collects it; named on the
command line, pytest runs it with the fixtures of ``conftest.py`` (the real service on
loopback, Debian's Chromium). Each image is written to ``docs/screenshots/`` as a palette
PNG and must stay under 200 KB.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import expect

from hcert.hc1 import decode_hc1, encode_hc1
from issuer.render.qr import render_png
from issuer.request import DESIGN_EXAMPLE

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MAX_BYTES = 200 * 1024
DESKTOP: dict[str, Any] = {"width": 1280, "height": 900}
PHONE: dict[str, Any] = {"width": 360, "height": 740, "is_mobile": True, "has_touch": True}


def _save(browse: Any, name: str, *, full_page: bool = True) -> None:
    """Screenshot the page, reduce it to a 64-colour palette PNG, check its size."""
    shot = Image.open(io.BytesIO(browse.page.screenshot(full_page=full_page)))
    reduced = shot.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    reduced.save(path, format="PNG", optimize=True)
    assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes"


def _key(browse: Any, api_key: str) -> None:
    browse.page.fill("#api-key", api_key)
    browse.page.keyboard.press("Enter")
    browse.page.wait_for_selector("#issue-form:not([hidden])")


def _issued_hc1(live_service: Any) -> str:
    body = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    response = httpx.post(
        live_service.base_url + "/v1/certificates",
        json=body,
        headers={"Authorization": f"Bearer {live_service.api_key}"},
    )
    hc1: str = response.json()["hc1"]
    return hc1


def test_pharmacist_page(
    open_browse: Callable[..., Any],
    live_service: Any,
    issue_through_form: Callable[[Any], str],
) -> None:
    desktop = open_browse(**DESKTOP)
    desktop.goto("/")
    _key(desktop, live_service.api_key)
    desktop.page.fill("#family-name", "Müller-Schmidt")
    desktop.page.fill("#given-name", "Anna Maria")
    desktop.page.fill("#dob", "1985-03-02")
    desktop.page.fill("#device-filter", "panbio")
    desktop.page.select_option("#device-select", "1232")
    desktop.page.fill("#facility", "Pharmacie du Centre, Luxembourg")
    expect(desktop.page.locator("#preview-family")).to_have_text("MUELLER<SCHMIDT")
    desktop.page.locator("#family-name").blur()
    _save(desktop, "issue-form-desktop.png")

    issued = open_browse(**DESKTOP)
    issue_through_form(issued)
    _save(issued, "issue-result-desktop.png", full_page=False)

    phone = open_browse(**PHONE)
    phone.goto("/")
    phone.page.click("button[data-lang=fr]")
    _key(phone, live_service.api_key)
    phone.page.fill("#family-name", "Иванова")
    phone.page.fill("#given-name", "Ελένη")
    phone.page.fill("#dob", "2999-01-01")
    phone.page.click("#submit")
    expect(phone.page.locator("#dob-error")).to_be_visible()
    expect(phone.page.locator("#preview-family")).to_have_text("IVANOVA")
    _save(phone, "issue-form-phone-fr.png")


def test_traveller_page(open_browse: Callable[..., Any], live_service: Any) -> None:
    hc1 = _issued_hc1(live_service)
    desktop = open_browse(**DESKTOP)
    desktop.goto("/verify")
    desktop.page.set_input_files(
        "#image",
        files=[{"name": "qr.png", "mimeType": "image/png", "buffer": render_png(hc1, scale=3)}],
    )
    expect(desktop.page.locator("#verdict")).to_have_text("✓ VALID")
    _save(desktop, "verify-valid-desktop.png")

    cose = bytearray(decode_hc1(hc1))
    cose[-1] ^= 0x01
    phone = open_browse(**PHONE)
    phone.goto("/verify")
    phone.page.fill("#hc1", encode_hc1(bytes(cose)))
    phone.page.click("#check")
    expect(phone.page.locator("#verdict")).to_have_text("✗ INVALID")
    phone.page.locator("#verdict").blur()
    _save(phone, "verify-invalid-phone.png", full_page=False)

    empty = open_browse(**PHONE)
    empty.goto("/verify")
    _save(empty, "verify-phone.png", full_page=False)
