"""Fault injection for chaos-test subprocesses (on their PYTHONPATH; inert unless asked).

CHAOS_SQLITE_MAX_PAGE_COUNT=N: every SQLite connection SQLAlchemy opens in this process gets
`PRAGMA max_page_count=N`, so the archive cannot grow past N pages and writes fail with
SQLITE_FULL ("database or disk is full") as on a full disk. The pragma is per connection,
which is why it has to be set inside the crawl process.
"""

from __future__ import annotations

import os

_LIMIT = os.environ.get("CHAOS_SQLITE_MAX_PAGE_COUNT")

if _LIMIT:
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    @event.listens_for(Pool, "connect")
    def _cap(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute(f"PRAGMA max_page_count={int(_LIMIT)}")
