"""The accounts directory: keys checked from memory, changes in the store seen within a
refresh, on a running app (no restart)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.accounts import AccountDirectory, rate_limit_of, rate_text
from api.ratelimit import Rate
from store import Store
from store.accounts import key_id_of


@pytest.fixture
async def store(database_url: str) -> Any:
    opened = Store.open(database_url)
    await opened.upgrade()
    yield opened
    await opened.close()


async def test_keys_authenticate_their_account_and_nothing_else(store: Store) -> None:
    lab = await store.accounts.add(name="lab", role="lab", rate=None, now=1)
    pharmacy = await store.accounts.add(name="pharmacy", role="pharmacist", rate=None, now=1)
    directory = AccountDirectory(store.accounts)
    await directory.load()
    assert len(directory) == 2
    found = directory.authenticate(lab.api_key)
    assert found is not None
    assert (found.id, found.role, found.status) == (lab.account.id, "lab", "active")
    assert directory.authenticate(pharmacy.api_key) is not None
    swapped = f"dcc_{lab.account.id}_{pharmacy.api_key.split('_', 2)[2]}"
    for wrong in (swapped, lab.api_key + "x", "", "dcc_", "Bearer x", "dcc_zz_y"):
        assert directory.authenticate(wrong) is None


async def test_a_refresh_sees_every_change_and_only_then_reloads(store: Store) -> None:
    lab = await store.accounts.add(name="lab", role="lab", rate=None, now=1)
    directory = AccountDirectory(store.accounts)
    await directory.load()
    assert await directory.refresh() is False  # nothing changed: one integer read
    await store.accounts.set_rate(lab.account.id, rate_limit_of(Rate.parse("5/hour")), now=2)
    assert await directory.refresh() is True
    account = directory.authenticate(lab.api_key)
    assert account is not None
    assert account.rate == Rate.parse("5/hour")
    await store.accounts.set_status(lab.account.id, "disabled", now=3)
    await directory.refresh()
    disabled = directory.authenticate(lab.api_key)
    assert disabled is not None
    assert disabled.status == "disabled"
    await store.accounts.set_status(lab.account.id, "removed", now=4)
    await directory.refresh()
    assert directory.authenticate(lab.api_key) is None
    assert directory.get(lab.account.id) is None


async def test_a_rotated_key_works_until_its_grace_ends(store: Store) -> None:
    now = [1000.0]
    first = await store.accounts.add(name="lab", role="lab", rate=None, now=1000)
    second = await store.accounts.rotate_key(first.account.id, now=1000, grace=60)
    directory = AccountDirectory(store.accounts, clock=lambda: now[0])
    await directory.load()
    assert directory.authenticate(first.api_key) is not None
    assert directory.authenticate(second.api_key) is not None
    now[0] = 1060.0
    assert directory.authenticate(first.api_key) is None
    assert directory.authenticate(second.api_key) is not None


async def test_a_directory_keeps_serving_when_the_store_is_gone(database_url: str) -> None:
    store = Store.open(database_url)
    await store.upgrade()
    lab = await store.accounts.add(name="lab", role="lab", rate=None, now=1)
    directory = AccountDirectory(store.accounts)
    await directory.load()
    await store.close()
    async with store.engine.begin() as connection:  # a new connection to a dropped table
        await connection.exec_driver_sql("DROP TABLE store_state")
    assert await directory.refresh() is False
    assert directory.stale
    assert directory.authenticate(lab.api_key) is not None
    await store.close()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_key_ids_are_read_safely(text: str) -> None:
    key_id = key_id_of(text)
    assert key_id is None or (len(key_id) == 16 and text.startswith(f"dcc_{key_id}_"))


def test_rate_text() -> None:
    assert rate_text(Rate.parse("100/minute")) == "100/minute"
    assert rate_text(Rate.parse("5/h", 9)) == "5/hour (burst 9)"
    assert rate_text(Rate(count=1, period_seconds=7.0, burst=1)) == "1/7s"


async def _refreshed(service: Any) -> None:
    await service.resources.accounts.refresh()


async def test_changes_apply_to_a_running_app(start_service: Any, make_request: Any) -> None:
    """Rate, disable and remove take effect at the app's next refresh, without a restart."""
    service = await start_service()
    store = service.resources.store
    auth = service.auth(service.pharmacist_key)
    account = service.resources.accounts.authenticate(service.pharmacist_key)
    assert account is not None
    await store.accounts.set_rate(account.id, rate_limit_of(Rate.parse("2/hour")), now=1)
    await _refreshed(service)
    answers = [
        await service.client.post("/v1/certificates", json=make_request(), headers=auth)
        for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert answers[0].headers["ratelimit-policy"] == "2;w=3600"
    lab = await service.client.post("/v1/certificates", json=make_request(), headers=service.auth())
    assert lab.headers["ratelimit-limit"] != "2"  # another account keeps its role's quota
    await store.accounts.set_status(account.id, "disabled", now=2)
    await _refreshed(service)
    refused = await service.client.post("/v1/certificates", json=make_request(), headers=auth)
    assert (refused.status_code, refused.json()["code"]) == (403, "account_disabled")
    await store.accounts.set_status(account.id, "removed", now=3)
    await _refreshed(service)
    gone = await service.client.post("/v1/certificates", json=make_request(), headers=auth)
    assert (gone.status_code, gone.json()["code"]) == (401, "api_key_invalid")


async def test_the_app_refreshes_by_itself(start_service: Any, make_request: Any) -> None:
    """Without anyone calling refresh, a disabled account is refused within the interval."""
    from tests.waiting import async_wait_until

    service = await start_service({"accounts_refresh": 0.05})
    auth = service.auth(service.pharmacist_key)
    account = service.resources.accounts.authenticate(service.pharmacist_key)
    await service.resources.store.accounts.set_status(account.id, "disabled", now=1)

    async def refused() -> bool:
        answer = await service.client.post("/v1/certificates", json=make_request(), headers=auth)
        return answer.status_code == 403

    await async_wait_until(refused, what="the disabled account is refused")
