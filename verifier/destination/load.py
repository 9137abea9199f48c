"""Loading rule files: Luxembourg's published rules (package data) and an operator's folder.

A rule file holds one rule object, as the EU DCC Gateway serves them, or a JSON array of
rule objects (the form of the eu-dcc-business-rules-analysis repository, whose
``expr-as-text`` annotation is dropped: it is a rendering of ``Logic``, not part of the
gateway format). Every rule is validated against the gateway's validation-rule JSON schema
(package data, Apache-2.0) and its ``Logic`` with :func:`verifier.certlogic.validate`; a
file that fails is refused whole with :class:`signing.errors.ConfigError` (code
``rules_invalid``) naming the file, the rule and the first problem. A folder is read
recursively (``*.json``, sorted), so ``rules/IT/*.json`` and flat folders both work.

Files are bounded (:data:`MAX_RULE_FILE_BYTES`, :data:`MAX_RULE_FILES`) before parsing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from signing.errors import ConfigError
from verifier.certlogic import validate
from verifier.destination.rule import Rule, parse_version

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "MAX_RULE_FILES",
    "MAX_RULE_FILE_BYTES",
    "PACKAGED_RULES_DIR",
    "load_rule_file",
    "load_rules",
    "packaged_rules",
]

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
PACKAGED_RULES_DIR: Final = DATA_DIR / "rules"
"""Luxembourg's published rules (rules/LU/), shipped as package data."""
SCHEMA_FILE: Final = DATA_DIR / "validation-rule.schema.json"
MAX_RULE_FILE_BYTES: Final = 1024 * 1024
MAX_RULE_FILES: Final = 10_000
_ANNOTATIONS: Final = ("expr-as-text",)


@functools.cache
def _schema_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _problem(path: Path, message: str) -> ConfigError:
    return ConfigError(f"rule file {path}: {message}", code="rules_invalid", path=str(path))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rule(data: Any, path: Path) -> Rule:
    if isinstance(data, dict):
        data = {key: value for key, value in data.items() if key not in _ANNOTATIONS}
    errors = sorted(_schema_validator().iter_errors(data), key=lambda error: list(error.path))
    name = data.get("Identifier", "?") if isinstance(data, dict) else "?"
    if errors:
        where = "/".join(str(part) for part in errors[0].absolute_path) or "(rule)"
        raise _problem(path, f"{name}: {where}: {errors[0].message}")
    issues = validate(data["Logic"])
    if issues:
        raise _problem(path, f"{name}: Logic: {issues[0].message}")
    return Rule(
        identifier=data["Identifier"],
        type=data["Type"],
        country=data["Country"],
        region=data.get("Region") or None,
        version=parse_version(data["Version"]),
        schema_version=parse_version(data["SchemaVersion"]),
        engine=data["Engine"],
        engine_version=parse_version(data["EngineVersion"]),
        certificate_type=data["CertificateType"],
        descriptions={item["lang"]: item["desc"] for item in data["Description"]},
        valid_from=_instant(data["ValidFrom"]),
        valid_to=_instant(data["ValidTo"]),
        affected_fields=tuple(data["AffectedFields"]),
        logic=data["Logic"],
        source=str(path),
    )


def load_rule_file(path: Path) -> list[Rule]:
    """The rules of one file (one rule object or an array of them)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as exc:
        raise _problem(path, f"cannot be read: {exc.strerror or exc}") from exc
    if len(raw) > MAX_RULE_FILE_BYTES:
        raise _problem(path, f"larger than {MAX_RULE_FILE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _problem(path, f"not JSON ({exc})") from None
    items = data if isinstance(data, list) else [data]
    return [_rule(item, path) for item in items]


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ConfigError(f"rules folder {folder} is not a directory", code="rules_invalid")
    files = sorted(path for path in folder.rglob("*.json") if path.is_file())
    if len(files) > MAX_RULE_FILES:
        raise ConfigError(
            f"rules folder {folder} holds more than {MAX_RULE_FILES} files", code="rules_invalid"
        )
    return files


def load_rules(folders: Iterable[Path]) -> list[Rule]:
    """Every rule of every ``*.json`` file under ``folders``, in order."""
    return [rule for folder in folders for path in _files(folder) for rule in load_rule_file(path)]


@functools.cache
def packaged_rules() -> tuple[Rule, ...]:
    """The packaged rules (Luxembourg's), loaded once."""
    return tuple(load_rules([PACKAGED_RULES_DIR]))
