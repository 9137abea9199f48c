"""``dcc revoke certificate | account | key | keys`` and ``dcc revocation-list``.

``revoke certificate UVCI --reason R``; ``revoke account ID [--member M] --from ISO
--until ISO --reason R`` (the fraud case: everything the account, or one member, issued in
[from, until)); ``revoke key KID --reason R [--distrust-at ISO]`` (the leak case: every
certificate the DSC signed, and the DSC itself, which trust lists drop from
``--distrust-at``, default now); ``revoke keys`` lists the revoked DSCs. Revocations are
recorded with ``cli:<login>`` as who. Revoking twice is harmless. Running servers publish
the change within a second.

``revocation-list [--output FILE]`` writes the list ``GET /v1/revocation-list`` serves (the
EU gateway batch form) to FILE or standard output; ``dcc verify --revocation FILE`` reads it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from api.revocation_list import build_published
from api.revocation_requests import MAX_INSTANT, OPERATOR_REASONS
from api.settings import Settings
from cli.db import with_store
from keys.revocation import retire_own_key
from signing.errors import ConfigError
from store import Store
from store.revocations import Outcome

__all__ = ["register"]

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_revoke(subparsers)
    listing = subparsers.add_parser(
        "revocation-list",
        help="write the revocation list (EU gateway batch form) to a file or stdout",
    )
    listing.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    listing.set_defaults(handler=run_revocation_list)


def _register_revoke(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    revoke = subparsers.add_parser("revoke", help="revoke certificates: one, an account's, a DSC's")
    actions = revoke.add_subparsers(title="actions", required=True, metavar="ACTION")

    def reason(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--reason", required=True, choices=OPERATOR_REASONS)

    one = actions.add_parser("certificate", help="revoke one certificate by its UVCI")
    one.add_argument("uvci")
    reason(one)
    one.set_defaults(handler=run_certificate)

    account = actions.add_parser(
        "account", help="revoke what an account (or one member) issued in [--from, --until)"
    )
    account.add_argument("id", help="the account id")
    account.add_argument("--member", help="only this member's certificates")
    account.add_argument("--from", dest="issued_from", required=True, metavar="ISO")
    account.add_argument("--until", dest="issued_until", required=True, metavar="ISO")
    reason(account)
    account.set_defaults(handler=run_account)

    key = actions.add_parser("key", help="revoke a DSC (kid, base64) and all it signed")
    key.add_argument("kid")
    key.add_argument("--distrust-at", metavar="ISO", help="when trust lists drop it (default now)")
    reason(key)
    key.set_defaults(handler=run_key)

    keys = actions.add_parser("keys", help="list the revoked DSCs")
    keys.set_defaults(handler=run_keys)


def _with_store(work: Callable[[Store], Awaitable[T]]) -> T:
    return with_store(Settings.from_env().database_url, work)


def _by() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:80]
    except (OSError, KeyError):
        return "cli"


def _instant(text: str, option: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None:
        seconds = int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
        if 0 <= seconds <= MAX_INSTANT:
            return seconds
    raise ConfigError(
        f"{option} {text!r} is not an ISO 8601 date-time from 1970 to 9000", code="time_invalid"
    )


def _show(outcome: Outcome) -> int:
    print(
        f"revoked {outcome.revoked} certificate(s); {outcome.already} were revoked already "
        f"({outcome.matched} matched)"
    )
    return 0


def run_certificate(args: argparse.Namespace) -> int:
    now = int(time.time())
    return _show(
        _with_store(
            lambda store: store.revocations.revoke_certificate(
                args.uvci, reason=args.reason, by=_by(), now=now
            )
        )
    )


def run_account(args: argparse.Namespace) -> int:
    issued_from = _instant(args.issued_from, "--from")
    issued_until = _instant(args.issued_until, "--until")
    now = int(time.time())
    return _show(
        _with_store(
            lambda store: store.revocations.revoke_account(
                args.id,
                member=args.member,
                issued_from=issued_from,
                issued_until=issued_until,
                reason=args.reason,
                by=_by(),
                now=now,
            )
        )
    )


def run_key(args: argparse.Namespace) -> int:
    distrust_at = _instant(args.distrust_at, "--distrust-at") if args.distrust_at else None
    now = int(time.time())
    code = _show(
        _with_store(
            lambda store: store.revocations.revoke_key(
                args.kid, reason=args.reason, by=_by(), now=now, distrust_at=distrust_at
            )
        )
    )
    if code == 0 and retire_own_key(Settings.from_env().keys_dir, args.kid, distrust_at):
        print(f"{args.kid} was a DSC of this deployment: it no longer signs")
    return code


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_keys(args: argparse.Namespace) -> int:
    keys = _with_store(lambda store: store.revocations.revoked_keys())
    for key in keys:
        print(
            f"{key.kid}  {key.reason:<15}  revoked {_iso(key.revoked_at)} by {key.revoked_by}  "
            f"distrusted from {_iso(key.distrust_at)}"
        )
    if not keys:
        print("no revoked DSC")
    return 0


def run_revocation_list(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    now = int(time.time())
    version, entries = with_store(
        settings.database_url, lambda store: store.revocations.listing(now=now)
    )
    published = build_published(version, entries, country=settings.country, imported=None)
    if args.output is None:
        sys.stdout.buffer.write(published.body + b"\n")
        sys.stdout.flush()
    else:
        try:
            args.output.write_bytes(published.body)
        except OSError as exc:
            raise ConfigError(
                f"cannot write {args.output}: {exc.strerror or exc}", code="output_unwritable"
            ) from exc
        print(
            f"{args.output}: {published.certificates} revoked certificate(s) in "
            f"{published.batches} batch(es), {len(published.body)} bytes",
            file=sys.stderr,
        )
    return 0
