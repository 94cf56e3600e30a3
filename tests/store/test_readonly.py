"""Opening the archive safely: readers never write, lock or create; checks never drop locks.

`db.open_reader` is looked up at call time so that, run against older code, the writer tests
below still exercise that code rather than failing on an import.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from govcrawl.store import ArchiveError, db, open_archive
from govcrawl.store.schema import portals

SIDE_FILES = ("-wal", "-shm", "-journal")


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def side_files(path: Path) -> list[str]:
    return [s for s in SIDE_FILES if Path(f"{path}{s}").exists()]


def closed_archive(path: Path, revision: str | None = None) -> Path:
    """A govcrawl archive with one portal, every connection closed (so no -wal/-shm)."""
    with open_archive(f"sqlite:///{path}") as arc:
        arc.ensure_portal("p1", "中国长安网")
    if revision is not None:
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        conn.close()
    assert side_files(path) == []
    return path


def make_file(kind: str, path: Path) -> Path:
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign":  # another application's SQLite database (rollback journal)
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.close()
    elif kind == "not_sqlite":
        path.write_text("这不是数据库\n" * 100, encoding="utf-8")
    elif kind == "newer":
        closed_archive(path, "9999_future")
    elif kind == "older":
        closed_archive(path, "0001")
    return path


REFUSALS = {"missing": "no archive", "empty": "empty", "foreign": "not a govcrawl archive",
            "not_sqlite": "not a SQLite database", "newer": "newer than this govcrawl",
            "older": "older than this govcrawl"}


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_reader_refuses_in_one_line_and_leaves_the_file_as_it_was(tmp_path, kind) -> None:
    path = make_file(kind, tmp_path / "a.db")
    before, sides = digest(path), side_files(path)
    with pytest.raises(ArchiveError, match=REFUSALS[kind]) as err:
        db.open_reader(f"sqlite:///{path}")
    assert "\n" not in str(err.value)
    assert digest(path) == before  # missing stays missing
    if kind in ("missing", "empty", "foreign", "not_sqlite"):
        assert side_files(path) == sides == []
    if kind == "missing":
        assert isinstance(err.value, FileNotFoundError)


@pytest.mark.parametrize("kind", ["foreign", "not_sqlite", "newer"])
def test_writer_refuses_without_changing_the_file(tmp_path, kind) -> None:
    """Checked read-only first: a foreign database is not switched to WAL before the refusal."""
    path = make_file(kind, tmp_path / "a.db")
    before = digest(path)
    with pytest.raises(ArchiveError, match=REFUSALS[kind]):
        open_archive(f"sqlite:///{path}")
    assert digest(path) == before
    if kind != "newer":
        assert side_files(path) == []


def test_reader_cannot_write_and_takes_no_write_lock(tmp_path) -> None:
    path = closed_archive(tmp_path / "a.db")
    reader = db.open_reader(f"sqlite:///{path}")
    try:
        with pytest.raises(Exception, match=r"readonly"), reader.engine.begin() as conn:
            conn.execute(insert(portals).values(id="x", name="x", extra={},
                                                updated_at="2026-01-01T00:00:00+00:00"))
        with reader.read_engine.connect() as conn:  # a read transaction stays open...
            assert conn.execute(select(portals.c.id)).scalars().all() == ["p1"]
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # ...and a writer still gets the lock at once
            other.execute("ROLLBACK")
            other.close()
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        reader.close()


HOLD_LOCK = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE portals SET name = 'uncommitted'")
    print("locked", flush=True)
    sys.stdin.readline()  # hold the write lock until the test closes stdin
    conn.execute("ROLLBACK")
""")


@pytest.fixture
def write_locked(tmp_path) -> Iterator[Path]:
    """An archive whose write lock another process holds (an uncommitted write) until teardown."""
    path = closed_archive(tmp_path / "a.db")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield path
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_reading_does_not_wait_for_a_writer(write_locked, monkeypatch) -> None:
    import govcrawl.api as gc

    monkeypatch.setenv("GOVCRAWL_BUSY_TIMEOUT_MS", "5000")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 5000)  # older code reads only the constant
    started = time.monotonic()
    with gc.open(f"sqlite:///{write_locked}") as arc:
        names = [p["name"] for p in arc.portals()]
    assert time.monotonic() - started < 5  # less than the busy timeout: never waited for it
    assert names == ["中国长安网"]  # the committed state, not the writer's pending change


