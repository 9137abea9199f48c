"""The service signing with a DSC key in a SoftHSM2 token: ``dcc keys rotate --pkcs11``,
issue and verify, retire, and the token removed and restored under load (503 + Retry-After
while it is gone, nothing else; the pool reconnects by itself)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api.ratelimit import Rate
from cli import main
from keys.generate import generate_keys
from keys.lifecycle import retire_dsc, rotate_dsc
from keys.manifest import read_manifest
from tests.api.conftest import ServiceFactory
from tests.softhsm import SoftHsm, softhsm
from tests.waiting import async_wait_until


@pytest.fixture
def hsm() -> SoftHsm:
    return softhsm()


@pytest.fixture
def hsm_keys(tmp_path: Path, hsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A keys directory whose active DSC key was made in the token by the CLI."""
    directory = tmp_path / "keys"
    generate_keys(directory, country="LU")
    pin_file = tmp_path / "pin"
    pin_file.write_text(hsm.pin + "\n")
    monkeypatch.setenv("DCC_KEYS_DIR", str(directory))
    monkeypatch.setenv("DCC_PKCS11_MODULE", str(hsm.module))
    monkeypatch.setenv("DCC_PKCS11_TOKEN", hsm.token)
    monkeypatch.setenv("DCC_PKCS11_PIN_FILE", str(pin_file))
    assert main(["keys", "rotate", "--pkcs11", "--activate-at", "now"]) == 0
    return directory


def _changes(hsm: SoftHsm, keys: Path) -> dict[str, Any]:
    return {
        "keys_dir": keys,
        "pkcs11_module": hsm.module,
        "pkcs11_token": hsm.token,
        "pkcs11_pin": hsm.pin,
        "rate_verify": Rate.parse("100000/minute"),
        "rate_lab": Rate.parse("100000/minute"),
        "signer_timeout": 5.0,
    }


async def test_issue_verify_and_retire_with_a_token_key(
    start_service: ServiceFactory,
    hsm: SoftHsm,
    hsm_keys: Path,
    make_request: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token_dsc = read_manifest(hsm_keys).dscs[1]
    assert (token_dsc.backend, token_dsc.key_file) == ("pkcs11", None)
    assert token_dsc.token_key_label is not None
    assert not list(hsm_keys.glob("dsc-*.key"))
    assert main(["keys", "list", "--no-register"]) == 0
    assert "pkcs11" in capsys.readouterr().out
    service = await start_service(_changes(hsm, hsm_keys))
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth()
    )
    assert response.status_code == 201
    assert response.json()["kid"] == token_dsc.kid
    report = await service.client.post("/v1/verify", json={"hc1": response.json()["hc1"]})
    assert report.json()["valid"] is True
    file_dsc = rotate_dsc(hsm_keys, activates_at=datetime.now(UTC)).record
    retire_dsc(hsm_keys, token_dsc.kid)

    async def switched() -> bool:
        issued = await service.client.post(
            "/v1/certificates", json=make_request(), headers=service.auth()
        )
        return issued.status_code == 201 and issued.json()["kid"] == file_dsc.kid

    await async_wait_until(switched, what="signing with the file DSC after retiring the token's")
    again = await service.client.post("/v1/verify", json={"hc1": response.json()["hc1"]})
    assert again.json()["valid"] is True


async def test_a_service_without_pkcs11_settings_refuses_a_token_dsc(
    settings: Any, hsm_keys: Path
) -> None:
    import dataclasses

    from api.app import create_app
    from signing.errors import ConfigError

    app = create_app(dataclasses.replace(settings, keys_dir=hsm_keys))
    with pytest.raises(ConfigError) as caught:
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover
    assert caught.value.code == "pkcs11_not_configured"


@pytest.mark.slow
async def test_token_removed_and_restored_under_load(
    start_service: ServiceFactory, hsm: SoftHsm, hsm_keys: Path, make_request: Any
) -> None:
    service = await start_service(_changes(hsm, hsm_keys))
    statuses: list[int] = []
    missing_retry_after: list[int] = []
    phase = {"name": "before"}
    counts = {"before": 0, "removed": 0, "after": 0}
    ok_after = {"n": 0}

    async def client() -> None:
        while ok_after["n"] < 30:
            response = await service.client.post(
                "/v1/certificates", json=make_request(), headers=service.auth()
            )
            statuses.append(response.status_code)
            counts[phase["name"]] += 1
            if response.status_code == 503 and "Retry-After" not in response.headers:
                missing_retry_after.append(response.status_code)
            if response.status_code == 503:
                assert response.json()["code"] == "hsm_unavailable"
            if phase["name"] == "after" and response.status_code == 201:
                ok_after["n"] += 1
            await asyncio.sleep(0)

    async def unplug() -> None:
        await async_wait_until(lambda: counts["before"] >= 20, what="load before removal")
        with hsm.removed():
            phase["name"] = "removed"
            await async_wait_until(lambda: 503 in statuses, what="a 503 while the token is gone")
        phase["name"] = "after"

    await asyncio.wait_for(asyncio.gather(unplug(), *(client() for _ in range(4))), 60)
    assert set(statuses) <= {201, 503}
    assert missing_retry_after == []
    assert statuses.count(503) >= 1
    assert ok_after["n"] >= 30
