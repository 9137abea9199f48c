"""DeviceRegistry: both EU file shapes, the format-only mode, and refused files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hcert.valuesets import (
    DEVICE_VALUESET_ID,
    MAX_VALUESET_FILE_BYTES,
    Device,
    DeviceRegistry,
)
from signing.errors import ConfigError, FieldError


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "valueset.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _codes(error: FieldError | None) -> str | None:
    assert error is None or error.field == "test.device"
    return None if error is None else error.code


def test_gateway_id_list_loads_all_309_ids(valuesets_file: Path) -> None:
    """The gateway map yields 309 nameless, active devices, including 1232."""
    registry = DeviceRegistry.from_file(valuesets_file)
    assert registry.configured
    assert len(registry) == 309
    assert registry.get("1232") == Device("1232", None, True)
    assert _codes(registry.check("1232")) is None
    assert _codes(registry.check("99999")) == "device_unknown"
    assert _codes(registry.check("12a")) == "device_format"


def test_eu_value_set_format_loads_names_and_active_flags(schema_dir: Path) -> None:
    """test-manf-example.json: 88 devices with display names, two of them inactive."""
    registry = DeviceRegistry.from_file(schema_dir / "eu-dcc-valuesets" / "test-manf-example.json")
    assert len(registry) == 88
    panbio = registry.get("1232")
    assert panbio is not None
    assert panbio.name == "Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test"
    assert panbio.active
    assert _codes(registry.check("1232")) is None
    assert _codes(registry.check("1065")) == "device_inactive"  # BD Veritor, removed
    assert _codes(registry.check("2000")) == "device_unknown"
    assert len(registry.devices(active_only=True)) == 86


def test_devices_are_sorted_by_name_then_id(schema_dir: Path) -> None:
    """The web form's picker gets names in case-insensitive order."""
    registry = DeviceRegistry.from_file(schema_dir / "eu-dcc-valuesets" / "test-manf-example.json")
    names = [(d.name or "").casefold() for d in registry.devices()]
    assert names == sorted(names)
    assert names[0].startswith("aaz-lmb")


def test_nameless_devices_sort_by_numeric_id(tmp_path: Path) -> None:
    """Ids without names sort as numbers ("308" before "1065"), names before no names."""
    path = _write(
        tmp_path,
        {
            "valueSetId": DEVICE_VALUESET_ID,
            "valueSetValues": {
                "1065": {"active": True},
                "308": {"active": False},
                "2000": {"display": "b maker", "active": True},
                "1999": {"display": "A maker", "active": True},
            },
        },
    )
    ids = [d.id for d in DeviceRegistry.from_file(path).devices()]
    assert ids == ["1999", "2000", "308", "1065"]


def test_format_only_accepts_jrc_shaped_ids() -> None:
    """No list configured: 3 to 6 ASCII digits pass, anything else is device_format."""
    registry = DeviceRegistry.format_only()
    assert not registry.configured
    assert registry.devices() == []
    assert _codes(registry.check("1232")) is None
    assert registry.get("1232") == Device("1232", None, True)
    for bad in ("12a", "12", "1234567", "", " 1232", "１２３４", "1232\n"):
        assert _codes(registry.check(bad)) == "device_format", bad
        assert registry.get(bad) is None


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"country-2-codes": ["LU"]}', "holds no"),
        (b'{"valueSetId": "covid-19-lab-result", "valueSetValues": {}}', "valueSetId"),
        (b'{"valueSetId": "covid-19-lab-test-manufacturer-and-name", "valueSetValues": []}', "not"),
        (b'{"covid-19-lab-test-manufacturer-and-name": [1232]}', "list of id strings"),
        (b'{"covid-19-lab-test-manufacturer-and-name": []}', "empty"),
        (
            b'{"valueSetId": "covid-19-lab-test-manufacturer-and-name",'
            b' "valueSetValues": {"1232": {"active": "yes"}}}',
            "active",
        ),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_garbage_files_are_refused(tmp_path: Path, content: bytes, fragment: str) -> None:
    """Anything that is not a device value set raises ConfigError valueset_invalid."""
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=fragment) as caught:
        DeviceRegistry.from_file(path)
    assert caught.value.code == "valueset_invalid"


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    """A path that cannot be read gives ConfigError, not OSError."""
    for path in (tmp_path / "absent.json", tmp_path):
        with pytest.raises(ConfigError) as caught:
            DeviceRegistry.from_file(path)
        assert caught.value.code == "valueset_invalid"


def test_oversize_file_is_refused_without_parsing(tmp_path: Path) -> None:
    """Files above 8 MiB are refused even when they would be valid JSON."""
    path = tmp_path / "big.json"
    ids = json.dumps([str(i) for i in range(1000, 1100)])
    padding = " " * (MAX_VALUESET_FILE_BYTES + 1)
    path.write_text(f'{{"{DEVICE_VALUESET_ID}": {ids}{padding}}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="larger than") as caught:
        DeviceRegistry.from_file(path)
    assert caught.value.code == "valueset_invalid"
