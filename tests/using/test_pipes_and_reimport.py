"""Output cut short by its reader ends quietly; re-importing an export keeps its portals;
reprocessing does not pretend to have seen articles again (issue 22)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from govcrawl import ingest
from govcrawl.export import PORTAL_HEADER, WarcExporter
from govcrawl.portals.registry import load_registry
from govcrawl.records import RawResponse
from govcrawl.store import open_archive
from tests.using.usehelpers import sql


@pytest.mark.parametrize("argv", [("query", "--limit", "0"), ("query", "--limit", "1"),
                                  ("export", "--format", "jsonl", "-o", "-")])
def test_a_reader_that_goes_away_is_not_an_error(devset_db: Path, argv) -> None:
    """`govcrawl query | head`: the pipe is closed before the first byte is written."""
    env = {**os.environ, "GOVCRAWL_DATABASE_URL": f"sqlite:///{devset_db}",
           "GOVCRAWL_PORTALS": "", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "govcrawl", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 141, err.decode()  # 128 + SIGPIPE, as the shell reports `yes`
    assert b"Traceback" not in err and b"Exception ignored" not in err, err.decode()


def test_reimported_warc_keeps_the_portals_it_names(tmp_path: Path, devset_pages: Path) -> None:
    """An export from an archive whose portals this one does not declare (the simulator's,
    say) goes back under those portals, not `unknown`."""
    body = (devset_pages / "003.html").read_bytes()
    warc = tmp_path / "export.warc.gz"
    with warc.open("wb") as fh:
        writer = WarcExporter(fh)
        for i, portal in enumerate(("sim_spp", "sim_court")):
            raw = RawResponse(url=f"http://127.0.0.1:9/{portal}/a{i}.html", status=200,
                              headers={"Content-Type": "text/html; charset=utf-8"}, body=body,
                              fetched_at=datetime(2024, 5, 1, tzinfo=UTC))
            writer.write(raw.url, raw, {PORTAL_HEADER: portal})
        plain = RawResponse(url="http://127.0.0.1:9/other/b.html", status=200,
                            headers={"Content-Type": "text/html; charset=utf-8"}, body=body,
                            fetched_at=datetime(2024, 5, 1, tzinfo=UTC))
        writer.write(plain.url, plain)  # another tool's WARC: no portal named
        spp = RawResponse(url="http://127.0.0.1:9/x/c.html", status=200,
                          headers={"Content-Type": "text/html; charset=utf-8"}, body=body,
                          fetched_at=datetime(2024, 5, 1, tzinfo=UTC))
        writer.write(spp.url, spp, {PORTAL_HEADER: "spp"})  # a declared portal
    db = tmp_path / "a.db"
    with open_archive(f"sqlite:///{db}") as arc:
        arc.ensure_portal("sim_court", "模拟法院", level="other")
        resolver = ingest.PortalResolver(load_registry("").portals.values())
        report = ingest.import_warcs(arc, [warc], resolver)
    assert report.errors == [] and report.damaged == []
    assert dict(sql(db, "select url, portal_id from articles")) == {
        "http://127.0.0.1:9/sim_spp/a0.html": "sim_spp",
        "http://127.0.0.1:9/sim_court/a1.html": "sim_court",
        "http://127.0.0.1:9/other/b.html": "unknown",
        "http://127.0.0.1:9/x/c.html": "spp",
    }
    names = dict(sql(db, "select id, name from portals"))
    assert names["sim_court"] == "模拟法院"  # the name the archive had is kept
    assert names["sim_spp"] == "sim_spp" and names["spp"] == "最高人民检察院"


def test_reprocess_does_not_bump_last_seen(devset_copy: Path, govcrawl_cli) -> None:
    before = sql(devset_copy, "select id, last_seen from articles order by id")
    # an extractor change: reprocess must update these, still without "seeing" them again
    with contextlib.closing(sqlite3.connect(devset_copy)) as conn, conn:
        conn.execute("update articles set title = 'stale' where id in (1, 2)")
    result = govcrawl_cli("reprocess")
    assert result.code == 0 and "updated 2" in result.out, result.out
    assert sql(devset_copy, "select id, last_seen from articles order by id") == before
