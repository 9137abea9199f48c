"""``dcc accounts add | list | set-rate | disable | enable | remove | rotate-key | ensure-dev |
import``: the API accounts, kept in the store (``DCC_DATABASE_URL``).

``add`` prints the new API key alone on the last line (it is shown once: the store keeps
only its hash); ``rotate-key`` prints the new key the same way and keeps the old one valid
for ``--grace`` (default one hour) so a lab can switch without downtime. Every change
reaches running servers within a second, without a restart. ``ensure-dev`` is the ``make
run`` step: it creates a lab account named ``dev`` when there is none and writes its key to
``--key-file`` (default ``var/dev-api-key``, mode 0600). ``import`` brings in the accounts
file of earlier versions with their ids, keys and quotas.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final, TypeVar

from api.accounts import account_of, rate_limit_of, rate_text
from api.ratelimit.rate import Rate
from api.settings import Settings
from cli.accounts_file import read_accounts_file
from cli.db import with_store
from signing.errors import ConfigError
from store import Store
from store.accounts import KINDS, ROLES, AccountError, AccountRecord

__all__ = ["DEV_ACCOUNT_NAME", "DEV_KEY_FILE", "register"]

DEV_ACCOUNT_NAME: Final = "dev"
DEV_KEY_FILE: Final = Path("var/dev-api-key")
_GRACE: Final = re.compile(r"([0-9]+)\s*([smhd]?)")
_UNIT_SECONDS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = subparsers.add_parser("accounts", help="manage API accounts and keys")
    actions = accounts.add_subparsers(title="actions", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="create an account; prints its API key once, alone on the last line",
        description="Create an API account. The key is printed once; only its SHA-256 hash "
        "is stored.",
    )
    add.add_argument("--name", required=True, help="a unique account name (1-80 characters)")
    add.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="lab accounts may batch; operator accounts revoke and issue nothing",
    )
    add.add_argument(
        "--kind", choices=KINDS, default=None, help="the organisation (default: by the role)"
    )
    _rate_arguments(add, "the role's, DCC_RATE_PHARMACIST or DCC_RATE_LAB")
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list accounts (id, role, status, quota, name)")
    listing.add_argument("--all", action="store_true", help="include removed accounts")
    listing.set_defaults(handler=run_list)

    set_rate = actions.add_parser("set-rate", help="give an account its own issuance quota")
    set_rate.add_argument("id", help="the account id")
    _rate_arguments(set_rate, None)
    set_rate.set_defaults(handler=run_set_rate)

    set_scope = actions.add_parser(
        "set-scope", help="bind an account to a key scope (it signs with that scope's DSC)"
    )
    set_scope.add_argument("id", help="the account id")
    set_scope.add_argument("scope", help="a scope of `dcc keys rotate --scope`, or 'default'")
    set_scope.set_defaults(handler=run_set_scope)

    for name, status, text in (
        ("disable", "disabled", "refuse the account's keys until it is enabled again"),
        ("enable", "active", "let a disabled account issue again"),
        ("remove", "removed", "remove the account for good (its register rows stay)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", help="the account id")
        action.set_defaults(handler=run_status, status=status)

    rotate = actions.add_parser(
        "rotate-key", help="a new API key; the old one keeps working for --grace (default 1h)"
    )
    rotate.add_argument("id", help="the account id")
    rotate.add_argument("--grace", default="1h", help="e.g. 0, 30m, 1h, 2d (default 1h)")
    rotate.set_defaults(handler=run_rotate_key)

    dev = actions.add_parser(
        "ensure-dev", help="create the 'dev' lab account if missing; its key goes to --key-file"
    )
    dev.add_argument("--key-file", type=Path, default=DEV_KEY_FILE, help="default var/dev-api-key")
    dev.set_defaults(handler=run_ensure_dev)

    load = actions.add_parser("import", help="import an accounts file of earlier versions")
    load.add_argument("file", type=Path, help="e.g. var/accounts.json")
    load.set_defaults(handler=run_import)


def _rate_arguments(parser: argparse.ArgumentParser, default: str | None) -> None:
    """``--rate`` (required when there is no ``default``; ``default`` resets) and ``--burst``."""
    spelled = "issuance quota as <count>/<second|minute|hour>, e.g. 100/minute"
    parser.add_argument(
        "--rate",
        required=default is None,
        help=f"{spelled} (default: {default})"
        if default
        else f"{spelled}, or 'default' for the role's (DCC_RATE_PHARMACIST / DCC_RATE_LAB)",
    )
    parser.add_argument(
        "--burst", type=int, default=None, help="cells available at once (default: the count)"
    )


def _rate(args: argparse.Namespace) -> Rate | None:
    """The ``--rate``/``--burst`` pair (None for no or ``default`` rate); ConfigError if bad."""
    text: str | None = args.rate
    burst: int | None = args.burst
    if text is None or text == "default":
        if burst is not None:
            raise ConfigError("--burst needs --rate", code="rate_invalid")
        return None
    rate = Rate.parse(text, burst)
    if rate.period_seconds not in (1.0, 60.0, 3600.0):
        raise ConfigError("an account rate is per second, minute or hour", code="rate_invalid")
    return rate


def _with_store(work: Callable[[Store], Awaitable[T]]) -> T:
    """Run ``work`` on the store of ``DCC_DATABASE_URL`` (checked to be up to date)."""
    return with_store(Settings.from_env().database_url, work)


def _now() -> int:
    return int(time.time())


def _describe(record: AccountRecord) -> str:
    account = account_of(record)
    quota = rate_text(account.rate) if account.rate is not None else "role default"
    line = f"{record.id}  {record.role:<10}  {record.status:<8}  {quota:<14}  {record.name}"
    return line if record.scope is None else f"{line}  (scope {record.scope})"


def run_add(args: argparse.Namespace) -> int:
    rate = rate_limit_of(_rate(args))
    created = _with_store(
        lambda store: store.accounts.add(
            name=args.name, role=args.role, rate=rate, now=_now(), kind=args.kind
        )
    )
    account = account_of(created.account)
    print(f"created {account.role} account {account.name!r} (id {account.id}, {account.kind})")
    if account.rate is not None:
        print(f"issuance quota: {rate_text(account.rate)}")
    print("API key (shown once; send it as 'Authorization: Bearer <key>'):")
    print(created.api_key)
    return 0


def run_list(args: argparse.Namespace) -> int:
    records = _with_store(lambda store: store.accounts.list(include_removed=args.all))
    print(f"{len(records)} account(s)")
    for record in records:
        print(_describe(record))
    return 0


def run_set_rate(args: argparse.Namespace) -> int:
    rate = rate_limit_of(_rate(args))
    record = _with_store(lambda store: store.accounts.set_rate(args.id, rate, now=_now()))
    account = account_of(record)
    quota = rate_text(account.rate) if account.rate is not None else "its role's"
    print(f"account {account.name!r} (id {account.id}) now has issuance quota {quota}")
    return 0


def run_set_scope(args: argparse.Namespace) -> int:
    from keys.manifest import check_scope

    scope = None if args.scope == "default" else check_scope(args.scope)
    record = _with_store(lambda store: store.accounts.set_scope(args.id, scope, now=_now()))
    where = f"scope {scope!r}" if scope is not None else "the default scope"
    print(f"account {record.name!r} (id {record.id}) now signs with the active DSC of {where}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    status = args.status
    record = _with_store(lambda store: store.accounts.set_status(args.id, status, now=_now()))
    print(f"account {record.name!r} (id {record.id}) is now {record.status}")
    return 0


def _grace_seconds(text: str) -> int:
    match = _GRACE.fullmatch(text.strip())
    if match is None:
        raise ConfigError("--grace is a duration such as 0, 30m, 1h or 2d", code="grace_invalid")
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def run_rotate_key(args: argparse.Namespace) -> int:
    grace = _grace_seconds(args.grace)
    created = _with_store(lambda store: store.accounts.rotate_key(args.id, now=_now(), grace=grace))
    print(f"new key for account {created.account.name!r} (id {created.account.id})")
    print(f"its other keys stop working in {grace} s")
    print("API key (shown once):")
    print(created.api_key)
    return 0


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte (replacing it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.replace(temporary, path)


def run_ensure_dev(args: argparse.Namespace) -> int:
    key_file: Path = args.key_file

    async def ensure(store: Store) -> tuple[AccountRecord, str | None]:
        existing = await store.accounts.by_name(DEV_ACCOUNT_NAME)
        if existing is not None and existing.status != "removed":
            return existing, None
        created = await store.accounts.add(name=DEV_ACCOUNT_NAME, role="lab", rate=None, now=_now())
        return created.account, created.api_key

    account, api_key = _with_store(ensure)
    if api_key is None:
        print(f"dev account exists: {account.role} account 'dev' (id {account.id})")
        if key_file.exists():
            print(f"its API key is in {key_file}")
        else:
            print(
                f"its key cannot be shown again ({key_file} is missing): run "
                f"`dcc accounts rotate-key {account.id} --grace 0` for a new one"
            )
        return 0
    _write_private(key_file, api_key + "\n")
    print(f"created lab account 'dev' (id {account.id})")
    print(f"its API key is in {key_file} (mode 0600):")
    print(api_key)
    return 0


def run_import(args: argparse.Namespace) -> int:
    accounts = read_accounts_file(args.file)

    async def load(store: Store) -> list[str]:
        done = []
        for entry in accounts:
            try:
                await store.accounts.import_account(
                    account_id=entry.id,
                    name=entry.name,
                    role=entry.role,
                    rate=rate_limit_of(entry.rate),
                    created_at=entry.created_at,
                    key_hash=entry.key_hash,
                )
            except AccountError as error:
                if error.code != "account_exists":
                    raise
                print(f"skipped {entry.name!r} (id {entry.id}): already in the store")
            else:
                done.append(entry.id)
        return done

    imported = _with_store(load)
    print(f"imported {len(imported)} of {len(accounts)} account(s) from {args.file}")
    return 0
