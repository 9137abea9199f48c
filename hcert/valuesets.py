"""EU DCC value-set codes for test certificates, and the RAT device registry.

The fixed codes (disease, test type, result) are constants. The rapid-antigen device list
(value set ``covid-19-lab-test-manufacturer-and-name``, JRC device ids) changes over time,
so :class:`DeviceRegistry` loads it from a file, in either of the two shapes the EU
publishes:

* the value-set format (``{"valueSetId", "valueSetDate", "valueSetValues": {id: {...}}}``),
  with display names and the ``active`` flag;
* the gateway id-list map (``{"covid-19-lab-test-manufacturer-and-name": [ids], ...}``),
  ids only, every id taken as active.

The package ships the EU value sets the service needs under ``hcert/data`` (unchanged
copies of eHealth Network release 2.12.0, Apache-2.0: see ``hcert/data/NOTICE``):
:meth:`DeviceRegistry.packaged` is the 2021-07-01 RAT device list with display names, and
:func:`packaged_value_set` reads any of them (``PACKAGED_VALUE_SETS``). Without any list,
:meth:`DeviceRegistry.format_only` accepts any id that looks like a JRC id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from signing.errors import ConfigError, FieldError

__all__ = [
    "DATA_DIR",
    "DEVICE_VALUESET_ID",
    "DISEASE_COVID19",
    "MAX_VALUESET_FILE_BYTES",
    "PACKAGED_DEVICES_FILE",
    "PACKAGED_VALUE_SETS",
    "RESULT_DETECTED",
    "RESULT_NOT_DETECTED",
    "TEST_TYPE_NAAT",
    "TEST_TYPE_RAT",
    "Device",
    "DeviceRegistry",
    "packaged_value_set",
]

DISEASE_COVID19 = "840539006"
TEST_TYPE_RAT = "LP217198-3"
TEST_TYPE_NAAT = "LP6464-4"
RESULT_NOT_DETECTED = "260415000"
RESULT_DETECTED = "260373001"
DEVICE_VALUESET_ID = "covid-19-lab-test-manufacturer-and-name"

MAX_VALUESET_FILE_BYTES = 8 * 1024 * 1024

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
"""The packaged EU value sets (package data, with their LICENSE and NOTICE)."""
PACKAGED_VALUE_SETS: Final[dict[str, str]] = {
    "country-2-codes": "country-2-codes.json",
    "disease-agent-targeted": "disease-agent-targeted.json",
    DEVICE_VALUESET_ID: "test-manf-example.json",
    "covid-19-lab-result": "test-result.json",
    "covid-19-lab-test-type": "test-type.json",
}
"""Each packaged value set's ``valueSetId`` and its file name under :data:`DATA_DIR`."""
PACKAGED_DEVICES_FILE: Final = DATA_DIR / PACKAGED_VALUE_SETS[DEVICE_VALUESET_ID]
"""The default RAT device list: the EU value-set snapshot of 2021-07-01 (88 devices)."""

# JRC device ids are numeric strings (3 to 5 digits in every published list: "308" ...
# "25546"); six digits leave room for growth. Anything else is certainly not a JRC id.
_DEVICE_ID = re.compile(r"[0-9]{3,6}")
_FIELD = "test.device"
_CODE = "valueset_invalid"


@dataclass(frozen=True, slots=True)
class Device:
    """One RAT device: its JRC id, display name (None when the list has no names), state."""

    id: str
    name: str | None
    active: bool


