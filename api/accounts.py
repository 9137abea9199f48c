"""API accounts: who may issue, with which role, proven by a random API key.

An API key looks like ``dcc_<id>_<secret>``: ``id`` is the account id (16 hex digits) so a
lookup needs no scan, ``secret`` is ``secrets.token_urlsafe(32)`` (256 random bits). The
accounts file (``DCC_ACCOUNTS_FILE``, JSON, mode 0600, replaced atomically) stores the id,
name, role, creation time and the SHA-256 of the whole key, never the key itself.

An account may hold its own issuance quota (``"rate": "100/minute"``, optional ``"burst"``),
written only when set; without one it gets its role's (``DCC_RATE_PHARMACIST`` / ``_LAB``).

Why a plain SHA-256 and not scrypt/argon2: slow hashes exist to make guessing *low-entropy
passwords* expensive after a leak. These keys carry 256 random bits; no amount of guessing
finds a preimage of their SHA-256, so a slow hash would only cost every request time. The
stored hash is compared with :func:`hmac.compare_digest` (constant time), and an unknown id
is compared against a dummy hash so both paths cost the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

from api.ratelimit.rate import Rate
from keys.files import write_atomically
from signing.errors import ConfigError, DccError

__all__ = [
    "KEY_PREFIX",
    "ROLES",
    "Account",
    "AccountError",
    "AccountStore",
    "NewAccount",
    "Role",
    "add_account",
    "hash_key",
    "parse_key",
    "rate_text",
    "remove_account",
    "set_account_rate",
]

Role = Literal["pharmacist", "lab"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
KEY_PREFIX: Final = "dcc_"
FILE_VERSION: Final = 1
MAX_FILE_BYTES: Final = 16 * 1024 * 1024
MAX_KEY_CHARS: Final = 200
_ID_RE: Final = re.compile(r"[0-9a-f]{16}")
_NAME_RE: Final = re.compile(r"[^\x00-\x1f\x7f]{1,80}")
_DUMMY_HASH: Final = hashlib.sha256(b"no such account").hexdigest()
_FIELDS: Final = ("id", "name", "role", "created_at", "key_hash")
_RATE_FIELDS: Final = ("rate", "burst")
_UNIT_NAMES: Final = {1.0: "second", 60.0: "minute", 3600.0: "hour"}


class AccountError(DccError):
    """An accounts-file operation that cannot be done (name taken, no such account)."""

    default_code = "account_error"


@dataclass(frozen=True, slots=True)
class Account:
    """One API account as stored (``key_hash`` is the hex SHA-256 of its API key).

    ``rate`` is the account's own issuance quota; None means its role's.
    """

    id: str
    name: str
    role: Role
    created_at: str
    key_hash: str
    rate: Rate | None = None


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A just-created account and its API key (the only time the key exists in clear)."""

    account: Account
    api_key: str


def rate_text(rate: Rate) -> str:
    """``"<count>/<unit>"`` as settings spell it, plus ``" (burst <n>)"`` if not the count."""
    text = f"{rate.count}/{_UNIT_NAMES.get(rate.period_seconds, f'{rate.period_seconds:g}s')}"
    return text if rate.burst == rate.count else f"{text} (burst {rate.burst})"


