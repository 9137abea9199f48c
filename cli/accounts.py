"""``dcc accounts add | list | set-rate | remove | ensure-dev``: the API accounts file.

Accounts live in ``DCC_ACCOUNTS_FILE``.

``add`` prints the new API key alone on the last line (it is shown once: the file keeps
only its hash). ``ensure-dev`` is the ``make run`` step: it creates a lab account named
``dev`` when there is none and writes its key to ``dev-api-key`` beside the accounts file
(mode 0600), so a developer can always find it again; a running server reads accounts at
start-up, so restart it after adding or removing one. ``add --rate`` and ``set-rate`` give an
account its own issuance quota (``100/minute``, optional ``--burst``) instead of its role's.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Final

from api.accounts import (
    ROLES,
    AccountStore,
    add_account,
    rate_text,
    remove_account,
    set_account_rate,
)
from api.ratelimit.rate import Rate
from api.settings import Settings
from signing.errors import ConfigError

__all__ = ["DEV_ACCOUNT_NAME", "DEV_KEY_FILE", "register"]

DEV_ACCOUNT_NAME: Final = "dev"
DEV_KEY_FILE: Final = "dev-api-key"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = subparsers.add_parser("accounts", help="manage API accounts and keys")
    actions = accounts.add_subparsers(title="actions", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="create an account; prints its API key once, alone on the last line",
        description="Create an API account. The key is printed once; only its SHA-256 hash "
        "is stored in DCC_ACCOUNTS_FILE (default var/accounts.json, mode 0600).",
    )
    add.add_argument("--name", required=True, help="a unique account name (1-80 characters)")
    add.add_argument("--role", required=True, choices=ROLES, help="lab accounts may batch")
    add.add_argument("--file", type=Path, default=None, help="accounts file (DCC_ACCOUNTS_FILE)")
    _rate_arguments(add, "the role's, DCC_RATE_PHARMACIST or DCC_RATE_LAB")
    add.set_defaults(handler=run_add)

    set_rate = actions.add_parser(
        "set-rate",
        help="give an account its own issuance quota, or its role's again (restart servers)",
    )
    set_rate.add_argument("id", help="the account id (the part after dcc_ in its key)")
    _rate_arguments(set_rate, None)
    set_rate.add_argument("--file", type=Path, default=None, help="accounts file")
    set_rate.set_defaults(handler=run_set_rate)

    listing = actions.add_parser("list", help="list accounts (id, role, name, created, rate)")
    listing.add_argument("--file", type=Path, default=None, help="accounts file")
    listing.set_defaults(handler=run_list)

    remove = actions.add_parser("remove", help="delete an account (restart the server after)")
    remove.add_argument("id", help="the account id (the part after dcc_ in its key)")
    remove.add_argument("--file", type=Path, default=None, help="accounts file")
    remove.set_defaults(handler=run_remove)

    dev = actions.add_parser(
        "ensure-dev",
        help="create the 'dev' lab account if missing; its key goes to var/dev-api-key",
    )
    dev.add_argument("--file", type=Path, default=None, help="accounts file")
    dev.set_defaults(handler=run_ensure_dev)


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
    return Rate.parse(text, burst)


def _accounts_file(args: argparse.Namespace) -> Path:
    path: Path | None = args.file
    return path if path is not None else Settings.from_env().accounts_file


def run_add(args: argparse.Namespace) -> int:
    path = _accounts_file(args)
    created = add_account(path, name=args.name, role=args.role, rate=_rate(args))
    account = created.account
    print(f"created {account.role} account {account.name!r} (id {account.id}) in {path}")
    if account.rate is not None:
        print(f"issuance quota: {rate_text(account.rate)}")
    print("API key (shown once; send it as 'Authorization: Bearer <key>'):")
    print(created.api_key)
    return 0


def run_list(args: argparse.Namespace) -> int:
    path = _accounts_file(args)
    store = AccountStore.load(path)
    print(f"{len(store)} account(s) in {path}")
    for account in store:
        rate = rate_text(account.rate) if account.rate is not None else "role default"
        print(f"{account.id}  {account.role:<10}  {account.created_at}  {rate:<14}  {account.name}")
    return 0


def run_set_rate(args: argparse.Namespace) -> int:
    path = _accounts_file(args)
    account = set_account_rate(path, args.id, _rate(args))
    quota = rate_text(account.rate) if account.rate is not None else "its role's"
    print(f"account {account.name!r} (id {account.id}) now has issuance quota {quota}")
    print("running servers read accounts at start-up: restart them to apply it")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    path = _accounts_file(args)
    account = remove_account(path, args.id)
    print(f"removed account {account.name!r} (id {account.id}) from {path}")
    return 0


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte (replacing it)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.replace(temporary, path)


def run_ensure_dev(args: argparse.Namespace) -> int:
    path = _accounts_file(args)
    key_file = path.with_name(DEV_KEY_FILE)
    existing = AccountStore.load(path).by_name(DEV_ACCOUNT_NAME)
    if existing is not None:
        print(f"dev account exists: {existing.role} account 'dev' (id {existing.id}) in {path}")
        if key_file.exists():
            print(f"its API key is in {key_file}")
        else:
            print(
                f"its key cannot be shown again ({key_file} is missing): run "
                f"`dcc accounts remove {existing.id}` and this command again for a new one"
            )
        return 0
    created = add_account(path, name=DEV_ACCOUNT_NAME, role="lab")
    _write_private(key_file, created.api_key + "\n")
    print(f"created lab account 'dev' (id {created.account.id}) in {path}")
    print(f"its API key is in {key_file} (mode 0600):")
    print(created.api_key)
    return 0
