"""Opening an archive: URL resolution, engines with the right SQLite pragmas, and migrations.

Two doors. `open_archive()` is for commands that write (crawl, demo, import, reprocess,
load-spill, …): it creates or upgrades a govcrawl archive. `open_reader()` is for commands that
only read (query, show, stats, export, portals, the notebook API): it never creates, migrates
or writes anything; SQLite is opened through a `mode=ro` URI with no journal-mode change and
deferred transactions, PostgreSQL with `default_transaction_read_only`. Both refuse, with a
one-line `ArchiveError`, anything they should not touch (another application's database, a file
that is not SQLite, an archive newer than the code); a reader also refuses a missing or empty
file and an archive older than the code (a writing command upgrades it).

Nothing here opens the database file with plain Python I/O: in a process that already holds
SQLite connections to it, closing any other descriptor of the file drops all of the process's
POSIX locks on it (sqlite.org/howtocorrupt.html §2.2), and the next outside connection to close
then checkpoints and deletes the WAL while this process is still writing. Files are checked
through a read-only SQLite connection instead: SQLite shares a file's locks between its own
connections in a process and defers closing a descriptor while any of them holds a lock.

A reader of a WAL archive needs its -wal and -shm files; when no connection is open they do not
exist, and SQLite creates them (an empty WAL and its index) beside the archive, as it does for
any reader; they are left for the next writer. In a directory the reader may not write, such an
archive cannot be read (a one-line ArchiveError says so).

SQLite: WAL, busy_timeout 30 s (`GOVCRAWL_BUSY_TIMEOUT_MS` overrides it, in milliseconds, for
readers and writers), foreign keys, synchronous NORMAL, and `BEGIN IMMEDIATE` for write
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
import sqlite3
import tempfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from govcrawl.store.schema import ARCHIVE_MARKER

if TYPE_CHECKING:
    from govcrawl.store.archive import Archive

DEFAULT_URL = "sqlite:///output/govcrawl.db"
ENV_VAR = "GOVCRAWL_DATABASE_URL"
BUSY_TIMEOUT_MS = 30_000  #: the default; $GOVCRAWL_BUSY_TIMEOUT_MS overrides it
BUSY_ENV_VAR = "GOVCRAWL_BUSY_TIMEOUT_MS"
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


class ArchiveMissing(ArchiveError, FileNotFoundError):
    """A reader was pointed at a SQLite file that does not exist (reading never creates one)."""


def resolve_url(url: str | None = None) -> str:
    """The argument, else $GOVCRAWL_DATABASE_URL, else output/govcrawl.db in the cwd."""
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL; None for other backends, memory and `file:` URI databases."""
    parsed = make_url(url)
    database = parsed.database
    if (parsed.get_backend_name() != "sqlite" or not database or database == ":memory:"
            or database.startswith("file:")):
        return None
    return Path(database)


