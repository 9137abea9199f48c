"""Revocations on both backends: by UVCI, by account in a window, by kid; idempotent; set-based."""

from __future__ import annotations

import dataclasses

import pytest

from signing.errors import DccError
from store import Store
from store.register import IssuanceRecord
from store.revocations import RevocationConflict, RevocationNotFound

KID_A = "AAECAwQFBgc="
KID_B = "CAkKCwwNDg8="
ACCOUNT = "a" * 16
OTHER = "b" * 16
T0 = 1_700_000_000


def row(
    number: int, account: str = ACCOUNT, kid: str = KID_A, member: str | None = None
) -> IssuanceRecord:
    return IssuanceRecord(
        uvci=f"URN:UVCI:01:LU:{number:026d}#A",
        kid=kid,
        account_id=account,
        member=member,
        test_type="LP217198-3",
        channel="single",
        issued_at=T0 + number,
        expires_at=T0 + 1000 + number,
        signature_hash=f"{number:022d}==",
        uci_hash=f"U{number:021d}==",
        country_uci_hash=f"C{number:021d}==",
    )


async def test_one_certificate_is_revoked_once_with_who_when_why(store: Store) -> None:
    await store.register.record([row(1), row(2)])
    before = await store.revocations.version()
    outcome = await store.revocations.revoke_certificate(
        row(1).uvci, reason="issued_in_error", by="op1", now=T0 + 50
    )
    assert (outcome.matched, outcome.revoked, outcome.already) == (1, 1, 0)
    again = await store.revocations.revoke_certificate(
        row(1).uvci, reason="fraud", by="op2", now=T0 + 60
    )
    assert (again.matched, again.revoked, again.already) == (1, 0, 1)
    record = await store.revocations.get(row(1).uvci)
    assert record is not None
    assert (record.reason, record.revoked_by, record.revoked_at) == (
        "issued_in_error",
        "op1",
        T0 + 50,
    )
    assert (record.kid, record.expires_at) == (KID_A, row(1).expires_at)
    assert await store.revocations.get(row(2).uvci) is None
    assert await store.revocations.version() == before + 1  # the no-op changed nothing


async def test_an_unknown_uvci_or_reason_is_refused(store: Store) -> None:
    with pytest.raises(RevocationNotFound):
        await store.revocations.revoke_certificate(
            "URN:UVCI:01:LU:X#Y", reason="fraud", by="o", now=1
        )
    with pytest.raises(DccError) as caught:
        await store.revocations.revoke_certificate(row(1).uvci, reason="whim", by="o", now=1)
    assert caught.value.code == "reason_invalid"


async def test_an_account_window_revokes_only_that_account_and_member(store: Store) -> None:
    rows = [row(i, member="m1" if i % 2 else "m2") for i in range(10)]
    rows += [row(100 + i, account=OTHER) for i in range(5)]
    await store.register.record(rows)
    outcome = await store.revocations.revoke_account(
        ACCOUNT,
        issued_from=T0 + 2,
        issued_until=T0 + 8,
        member="m1",
        reason="fraud",
        by="op",
        now=T0,
    )
    assert (outcome.matched, outcome.revoked) == (3, 3)  # 3, 5, 7
    everything = await store.revocations.revoke_account(
        ACCOUNT, issued_from=T0, issued_until=T0 + 10, reason="fraud", by="op", now=T0
    )
    assert (everything.matched, everything.revoked, everything.already) == (10, 7, 3)
    for i in range(5):
        assert await store.revocations.get(row(100 + i, account=OTHER).uvci) is None
    with pytest.raises(DccError) as caught:
        await store.revocations.revoke_account(
            ACCOUNT, issued_from=T0, issued_until=T0, reason="fraud", by="op", now=T0
        )
    assert caught.value.code == "revocation_window_invalid"


