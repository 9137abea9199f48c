"""The pharmacist's form in Chromium: the error alert follows the corrections, and the
device count is worded for its number in English and French."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

PANBIO = "Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test (1232)"


def _open_form(browse: Any, api_key: str) -> Any:
    page = browse.page
    browse.goto("/")
    page.fill("#api-key", api_key)
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#issue-form:not([hidden])")
    return page


def _fill(page: Any, *, family: str, given: str, dob: str, device: str | None) -> None:
    page.fill("#family-name", family)
    page.fill("#given-name", given)
    page.fill("#dob", dob)
    page.fill("#device-filter", "panbio")
    if device is None:
        page.select_option("#device-select", "")  # "Choose a device…"
    else:
        page.select_option("#device-select", label=device)
    page.fill("#facility", "Pharmacie du Centre, Luxembourg")


def test_the_error_alert_shrinks_and_goes_as_the_fields_are_corrected(
    browse: Any, live_service: Any
) -> None:
    page = _open_form(browse, live_service.api_key)
    _fill(page, family="Dupont", given="Léa", dob="2999-01-01", device=None)
    page.click("#submit")
    alert = page.locator("#form-error")
    expect(alert).to_have_text("Please correct the marked fields (2).")
    expect(page.locator("#device-select-error")).to_have_text("Choose the test device.")

    page.fill("#dob", "1990-05-17")
    expect(page.locator("#dob-error")).to_be_hidden()
    expect(alert).to_have_text("Please correct the marked fields (1).")
    # A language switch translates what still stands and brings back nothing corrected.
    page.click("button[data-lang=fr]")
    expect(alert).to_have_text("Veuillez corriger les champs signalés (1).")
    expect(page.locator("#device-select-error")).to_have_text("Choisissez le dispositif de test.")
    expect(page.locator("#dob")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#dob-error")).to_be_hidden()

    page.select_option("#device-select", "1232")
    expect(alert).to_be_hidden()
    expect(page.locator("#issue-form [aria-invalid]")).to_have_count(0)
    page.click("#submit")
    expect(page.locator("#result")).to_be_visible()
    browse.assert_clean(expected_statuses=(422,))


def test_the_alert_goes_when_the_live_name_check_passes(browse: Any, live_service: Any) -> None:
    page = _open_form(browse, live_service.api_key)
    _fill(page, family="", given="", dob="1990-05-17", device=PANBIO)
    page.click("#submit")
    alert = page.locator("#form-error")
    expect(alert).to_have_text("Please correct the marked fields (1).")
    family_error = page.locator("#family-name-error")
    expect(family_error).to_have_text("Enter a family name or a given name (or both).")

    # A given name alone is enough: the server's preview confirms it, the error on the family
    # name field (where "person" errors are shown) and the alert go.
    page.fill("#given-name", "Anna")
    expect(page.locator("#preview-given")).to_have_text("ANNA")
    expect(family_error).to_be_hidden()
    expect(alert).to_be_hidden()
    # A new failed submit shows the alert again; a successful one leaves the form.
    page.fill("#dob", "2999-01-01")
    page.click("#submit")
    expect(alert).to_have_text("Please correct the marked fields (1).")
    page.fill("#dob", "1990-05-17")
    expect(alert).to_be_hidden()
    page.click("#submit")
    expect(page.locator("#result")).to_be_visible()
    browse.assert_clean(expected_statuses=(422,))


def test_errors_of_a_field_the_test_type_hides_go_with_it(browse: Any, live_service: Any) -> None:
    page = _open_form(browse, live_service.api_key)
    _fill(page, family="Dupont", given="Léa", dob="2999-01-01", device=None)
    page.click("#submit")
    alert = page.locator("#form-error")
    expect(alert).to_have_text("Please correct the marked fields (2).")
    page.check("#type-naat")  # a NAAT has no device: that error is moot
    expect(alert).to_have_text("Please correct the marked fields (1).")
    page.check("#type-rat")
    expect(page.locator("#device-select")).not_to_have_attribute("aria-invalid", "true")
    expect(alert).to_have_text("Please correct the marked fields (1).")
    page.fill("#dob", "1990-05-17")
    expect(alert).to_be_hidden()
    browse.assert_clean(expected_statuses=(422,))


def test_the_device_count_is_worded_for_its_number(browse: Any, live_service: Any) -> None:
    page = _open_form(browse, live_service.api_key)
    count = page.locator("#device-count")
    expect(count).to_have_text("3 devices listed")
    page.fill("#device-filter", "panbio")
    expect(count).to_have_text("1 device listed")
    page.fill("#device-filter", "no such device")
    expect(count).to_have_text("0 devices listed")

    page.click("button[data-lang=fr]")
    expect(count).to_have_text("0 dispositif listé")  # French counts 0 as singular
    page.fill("#device-filter", "panbio")
    expect(count).to_have_text("1 dispositif listé")
    page.fill("#device-filter", "")
    expect(count).to_have_text("3 dispositifs listés")
    browse.assert_clean()
