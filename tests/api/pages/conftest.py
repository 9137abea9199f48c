"""Fixtures for the end-to-end page tests: the real app on a loopback port, Debian's Chromium.

The service is ``create_app(settings)`` served by uvicorn in a thread on a free port of
127.0.0.1 (keys, a device list and a pharmacist account in a temporary directory). The
browser is Debian's ``/usr/bin/chromium`` driven by Playwright (the PyPI package bundles its
driver; no browser is ever downloaded); without it the tests skip. Every page gets a fresh
context in which any request to a host other than 127.0.0.1 is aborted and recorded, and
console errors and page errors are collected: each test ends with :meth:`Browse.assert_clean`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from cryptography import x509

from api.app import create_app
from api.ratelimit import Rate
from api.settings import Settings
from keys.generate import generate_keys
from tests.accounts import add_account, migrated_sqlite

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEZONE = "Europe/Luxembourg"
DEVICES = {
    "1232": "Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test",
    "1268": "LumiraDX UK Ltd, LumiraDx SARS-CoV-2 Ag Test",
    "345": "Siemens Healthineers, CLINITEST Rapid Covid-19 Antigen Test",
}


@dataclass(frozen=True)
class LiveService:
    """The running service: its base URL, a pharmacist's API key and the DSC to trust."""

    base_url: str
    api_key: str
    dsc: x509.Certificate
    settings: Settings


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _write_devices(path: Path) -> None:
    values = {
        device_id: {"display": name, "lang": "en", "active": True, "system": "", "version": ""}
        for device_id, name in DEVICES.items()
    }
    document = {
        "valueSetId": "covid-19-lab-test-manufacturer-and-name",
        "valueSetDate": "2021-07-01",
        "valueSetValues": values,
    }
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture(scope="session")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The service on a free loopback port for the whole session."""
    root = tmp_path_factory.mktemp("pages")
    generated = generate_keys(root / "keys", country="LU")
    _write_devices(root / "valuesets.json")
    settings = Settings(
        keys_dir=root / "keys",
        database_url=migrated_sqlite(root),
        valuesets_file=root / "valuesets.json",
        rate_pharmacist=Rate.parse("600/minute"),
        rate_verify=Rate.parse("600/minute"),
        trust_lists=(root / "trust",),  # imported trust lists (issue 16): read every 50 ms
        trust_lists_refresh=0.05,
    )
    account = add_account(settings.database_url, name="Pharmacie du Centre", role="pharmacist")
    port = _free_port()
    dsc = x509.load_pem_x509_certificate(generated.dsc_cert_path.read_bytes())
    with serving(settings, port):
        yield LiveService(f"http://127.0.0.1:{port}", account.api_key, dsc, settings)


@contextlib.contextmanager
def serving(settings: Settings, port: int) -> Iterator[None]:
    """The app of ``settings`` under uvicorn in a thread on ``port``, until the block ends."""
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dcc-pages-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the service did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright (skips when /usr/bin/chromium is missing).

    Module scope on purpose: Playwright's sync API keeps its event loop marked as running
    in this thread while it is open, which would break every asyncio test that runs after
    it; closing it at the end of each module hands the thread back."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(
            "Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Browse:
    """One browser context and page, with what went wrong in it."""

    page: Any
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def assert_clean(self, *, expected_statuses: tuple[int, ...] = ()) -> None:
        """No console error, no uncaught exception, no request that left 127.0.0.1.

        Chromium logs every 4xx answer to ``fetch`` as a console error; the statuses a test
        provokes on purpose are passed as ``expected_statuses``.
        """
        expected = tuple(f"status of {status} " for status in expected_statuses)
        unexpected = [
            text
            for text in self.console_errors
            if not (text.startswith("Failed to load resource") and any(e in text for e in expected))
        ]
        assert self.external_requests == []
        assert self.page_errors == []
        assert unexpected == []


def open_page(
    browser: Any,
    base_url: str,
    *,
    width: int = 1280,
    height: int = 900,
    locale: str = "en-GB",
    **context_options: Any,
) -> Browse:
    """A fresh context (Luxembourg time, downloads on) whose non-loopback requests abort.

    ``context_options`` go to Playwright's ``new_context`` (``is_mobile``, ``has_touch``…).
    """
    context = browser.new_context(
        viewport={"width": width, "height": height},
        timezone_id=TIMEZONE,
        locale=locale,
        accept_downloads=True,
        **context_options,
    )
    page = context.new_page()
    browse = Browse(page, base_url)

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1" or route.request.url.startswith(
            ("blob:", "data:")
        ):
            route.continue_()
        else:
            browse.external_requests.append(route.request.url)
            route.abort()

    def console(message: Any) -> None:
        if message.type == "error":
            browse.console_errors.append(message.text)

    context.route("**/*", guard)
    page.on("console", console)
    page.on("pageerror", lambda exc: browse.page_errors.append(str(exc)))
    return browse


BrowseFactory = Callable[..., Browse]


@pytest.fixture
def open_browse(browser: Any, live_service: LiveService) -> Iterator[BrowseFactory]:
    """Open pages on the live service (keywords of :func:`open_page`); closed after the test."""
    opened: list[Browse] = []

    def factory(**options: Any) -> Browse:
        opened.append(open_page(browser, live_service.base_url, **options))
        return opened[-1]

    try:
        yield factory
    finally:
        for item in opened:
            item.page.context.close()


@pytest.fixture
def browse(open_browse: BrowseFactory) -> Browse:
    """A desktop-sized page on the live service."""
    return open_browse()


def enter_api_key(page: Any, api_key: str) -> None:
    """Give the page the session's API key through its key form."""
    page.fill("#api-key", api_key)
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#issue-form:not([hidden])")


def fill_issue_form(page: Any, **values: str) -> None:
    """Fill the form like a pharmacist: names, date of birth, device by name, facility."""
    page.fill("#family-name", values.get("family_name", "Müller-Schmidt"))
    page.fill("#given-name", values.get("given_name", "Anna Maria"))
    page.fill("#dob", values.get("date_of_birth", "1985-03-02"))
    page.fill("#device-filter", values.get("device_filter", "panbio"))
    page.select_option("#device-select", label=values.get("device", DEVICES["1232"] + " (1232)"))
    page.fill("#facility", values.get("facility", "Pharmacie du Centre, Luxembourg"))


IssueThroughForm = Callable[[Browse], str]


@pytest.fixture
def issue_through_form(live_service: LiveService) -> IssueThroughForm:
    """Issue one certificate through the form of ``browse``; return the UVCI the page shows."""

    def issue(browse: Browse) -> str:
        page = browse.page
        browse.goto("/")
        enter_api_key(page, live_service.api_key)
        fill_issue_form(page)
        page.click("#submit")
        page.wait_for_selector("#result:not([hidden])")
        page.wait_for_function("() => document.getElementById('result-qr').complete")
        uvci: str = page.inner_text("#result-uvci")
        return uvci

    return issue
