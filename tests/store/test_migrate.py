"""Schema migrations: an empty database is brought to the head; other revisions are refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from store import SchemaOutdated, Store
from store.migrate import head_revision
from store.schema import METADATA


async def test_an_empty_database_is_refused_then_upgraded(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        with pytest.raises(SchemaOutdated) as caught:
            await store.check_schema()
        assert "empty database" in caught.value.message
        assert "dcc db upgrade" in caught.value.message
        assert await store.upgrade() == (None, head_revision())
        assert await store.check_schema() == head_revision()
        assert await store.upgrade() == (head_revision(), head_revision())  # idempotent
    finally:
        await store.close()


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), METADATA))


async def test_the_migrated_schema_is_the_one_the_code_queries(store: Store) -> None:
    """Alembic compares the tables the migrations made with store/schema.py: no drift."""
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_a_database_on_another_revision_is_refused(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(SchemaOutdated) as caught:
        await store.check_schema()
    assert "schema revision ffff" in caught.value.message
    assert caught.value.code == "schema_outdated"


def test_the_url_shown_hides_the_password() -> None:
    store = Store.open("postgresql://dcc:s3cret@db.example:5432/dcc")
    assert "s3cret" not in store.shown_url
    assert store.url.backend == "postgresql"
