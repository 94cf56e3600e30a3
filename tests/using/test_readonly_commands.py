"""Read commands (query, stats, show, export, `govcrawl.api.open`) open the archive read-only:
they refuse what they cannot read in one line with exit 2, change no byte of it, create nothing,
and do not wait for a crawl holding the write lock."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import govcrawl.api as gc
from govcrawl.store import ArchiveError, db
from tests.using.usehelpers import copy_db

SIDE_FILES = ("-wal", "-shm", "-journal")


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def side_files(path: Path) -> list[str]:
    return [s for s in SIDE_FILES if Path(f"{path}{s}").exists()]


def bad_archive(kind: str, tmp_path: Path, devset_db: Path) -> Path:
    path = tmp_path / f"{kind}.db"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (x)")
        conn.close()
    elif kind in ("newer", "older"):
        copy_db(devset_db, path)
        if kind == "newer":
            revision = "9999_future"
        else:
            from alembic.script import ScriptDirectory

            script = ScriptDirectory.from_config(db._alembic_config())
            revision = script.get_revision(db.head_revision()).down_revision
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        conn.close()
    return path


WORDS = {"missing": "no archive", "empty": "empty", "foreign": "not a govcrawl archive",
         "newer": "newer", "older": "older"}
COMMANDS = (("query",), ("stats",), ("show", "1"), ("export", "--format", "jsonl", "-o", "OUT"))


@pytest.mark.parametrize("kind", sorted(WORDS))
def test_read_commands_refuse_and_leave_the_file_untouched(kind, tmp_path, devset_db,
                                                            govcrawl_cli, monkeypatch):
    monkeypatch.setenv("GOVCRAWL_PORTALS", "")
    path = bad_archive(kind, tmp_path, devset_db)
    before, sides = digest(path), side_files(path)
    out = tmp_path / "out.jsonl"
    for argv in COMMANDS:
        argv = tuple(str(out) if a == "OUT" else a for a in argv)
        result = govcrawl_cli(*argv, "--database", f"sqlite:///{path}")
        assert result.code == 2, (argv, result)
        assert result.err.count("\n") == 1 and WORDS[kind] in result.err, (argv, result.err)
        assert result.out == ""
        assert digest(path) == before, argv  # a missing file stays missing
        assert not out.exists()
    with pytest.raises(ArchiveError, match=WORDS[kind]) as err:
        gc.open(f"sqlite:///{path}")
    assert "\n" not in str(err.value) and digest(path) == before
    if kind in ("missing", "empty", "foreign"):
        assert side_files(path) == sides == []


HOLD_LOCK = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM articles")
    print("locked", flush=True)
    sys.stdin.readline()  # hold the write lock until the test closes stdin
    conn.execute("ROLLBACK")
""")


def test_read_commands_do_not_wait_for_a_crawl_holding_the_write_lock(
        devset_copy, tmp_path, govcrawl_cli, monkeypatch):
    """Another process holds BEGIN IMMEDIATE with an uncommitted write throughout. With a busy
    timeout of 5 s, a reader that asked for the write lock would fail after 5 s."""
    monkeypatch.setenv("GOVCRAWL_BUSY_TIMEOUT_MS", "5000")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 5000)  # what older code reads instead
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(devset_copy)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "locked"
        out = {}
        for argv in (("query", "--limit", "0"), ("stats", "--json"), ("show", "1"),
                     ("export", "--format", "csv", "-o", str(tmp_path / "a.csv"))):
            started = time.monotonic()
            result = govcrawl_cli(*argv)
            elapsed = time.monotonic() - started
            assert result.code == 0, (argv, result.err)
            assert elapsed < 5, (argv, elapsed)
            out[argv[0]] = result.out
        with gc.open() as arc:
            assert len(list(arc.articles(limit=None))) == 36
        # the committed state, not the holder's pending DELETE
        assert len(out["query"].splitlines()) == 36
        with (tmp_path / "a.csv").open(encoding="utf-8", newline="") as fh:
            assert len(list(csv.DictReader(fh))) == 36
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