async def test_a_key_revokes_its_certificates_and_is_listed_for_the_trust_list(
    store: Store,
) -> None:
    await store.register.record([row(i, kid=KID_A if i < 3 else KID_B) for i in range(6)])
    outcome = await store.revocations.revoke_key(
        KID_A, reason="key_compromise", by="op", now=T0 + 10, distrust_at=T0 + 100
    )
    assert (outcome.matched, outcome.revoked) == (3, 3)
    again = await store.revocations.revoke_key(KID_A, reason="key_compromise", by="op", now=T0 + 20)
    assert (again.matched, again.revoked) == (3, 0)
    keys = await store.revocations.revoked_keys()
    assert [(key.kid, key.revoked_at, key.distrust_at) for key in keys] == [
        (KID_A, T0 + 10, T0 + 100)
    ]
    assert await store.revocations.revoked_kids(now=T0 + 99) == frozenset()
    assert await store.revocations.revoked_kids(now=T0 + 100) == {KID_A}
    assert await store.revocations.count() == 3
    assert await store.revocations.count(reason="fraud") == 0
    assert await store.revocations.counts_by_reason() == {"key_compromise": 3}


async def test_the_listing_holds_the_register_hashes_until_expiry(store: Store) -> None:
    await store.register.record([row(1), row(2)])
    await store.revocations.revoke_key(KID_A, reason="key_compromise", by="op", now=T0)
    version, entries = await store.revocations.listing(now=T0)
    assert version == await store.revocations.version()
    assert [(e.signature_hash, e.uci_hash, e.country_uci_hash) for e in entries] == [
        (row(n).signature_hash, row(n).uci_hash, row(n).country_uci_hash) for n in (1, 2)
    ]
    _, later = await store.revocations.listing(now=row(1).expires_at)
    assert [entry.expires_at for entry in later] == [row(2).expires_at]  # row 1 dropped out


async def test_revoking_thousands_is_one_statement(store: Store) -> None:
    rows = [row(i) for i in range(3000)]
    await store.register.record(rows)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "revocations" in statement and statement.lstrip().upper().startswith("INSERT"):
            statements.append(statement)

    from sqlalchemy import event

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    outcome = await store.revocations.revoke_account(
        ACCOUNT, issued_from=0, issued_until=2**40, reason="fraud", by="op", now=T0
    )
    event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    assert outcome.revoked == 3000
    assert len(statements) == 1


async def test_a_reissue_records_the_new_row_and_revokes_the_old_atomically(store: Store) -> None:
    await store.register.record([row(1), row(2, account=OTHER)])
    new = dataclasses.replace(row(10), uvci="URN:UVCI:01:LU:NEW#1")
    record = await store.revocations.reissue(row(1).uvci, new, by=ACCOUNT, now=T0)
    assert (record.reason, record.replaced_by) == ("reissued", new.uvci)
    assert await store.register.get(new.uvci) == new
    newer = dataclasses.replace(row(11), uvci="URN:UVCI:01:LU:NEW#2")
    with pytest.raises(RevocationConflict):
        await store.revocations.reissue(row(1).uvci, newer, by=ACCOUNT, now=T0)
    assert await store.register.get(newer.uvci) is None  # rolled back with the refusal
    with pytest.raises(RevocationConflict) as caught:
        await store.revocations.reissue(row(2, account=OTHER).uvci, newer, by=ACCOUNT, now=T0)
    assert caught.value.code == "certificate_not_yours"
    with pytest.raises(RevocationNotFound):
        await store.revocations.reissue("URN:UVCI:01:LU:NONE#1", newer, by=ACCOUNT, now=T0)


async def test_a_leaked_certificate_may_be_reissued_a_fraudulent_one_not(store: Store) -> None:
    await store.register.record([row(1), row(2, kid=KID_B)])
    await store.revocations.revoke_key(KID_B, reason="key_compromise", by="op", now=T0)
    await store.revocations.revoke_certificate(row(1).uvci, reason="fraud", by="op", now=T0)
    new = dataclasses.replace(row(10), uvci="URN:UVCI:01:LU:NEW#1")
    record = await store.revocations.reissue(row(2, kid=KID_B).uvci, new, by=ACCOUNT, now=T0)
    assert (record.reason, record.replaced_by) == ("key_compromise", new.uvci)
    other = dataclasses.replace(row(11), uvci="URN:UVCI:01:LU:NEW#2")
    with pytest.raises(RevocationConflict):
        await store.revocations.reissue(row(1).uvci, other, by=ACCOUNT, now=T0)
