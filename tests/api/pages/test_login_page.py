"""The pharmacist logs in through a real OpenID provider, issues, logs out: in both languages.

A service of its own (logins on, ``DCC_OIDC_*`` pointing at panva's oidc-provider started on
loopback) with one pharmacy and one member; Debian's Chromium under Playwright.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from api.oidc_settings import read_oidc_settings
from api.ratelimit import Rate
from api.settings import Settings
from keys.generate import generate_keys
from tests.accounts import add_account, migrated_sqlite, run_on_store
from tests.api.pages.conftest import (
    _free_port,
    _write_devices,
    fill_issue_form,
    open_page,
    serving,
)
from tests.oidc_provider import running_provider

pytestmark = pytest.mark.slow

SUBJECT = "pharmacist-7f3a"


@pytest.fixture(scope="module")
def login_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service with logins on, on a free port; its base URL."""
    root = tmp_path_factory.mktemp("login-pages")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with running_provider([f"{base_url}/auth/callback"], root) as provider:
        generate_keys(root / "keys", country="LU")
        _write_devices(root / "valuesets.json")
        problems: list[str] = []
        settings = Settings(
            keys_dir=root / "keys",
            database_url=migrated_sqlite(root),
            valuesets_file=root / "valuesets.json",
            rate_pharmacist=Rate.parse("600/minute"),
        )
        settings = replace(settings, oidc=read_oidc_settings(provider.oidc_env(), problems))
        assert not problems
        account = add_account(settings.database_url, name="Pharmacie du Centre", role="pharmacist")
        run_on_store(
            settings.database_url,
            lambda store: store.members.add(
                account_id=account.account.id,
                subject=SUBJECT,
                role="issuer",
                register_number=None,
                now=int(time.time()),
            ),
        )
        with serving(settings, port):
            yield base_url


@pytest.mark.parametrize(
    ("locale", "logged_in", "logged_out"),
    [
        ("en-GB", "Logged in for Pharmacie du Centre (issuer).", "You are logged out."),
        ("fr-FR", "Connecté pour Pharmacie du Centre (issuer).", "Vous êtes déconnecté."),
    ],
)
def test_a_pharmacist_logs_in_issues_and_logs_out(
    browser: Any, login_service: str, tmp_path: Path, locale: str, logged_in: str, logged_out: str
) -> None:
    from playwright.sync_api import expect

    browse = open_page(browser, login_service, locale=locale)
    page = browse.page
    try:
        browse.goto("/")
        expect(page.locator("#login-section")).to_be_visible()
        expect(page.locator("#key-section")).to_be_hidden()
        expect(page.locator("#issue-form")).to_be_hidden()
        page.click("#login-link")
        page.fill("#login", SUBJECT)  # the provider's own login page
        page.click("#sign-in")
        expect(page.locator("#session-status-text")).to_have_text(logged_in)
        expect(page.locator("#issue-form")).to_be_visible()
        fill_issue_form(page)
        page.click("#submit")
        expect(page.locator("#result")).to_be_visible()
        assert page.inner_text("#result-uvci").startswith("URN:UVCI:01:LU:")
        # the result's own requests (QR image) first: one still in flight when the session
        # ends is answered 401, which Chromium logs as a console error
        page.wait_for_load_state("networkidle")
        page.click("#logout")
        expect(page.locator("#login-error")).to_have_text(logged_out)
        expect(page.locator("#login-section")).to_be_visible()
        expect(page.locator("#issue-form")).to_be_hidden()
        cookies = {cookie["name"] for cookie in page.context.cookies()}
        assert "dcc_session" not in cookies
        page.reload()
        expect(page.locator("#login-section")).to_be_visible()
        browse.assert_clean()
    finally:
        page.context.close()


def test_a_login_that_is_no_member_comes_back_with_an_explanation(
    browser: Any, login_service: str
) -> None:
    from playwright.sync_api import expect

    browse = open_page(browser, login_service)
    page = browse.page
    try:
        browse.goto("/")
        page.click("#login-link")
        page.fill("#login", "someone-else")
        page.click("#sign-in")
        expect(page.locator("#login-error")).to_contain_text("not a member of an organisation")
        assert "login_error" not in page.url
        expect(page.locator("#issue-form")).to_be_hidden()
        browse.assert_clean()
    finally:
        page.context.close()