class DeviceRegistry:
    """The RAT devices this service accepts in ``test.device`` (the ``ma`` field)."""

    def __init__(self, devices: Iterable[Device] | None) -> None:
        """Use :meth:`format_only` or :meth:`from_file`; ``None`` means no list configured."""
        self._devices: dict[str, Device] | None = (
            None if devices is None else {d.id: d for d in devices}
        )

    @classmethod
    def format_only(cls) -> DeviceRegistry:
        """A registry without a list: any id of 3 to 6 ASCII digits is accepted as active."""
        return cls(None)

    @classmethod
    def packaged(cls) -> DeviceRegistry:
        """The RAT device list shipped with the package (:data:`PACKAGED_DEVICES_FILE`)."""
        return cls.from_file(PACKAGED_DEVICES_FILE)

    @classmethod
    def from_file(cls, path: Path) -> DeviceRegistry:
        """Load a value-set file (EU value-set format or gateway id-list map).

        Raises :class:`ConfigError` (code ``valueset_invalid``) when the file is missing,
        larger than 8 MiB, not JSON, or holds no usable device value set.
        """
        data = _read_json(path)
        devices = _parse_devices(data, path)
        if not devices:
            raise _config_error(path, "the device value set is empty")
        return cls(devices)

    @property
    def configured(self) -> bool:
        """True when a device list was loaded (False for :meth:`format_only`)."""
        return self._devices is not None

    def get(self, device_id: str) -> Device | None:
        """The device with that id; for :meth:`format_only`, a nameless active device
        for any well-formed id. None when the id is not accepted."""
        if self._devices is None:
            return Device(device_id, None, True) if _DEVICE_ID.fullmatch(device_id) else None
        return self._devices.get(device_id)

    def check(self, device_id: str) -> FieldError | None:
        """None when ``device_id`` may be used; else the error on ``test.device``.

        Codes: ``device_format`` (not a JRC id), ``device_unknown`` (not in the list),
        ``device_inactive`` (in the list but no longer in the EU common list).
        """
        known = self._devices.get(device_id) if self._devices is not None else None
        if known is not None:
            if known.active:
                return None
            return FieldError(
                _FIELD,
                "device_inactive",
                "this test device is no longer in the EU common list and cannot be used",
            )
        if not _DEVICE_ID.fullmatch(device_id):
            return FieldError(_FIELD, "device_format", "must be an EU RAT device id: 3 to 6 digits")
        if self._devices is not None:
            return FieldError(
                _FIELD, "device_unknown", "this test device is not in the EU RAT device list"
            )
        return None

    def devices(self, *, active_only: bool = False) -> list[Device]:
        """The listed devices sorted by name (case-insensitive), then id; [] without a list."""
        if self._devices is None:
            return []
        chosen = [d for d in self._devices.values() if d.active or not active_only]
        return sorted(chosen, key=_sort_key)

    def __len__(self) -> int:
        return 0 if self._devices is None else len(self._devices)

    def __repr__(self) -> str:
        state = f"{len(self)} devices" if self.configured else "format only"
        return f"DeviceRegistry({state})"


def packaged_value_set(value_set_id: str) -> dict[str, str]:
    """Code -> display name of one packaged value set (a key of :data:`PACKAGED_VALUE_SETS`).

    Raises :class:`KeyError` for a value set that is not packaged and :class:`ConfigError`
    (code ``valueset_invalid``) when its file is unreadable or not that value set.
    """
    path = DATA_DIR / PACKAGED_VALUE_SETS[value_set_id]
    data = _read_json(path)
    if not isinstance(data, Mapping) or data.get("valueSetId") != value_set_id:
        raise _config_error(path, f"valueSetId is not {value_set_id!r}", what="value set")
    values = data.get("valueSetValues")
    if not isinstance(values, Mapping):
        raise _config_error(path, "valueSetValues is not an object", what="value set")
    names: dict[str, str] = {}
    for code, entry in values.items():
        display = entry.get("display") if isinstance(entry, Mapping) else None
        if not isinstance(display, str):
            raise _config_error(path, f"entry {code!r} has no 'display'", what="value set")
        names[code] = display
    return names


def _sort_key(device: Device) -> tuple[bool, str, str]:
    # Names first (None last), then ids in numeric order for the usual digit-only ids.
    return (device.name is None, (device.name or "").casefold(), device.id.zfill(12))


def _config_error(path: Path, problem: str, *, what: str = "device value set") -> ConfigError:
    return ConfigError(f"{what} {path}: {problem}", code=_CODE, path=str(path))


def _read_json(path: Path) -> object:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_VALUESET_FILE_BYTES + 1)
    except OSError as exc:
        raise _config_error(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if len(raw) > MAX_VALUESET_FILE_BYTES:
        raise _config_error(path, f"larger than {MAX_VALUESET_FILE_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _config_error(path, "not valid JSON") from exc


def _parse_devices(data: object, path: Path) -> list[Device]:
    if not isinstance(data, Mapping):
        raise _config_error(path, "expected a JSON object")
    if "valueSetValues" in data:
        if data.get("valueSetId") != DEVICE_VALUESET_ID:
            raise _config_error(path, f"valueSetId is not {DEVICE_VALUESET_ID!r}")
        return _from_value_set(data["valueSetValues"], path)
    if DEVICE_VALUESET_ID in data:
        return _from_id_list(data[DEVICE_VALUESET_ID], path)
    raise _config_error(path, f"holds no {DEVICE_VALUESET_ID!r} value set")


def _from_value_set(values: object, path: Path) -> list[Device]:
    if not isinstance(values, Mapping):
        raise _config_error(path, "valueSetValues is not an object")
    devices = []
    for code, entry in values.items():
        if not isinstance(entry, Mapping) or not code:
            raise _config_error(path, f"entry {code!r} is not an object")
        display = entry.get("display")
        active = entry.get("active", True)
        if not (display is None or isinstance(display, str)) or not isinstance(active, bool):
            raise _config_error(path, f"entry {code!r} has a wrong 'display' or 'active'")
        name = display.strip() if display is not None else ""
        devices.append(Device(code, name or None, active))
    return devices


def _from_id_list(ids: object, path: Path) -> list[Device]:
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise _config_error(path, f"{DEVICE_VALUESET_ID!r} is not a list of id strings")
    return [Device(i, None, True) for i in ids]
