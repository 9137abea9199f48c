"""DCC_REVOCATION_LISTS: imported lists (same batch form) are checked by /v1/verify too."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from api.app import create_app
from api.settings import Settings
from hcert.revocation import uci_hash
from signing.errors import DccError
from tests.api.conftest import ServiceFactory
from tests.api.test_revocations import issue, verify_over_http


def test_the_setting_reads_paths_separated_by_colons() -> None:
    settings = Settings.from_env({"DCC_REVOCATION_LISTS": "a.json::b.json"})
    assert settings.revocation_lists == (Path("a.json"), Path("b.json"))
    assert Settings.from_env({}).revocation_lists == ()


async def test_an_imported_list_revokes_and_a_bad_one_stops_the_start(
    start_service: ServiceFactory, settings: Settings, tmp_path: Path
) -> None:
    plain = await start_service()
    issued = await issue(plain)
    imported = tmp_path / "imported.json"
    batch = {
        "country": "LU",
        "expires": "2100-01-01T00:00:00Z",
        "kid": "UNKNOWN_KID",
        "hashType": "UCI",
        "entries": [{"hash": uci_hash(issued["uvci"])}],
    }
    imported.write_text(json.dumps(batch))
    checking = await start_service({"revocation_lists": (imported,)})
    report = await verify_over_http(checking, issued["hc1"])
    assert report["error"]["code"] == "revoked"
    assert "UCI" in report["error"]["message"]
    assert (await verify_over_http(plain, issued["hc1"]))["valid"] is True

    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    app = create_app(dataclasses.replace(settings, revocation_lists=(broken,)))
    with pytest.raises(DccError) as caught:
        async with app.router.lifespan_context(app):
            pass
    assert caught.value.code == "revocation_list_invalid"
