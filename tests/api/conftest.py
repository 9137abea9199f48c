"""Fixtures for the HTTP tests: keys and accounts in tmp_path, the app with its lifespan run.

``app_client`` runs ``create_app(settings)`` in process through ``httpx.ASGITransport``;
the lifespan is entered by hand (``app.router.lifespan_context``) because the transport
does not send lifespan events.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.accounts import add_account
from api.app import create_app
from api.ratelimit import Rate
from api.resources import Resources
from api.settings import Settings
from issuer.request import DESIGN_EXAMPLE
from keys.generate import generate_keys


@dataclass(frozen=True)
class Service:
    """A running app, an HTTP client for it, and two API keys."""

    app: FastAPI
    client: httpx.AsyncClient
    lab_key: str
    pharmacist_key: str
    lab_id: str

    @property
    def resources(self) -> Resources:
        resources: Resources = self.app.state.resources
        return resources

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.lab_key}"}


def issue_request(**test_overrides: Any) -> dict[str, Any]:
    """The DESIGN example with a sample taken an hour ago (always acceptable)."""
    body = copy.deepcopy(DESIGN_EXAMPLE)
    sampled = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body["test"]["sample_collected_at"] = sampled.isoformat()
    body["test"].update(test_overrides)
    return body


@pytest.fixture
def make_request() -> Callable[..., dict[str, Any]]:
    """Build valid issue requests (keyword arguments override ``test`` fields)."""
    return issue_request


@pytest.fixture(scope="session")
def session_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ES256 CSCA + DSC for the whole session (read-only for the tests)."""
    directory = tmp_path_factory.mktemp("keys") / "keys"
    generate_keys(directory, country="LU")
    return directory


@pytest.fixture
def settings(session_keys: Path, tmp_path: Path) -> Settings:
    """Settings pointing at the session keys and a fresh accounts file."""
    return Settings(
        keys_dir=session_keys,
        accounts_file=tmp_path / "accounts.json",
        rate_pharmacist=Rate.parse("60/minute"),
        rate_lab=Rate.parse("1000/minute"),
        rate_global=Rate.parse("5000/second"),
        rate_verify=Rate.parse("100/minute"),
    )


ServiceFactory = Callable[..., Any]


@pytest.fixture
async def start_service(settings: Settings) -> AsyncIterator[ServiceFactory]:
    """Start the app (optionally with changed settings / create_app arguments)."""
    stack: list[Any] = []

    async def start(changes: dict[str, Any] | None = None, **app_args: Any) -> Service:
        effective = replace(settings, **(changes or {}))
        lab = add_account(effective.accounts_file, name=f"lab-{len(stack)}", role="lab")
        pharmacist = add_account(
            effective.accounts_file, name=f"pharmacy-{len(stack)}", role="pharmacist"
        )
        app = create_app(effective, **app_args)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        stack.append((lifespan, client))
        return Service(app, client, lab.api_key, pharmacist.api_key, lab.account.id)

    yield start
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def service(start_service: ServiceFactory) -> Service:
    """The app with the default test settings."""
    started: Service = await start_service()
    return started
