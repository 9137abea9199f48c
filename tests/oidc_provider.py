"""A real OpenID provider for the tests: panva's ``oidc-provider`` (tests/oidc) on loopback.

:class:`OidcProvider` runs ``node tests/oidc/provider.mjs`` on a free port of 127.0.0.1 and
waits until its discovery document answers. :meth:`OidcProvider.log_in` drives the
provider's login interaction the way a browser would (follow its redirects, post the form
with a subject id), from an authorization URL to the client's redirect URI with the code.
:meth:`OidcProvider.access_token` is a client getting an access token (a JWT for a resource)
through the same code flow with PKCE. Tests skip when node or the installed package is
missing (``make test`` installs it: ``npm ci`` in tests/oidc).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.waiting import wait_until

__all__ = ["API_AUDIENCE", "CLIENT_ID", "OTHER_AUDIENCE", "OidcProvider", "running_provider"]

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "dcc-pages"
API_AUDIENCE = "urn:dcc:api"
OTHER_AUDIENCE = "urn:other:api"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OidcProvider:
    """One running provider: its issuer URL and the one client registered at it."""

    def __init__(self, port: int, secret: str, redirect_uris: Sequence[str], log: Path):
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}"
        self.client_secret = secret
        self.redirect_uris = list(redirect_uris)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the provider (new signing keys every time) and wait until it answers."""
        node = shutil.which("node")
        assert node is not None
        env = {
            **os.environ,
            "PORT": str(self.port),
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": self.client_secret,
            "REDIRECT_URIS": ",".join(self.redirect_uris),
            "RESOURCE": API_AUDIENCE,
            "OTHER_RESOURCE": OTHER_AUDIENCE,
        }
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                [node, "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.process = process

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"oidc-provider exited: {self.log.read_text()}")
            try:
                found = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1)
            except httpx.HTTPError:
                return False
            return found.status_code == 200

        wait_until(
            answers, what=lambda: f"oidc-provider answering: {self.log.read_text()}", interval=0.05
        )

    def stop(self) -> None:
        """Stop the provider (SIGTERM, then SIGKILL)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        """The same provider, same port, with new signing keys (a key rotation)."""
        self.stop()
        self.start()

    def oidc_env(self, **extra: str) -> dict[str, str]:
        """``DCC_OIDC_*`` settings for a service using this provider."""
        return {
            "DCC_OIDC_ISSUER": self.issuer,
            "DCC_OIDC_CLIENT_ID": CLIENT_ID,
            "DCC_OIDC_CLIENT_SECRET": self.client_secret,
            "DCC_OIDC_AUDIENCE": API_AUDIENCE,
            "DCC_OIDC_ALGORITHMS": "ES256",
            "DCC_OIDC_SCOPES": "openid professional",
            **extra,
        }

    def log_in(
        self, authorization_url: str, subject: str, register_number: str | None = None
    ) -> str:
        """Log ``subject`` in at the provider; the redirect URI it answers with (code, state)."""
        with httpx.Client(timeout=10.0) as browser:
            url = authorization_url
            for _ in range(10):
                response = browser.get(url)
                if response.status_code == 200 and "/interaction/" in str(response.url):
                    form = {"login": subject, "register_number": register_number or ""}
                    response = browser.post(str(response.url), data=form)
                if response.status_code not in (302, 303):
                    raise AssertionError(
                        f"provider answered {response.status_code}: {response.text}"
                    )
                url = urljoin(str(response.url), response.headers["location"])
                if not url.startswith(self.issuer):
                    return url
        raise AssertionError("the provider never redirected back to the client")

    def access_token(self, redirect_uri: str, subject: str, resource: str = API_AUDIENCE) -> str:
        """An access token (JWT for ``resource``) for ``subject``: code flow with PKCE."""
        verifier = secrets.token_urlsafe(48)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": redirect_uri,
                "scope": "openid dcc",
                "state": secrets.token_urlsafe(16),
                "nonce": secrets.token_urlsafe(16),
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
                "resource": resource,
            }
        )
        back = self.log_in(f"{self.issuer}/auth?{query}", subject)
        code = parse_qs(urlsplit(back).query)["code"][0]
        answer = httpx.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "resource": resource,
            },
            auth=(CLIENT_ID, self.client_secret),
            timeout=10.0,
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


@contextmanager
def running_provider(redirect_uris: Sequence[str], workdir: Path) -> Iterator[OidcProvider]:
    """A provider whose client accepts ``redirect_uris``; stopped on exit."""
    if shutil.which("node") is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("needs node and tests/oidc/node_modules (make test runs npm ci there)")
    provider = OidcProvider(
        _free_port(), secrets.token_urlsafe(24), redirect_uris, workdir / "oidc-provider.log"
    )
    try:
        provider.start()
        yield provider
    finally:
        provider.stop()
