"""Accounts in the store: every change is visible through the version and the snapshot."""

from __future__ import annotations

import pytest

from store import Store
from store.accounts import AccountError, RateLimit, hash_key, key_id_of


async def test_an_account_is_added_with_one_key_and_bumps_the_version(store: Store) -> None:
    before = await store.accounts.version()
    created = await store.accounts.add(name="Lab Nord", role="lab", rate=None, now=1000)
    assert await store.accounts.version() == before + 1
    account = created.account
    assert (account.name, account.role, account.status, account.rate) == (
        "Lab Nord",
        "lab",
        "active",
        None,
    )
    assert key_id_of(created.api_key) == account.keys[0].id
    assert account.keys[0].key_hash == hash_key(created.api_key)
    assert created.api_key not in repr(account)
    version, snapshot = await store.accounts.snapshot()
    assert version == before + 1
    assert [a.id for a in snapshot] == [account.id]


async def test_names_are_unique(store: Store) -> None:
    await store.accounts.add(name="Pharmacie", role="pharmacist", rate=None, now=1)
    with pytest.raises(AccountError) as caught:
        await store.accounts.add(name="Pharmacie", role="lab", rate=None, now=2)
    assert caught.value.code == "account_exists"
    assert len(await store.accounts.list()) == 1


@pytest.mark.parametrize(
    ("name", "role", "code"),
    [("", "lab", "account_name_invalid"), (" x", "lab", "account_name_invalid"),
     ("ok", "admin", "role_invalid")],
)  # fmt: skip
async def test_bad_accounts_are_refused(store: Store, name: str, role: str, code: str) -> None:
    with pytest.raises(AccountError) as caught:
        await store.accounts.add(name=name, role=role, rate=None, now=1)
    assert caught.value.code == code


async def test_rate_and_status_changes(store: Store) -> None:
    account = (await store.accounts.add(name="A", role="lab", rate=None, now=1)).account
    changed = await store.accounts.set_rate(account.id, RateLimit(100, 60, 150), now=2)
    assert changed.rate == RateLimit(100, 60, 150)
    assert changed.updated_at == 2
    assert (await store.accounts.set_rate(account.id, None, now=3)).rate is None
    assert (await store.accounts.set_status(account.id, "disabled", now=4)).status == "disabled"
    _, snapshot = await store.accounts.snapshot()
    assert [a.status for a in snapshot] == ["disabled"]
    await store.accounts.set_status(account.id, "removed", now=5)
    assert (await store.accounts.snapshot())[1] == []
    assert [a.status for a in await store.accounts.list(include_removed=True)] == ["removed"]
    with pytest.raises(AccountError) as caught:
        await store.accounts.set_status(account.id, "active", now=6)
    assert caught.value.code == "account_not_found"


async def test_a_rotated_key_keeps_the_old_one_for_the_grace_period(store: Store) -> None:
    first = await store.accounts.add(name="Lab", role="lab", rate=None, now=100)
    second = await store.accounts.rotate_key(first.account.id, now=200, grace=3600)
    keys = {key.id: key for key in second.account.keys}
    old, new = keys[key_id_of(first.api_key) or ""], keys[key_id_of(second.api_key) or ""]
    assert old.expires_at == 3800
    assert new.expires_at is None
    assert old.valid_at(3799)
    assert not old.valid_at(3800)
    third = await store.accounts.rotate_key(first.account.id, now=300, grace=0)
    assert all(
        key.expires_at == 300 for key in third.account.keys if key.id != key_id_of(third.api_key)
    )


async def test_an_imported_account_keeps_its_id_and_key(store: Store) -> None:
    key = "dcc_0123456789abcdef_secret"
    imported = await store.accounts.import_account(
        account_id="0123456789abcdef",
        name="Old",
        role="pharmacist",
        rate=RateLimit(10, 3600, 10),
        created_at=50,
        key_hash=hash_key(key),
    )
    assert imported.id == key_id_of(key)
    assert imported.keys[0].key_hash == hash_key(key)


async def test_unknown_accounts_are_reported(store: Store) -> None:
    with pytest.raises(AccountError):
        await store.accounts.get("0" * 16)
    with pytest.raises(AccountError):
        await store.accounts.rotate_key("0" * 16, now=1, grace=0)
    assert await store.accounts.by_name("nobody") is None
