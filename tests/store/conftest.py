"""A migrated store on each backend (SQLite file, PostgreSQL database) for the store tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from store import Store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A store at the code's schema revision; closed after the test."""
    opened = Store.open(database_url)
    await opened.upgrade()
    yield opened
    await opened.close()
