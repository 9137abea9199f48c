"""A service with OpenID Connect logins against a real provider (tests/oidc_provider.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from api.audit import AuditTrail
from api.oidc_settings import read_oidc_settings
from store.members import MemberRecord
from tests.oidc_provider import OidcProvider, running_provider

REDIRECT_URI = "http://testserver/auth/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    with running_provider([REDIRECT_URI], tmp_path_factory.mktemp("oidc")) as started:
        yield started


@dataclass
class LoginService:
    """The app (``service``), the provider, the audit lines, two organisations' members."""

    service: Any
    provider: OidcProvider
    audit: list[bytes]

    @property
    def client(self) -> Any:
        return self.service.client

    async def member(
        self, subject: str, *, account_id: str, role: str = "issuer", number: str | None = None
    ) -> MemberRecord:
        resources = self.service.resources
        added: MemberRecord = await resources.store.members.add(
            account_id=account_id, subject=subject, role=role, register_number=number, now=1
        )
        await resources.accounts.refresh()
        return added

    async def log_in(self, subject: str, number: str | None = None) -> dict[str, str]:
        """Log ``subject`` in through the pages' login; the headers of its session."""
        start = await self.client.get("/auth/login")
        assert start.status_code == 303
        back = self.provider.log_in(start.headers["location"], subject, number)
        parts = urlsplit(back)
        answer = await self.client.get(f"{parts.path}?{parts.query}")
        assert answer.status_code == 303, answer.text
        cookie = answer.headers["set-cookie"]
        token = cookie.split(";", 1)[0].split("=", 1)[1]
        headers = {"Cookie": f"dcc_session={token}"}
        session = (await self.client.get("/auth/session", headers=headers)).json()
        assert session["authenticated"] is True
        return {**headers, "X-CSRF-Token": session["csrf_token"]}


@pytest.fixture
async def logins(start_service: Any, provider: OidcProvider, tmp_path: Path) -> LoginService:
    problems: list[str] = []
    oidc = read_oidc_settings(provider.oidc_env(), problems)
    assert not problems
    audit: list[bytes] = []
    service = await start_service({"oidc": oidc}, audit=AuditTrail(audit.extend))
    return LoginService(service, provider, audit)
