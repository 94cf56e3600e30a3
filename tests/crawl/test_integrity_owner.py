"""Nothing lost, nothing false (issue #17): one archive owner per crawl process, writes off the
reactor, backfills that always resume, storage failures that spill everything, and run rows
that tell the truth. Crawls run as subprocesses against the loopback simulator."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from govcrawl.store import open_archive, spill
from tests.conftest import ROOT, throwaway_pg_database
from tests.crawl.conftest import FAST

pytestmark = pytest.mark.slow

ONE_PROCESS = """
import json, sys
from sqlalchemy import Engine
from govcrawl.crawl import run_portals
from govcrawl.portals.registry import load_registry
from govcrawl.spiders.portal import PortalSpider
from govcrawl.store import archive

made, spiders = [], []
def recording(init, into):
    def record(self, *args, **kwargs):
        into.append(self)
        init(self, *args, **kwargs)
    return record
archive.Archive.__init__ = recording(archive.Archive.__init__, made)
PortalSpider.__init__ = recording(PortalSpider.__init__, spiders)
registry = load_registry()
settings = dict(pair.split("=", 1) for pair in sys.argv[3::2])
reports = run_portals([registry.portals[p] for p in sys.argv[1].split(",")], settings)
own = [k for s in spiders for k, v in vars(s).items() if isinstance(v, (archive.Archive, Engine))]
print(json.dumps({"archives": len(made), "spiders": len(spiders), "own": own,
                  "runs": [r.run_id for r in reports],
                  "stored": [r.count("stored/new") for r in reports]}))
