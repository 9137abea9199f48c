"""``dcc members add | list | set-role | disable | enable | remove``: the people of an
organisation (an account), who log in to the pages through the OpenID provider.

A member is known by the provider's subject id (``sub``), never by a name, optionally with
a professional register number the provider must vouch for (``DCC_OIDC_REGISTER_CLAIM``).
Roles: ``issuer`` and ``org_admin`` issue, ``operator`` looks up. Every change reaches
running servers within a second: a disabled or removed member's sessions end there.
"""

from __future__ import annotations

import argparse
import time

from api.settings import Settings
from cli.db import with_store
from store import Store
from store.members import MEMBER_ROLES, MemberRecord

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    members = subparsers.add_parser("members", help="manage the members of organisations")
    actions = members.add_subparsers(title="actions", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="make a provider subject a member of an organisation")
    add.add_argument("--account", required=True, help="the organisation's account id")
    add.add_argument("--subject", required=True, help="the identity provider's subject id (sub)")
    add.add_argument("--role", required=True, choices=MEMBER_ROLES)
    add.add_argument(
        "--register-number", default=None, help="professional register number (optional)"
    )
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list members (id, organisation, role, status)")
    listing.add_argument("--account", default=None, help="only this organisation's members")
    listing.add_argument("--all", action="store_true", help="include removed members")
    listing.set_defaults(handler=run_list)

    set_role = actions.add_parser("set-role", help="give a member another role")
    set_role.add_argument("id", help="the member id")
    set_role.add_argument("role", choices=MEMBER_ROLES)
    set_role.set_defaults(handler=run_set_role)

    for name, status, text in (
        ("disable", "disabled", "end the member's sessions and refuse their logins"),
        ("enable", "active", "let a disabled member log in again"),
        ("remove", "removed", "remove the member for good (register rows keep the subject)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", help="the member id")
        action.set_defaults(handler=run_status, status=status)


def _now() -> int:
    return int(time.time())


def _describe(member: MemberRecord) -> str:
    number = member.register_number or "-"
    return (
        f"{member.id}  {member.account_id}  {member.role:<9}  {member.status:<8}  "
        f"{number:<12}  {member.subject}"
    )


def run_add(args: argparse.Namespace) -> int:
    async def add(store: Store) -> MemberRecord:
        return await store.members.add(
            account_id=args.account,
            subject=args.subject,
            role=args.role,
            register_number=args.register_number,
            now=_now(),
        )

    member = with_store(Settings.from_env().database_url, add)
    print(f"added member {member.id} ({member.role}) to account {member.account_id}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    found = with_store(
        Settings.from_env().database_url,
        lambda store: store.members.list(account_id=args.account, include_removed=args.all),
    )
    print(f"{len(found)} member(s)")
    for member in found:
        print(_describe(member))
    return 0


def run_set_role(args: argparse.Namespace) -> int:
    member = with_store(
        Settings.from_env().database_url,
        lambda store: store.members.set_role(args.id, args.role, now=_now()),
    )
    print(f"member {member.id} is now {member.role}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    member = with_store(
        Settings.from_env().database_url,
        lambda store: store.members.set_status(args.id, args.status, now=_now()),
    )
    print(f"member {member.id} is now {member.status}")
    return 0
