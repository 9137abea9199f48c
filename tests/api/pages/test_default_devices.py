"""On default settings (no DCC_VALUESETS_FILE) the service uses the packaged EU device list:
the page can offer devices by name, and an id outside the list is refused on its field.

The HTTP tests run on the ``service`` fixture (tests/api/conftest.py), whose settings leave
``valuesets_file`` at its default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from hcert.valuesets import PACKAGED_DEVICES_FILE


def test_the_packaged_list_is_the_default_and_a_file_overrides_it(tmp_path: Path) -> None:
    assert Settings().valuesets_file == PACKAGED_DEVICES_FILE
    assert Settings.from_env({}).valuesets_file == PACKAGED_DEVICES_FILE
    assert Settings.from_env({"DCC_VALUESETS_FILE": ""}).valuesets_file == PACKAGED_DEVICES_FILE
    chosen = tmp_path / "valuesets.json"
    assert Settings.from_env({"DCC_VALUESETS_FILE": str(chosen)}).valuesets_file == chosen


async def test_default_devices_are_listed_by_name(service: Any) -> None:
    assert service.resources.settings.valuesets_file == PACKAGED_DEVICES_FILE
    response = await service.client.get("/v1/devices")
    assert response.status_code == 200
    body = response.json()
    assert body["configured"] is True
    assert len(body["devices"]) == 86  # the active ones of the 88 packaged
    assert all(device["name"] for device in body["devices"])
    assert {"id": "1232", "name": "Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test"} in (
        body["devices"]
    )
    assert "1065" not in {device["id"] for device in body["devices"]}  # inactive


@pytest.mark.parametrize(
    ("device", "status", "code"),
    [("1232", 201, None), ("99999", 422, "device_unknown"), ("1065", 422, "device_inactive")],
)
async def test_default_settings_accept_only_listed_active_devices(
    service: Any,
    make_request: Callable[..., dict[str, Any]],
    device: str,
    status: int,
    code: str | None,
) -> None:
    response = await service.client.post(
        "/v1/certificates",
        json=make_request(device=device),
        headers=service.auth(service.pharmacist_key),
    )
    assert response.status_code == status, response.text
    if code is not None:
        errors = response.json()["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("test.device", code)]
