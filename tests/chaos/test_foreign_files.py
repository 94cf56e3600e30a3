"""Read commands pointed at a file that is not (this version's) archive touch nothing.

Promise: `govcrawl query`, `stats`, `show 1` and `export` on another application's SQLite
file, an empty file or an archive of a newer schema leave the file's bytes unchanged and exit
non-zero with a one-line message.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from govcrawl.store import open_archive

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

READS = (("query",), ("stats",), ("show", "1"), ("export", "--format", "jsonl", "-o", "x.jsonl"))


def foreign(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("create table users (id integer primary key, name text)")
        conn.execute("insert into users (name) values ('张三')")
        conn.commit()


def empty(path: Path) -> None:
    path.write_bytes(b"")


def newer(path: Path) -> None:
    open_archive(f"sqlite:///{path}").close()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("update alembic_version set version_num = 'ffffffffffff'")
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to hash


@pytest.mark.parametrize("make", [foreign, empty, newer], ids=lambda f: f.__name__)
def test_read_commands_leave_the_file_alone_and_say_why_in_one_line(tmp_path, make):
    path = tmp_path / "archive.db"
    make(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    env = {"GOVCRAWL_DATABASE_URL": f"sqlite:///{path}", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": ":".join(sys.path)}
    outcomes = []
    for args in READS:
        result = subprocess.run([sys.executable, "-m", "govcrawl", *args], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=60)
        lines = result.stderr.strip().splitlines()
        changed = hashlib.sha256(path.read_bytes()).hexdigest() != before
        if result.returncode == 0 or len(lines) != 1 or changed:
            outcomes.append(f"{' '.join(args)}: exit {result.returncode}, file changed "
                            f"{changed}, stderr {lines[-3:]}")
    assert outcomes == [], f"{make.__name__} file: {outcomes}"