"""


def articles_of(site, portal: str) -> list[str]:
    return sorted(a["url"] for a in site.simulator.iter_articles(portal)
                  if a["expected_kind"] == "article")


def archived(site) -> list[str]:
    return sorted(url for (url,) in site.sql("select url from articles"))


def run_row(site, spider: str) -> tuple[str, dict]:
    [(status, stats)] = site.sql("select status, stats from runs where spider = ? "
                                 "order by id desc limit 1", spider)
    return status, json.loads(stats)


def test_two_portals_in_one_process_open_the_archive_once(site_factory):
    site = site_factory(size=6)
    result = subprocess.run([sys.executable, "-c", ONE_PROCESS, "sim_spp,sim_jszf", *FAST],
                            cwd=site.workdir, env=site.env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["archives"] == 1  # one Archive (one engine pair) for both crawlers
    assert outcome["spiders"] == 2 and outcome["own"] == []  # no spider holds a database
    assert len(set(outcome["runs"])) == 2 and all(outcome["stored"])
    assert archived(site) == sorted(articles_of(site, "spp") + articles_of(site, "jszf"))
    assert sorted(s for (s,) in site.sql("select status from runs")) == ["finished"] * 2


def test_a_blocked_write_does_not_stall_the_reactor(site_factory):
    site = site_factory(size=150)
    command = [sys.executable, "-m", "govcrawl", "crawl", "sim_spp", *FAST,
               "-s", "DOWNLOAD_DELAY=0.1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
               "-s", "GOVCRAWL_BATCH_SIZE=5"]
    process = subprocess.Popen(command, cwd=site.workdir, env=site.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                if site.sql("select count(*) from articles")[0][0] >= 5:
                    break
            except sqlite3.Error:  # the archive may not exist yet
                continue
        blocker = sqlite3.connect(site.db_path, isolation_level=None, timeout=30)
        blocker.execute("BEGIN IMMEDIATE")  # the write lock, held past several list pages
        before = site.simulator.stats()["requests"]
        time.sleep(3)
        served = site.simulator.stats()["requests"] - before
        blocker.execute("ROLLBACK")
        blocker.close()
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err[-3000:]
    assert served >= 10, served  # downloads and parsing went on while the archive waited
    assert archived(site) == articles_of(site, "spp")
    assert site.sql("select backfill_complete from channel_progress") == [(1,)]


def test_a_backfill_resumed_at_its_first_page_reaches_every_article(site_factory):
    site = site_factory(size=100)  # 5 TRS list pages of 20
    first = site.crawl("sim_spp", args=("-a", "max_pages=2"))
    assert first.returncode == 0, first.stderr[-2000:]
    assert "NOTICE: the backfill of 1 channel(s) stopped short" in first.stdout
    status, stats = run_row(site, "sim_spp")
    assert (status, stats["govcrawl/backfill_incomplete"]) == ("finished", 1)
    # As a run killed before page 0's articles were archived leaves it: resume at page 0.
    [(channel,)] = site.sql("select channel_url from channel_progress")
    with sqlite3.connect(site.db_path) as conn:
        conn.execute("update channel_progress set resume = ?", (json.dumps(
            {"url": channel, "page": 0, "method": "GET", "formdata": None, "context": {}}),))
    second = site.crawl("sim_spp")
    assert second.returncode == 0, second.stderr[-2000:]
    assert archived(site) == articles_of(site, "spp")
    assert site.sql("select backfill_complete, resume from channel_progress") == [(1, None)]
    assert "list pages 5," in second.stdout  # page 0 read once, for news and backfill
    assert "NOTICE" not in second.stdout
    assert "govcrawl/backfill_incomplete" not in run_row(site, "sim_spp")[1]


FULL_AFTER = 30  # responses the archive takes before it "runs out of space"


def fill_up(site, limit: int = FULL_AFTER) -> None:
    """A database that starts failing mid-crawl, as a full disk does."""
    open_archive(f"sqlite:///{site.db_path}").close()
    with sqlite3.connect(site.db_path) as conn:
        conn.execute(f"create trigger full_disk before insert on responses when "
                     f"(select count(*) from responses) >= {limit} begin "
                     f"select raise(abort, 'database or disk is full'); end")


def test_a_storage_failure_spills_every_item_not_committed(site_factory):
    site = site_factory(size=100)
    fill_up(site)
    result = site.crawl("sim_spp", args=("-s", "GOVCRAWL_BATCH_SIZE=5",
                                         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"))
    assert result.returncode == 3, result.stdout + result.stderr[-2000:]
    status, stats = run_row(site, "sim_spp")
    assert status == "failed"
    assert stats["govcrawl/failure_reason"].startswith("storage failed")
    [path] = (site.workdir / "output").glob("spill-sim_spp-*.jsonl")
    spilled = [e.page.url for e in spill.read(path) if e.page.kind == "article"]
    committed = archived(site)
    assert spilled and committed and not set(spilled) & set(committed)
    # Every article page fetched (and extracted) is committed or spilled.
    assert len(committed) + len(spilled) == stats["govcrawl/pages/article"]
    with sqlite3.connect(site.db_path) as conn:
        conn.execute("drop trigger full_disk")
    loaded = site.govcrawl("load-spill", str(path))
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    again = site.crawl("sim_spp")
    assert again.returncode == 0, again.stderr[-2000:]
    assert archived(site) == articles_of(site, "spp")
    assert site.sql("select backfill_complete from channel_progress") == [(1,)]


def test_a_spill_that_cannot_be_written_fails_loudly(site_factory):
    site = site_factory(size=60)
    fill_up(site, limit=10)
    blocked = site.workdir / "not-a-folder"
    blocked.write_text("a file where the spill folder should be")
    site.env["GOVCRAWL_OUTPUT_DIR"] = str(blocked / "output")
    result = site.crawl("sim_spp", args=("-s", "GOVCRAWL_BATCH_SIZE=5"))
    assert result.returncode == 3, result.stdout + result.stderr[-2000:]
    assert "NOT saved" in result.stdout
    status, stats = run_row(site, "sim_spp")
    assert status == "failed" and stats["govcrawl/spill_failed"]
    lost = [line.rsplit(" ", 1)[-1] for line in result.stderr.splitlines()
            if "ERROR: not saved (fetch it again): " in line]
    assert len(lost) == stats["govcrawl/lost"] > 0
    assert not set(lost) & set(archived(site))


def run_logs(site) -> str:
    return "".join(p.read_text("utf-8", "replace") for p in (site.workdir / "logs").glob("*.log"))


def test_a_terminated_postgresql_connection_is_retried(site_factory):
    from sqlalchemy import create_engine, text

    site = site_factory(size=100)
    with throwaway_pg_database("govcrawl_h1") as url:
        site.env["GOVCRAWL_DATABASE_URL"] = url
        name = url.rsplit("/", 1)[-1]
        command = [sys.executable, "-m", "govcrawl", "crawl", "sim_spp", *FAST,
                   "-s", "GOVCRAWL_BATCH_SIZE=3", "-s", "DOWNLOAD_DELAY=0.02",
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"]
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        process = subprocess.Popen(command, cwd=ROOT, env=site.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        terminated = []
        try:
            with admin.connect() as conn:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not terminated:
                    time.sleep(0.05)
                    try:
                        stored = conn.execute(text("select count(*) from articles")).scalar()
                    except Exception:  # no schema yet
                        conn.rollback()
                        continue
                    if stored < 10:
                        continue
                    # The crawl's connections, whatever they are doing, until one was cut
                    # mid-transaction (the run log tells; an idle one reconnects unseen).
                    for _ in range(200):
                        terminated += conn.execute(text(
                            "select pg_terminate_backend(pid) from pg_stat_activity where "
                            "datname = :d and pid <> pg_backend_pid()"), {"d": name}).all()
                        time.sleep(0.02)
                        if "archive connection lost" in run_logs(site):
                            break
            out, err = process.communicate(timeout=180)
            with admin.connect() as conn:
                urls = sorted(conn.execute(text("select url from articles")).scalars())
                statuses = conn.execute(text("select status from runs")).scalars().all()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            admin.dispose()
    assert terminated
    assert process.returncode == 0, out + err[-3000:]
    assert "archive connection lost" in err
    assert urls == articles_of(site, "spp")
    assert statuses == ["finished"]


def test_a_portal_that_failed_entirely_is_recorded_failed(site_factory, tmp_path):
    site = site_factory(size=2)
    dead = tmp_path / "dead.toml"
    dead.write_text('[[portal]]\nid = "dead"\nname = "死站"\ndialect = "trs"\n'
                    'start_urls = ["http://127.0.0.1:9/dead/index.shtml"]\n', "utf-8")
    site.env["GOVCRAWL_PORTALS"] = str(dead)
    result = site.crawl("dead")
    assert result.returncode == 1, result.stdout
    status, stats = run_row(site, "dead")
    assert status == "failed"
    assert stats["govcrawl/failure_reason"].startswith("dead failed entirely")

