"""``dcc accounts add | list | remove | ensure-dev``: API accounts in ``DCC_ACCOUNTS_FILE``.

``add`` prints the new API key alone on the last line (it is shown once: the file keeps
only its hash). ``ensure-dev`` is the ``make run`` step: it creates a lab account named
``dev`` when there is none and writes its key to ``dev-api-key`` beside the accounts file
(mode 0600), so a developer can always find it again; a running server reads accounts at
start-up, so restart it after adding or removing one.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Final

from api.accounts import ROLES, AccountStore, add_account, remove_account
from api.settings import Settings

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
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list accounts (id, role, name, created)")
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


def _accounts_file(args: argparse.Namespace) -> Path:
    path: Path | None = args.file
    return path if path is not None else Settings.from_env().accounts_file


def run_add(args: argparse.Namespace) -> int:
    path = _accounts_file(args)
    created = add_account(path, name=args.name, role=args.role)
    account = created.account
    print(f"created {account.role} account {account.name!r} (id {account.id}) in {path}")
    print("API key (shown once; send it as 'Authorization: Bearer <key>'):")
    print(created.api_key)
    return 0


def run_list(args: argparse.Namespace) -> int:
    path = _accounts_file(args)
    store = AccountStore.load(path)
    print(f"{len(store)} account(s) in {path}")
    for account in store:
        print(f"{account.id}  {account.role:<10}  {account.created_at}  {account.name}")
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