def hash_key(api_key: str) -> str:
    """The hex SHA-256 of an API key (see the module docstring for why SHA-256 suffices)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def parse_key(api_key: str) -> str | None:
    """The account id embedded in ``api_key``, or None when it is not shaped like our keys."""
    if len(api_key) > MAX_KEY_CHARS or not api_key.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = api_key[len(KEY_PREFIX) :].partition("_")
    if not sep or not secret or not _ID_RE.fullmatch(key_id):
        return None
    return key_id


class AccountStore:
    """The accounts of a deployment, read once; answers "whose key is this?"."""

    def __init__(self, accounts: Iterable[Account] = ()) -> None:
        self._by_id: dict[str, Account] = {account.id: account for account in accounts}

    @classmethod
    def load(cls, path: Path) -> AccountStore:
        """Read ``path``; a missing file is an empty store, a broken one a ConfigError."""
        return cls(_read_accounts(path))

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Account]:
        return iter(sorted(self._by_id.values(), key=lambda a: (a.created_at, a.id)))

    def by_name(self, name: str) -> Account | None:
        """The account called ``name``, if any (names are unique)."""
        return next((a for a in self._by_id.values() if a.name == name), None)

    def authenticate(self, api_key: str) -> Account | None:
        """The account ``api_key`` belongs to, or None (constant-time comparison)."""
        key_id = parse_key(api_key)
        account = self._by_id.get(key_id) if key_id is not None else None
        expected = account.key_hash if account is not None else _DUMMY_HASH
        matches = hmac.compare_digest(hash_key(api_key), expected)
        return account if matches and account is not None else None


def add_account(
    path: Path,
    *,
    name: str,
    role: str,
    rate: Rate | None = None,
    now: datetime | None = None,
) -> NewAccount:
    """Create an account with a fresh key in the file at ``path`` (locked, atomic, 0600).

    ``rate`` is the account's own issuance quota (None: its role's, from the settings).
    """
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", code="role_invalid")
    if not _NAME_RE.fullmatch(name) or name != name.strip():
        raise AccountError(
            "name must be 1 to 80 printable characters without surrounding spaces",
            code="account_name_invalid",
        )
    with _locked(path):
        accounts = _read_accounts(path)
        if any(account.name == name for account in accounts):
            raise AccountError(f"an account named {name!r} exists already", code="account_exists")
        taken = {account.id for account in accounts}
        key_id = secrets.token_hex(8)
        while key_id in taken:  # pragma: no cover - 64 random bits
            key_id = secrets.token_hex(8)
        api_key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        created = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        account = Account(key_id, name, role, created, hash_key(api_key), rate)
        _write_accounts(path, [*accounts, account])
    return NewAccount(account, api_key)


def remove_account(path: Path, account_id: str) -> Account:
    """Delete the account ``account_id`` (its key stops working at the next start)."""
    with _locked(path):
        accounts = _read_accounts(path)
        kept = [account for account in accounts if account.id != account_id]
        if len(kept) == len(accounts):
            raise AccountError(f"no account with id {account_id!r}", code="account_not_found")
        _write_accounts(path, kept)
    return next(account for account in accounts if account.id == account_id)


def set_account_rate(path: Path, account_id: str, rate: Rate | None) -> Account:
    """Give account ``account_id`` its own issuance quota, or its role's again with None.

    Servers read accounts at start-up: restart them for the change to apply.
    """
    with _locked(path):
        accounts = _read_accounts(path)
        found = next((account for account in accounts if account.id == account_id), None)
        if found is None:
            raise AccountError(f"no account with id {account_id!r}", code="account_not_found")
        changed = replace(found, rate=rate)
        _write_accounts(path, [changed if a.id == account_id else a for a in accounts])
    return changed


def _invalid(path: Path, problem: str) -> ConfigError:
    return ConfigError(f"{path}: {problem}", code="accounts_file_invalid", path=str(path))


def _read_accounts(path: Path) -> list[Account]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return []
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
    accounts = [_account(entry, path, index) for index, entry in enumerate(entries)]
    if len({account.id for account in accounts}) != len(accounts):
        raise _invalid(path, "two accounts share an id")
    return accounts


def _account(entry: object, path: Path, index: int) -> Account:
    if not isinstance(entry, dict) or not set(_FIELDS) <= set(entry) <= {*_FIELDS, *_RATE_FIELDS}:
        fields = f"{', '.join(_FIELDS)} (and optionally {', '.join(_RATE_FIELDS)})"
        raise _invalid(path, f"account #{index} must have exactly the fields {fields}")
    values = [entry[name] for name in _FIELDS]
    if not all(isinstance(value, str) for value in values):
        raise _invalid(path, f"account #{index}: every field must be a string")
    account_id, name, role, created_at, key_hash = values
    account = Account(account_id, name, role, created_at, key_hash, _entry_rate(entry, path, index))
    if not _ID_RE.fullmatch(account.id) or account.role not in ROLES:
        raise _invalid(path, f"account #{index}: bad id or role")
    if not re.fullmatch(r"[0-9a-f]{64}", account.key_hash):
        raise _invalid(path, f"account #{index}: key_hash must be 64 hex digits")
    return account


def _entry_rate(entry: dict[str, Any], path: Path, index: int) -> Rate | None:
    """The optional ``rate`` (``"<count>/<unit>"``) and ``burst`` (int) of an entry."""
    text, burst = entry.get("rate"), entry.get("burst")
    if text is None and burst is None:
        return None
    if not isinstance(text, str) or not (burst is None or type(burst) is int):
        raise _invalid(path, f"account #{index}: rate must be a string and burst an integer")
    try:
        return Rate.parse(text, burst)
    except ConfigError as exc:
        raise _invalid(path, f"account #{index}: {exc.message}") from exc


def _entry(account: Account) -> dict[str, Any]:
    """The JSON object of one account (the rate fields only when set)."""
    entry: dict[str, Any] = {name: getattr(account, name) for name in _FIELDS}
    rate = account.rate
    if rate is not None:
        if rate.period_seconds not in _UNIT_NAMES:
            raise AccountError("an account rate is per second, minute or hour", code="rate_invalid")
        entry["rate"] = f"{rate.count}/{_UNIT_NAMES[rate.period_seconds]}"
        if rate.burst != rate.count:
            entry["burst"] = rate.burst
    return entry


def _write_accounts(path: Path, accounts: list[Account]) -> None:
    """Write the accounts file whole (0600 temporary file, fsync, rename over it)."""
    document = {"version": FILE_VERSION, "accounts": [_entry(account) for account in accounts]}
    data = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    write_atomically(path, data, 0o600)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise writers of ``path`` (two ``dcc accounts add`` at once) with a lock file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
