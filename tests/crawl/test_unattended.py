"""Unattended runs: revisits, versions, removals, kills, backoff, Crawl-delay, logs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.crawl.conftest import FAST

pytestmark = pytest.mark.slow


def test_revisit_records_edits_as_versions_and_removals_as_events(site_factory):
    site = site_factory(size=6)
    assert site.crawl("sim_spp").returncode == 0
    articles = list(site.simulator.iter_articles("spp"))
    edited, deleted = articles[1], articles[2]
    site.simulator.edit(edited["id"])
    site.simulator.delete(deleted["id"])
    result = site.crawl("sim_spp", args=("-a", "revisit_days=36500"))
    assert result.returncode == 0, result.stderr[-2000:]
    versions = site.sql("select a.url from article_versions v join articles a "
                        "on a.id = v.article_id")
    assert [url for (url,) in versions] == [edited["url"]]
    new_title = site.simulator.article_truth(edited["id"])["title"]
    assert site.sql("select title from articles where url = ?", edited["url"]) == [(new_title,)]
    removed = site.sql("select url from articles where removed_at is not null")
    assert removed == [(deleted["url"],)]
    events = site.sql("select event from article_events")
    assert events == [("removed",)]
    assert "articles new 0" in result.stdout


def test_failed_urls_are_not_known_and_back_off(site_factory):
    site = site_factory(size=20, faults="500=0.3")
    first = site.crawl("sim_county")
    assert first.returncode == 0
    failed = site.sql("select url from fetch_state")
    assert failed, "the 500 fault should have left URLs to retry"
    requests_before = site.simulator.stats()["requests"]
    second = site.crawl("sim_county")
    assert second.returncode == 0
    # inside the backoff window nothing is refetched: only list pages and robots.txt
    assert site.simulator.stats()["requests"] - requests_before <= 4
    assert set(site.sql("select url from fetch_state")) == set(failed)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def test_a_killed_run_restarts_with_no_loss_and_no_duplicate(site_factory):
    # Big enough that the kill lands mid-crawl: items queue up while the extraction worker
    # starts, then dozens are stored within a fraction of a second.
    site = site_factory(size=150, faults="slow=0.3,slow-delay=0.4")
    command = [sys.executable, "-m", "govcrawl", "crawl", "sim_changan", *FAST,
               "-s", "GOVCRAWL_BATCH_SIZE=5", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"]
    process = subprocess.Popen(command, cwd=site.workdir, env=site.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.3)
        try:
            if site.sql("select count(*) from articles")[0][0] >= 8:
                break
        except Exception:  # the archive may not exist yet
            continue
    helpers = _children(process.pid)  # the extraction worker (and multiprocessing's tracker)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert helpers
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in helpers), "extraction worker outlived its crawl"
    assert site.sql("select status from runs") == [("running",)]
    stored = site.sql("select count(*) from articles")[0][0]
    assert 0 < stored < 150
    result = site.crawl("sim_changan")
    assert result.returncode == 0, result.stderr[-2000:]
    truth = {a["url"] for a in site.simulator.iter_articles("changan")
             if a["expected_kind"] == "article"}
    urls = [url for (url,) in site.sql("select url from articles")]
    assert sorted(urls) == sorted(truth)  # every article, none twice
    assert sorted(site.sql("select status from runs")) == [("aborted",), ("finished",)]


def test_crawl_delay_is_honoured_and_each_run_has_its_log(site_factory):
    site = site_factory(size=4, faults="crawl-delay=0.5")
    started = time.monotonic()
    result = site.crawl("sim_fzw")
    elapsed = time.monotonic() - started
    assert result.returncode == 0
    assert elapsed >= 4 * 0.5  # four articles after the list page, one per Crawl-delay
    [run_id] = [r for (r,) in site.sql("select id from runs")]
    log = (site.workdir / "logs" / f"sim_fzw-{run_id}.log").read_text("utf-8")
    assert "Crawl-delay 0.5" in log
    assert all(f"run={run_id} portal=sim_fzw" in line for line in log.splitlines())


def test_scrapy_crawl_exit_status_for_a_dead_portal(site_factory, tmp_path):
    site = site_factory(size=2)
    dead = tmp_path / "dead.toml"
    dead.write_text('[[portal]]\nid = "dead"\nname = "死站"\ndialect = "trs"\n'
                    'start_urls = ["http://127.0.0.1:9/dead/index.shtml"]\n', "utf-8")
    site.env["GOVCRAWL_PORTALS"] = str(dead)
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "dead", *FAST], cwd=ROOT,
                            env=site.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "dead failed entirely" in result.stdout


def test_an_interrupted_backfill_resumes_where_it_stopped(site_factory):
    site = site_factory(size=100)  # 5 TRS list pages of 20
    first = site.crawl("sim_spp", args=("-a", "max_pages=2"))
    assert first.returncode == 0, first.stderr[-2000:]
    assert site.sql("select count(*) from articles")[0][0] == 40
    [(complete, last_page, resume)] = site.sql(
        "select backfill_complete, last_page, resume from channel_progress")
    assert (complete, last_page) == (0, 1)
    assert json.loads(resume)["url"].endswith("/zdgz/index_2.shtml")
    site.simulator.publish(2)  # news at the top while the backfill is unfinished
    second = site.crawl("sim_spp")
    assert second.returncode == 0, second.stderr[-2000:]
    truth = sorted(a["url"] for a in site.simulator.iter_articles("spp"))
    assert sorted(u for (u,) in site.sql("select url from articles")) == truth
    assert site.sql("select backfill_complete, resume from channel_progress") == [(1, None)]
    before = site.simulator.stats()["requests"]
    third = site.crawl("sim_spp")
    assert third.returncode == 0
    assert "list pages 1," in third.stdout  # backfill done: the first page has nothing new
    assert site.simulator.stats()["requests"] - before <= 2  # robots.txt and that page


def test_a_failing_robots_txt_is_a_portal_failure_not_an_empty_portal(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Broken(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(500 if self.path == "/robots.txt" else 200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write("<html><body>服务器内部错误</body></html>".encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        declaration = tmp_path / "broken.toml"
        declaration.write_text(
            f"[[portal]]\nid = 'broken'\nname = '坏站'\ndialect = 'trs'\nstart_urls = "
            f"['http://127.0.0.1:{server.server_address[1]}/x/index.shtml']\n", "utf-8")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
               "GOVCRAWL_PORTALS": str(declaration),
               "GOVCRAWL_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
               "GOVCRAWL_LOG_DIR": str(tmp_path / "logs")}
        result = subprocess.run([sys.executable, "-m", "govcrawl", "crawl", "broken", *FAST],
                                cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=120)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert result.returncode == 1, result.stdout
    assert "broken failed entirely: its robots.txt could not be read (500)" in result.stdout


def test_since_applies_to_the_articles_own_dates_where_lists_show_none(site_factory):
    site = site_factory(size=40)
    articles = [a for a in site.simulator.iter_articles("county")
                if a["expected_kind"] == "article"]
    days = sorted({a["published_at"][:10] for a in articles})
    since = days[len(days) // 2]
    result = site.crawl("sim_county", args=("-a", f"since={since}"))
    assert result.returncode == 0, result.stderr[-2000:]
    expected = {a["url"] for a in articles if a["published_at"][:10] >= since}
    assert {u for (u,) in site.sql("select url from articles")} == expected
