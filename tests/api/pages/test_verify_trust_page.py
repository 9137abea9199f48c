"""The traveller's page with trust lists from outside, in English and French (issue 16): a
foreign certificate whose list is loaded, an unknown issuer, and a damaged QR code."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from hcert.base45 import b45encode
from hcert.hc1 import decode_hc1
from issuer.render.qr import render_png
from keys.load import SigningKeys
from tests.foreign import foreign_hc1, foreign_keys, gateway_list
from tests.waiting import wait_until

LIST_NAME = "it-gateway.json"
TECHNICAL = ("Error -3", "incorrect data check", "not a valid zlib stream")


@pytest.fixture(scope="module")
def italy(tmp_path_factory: pytest.TempPathFactory, live_service: Any) -> SigningKeys:
    """Italy's DSC, published in a gateway list the running service has loaded."""
    keys = foreign_keys(tmp_path_factory.mktemp("IT"), "IT")
    folder: Path = live_service.settings.trust_lists[0]
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC) - timedelta(days=3, hours=1)
    (folder / LIST_NAME).write_bytes(gateway_list(keys, stamp=stamp))
    hc1 = foreign_hc1(keys)

    def loaded() -> bool:
        response = httpx.post(live_service.base_url + "/v1/verify", json={"hc1": hc1})
        return bool(response.json()["valid"])

    wait_until(loaded, what="the service reads the new trust list", interval=0.1)
    return keys


def _paste(browse: Any, hc1: str) -> Any:
    page = browse.page
    browse.goto("/verify")
    page.fill("#hc1", hc1)
    page.click("#check")
    return page


def test_a_foreign_certificate_is_valid_with_its_trust_list_and_its_age(
    browse: Any, italy: SigningKeys
) -> None:
    page = _paste(browse, foreign_hc1(italy))
    expect(page.locator("#verdict")).to_have_text("✓ VALID")
    expect(page.locator("#verdict-box")).to_have_class("verdict valid")
    details = page.locator("#details")
    expect(details).to_contain_text("Trusted through")
    expect(details).to_contain_text(f"{LIST_NAME}, updated ")
    expect(details).to_contain_text("(3 days ago)")
    expect(details).to_contain_text("Ministry of Health IT")
    page.click("button[data-lang=fr]")
    expect(page.locator("#verdict")).to_have_text("✓ VALIDE")
    expect(details).to_contain_text("Confiance via")
    expect(details).to_contain_text(f"{LIST_NAME}, mise à jour le ")
    expect(details).to_contain_text("(il y a 3 jours)")
    browse.assert_clean()


def test_an_unknown_issuer_cannot_be_checked_and_is_not_called_forged(
    browse: Any, tmp_path: Path, italy: SigningKeys
) -> None:
    stranger = foreign_keys(tmp_path / "FR", "FR")  # in no loaded list
    page = _paste(browse, foreign_hc1(stranger))
    verdict, reason = page.locator("#verdict"), page.locator("#verdict-reason")
    expect(verdict).to_have_text("? CANNOT CHECK")
    expect(page.locator("#verdict-box")).to_have_class("verdict unknown")
    expect(reason).to_contain_text("Cannot check this issuer")
    expect(reason).to_contain_text("This does not mean the certificate is forged.")
    expect(page.locator("#unverified")).to_be_hidden()  # "may be forged" is not said
    expect(page.locator("#unconfirmed")).to_be_visible()
    expect(page.locator("#checks li.bad")).to_have_text(
        [
            "✗ Known signing key: failed (Cannot check this issuer: its signing key is in none "
            "of the trust lists loaded here. This does not mean the certificate is forged.)"
        ]
    )
    expect(page.locator("#checks")).not_to_contain_text("Signature")
    page.click("button[data-lang=fr]")
    expect(verdict).to_have_text("? NON VÉRIFIABLE")
    expect(reason).to_contain_text("Impossible de vérifier cet émetteur")
    expect(reason).to_contain_text("Cela ne veut pas dire que le certificat est falsifié.")
    expect(page.locator("#unconfirmed")).to_contain_text("L'émetteur n'a pas pu être vérifié")
    # Unknown and expired: invalid whoever issued it, for the failure that says so.
    page.click("button[data-lang=en]")
    old = foreign_hc1(stranger, now=datetime.now(UTC) - timedelta(days=10))
    page.fill("#hc1", old)
    page.click("#check")
    expect(verdict).to_have_text("✗ INVALID")
    expect(reason).to_contain_text("Reason: The certificate has expired.")
    expect(reason).to_contain_text("expiry · expired")
    expect(page.locator("#unverified")).to_be_hidden()
    expect(page.locator("#unconfirmed")).to_be_visible()
    browse.assert_clean()


def _damaged(hc1: str) -> str:
    """The same certificate whose compressed data lost its last byte's integrity (the zlib
    checksum no longer matches: "incorrect data check")."""
    compressed = bytearray(zlib.compress(decode_hc1(hc1)))
    compressed[-1] ^= 0xFF
    return "HC1:" + b45encode(bytes(compressed))


def test_a_damaged_qr_code_gets_a_friendly_message_in_both_languages(
    browse: Any, italy: SigningKeys
) -> None:
    page = browse.page
    browse.goto("/verify")
    png = render_png(_damaged(foreign_hc1(italy)), scale=3)
    page.set_input_files(
        "#image", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png}]
    )
    verdict, reason = page.locator("#verdict"), page.locator("#verdict-reason")
    expect(verdict).to_have_text("✗ INVALID")
    expect(reason).to_contain_text("Reason: The QR code is damaged or incomplete")
    expect(page.locator("#checks li.bad")).to_contain_text(["Compression: failed (The QR code"])
    outcome = page.locator("#outcome")
    for text in TECHNICAL:
        expect(outcome).not_to_contain_text(text)
    page.click("button[data-lang=fr]")
    expect(verdict).to_have_text("✗ NON VALIDE")
    expect(reason).to_contain_text("Raison : Le code QR est abîmé ou incomplet")
    expect(page.locator("#checks li.bad")).to_contain_text(["Le code QR est abîmé"])
    for text in TECHNICAL:
        expect(outcome).not_to_contain_text(text)
    browse.assert_clean()
