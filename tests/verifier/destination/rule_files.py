"""Rule files for the destination tests: a valid gateway-format rule, tweakable."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

BASE_RULE: dict[str, Any] = {
    "Identifier": "TR-IT-0001",
    "Type": "Acceptance",
    "Country": "IT",
    "Version": "1.0.0",
    "SchemaVersion": "1.0.0",
    "Engine": "CERTLOGIC",
    "EngineVersion": "1.0.0",
    "CertificateType": "Test",
    "Description": [
        {"lang": "en", "desc": "The sample must have been taken at most 48 hours ago."},
        {"lang": "it", "desc": "Il campione deve essere stato rilevato nelle ultime 48 ore."},
    ],
    "ValidFrom": "2021-07-01T00:00:00Z",
    "ValidTo": "2030-06-01T00:00:00Z",
    "AffectedFields": ["t.0.sc"],
    "Logic": {
        "not-after": [
            {"plusTime": [{"var": "external.validationClock"}, 0, "day"]},
            {"plusTime": [{"var": "payload.t.0.sc"}, 48, "hour"]},
        ]
    },
}


def rule(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`BASE_RULE` with ``changes`` (a None value removes the key)."""
    out = copy.deepcopy(BASE_RULE)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def write_rules(folder: Path, name: str, *rules: dict[str, Any]) -> Path:
    """Write one rule object (or an array for several) to ``folder/name``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    data: Any = rules[0] if len(rules) == 1 else list(rules)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