def archive_file_named(path: str | Path, url: str) -> Path | None:
    """Which file of the SQLite archive at `url` (the database or its -wal, -shm or -journal)
    `path` names, through symlinks and hard links; None if none (or not a SQLite file URL)."""
    db = sqlite_file(url)
    if db is None:
        return None
    target = os.path.realpath(path)
    for own in (db, *(Path(f"{db}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        if os.path.realpath(own) == target or (
                own.exists() and os.path.exists(target) and os.path.samefile(own, target)):
            return own
    return None


def busy_timeout_ms() -> int:
    """How long SQLite waits for a lock: $GOVCRAWL_BUSY_TIMEOUT_MS, else BUSY_TIMEOUT_MS."""
    value = os.environ.get(BUSY_ENV_VAR, "").strip()
    if not value:
        return BUSY_TIMEOUT_MS
    try:
        ms = int(value)
    except ValueError:
        ms = -1
    if ms < 0:
        raise ArchiveError(f"{BUSY_ENV_VAR}={value!r}: expected a whole number of milliseconds")
    return ms


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # readable Chinese in Datasette/DB Browser


def make_engine(url: str, *, immediate: bool = True) -> Engine:
    """An engine for `url`; on SQLite with pragmas and, if `immediate`, BEGIN IMMEDIATE."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, json_serializer=_json, pool_pre_ping=True)
    timeout = busy_timeout_ms()
    engine = create_engine(
        url, json_serializer=_json,
        connect_args={"timeout": timeout / 1000, "cached_statements": STATEMENT_CACHE},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised via tests
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={timeout}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if immediate:  # the write engine
            cursor.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - exercised via tests
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_reader_engine(url: str) -> Engine:
    """A read-only engine for `url`: SQLite through a `mode=ro` URI with deferred BEGIN and no
    pragma that writes; PostgreSQL with every transaction read-only."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # URL.query values are str or, for a repeated key, a tuple; one ?options= is assumed
        # (a repeated one makes join raise TypeError, as it always has)
        user_options = cast("str | None", parsed.query.get("options"))
        options = " ".join(filter(None, (user_options, "-c default_transaction_read_only=on")))
        return create_engine(url, json_serializer=_json, pool_pre_ping=True,
                             connect_args={"options": options})
    timeout = busy_timeout_ms() / 1000
    path = sqlite_file(url)
    if path is not None:  # a URI, so that SQLite (not Python) opens the file read-only
        uri = f"file:{quote(str(path.absolute()))}?mode=ro"
        engine = create_engine(url, json_serializer=_json, creator=lambda: sqlite3.connect(
            uri, uri=True, timeout=timeout, cached_statements=STATEMENT_CACHE,
            check_same_thread=False))
    else:  # `file:` URIs and memory: as given, read-only where SQLite reads a URI
        if parsed.database and parsed.database.startswith("file:"):
            parsed = parsed.update_query_dict({"mode": "ro", "uri": "true"})
        engine = create_engine(parsed, json_serializer=_json,
                               connect_args={"timeout": timeout,
                                             "cached_statements": STATEMENT_CACHE})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised via tests
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        dbapi_connection.execute("PRAGMA query_only=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - exercised via tests
        connection.exec_driver_sql("BEGIN")  # one snapshot per read, no write lock

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


def archive_revision(conn: Connection, where: str) -> str | None:
    """The schema revision of the database on `conn`, None if it has no tables; ArchiveError
    for another application's database or an archive newer than this code."""
    tables = set(inspect(conn).get_table_names()) - {"sqlite_sequence"}
    if not tables:
        return None
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
    return current


def upgrade(engine: Engine, where: str) -> None:
    """Create or upgrade the schema in one write transaction; refuse foreign or newer databases."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": UPGRADE_LOCK})
        archive_revision(conn, where)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _database_error(where: str, path: Path | None, exc: DatabaseError,
                    readonly: bool = False) -> ArchiveError:
    """A one-line ArchiveError for a driver error met while opening or checking the archive."""
    first = str(exc.orig or exc).splitlines()[0]
    if path is not None and "file is not a database" in first:
        return ArchiveError(f"{path}: not a SQLite database, refusing to open it")
    if path is not None and readonly and "unable to open database file" in first:
        return ArchiveError(
            f"{where}: cannot open the archive read-only (a WAL archive needs its -wal and -shm "
            f"files, or a directory they can be created in)")
    return ArchiveError(f"{where}: cannot open archive: {first}")


def _read_revision(engine: Engine, url: str, where: str) -> str | None:
    """`archive_revision` through the read-only `engine`; driver errors become ArchiveError."""
    try:
        with engine.connect() as conn:
            return archive_revision(conn, where)
    except DatabaseError as exc:
        raise _database_error(where, sqlite_file(url), exc, readonly=True) from exc


def open_archive(url: str | None = None) -> Archive:
    """Open (creating or upgrading) the archive at `url` to write; see `resolve_url` for the
    default. An existing SQLite file is first checked read-only, so a file that is not SQLite,
    another application's database or a newer archive is refused before anything (even the
    switch to WAL) writes to it."""
    from govcrawl.store.archive import Archive

    url = resolve_url(url)
    where = _describe(url)
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.stat().st_size > 0:
            checker = make_reader_engine(url)
            try:
                _read_revision(checker, url, where)
            finally:
                checker.dispose()
    engine = make_engine(url)
    try:
        upgrade(engine, where)
    except ArchiveError:
        engine.dispose()
        raise
    except DatabaseError as exc:
        engine.dispose()
        raise _database_error(where, path, exc) from exc
    return Archive(engine, make_engine(url, immediate=False), url)


def open_reader(url: str | None = None) -> Archive:
    """Open the archive at `url` to read only: never created, migrated or written, and no
    write lock taken. A missing (`ArchiveMissing`) or empty file, a database that is not a
    govcrawl archive, and an archive older or newer than this code are refused with a one-line
    ArchiveError. Writing through the returned Archive fails (the database is read-only)."""
    from govcrawl.store.archive import Archive

    url = resolve_url(url)
    where = _describe(url)
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise ArchiveMissing(f"no archive at {path}")
    if path is not None and path.stat().st_size == 0:
        raise ArchiveError(f"{path}: empty file, not a govcrawl archive")
    engine = make_reader_engine(url)
    try:
        current = _read_revision(engine, url, where)
        if current is None:
            raise ArchiveError(f"{where}: empty database, not a govcrawl archive")
        if current != head_revision():
            raise ArchiveError(
                f"{where}: archive schema revision {current!r} is older than this govcrawl's "
                f"({head_revision()!r}); a command that writes (crawl, import, reprocess) "
                "upgrades it")
    except ArchiveError:
        engine.dispose()
        raise
    return Archive(engine, engine, url)
