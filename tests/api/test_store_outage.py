"""When the database is down: 503 with Retry-After, never a certificate without its row;
when it comes back, issuing resumes by itself. A database on an old schema stops start-up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from api.app import create_app
from api.routes.certificates import ISSUE_PATH
from api.settings import Settings
from loadtests.postgres import PostgresServer, find_postgres_bin
from store import SchemaOutdated
from tests.accounts import upgrade


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own, free to stop and restart."""
    if find_postgres_bin() is None:
        pytest.skip("PostgreSQL binaries not found: `make test` installs Debian's postgresql")
    with PostgresServer(fsync=False) as server:
        yield server


async def test_a_down_database_is_503_and_issuing_resumes(
    start_service: Any, own_postgres: PostgresServer, make_request: Any
) -> None:
    service = await start_service({"database_url": upgrade(own_postgres.url)})
    before = await service.client.post(ISSUE_PATH, json=make_request(), headers=service.auth())
    assert before.status_code == 201
    own_postgres.stop()
    down = await service.client.post(ISSUE_PATH, json=make_request(), headers=service.auth())
    assert down.status_code == 503
    assert down.json()["code"] == "store_unavailable"
    assert int(down.headers["retry-after"]) >= 1
    assert "hc1" not in down.text
    assert "DCC-UVCI" not in down.headers
    pdf_headers = {**service.auth(), "Accept": "application/pdf"}
    down_pdf = await service.client.post(ISSUE_PATH, json=make_request(), headers=pdf_headers)
    assert down_pdf.status_code == 503  # rendered while its row was committing: never sent
    assert not down_pdf.content.startswith(b"%PDF")
    ready = await service.client.get("/readyz")
    assert (ready.status_code, ready.json()["checks"]["store"]) == (503, False)
    own_postgres.start()
    after = await service.client.post(ISSUE_PATH, json=make_request(), headers=service.auth())
    assert after.status_code == 201
    rows = await service.resources.store.register.uvcis(
        [before.json()["uvci"], after.json()["uvci"]]
    )
    assert len(rows) == 2


async def test_an_old_schema_refuses_to_start(settings: Settings, tmp_path: Any) -> None:
    empty = replace(settings, database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    app = create_app(empty)
    with pytest.raises(SchemaOutdated) as caught:
        async with app.router.lifespan_context(app):
            pass
    assert "dcc db upgrade" in caught.value.message
