"""The pharmacist's page in headless Chromium, against the real service on loopback."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2
from playwright.sync_api import expect

import verifier
from verifier.qr_read import read_qr

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _verify(hc1: str, live_service: Any) -> verifier.VerificationReport:
    return verifier.verify(hc1, trust=[live_service.dsc], now=datetime.now(UTC))


def _pdf_qr(pdf: bytes) -> tuple[str, bytes]:
    """The QR text of page 1 of ``pdf`` rasterised at 150 dpi, and that raster as PNG."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        assert len(document) == 1
        image = document[0].render(scale=150 / 72).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return read_qr(out.getvalue()), out.getvalue()


def test_pharmacist_issues_and_the_qr_on_screen_is_that_valid_certificate(
    browse: Any, live_service: Any, issue_through_form: Callable[[Any], str]
) -> None:
    page = browse.page
    browse.goto("/")
    assert page.evaluate("() => sessionStorage.length") == 0
    # The sample time defaults to now, shown with the local offset of Luxembourg.
    offset = datetime.now(ZoneInfo("Europe/Luxembourg")).strftime("%z")
    expect(page.locator("#sample-offset")).to_have_text(f"UTC{offset[:3]}:{offset[3:]}")

    uvci = issue_through_form(browse)

    hc1 = read_qr(page.locator("#result-qr").screenshot())
    report = _verify(hc1, live_service)
    assert report.valid, report.to_dict()
    assert report.certificate is not None
    entry = report.certificate["t"][0]
    assert entry["ci"] == uvci  # the QR shown is the certificate whose UVCI is shown
    assert entry["ma"] == "1232"  # the device picked by name
    assert report.certificate["nam"]["fnt"] == "MUELLER<SCHMIDT"
    expect(page.locator("#result-name")).to_contain_text("MUELLER<SCHMIDT<<ANNA<MARIA")
    expect(page.locator("#result-expires")).to_contain_text("(UTC+")
    # The key lives in sessionStorage only: no cookie, nothing in localStorage.
    assert page.evaluate("() => sessionStorage.getItem('dcc.apiKey')") == live_service.api_key
    assert "apiKey" not in str(page.evaluate("() => Object.keys(localStorage)"))
    assert page.context.cookies() == []
    assert live_service.api_key not in page.url
    browse.assert_clean()


def test_the_name_preview_is_the_servers_transliteration(browse: Any, live_service: Any) -> None:
    page = browse.page
    browse.goto("/")
    page.fill("#api-key", live_service.api_key)
    page.keyboard.press("Enter")
    page.fill("#family-name", "Иванова-Петрова")
    page.fill("#given-name", "Ελένη")
    expect(page.locator("#preview-family")).to_have_text("IVANOVA<PETROVA")
    expect(page.locator("#preview-given")).to_have_text("ELENI")
    page.fill("#given-name", "王")
    expect(page.locator("#given-name-error")).to_contain_text("Latin")
    expect(page.locator("#given-name")).to_have_attribute("aria-invalid", "true")
    page.fill("#given-name", "🙂")  # not a letter (issue 19: names hold letters and marks)
    expect(page.locator("#given-name-error")).to_contain_text("letters")
    browse.assert_clean()


def test_a_date_of_birth_in_the_future_is_shown_next_to_its_field(
    browse: Any, live_service: Any
) -> None:
    page = browse.page
    browse.goto("/")
    page.fill("#api-key", live_service.api_key)
    page.click("#key-form button[type=submit]")
    page.fill("#family-name", "Dupont")
    page.fill("#dob", "2999-01-01")
    page.fill("#device-filter", "lumira")
    page.select_option("#device-select", "1268")
    page.click("#submit")

    error = page.locator("#dob-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Must not be in the future.")
    dob = page.locator("#dob")
    expect(dob).to_have_attribute("aria-invalid", "true")
    assert "dob-error" in (dob.get_attribute("aria-describedby") or "").split()
    expect(dob).to_be_focused()
    expect(page.locator("#form-error")).to_contain_text("Please correct the marked fields (1)")
    expect(page.locator("#result")).to_be_hidden()
    # Correcting the field clears its error.
    page.fill("#dob", "1990-05-17")
    expect(error).to_be_hidden()
    browse.assert_clean(expected_statuses=(422,))


def test_the_pdf_downloads_and_its_qr_verifies_then_a_traveller_uploads_it(
    browse: Any, live_service: Any, issue_through_form: Callable[[Any], str]
) -> None:
    page = browse.page
    uvci = issue_through_form(browse)
    with page.expect_download() as event:
        page.click("#download-pdf")
    download = event.value
    assert download.suggested_filename.startswith("dcc-")
    assert download.suggested_filename.endswith(".pdf")
    pdf = download.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    hc1, raster = _pdf_qr(pdf)
    report = _verify(hc1, live_service)
    assert report.valid, report.to_dict()
    assert report.certificate is not None
    assert report.certificate["t"][0]["ci"] == uvci  # no second issuance for the PDF
    expect(page.locator("#result-status")).to_have_text("The PDF was downloaded.")

    # The traveller uploads a picture of the printed page.
    browse.goto("/verify")
    page.set_input_files(
        "#image", files=[{"name": "certificate.png", "mimeType": "image/png", "buffer": raster}]
    )
    expect(page.locator("#verdict")).to_have_text("✓ VALID")
    expect(page.locator("#verdict")).to_be_focused()
    expect(page.locator("#details")).to_contain_text(uvci)
    expect(page.locator("#details")).to_contain_text("Müller-Schmidt, Anna Maria")
    browse.assert_clean()


def test_csp_and_security_headers_on_the_pages(browse: Any) -> None:
    for path in ("/", "/verify", "/assets/app.css", "/assets/issue.js"):
        response = browse.goto(path)
        assert response.status == 200
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        camera = "camera=(self)" if path == "/verify" else "camera=()"
        assert camera in response.headers["permissions-policy"]
    assert browse.goto("/assets/..%2Fviews.py").status == 404
    assert browse.goto("/assets/index.html").status == 404
    assert browse.external_requests == []


def test_language_follows_the_browser_and_the_switcher(open_browse: Any) -> None:
    browse = open_browse()
    page = browse.page
    browse.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("button[data-lang=fr]")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("label[for=api-key]")).to_have_text("Clé d'API de cette pharmacie")
    expect(page.locator("button[data-lang=fr]")).to_have_attribute("aria-pressed", "true")
    assert page.title().startswith("Délivrer")
    page.reload()  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    browse.assert_clean()

    french = open_browse(locale="fr-FR")
    french.goto("/verify")
    expect(french.page.locator("html")).to_have_attribute("lang", "fr")
    expect(french.page.locator("h1")).to_have_text("Vérifier un certificat COVID")
    french.assert_clean()
