"""The EU value sets shipped as package data (hcert/data): present, declared, loadable, and
unchanged copies of the official files in ../shared (those comparisons skip without it)."""

from __future__ import annotations

import json
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import jsonschema
import pytest

from hcert.valuesets import (
    DATA_DIR,
    DEVICE_VALUESET_ID,
    DISEASE_COVID19,
    PACKAGED_DEVICES_FILE,
    PACKAGED_VALUE_SETS,
    RESULT_DETECTED,
    RESULT_NOT_DETECTED,
    TEST_TYPE_NAAT,
    TEST_TYPE_RAT,
    DeviceRegistry,
    packaged_value_set,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_packaged_device_list_loads_with_names() -> None:
    registry = DeviceRegistry.packaged()
    assert registry.configured
    assert len(registry) == 88
    active = registry.devices(active_only=True)
    assert len(active) == 86
    assert all(device.name for device in registry.devices())
    panbio = registry.get("1232")
    assert panbio is not None
    assert panbio.name == "Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test"
    assert registry.check("1232") is None
    unknown = registry.check("99999")
    assert unknown is not None
    assert (unknown.field, unknown.code) == ("test.device", "device_unknown")
    inactive = registry.check("1065")
    assert inactive is not None
    assert inactive.code == "device_inactive"
    assert PACKAGED_DEVICES_FILE.parent == DATA_DIR


def test_the_packaged_value_sets_hold_the_codes_this_package_names() -> None:
    assert packaged_value_set("disease-agent-targeted") == {DISEASE_COVID19: "COVID-19"}
    assert set(packaged_value_set("covid-19-lab-test-type")) == {TEST_TYPE_RAT, TEST_TYPE_NAAT}
    assert set(packaged_value_set("covid-19-lab-result")) == {RESULT_NOT_DETECTED, RESULT_DETECTED}
    countries = packaged_value_set("country-2-codes")
    assert len(countries) == 250
    assert countries["LU"] == "Luxembourg"
    devices = packaged_value_set(DEVICE_VALUESET_ID)
    assert {d.id: d.name for d in DeviceRegistry.packaged().devices()} == devices
    with pytest.raises(KeyError):
        packaged_value_set("vaccines-covid-19-names")


def test_every_packaged_file_is_listed_licensed_and_declared_as_package_data() -> None:
    shipped = {path.name for path in DATA_DIR.iterdir()}
    assert shipped == {*PACKAGED_VALUE_SETS.values(), "LICENSE", "NOTICE"}
    assert "Apache License" in (DATA_DIR / "LICENSE").read_text(encoding="utf-8")
    notice = (DATA_DIR / "NOTICE").read_text(encoding="utf-8")
    assert "Apache License, Version 2.0" in notice
    assert "ehn-dcc-development/eu-dcc-valuesets" in notice
    for name, value_set_id in ((n, i) for i, n in PACKAGED_VALUE_SETS.items()):
        assert name in notice
        assert value_set_id in notice
    # setuptools installs exactly what [tool.setuptools.package-data] names.
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["hcert"]
    for name in shipped:
        assert any(fnmatch(f"data/{name}", pattern) for pattern in patterns), name


@pytest.mark.parametrize("value_set_id", sorted(PACKAGED_VALUE_SETS))
def test_each_packaged_file_is_an_unchanged_copy_of_the_official_one(
    value_set_id: str, schema_dir: Path
) -> None:
    name = PACKAGED_VALUE_SETS[value_set_id]
    official = json.loads((schema_dir / "eu-dcc-valuesets" / name).read_text(encoding="utf-8"))
    packaged = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    assert packaged["valueSetId"] == official["valueSetId"] == value_set_id
    assert sorted(packaged["valueSetValues"]) == sorted(official["valueSetValues"])
    assert packaged == official
    schema_file = schema_dir / "eu-dcc-valuesets" / "schemas" / "DCC.ValueSets.schema.json"
    jsonschema.validate(packaged, json.loads(schema_file.read_text(encoding="utf-8")))


def test_every_packaged_device_is_in_the_later_gateway_list(valuesets_file: Path) -> None:
    gateway = {device.id for device in DeviceRegistry.from_file(valuesets_file).devices()}
    assert {device.id for device in DeviceRegistry.packaged().devices()} <= gateway
