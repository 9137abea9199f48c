"""Alembic's environment for dcc-service: migrations run on a connection the caller opened.

:func:`store.migrate.upgrade` opens the connection (PostgreSQL or SQLite, async) and runs
Alembic inside ``run_sync``, passing the synchronous connection in
``config.attributes["connection"]``; nothing here reads a file or the environment.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
