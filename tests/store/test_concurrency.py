"""Two processes storing copies of one story at once end linked; SIGKILL loses no commit."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import store_workers
from factory import entry
from sqlalchemy import text

from govcrawl.store import open_archive

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ROUNDS = 12


def _race(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=store_workers.store_copies, args=(db_url, who, ROUNDS, barrier,
                                                                  results)) for who in (0, 1)]
    for p in procs:
        p.start()
    got = dict(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    for k in range(ROUNDS):
        pair = sorted([got[0][k], got[1][k]])
        assert pair in (["duplicate", "new"], ["new", "new"]), pair
    arc = open_archive(db_url)
    with arc.read_engine.connect() as conn:
        heads = conn.execute(text("SELECT COUNT(*) FROM articles WHERE duplicate_of IS NULL"))
        assert heads.scalar() == ROUNDS  # one head per story, whoever committed first
        assert conn.execute(text("SELECT COUNT(*) FROM articles")).scalar() == 2 * ROUNDS
        chains = conn.execute(text(
            "SELECT COUNT(*) FROM articles a JOIN articles h ON h.id = a.duplicate_of "
            "WHERE h.duplicate_of IS NOT NULL")).scalar()
        assert chains == 0
    arc.close()


@pytest.mark.slow
def test_two_processes_sqlite(archive) -> None:
    _race(archive.url)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_postgres(pg_archive) -> None:
    _race(pg_archive.url)


@pytest.mark.slow
def test_sigkill_mid_writes_keeps_every_commit(archive) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    proc = subprocess.Popen([sys.executable, str(HERE / "store_workers.py"), archive.url],
                            stdout=subprocess.PIPE, text=True, env=env)
    committed = 0
    for line in proc.stdout:
        committed = int(line)
        if committed >= 300:
            break
    proc.send_signal(signal.SIGKILL)  # very likely mid-transaction: it writes in a tight loop
    proc.wait()
    proc.stdout.close()
    path = archive.url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    with open_archive(archive.url) as again:
        n = again.count("articles")
        assert n >= committed
        assert n % 25 == 0  # whole batches only: no half-written batch survives
        assert again.store_batch([entry("http://x.cn/after.html")])[0].status in ("new", "duplicate")
