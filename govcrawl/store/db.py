"""Opening an archive: URL resolution, engines with the right SQLite pragmas, and migrations.

`open_archive()` is the single door: it creates or upgrades a govcrawl archive and refuses,
with a one-line `ArchiveError`, anything it should not touch (a newer archive, another
application's database, a file that is not SQLite).

SQLite: WAL, busy_timeout 30 s, foreign keys, synchronous NORMAL, and `BEGIN IMMEDIATE` for write
transactions (SQLAlchemy's pysqlite recipe) because a deferred transaction that upgrades to a
write fails at once with "database is locked", ignoring busy_timeout. The writer's page cache is
32 MB instead of 2 MB: a batch touches random leaves of the LSH band index and the FTS index all
over a large archive (at 60k articles this cut the SQL time of a batch by about a tenth).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, OperationalError

from govcrawl.store.schema import ARCHIVE_MARKER

if TYPE_CHECKING:
    from govcrawl.store.archive import Archive

DEFAULT_URL = "sqlite:///output/govcrawl.db"
ENV_VAR = "GOVCRAWL_DATABASE_URL"
BUSY_TIMEOUT_MS = 30_000
# The writer's page cache: 8 MB inserts within ~3% of 32 MB (20k news articles) and keeps a
# crawl's memory from growing with the archive while the bigger cache fills.
WRITER_CACHE_KIB = 8_192
# Prepared statements kept per connection (Python's default is 128). A batch's IN lists differ
# in length, so each batch adds statements of up to thousands of parameters: 128 of them held
# ~35 MB after 20k articles. 32 keeps the fixed per-batch statements and caps the rest.
STATEMENT_CACHE = 32
MIGRATIONS = Path(__file__).with_name("migrations")
#: pg_advisory_xact_lock key that serialises schema upgrades between processes.
UPGRADE_LOCK = 0x676F76_75706772


class ArchiveError(Exception):
    """The database cannot be used as a govcrawl archive; the message is one line."""


def resolve_url(url: str | None = None) -> str:
    """The argument, else $GOVCRAWL_DATABASE_URL, else output/govcrawl.db in the cwd."""
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # readable Chinese in Datasette/DB Browser


def make_engine(url: str, *, immediate: bool = True) -> Engine:
    """An engine for `url`; on SQLite with pragmas and, if `immediate`, BEGIN IMMEDIATE."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, json_serializer=_json, pool_pre_ping=True)
    engine = create_engine(
        url, json_serializer=_json,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "cached_statements": STATEMENT_CACHE},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised via tests
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if immediate:  # the write engine
            cursor.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - exercised via tests
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_dir():
            if item.name != "__pycache__":
                _copy_tree(item, target / item.name)
        else:
            (target / item.name).write_bytes(item.read_bytes())


@functools.cache
def _migrations_dir() -> Path:
    """The migrations as real files: alembic lists and imports them by path, so when govcrawl
    runs from a zip (a scrapyd egg) they are copied to a temporary directory once."""
    if MIGRATIONS.is_dir():
        return MIGRATIONS
    scratch = Path(tempfile.mkdtemp(prefix="govcrawl-migrations-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    _copy_tree(resources.files("govcrawl.store") / "migrations", scratch / "migrations")
    return scratch / "migrations"


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations_dir()))
    return cfg


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def _describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _check_sqlite_file(url: str) -> None:
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise ArchiveError(f"{path}: not a SQLite database, refusing to open it")


def upgrade(engine: Engine, where: str) -> None:
    """Create or upgrade the schema in one write transaction; refuse foreign or newer databases."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": UPGRADE_LOCK})
        tables = set(inspect(conn).get_table_names()) - {"sqlite_sequence"}
        if tables:
            if "alembic_version" not in tables or "meta" not in tables:
                listed = ", ".join(sorted(tables)[:5])
                raise ArchiveError(f"{where}: not a govcrawl archive (it has tables {listed})")
            marker = conn.execute(
                text("SELECT value FROM meta WHERE key = :k"), {"k": ARCHIVE_MARKER[0]}
            ).scalar()
            if marker != ARCHIVE_MARKER[1]:
                raise ArchiveError(f"{where}: not a govcrawl archive (no govcrawl marker in meta)")
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if current not in _known_revisions():
                raise ArchiveError(
                    f"{where}: archive schema revision {current!r} is newer than this govcrawl "
                    f"(knows up to {head_revision()!r}); upgrade govcrawl"
                )
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_archive(url: str | None = None) -> Archive:
    """Open (creating or upgrading) the archive at `url`; see `resolve_url` for the default."""
    from govcrawl.store.archive import Archive

    url = resolve_url(url)
    where = _describe(url)
    if make_url(url).get_backend_name() == "sqlite":
        _check_sqlite_file(url)
    engine = make_engine(url)
    try:
        upgrade(engine, where)
    except ArchiveError:
        engine.dispose()
        raise
    except (DatabaseError, OperationalError) as exc:
        engine.dispose()
        first = str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise ArchiveError(f"{where}: cannot open archive: {first}") from exc
    return Archive(engine, make_engine(url, immediate=False), url)