def test_a_closed_wal_archive_is_read_and_the_writer_carries_on(tmp_path) -> None:
    """With no -wal/-shm (writer closed), SQLite creates them empty for the reader; the file's
    bytes do not change, and a writer opening meanwhile is neither blocked nor lost."""
    path = closed_archive(tmp_path / "a.db")
    url = f"sqlite:///{path}"
    before = digest(path)
    reader = db.open_reader(url)
    try:
        with reader.read_engine.connect() as conn:
            assert conn.execute(select(portals.c.id)).scalars().all() == ["p1"]
        assert digest(path) == before
        with open_archive(url) as writer:
            writer.ensure_portal("p2", "湖南长安网")
            with reader.read_engine.connect() as conn:  # a new transaction sees the commit
                assert conn.execute(select(portals.c.id)).scalars().all() == ["p1", "p2"]
    finally:
        reader.close()
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM portals ORDER BY id")] == ["p1", "p2"]
    conn.close()


OUTSIDE = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1])
    print(",".join(r[0] for r in conn.execute("SELECT id FROM portals ORDER BY id")))
    conn.close()  # the last connection to close checkpoints and deletes the WAL
""")


def outside_portals(path: Path) -> str:
    """Portal ids as another process sees them (opening and closing the archive)."""
    return subprocess.run([sys.executable, "-c", OUTSIDE, str(path)], capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()


@pytest.mark.parametrize("second", ["writer", "reader"])
def test_opening_again_keeps_this_process_s_locks(tmp_path, second) -> None:
    """A multi-portal crawl opens the archive once per portal. Checking the file must not close
    a descriptor of it (that drops every POSIX lock the process holds on it), or the next
    outside connection to close takes itself for the last one and deletes the WAL under us."""
    path = tmp_path / "a.db"
    url = f"sqlite:///{path}"
    first = open_archive(url)
    try:
        first.ensure_portal("p1", "中国长安网")  # pooled connections now hold the file's locks
        again = open_archive(url) if second == "writer" else db.open_reader(url)
        try:
            assert outside_portals(path) == "p1"
            assert Path(f"{path}-wal").exists()  # the outsider was not the last connection
            first.ensure_portal("p2", "湖南长安网")
            if second == "writer":
                again.ensure_portal("p3", "广东政法网")
        finally:
            again.close()
    finally:
        first.close()
    assert outside_portals(path) == ("p1,p2,p3" if second == "writer" else "p1,p2")


def test_busy_timeout_comes_from_the_environment(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{closed_archive(tmp_path / 'a.db')}"
    monkeypatch.setenv("GOVCRAWL_BUSY_TIMEOUT_MS", "1234")
    with open_archive(url) as arc, arc.engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 1234
    reader = db.open_reader(url)
    with reader.read_engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 1234
    reader.close()
    for bad in ("soon", "-5", "1.5"):
        monkeypatch.setenv("GOVCRAWL_BUSY_TIMEOUT_MS", bad)
        with pytest.raises(ArchiveError, match="GOVCRAWL_BUSY_TIMEOUT_MS") as err:
            open_archive(url)
        assert "\n" not in str(err.value)


@pytest.mark.postgres
def test_postgres_reader_transactions_are_read_only(pg_archive, pg_url) -> None:
    reader = db.open_reader(pg_url)
    try:
        with reader.read_engine.connect() as conn:
            assert "p1" in conn.execute(select(portals.c.id)).scalars().all()
        with pytest.raises(Exception, match="read-only transaction"), \
                reader.engine.begin() as conn:
            conn.execute(insert(portals).values(id="x", name="x", extra={},
                                                updated_at="2026-01-01T00:00:00+00:00"))
    finally:
        reader.close()


@pytest.mark.postgres
def test_postgres_reader_refuses_an_empty_database_and_creates_nothing() -> None:
    from sqlalchemy import create_engine, inspect

    from tests.conftest import throwaway_pg_database

    with throwaway_pg_database("govcrawl_ro") as url:
        with pytest.raises(ArchiveError, match="empty database"):
            db.open_reader(url)
        engine = create_engine(url)
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
        engine.dispose()
