"""open_archive: URL resolution, SQLite pragmas, migrations, refusals, timestamp storage."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from govcrawl.store import ArchiveError, open_archive
from govcrawl.store.db import ENV_VAR, head_revision


def test_pragmas_in_effect(archive) -> None:
    with archive.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_write_transactions_begin_immediate(archive, sqlite_url) -> None:
    """A write transaction holds the RESERVED lock from BEGIN, not from its first write."""
    path = sqlite_url.removeprefix("sqlite:///")
    with archive.engine.begin() as conn:
        conn.execute(text("SELECT 1"))  # a read only: a deferred BEGIN would hold no lock
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_default_url_is_output_dir_in_cwd(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    with open_archive() as arc:
        assert arc.url == "sqlite:///output/govcrawl.db"
    assert (tmp_path / "output" / "govcrawl.db").stat().st_size > 0


def test_argument_wins_over_env(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, f"sqlite:///{tmp_path}/env.db")
    with open_archive() as arc:
        assert arc.url.endswith("env.db")
    with open_archive(f"sqlite:///{tmp_path}/arg.db") as arc:
        assert arc.url.endswith("arg.db")
    assert (tmp_path / "arg.db").exists()


def test_reopen_is_idempotent_and_at_head(sqlite_url) -> None:
    open_archive(sqlite_url).close()
    with open_archive(sqlite_url) as arc, arc.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
        assert conn.execute(text("SELECT value FROM meta WHERE key='format'")).scalar() == (
            "govcrawl-archive"
        )


def test_refuses_archive_newer_than_code(sqlite_url) -> None:
    with open_archive(sqlite_url) as arc, arc.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(ArchiveError, match="newer than this govcrawl") as err:
        open_archive(sqlite_url)
    assert "\n" not in str(err.value)


def test_refuses_foreign_sqlite_database(tmp_path) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    with pytest.raises(ArchiveError, match=r"not a govcrawl archive.*customers"):
        open_archive(f"sqlite:///{path}")


def test_refuses_non_sqlite_file(tmp_path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库\n" * 100, encoding="utf-8")
    with pytest.raises(ArchiveError, match="not a SQLite database") as err:
        open_archive(f"sqlite:///{path}")
    assert "\n" not in str(err.value)
    assert path.read_text(encoding="utf-8").startswith("这不是数据库")  # untouched


def test_timestamps_keep_their_offset(archive, sqlite_url) -> None:
    """SQLAlchemy's DateTime on SQLite drops the offset; IsoTimestamp keeps it."""
    beijing = timezone(timedelta(hours=8))
    run = archive.start_run("spider", {"a": "法院"})
    archive.finish_run(run, "finished", {"items": 3})
    when = datetime(2024, 5, 10, 16, 0, tzinfo=beijing)
    archive.mark_removed("http://x.cn/none.html", when, "gone")  # unknown URL: no row
    from factory import entry

    archive.store_batch([entry("http://x.cn/a.html", fetched_at=when, published_at="2022-05-10")])
    raw = sqlite3.connect(Path(sqlite_url.removeprefix("sqlite:///")))
    first_seen, published = raw.execute("SELECT first_seen, published_at FROM articles").fetchone()
    started, args = raw.execute("SELECT started_at, arguments FROM runs").fetchone()
    raw.close()
    assert first_seen == "2024-05-10T08:00:00+00:00"  # same instant, explicit offset
    assert datetime.fromisoformat(first_seen) == when
    assert published == "2022-05-10"  # a bare date never becomes midnight
    assert started.endswith("+00:00")
    assert "法院" in args  # JSON stored readable, not \\u-escaped


def test_naive_datetime_refused(archive) -> None:
    from factory import entry

    with pytest.raises(Exception, match="naive datetime"):
        archive.store_batch([entry("http://x.cn/a.html", fetched_at=datetime(2024, 1, 1))])
    assert archive.count("articles") == 0


def test_views_are_queryable(archive) -> None:
    from factory import entry

    archive.store_batch([entry("http://x.cn/a.html"), entry("http://y.cn/a.html", portal="p2"),
                         entry("http://x.cn/c.html", kind="challenge")])
    eng = create_engine(archive.url)
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT portal, head_id, is_copy FROM article_list ORDER BY id")).all()
        assert rows == [("中国长安网", 1, 0), ("湖南长安网", 1, 1)]
        assert conn.execute(text("SELECT copies, copy_portals FROM syndication_groups")).one() == (
            1, "湖南长安网")
        assert conn.execute(text("SELECT kind, n FROM rejects_by_kind")).one() == ("challenge", 1)
        assert conn.execute(text("SELECT responses, rejects FROM run_summary")).all() == []
    eng.dispose()
