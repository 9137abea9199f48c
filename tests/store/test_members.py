"""Organisations (accounts of a kind) and their members; login states and sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from store import Store
from store.accounts import AccountError
from store.migrate import upgrade
from store.sessions import PendingLogin


async def test_an_account_is_an_organisation_of_a_kind(store: Store) -> None:
    lab = await store.accounts.add(name="Lab", role="lab", rate=None, now=1)
    shop = await store.accounts.add(name="Apotheke", role="pharmacist", rate=None, now=1)
    centre = await store.accounts.add(
        name="Centre", role="pharmacist", rate=None, now=1, kind="test_centre"
    )
    assert [lab.account.kind, shop.account.kind, centre.account.kind] == [
        "lab",
        "pharmacy",
        "test_centre",
    ]
    with pytest.raises(AccountError) as caught:
        await store.accounts.add(name="X", role="lab", rate=None, now=1, kind="bakery")
    assert caught.value.code == "kind_invalid"


async def test_members_are_added_listed_and_changed_with_the_version(store: Store) -> None:
    account = (
        await store.accounts.add(name="Apotheke", role="pharmacist", rate=None, now=1)
    ).account
    before = await store.accounts.version()
    member = await store.members.add(
        account_id=account.id, subject="sub-123", role="issuer", register_number="RN-1", now=5
    )
    assert await store.accounts.version() == before + 1
    assert (member.account_id, member.subject, member.role, member.status) == (
        account.id,
        "sub-123",
        "issuer",
        "active",
    )
    assert [m.id for m in await store.members.list(account_id=account.id)] == [member.id]
    changed = await store.members.set_role(member.id, "operator", now=6)
    assert changed.role == "operator"
    removed = await store.members.set_status(member.id, "removed", now=7)
    assert removed.status == "removed"
    assert await store.accounts.version() == before + 3
    assert await store.members.list() == []
    assert [m.status for m in await store.members.list(include_removed=True)] == ["removed"]
    with pytest.raises(AccountError) as caught:
        await store.members.set_status(member.id, "active", now=8)
    assert caught.value.code == "member_not_found"


async def test_a_subject_belongs_to_one_organisation(store: Store) -> None:
    one = (await store.accounts.add(name="One", role="pharmacist", rate=None, now=1)).account
    two = (await store.accounts.add(name="Two", role="pharmacist", rate=None, now=1)).account
    await store.members.add(
        account_id=one.id, subject="s", role="issuer", register_number=None, now=1
    )
    with pytest.raises(AccountError) as caught:
        await store.members.add(
            account_id=two.id, subject="s", role="issuer", register_number=None, now=1
        )
    assert caught.value.code == "member_exists"


@pytest.mark.parametrize(
    ("subject", "role", "number", "code"),
    [
        ("s", "boss", None, "role_invalid"),
        ("", "issuer", None, "member_invalid"),
        ("a name", "issuer", None, "member_invalid"),
        ("s", "issuer", "<script>", "member_invalid"),
    ],
)
async def test_bad_members_are_refused(
    store: Store, subject: str, role: str, number: str | None, code: str
) -> None:
    account = (await store.accounts.add(name="A", role="pharmacist", rate=None, now=1)).account
    with pytest.raises(AccountError) as caught:
        await store.members.add(
            account_id=account.id, subject=subject, role=role, register_number=number, now=1
        )
    assert caught.value.code == code


async def test_a_login_state_is_taken_once_and_not_after_ten_minutes(store: Store) -> None:
    pending = PendingLogin("nonce", "verifier", "/")
    await store.sessions.start_login("state-1", pending, now=100)
    assert await store.sessions.take_login("state-1", now=110) == pending
    assert await store.sessions.take_login("state-1", now=111) is None
    await store.sessions.start_login("state-2", pending, now=100)
    assert await store.sessions.take_login("state-2", now=100 + 601) is None


async def test_sessions_end_when_idle_at_their_lifetime_or_at_logout(store: Store) -> None:
    account = (await store.accounts.add(name="A", role="pharmacist", rate=None, now=1)).account
    member = await store.members.add(
        account_id=account.id, subject="s", role="issuer", register_number=None, now=1
    )
    token, csrf = await store.sessions.create(member.id, now=1000, lifetime=3600)
    found = await store.sessions.get(token, now=1100, idle=300)
    assert found is not None
    assert (found.member_id, found.csrf_token) == (member.id, csrf)
    assert await store.sessions.get(token, now=1100 + 299, idle=300) is not None  # touched
    assert await store.sessions.get(token, now=1100 + 299 + 300, idle=300) is None  # idle
    token, _ = await store.sessions.create(member.id, now=1000, lifetime=600)
    assert await store.sessions.get(token, now=1600, idle=10_000) is None  # absolute
    token, _ = await store.sessions.create(member.id, now=1000, lifetime=600)
    await store.sessions.end(token)
    assert await store.sessions.get(token, now=1001, idle=300) is None
    assert await store.sessions.get("not-a-session", now=1001, idle=300) is None
    token, _ = await store.sessions.create(member.id, now=1000, lifetime=600)
    assert await store.sessions.end_member(member.id) == 1
    assert await store.sessions.get(token, now=1001, idle=300) is None


async def test_accounts_of_an_older_database_become_organisations_of_their_roles_kind(
    database_url: str,
) -> None:
    opened = Store.open(database_url)
    try:
        await upgrade(opened.engine, "0001")
        async with opened.engine.begin() as connection:
            for account_id, role in (("a" * 16, "lab"), ("b" * 16, "pharmacist")):
                await connection.execute(
                    text(
                        "INSERT INTO accounts (id, name, role, status, created_at, updated_at) "
                        "VALUES (:id, :name, :role, 'active', 1, 1)"
                    ),
                    {"id": account_id, "name": f"old {role}", "role": role},
                )
        await opened.upgrade()
        kinds = {record.role: record.kind for record in await opened.accounts.list()}
        assert kinds == {"lab": "lab", "pharmacist": "pharmacy"}
    finally:
        await opened.close()
