"""/verify with a destination: a certificate that passes technically but fails the chosen
country's rules shows INVALID with the rule's description, in English and in French."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from issuer.request import DESIGN_EXAMPLE

I18N = Path(__file__).resolve().parents[3] / "api" / "pages" / "static" / "i18n.js"

LOCAL_INPUT = """(iso) => {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" +
    p(d.getHours()) + ":" + p(d.getMinutes());
}"""
TEXTS = {
    "en": {
        "invalid": "✗ INVALID",
        "valid": "✓ VALID",
        "reason": "The sample for an antigen test (e.g., rapid test) must have been taken no "
        "longer than 24 hours ago.",
        "not_met": "(not met)",
        "met": "(met)",
        "country": "Luxembourg (LU)",
        "label": "Country you travel to",
    },
    "fr": {
        "invalid": "✗ NON VALIDE",
        "valid": "✓ VALIDE",
        "reason": "Le prélèvement pour un test antigénique (p. ex. test rapide) ne doit pas "
        "dater de plus de 24 heures.",
        "not_met": "(non respectée)",
        "met": "(respectée)",
        "country": "Luxembourg (LU)",
        "label": "Pays de destination",
    },
}


@pytest.fixture(scope="module")
def rat(live_service: Any) -> dict[str, Any]:
    """A RAT certificate sampled an hour ago (valid 48 h; LU accepts a RAT for 24 h)."""
    body = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    response = httpx.post(
        live_service.base_url + "/v1/certificates",
        json=body,
        headers={"Authorization": f"Bearer {live_service.api_key}"},
    )
    assert response.status_code == 201, response.text
    return {"hc1": response.json()["hc1"], "sampled": sampled}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_certificate_that_fails_the_destinations_rules(
    browse: Any, rat: dict[str, Any], lang: str
) -> None:
    texts = TEXTS[lang]
    page = browse.page
    browse.goto("/verify")
    page.click(f"button[data-lang={lang}]")
    expect(page.locator("label[for=country]")).to_have_text(texts["label"])
    page.select_option("#country", "LU")
    expect(page.locator("#country option:checked")).to_have_text(texts["country"])
    arrival = rat["sampled"] + timedelta(hours=30)  # technically valid, older than 24 h
    page.fill("#at", page.evaluate(LOCAL_INPUT, arrival.isoformat()))
    page.fill("#hc1", rat["hc1"])
    page.click("#check")
    expect(page.locator("#verdict")).to_have_text(texts["invalid"])
    expect(page.locator("#verdict-reason")).to_contain_text(texts["reason"])
    expect(page.locator("#verdict-reason")).to_contain_text("rules · rule_failed")
    expect(page.locator("#checks li.bad")).to_have_count(1)  # only the rules check failed
    failed = page.locator("#rules li.bad")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("TR-LU-0002")
    expect(failed).to_contain_text(texts["not_met"])
    expect(page.locator("#rules li.ok")).to_have_count(3)
    # The same certificate on arrival 2 hours after the sample meets every rule.
    page.fill("#at", page.evaluate(LOCAL_INPUT, (rat["sampled"] + timedelta(hours=2)).isoformat()))
    page.click("#check")
    expect(page.locator("#verdict")).to_have_text(texts["valid"])
    expect(page.locator("#rules li.ok")).to_have_count(4)
    expect(page.locator("#rules li.ok").first).to_contain_text(texts["met"])
    browse.assert_clean()


def test_switching_language_redraws_the_rule_descriptions(browse: Any, rat: dict[str, Any]) -> None:
    page = browse.page
    browse.goto("/verify")
    page.click("button[data-lang=en]")
    page.select_option("#country", "LU")
    arrival = rat["sampled"] + timedelta(hours=30)
    page.fill("#at", page.evaluate(LOCAL_INPUT, arrival.isoformat()))
    page.fill("#hc1", rat["hc1"])
    page.click("#check")
    expect(page.locator("#verdict-reason")).to_contain_text(TEXTS["en"]["reason"])
    page.click("button[data-lang=fr]")
    expect(page.locator("#verdict-reason")).to_contain_text(TEXTS["fr"]["reason"])
    expect(page.locator("#rules li.bad")).to_contain_text(TEXTS["fr"]["not_met"])
    expect(page.locator("#country option:checked")).to_have_text("Luxembourg (LU)")
    browse.assert_clean()


def test_a_country_without_rules_cannot_be_confirmed(browse: Any, rat: dict[str, Any]) -> None:
    page = browse.page
    browse.goto("/verify")
    page.click("button[data-lang=en]")
    page.select_option("#country", "IT")
    page.fill("#hc1", rat["hc1"])
    page.click("#check")
    expect(page.locator("#verdict")).to_have_text("✗ INVALID")
    expect(page.locator("#verdict-reason")).to_contain_text("No rules of IT are available")
    browse.assert_clean()


def test_no_text_key_is_defined_twice_in_a_language() -> None:
    """A repeated key silently replaces the first text (a label once read "Member State")."""
    source = I18N.read_text(encoding="utf-8")
    for block in re.split(r"\n  [a-z]{2}: \{", source)[1:]:
        keys = re.findall(r'^    "([^"]+)":', block, flags=re.MULTILINE)
        assert len(keys) > 50
        assert sorted({key for key in keys if keys.count(key) > 1}) == []
