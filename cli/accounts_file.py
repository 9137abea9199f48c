"""Reading the accounts file of earlier versions (``var/accounts.json``) for ``dcc accounts
import``: accounts now live in the store, and an import keeps their ids and keys working.

The file is JSON ``{"version": 1, "accounts": [{"id", "name", "role", "created_at",
"key_hash", "rate"?, "burst"?}]}``; ``key_hash`` is the hex SHA-256 of the whole API key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from api.ratelimit.rate import Rate
from signing.errors import ConfigError

__all__ = ["FileAccount", "read_accounts_file"]

FILE_VERSION: Final = 1
MAX_FILE_BYTES: Final = 16 * 1024 * 1024
_FIELDS: Final = ("id", "name", "role", "created_at", "key_hash")
_RATE_FIELDS: Final = ("rate", "burst")


@dataclass(frozen=True, slots=True)
class FileAccount:
    """One account of the old file."""

    id: str
    name: str
    role: str
    created_at: int
    key_hash: str
    rate: Rate | None


def _invalid(path: Path, problem: str) -> ConfigError:
    return ConfigError(f"{path}: {problem}", code="accounts_file_invalid", path=str(path))


def read_accounts_file(path: Path) -> list[FileAccount]:
    """Every account of ``path``; raise ConfigError (``accounts_file_invalid``) if broken."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _invalid(path, f"cannot be read ({exc.strerror})") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise _invalid(path, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise _invalid(path, "is not valid JSON") from exc
    if not isinstance(document, dict) or document.get("version") != FILE_VERSION:
        raise _invalid(path, f'must be an object with "version": {FILE_VERSION}')
    entries = document.get("accounts")
    if not isinstance(entries, list):
        raise _invalid(path, '"accounts" must be a list')
    return [_account(entry, path, index) for index, entry in enumerate(entries)]


def _account(entry: object, path: Path, index: int) -> FileAccount:
    if not isinstance(entry, dict) or not set(_FIELDS) <= set(entry) <= {*_FIELDS, *_RATE_FIELDS}:
        fields = f"{', '.join(_FIELDS)} (and optionally {', '.join(_RATE_FIELDS)})"
        raise _invalid(path, f"account #{index} must have exactly the fields {fields}")
    values = [entry[name] for name in _FIELDS]
    if not all(isinstance(value, str) for value in values):
        raise _invalid(path, f"account #{index}: every field must be a string")
    account_id, name, role, created_at, key_hash = values
    if not re.fullmatch(r"[0-9a-f]{16}", account_id) or not re.fullmatch(r"[0-9a-f]{64}", key_hash):
        raise _invalid(path, f"account #{index}: bad id or key_hash")
    try:
        created = int(datetime.fromisoformat(created_at).timestamp())
    except ValueError as exc:
        raise _invalid(path, f"account #{index}: created_at is not a date-time") from exc
    return FileAccount(account_id, name, role, created, key_hash, _rate(entry, path, index))


def _rate(entry: dict[str, Any], path: Path, index: int) -> Rate | None:
    text, burst = entry.get("rate"), entry.get("burst")
    if text is None and burst is None:
        return None
    if not isinstance(text, str) or not (burst is None or type(burst) is int):
        raise _invalid(path, f"account #{index}: rate must be a string and burst an integer")
    try:
        return Rate.parse(text, burst)
    except ConfigError as exc:
        raise _invalid(path, f"account #{index}: {exc.message}") from exc
