"""Alembic environment, driven from code: db.open_archive passes the connection in `attributes`.

There is no alembic.ini: govcrawl.store.db builds the Config. SQLite uses batch mode so later
revisions can alter tables (SQLite has almost no ALTER TABLE).
"""

from __future__ import annotations

from alembic import context

from govcrawl.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise RuntimeError("govcrawl migrations run through govcrawl.store.db.open_archive()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
