"""Quiet by default: `crawl` and `demo` print the report (and a live line on a terminal);
Scrapy's INFO stream goes to each run's log file, simulated faults are no console ERRORs."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from govcrawl.cli.output import ProgressLine, progress_text, width
from govcrawl.extensions import progress_line

pytestmark = pytest.mark.slow

FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s",
        "GOVCRAWL_BACKOFF_MAX=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8")


def test_a_two_portal_crawl_prints_its_report_and_logs_scrapy_to_files(site_factory):
    site = site_factory(size=25)
    result = site.govcrawl("crawl", "sim_spp", "sim_changan", *FAST)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert len(lines) <= 20, result.stdout
    assert lines[-1] == f"logs: {site.env['GOVCRAWL_LOG_DIR']}/<portal>-<run>.log"
    assert result.stderr == ""
    logs = {p.name: p.read_text("utf-8") for p in (site.workdir / "logs").glob("*.log")}
    assert sorted(name.split("-")[0] for name in logs) == ["sim_changan", "sim_spp"]
    for text in logs.values():
        assert "[scrapy.core.engine] INFO: Closing spider (finished)" in text


def test_verbose_shows_scrapys_log_on_the_console(site_factory):
    site = site_factory(size=3)
    result = site.govcrawl("crawl", "sim_spp", "-v", *FAST)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[scrapy.core.engine] INFO: Spider opened" in result.stderr


def test_the_progress_line_redraws_per_portal_and_is_erased_before_the_report(site_factory):
    site = site_factory(size=6)
    result = subprocess.run(  # bytes: text mode would turn each \r into a newline
        [sys.executable, "-m", "govcrawl", "crawl", "sim_spp", "sim_fzw", "-s",
         "GOVCRAWL_PROGRESS=true", *FAST], cwd=site.workdir, env=site.env, capture_output=True,
        timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    stderr = result.stderr.decode("utf-8")
    draws = [d.removesuffix("\x1b[K") for d in stderr.split("\r") if d]
    assert draws[-1] == "", stderr  # erased: the report starts on a clean line
    last = draws[-2]
    assert last.startswith("crawling: ") and "sim_spp" in last and "sim_fzw" in last
    assert " done" in last
    assert b"sim_spp (run" in result.stdout


def test_progress_line_counts_and_fits_the_terminal():
    stats = {"response_received_count": 12, "govcrawl/stored/new": 9,
             "govcrawl/articles_known_skipped": 3}
    line = progress_line({"spp": (stats, True), "fzw": ({}, False)}, 200)
    assert line == "crawling: spp 12 pages, 9 new, 3 known done | fzw 0 pages, 0 new"
    assert width(progress_line({"长安网" * 30: (stats, False)}, 40)) <= 39


def test_demo_counts_simulated_faults_instead_of_printing_errors(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVCRAWL_", "SCRAPY_"))}
    env["GOVCRAWL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "govcrawl", "demo", "--size", "12", "--port", "0",
         "--faults", "404=0.1,500=0.1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "ERROR" not in result.stderr, result.stderr[-2000:]
    faults = [line for line in result.stdout.splitlines()
              if line.startswith("Simulated faults served: ")]
    assert len(faults) == 1 and "500 ×" in faults[0] and "404 ×" in faults[0], result.stdout
    logs = "".join(p.read_text("utf-8") for p in (tmp_path / "output/logs").glob("*.log"))
    assert "Gave up retrying" in logs  # kept where an operator looks for it


def test_an_incremental_feed_says_why_it_lacks_the_known_articles(site_factory):
    site = site_factory(size=5)
    feed = site.workdir / "spp.jsonl"
    note = "the feed holds this run's articles only: 5 known articles were skipped"
    first = site.scrapy("crawl", "sim_spp", "-O", str(feed), *FAST)
    assert first.returncode == 0, first.stderr[-2000:]
    assert len(feed.read_text("utf-8").splitlines()) == 5 and note not in first.stderr
    second = site.scrapy("crawl", "sim_spp", "-O", str(feed), *FAST)
    assert second.returncode == 0, second.stderr[-2000:]
    assert feed.read_text("utf-8") == "" and note in second.stderr
    full = site.scrapy("crawl", "sim_spp", "-O", str(feed), "-a", "full=true", *FAST)
    assert full.returncode == 0, full.stderr[-2000:]
    assert len(feed.read_text("utf-8").splitlines()) == 5 and note not in full.stderr


def test_scrapy_parse_shows_the_extracted_article(site_factory):
    site = site_factory(size=2)
    article = site.simulator.truth()["portals"][0]["articles"][0]
    result = site.scrapy("parse", "--spider", "sim_spp", "-c", "parse_article", "--nocolour",
                         article["url"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'kind': 'article'" in result.stdout and "'pending'" not in result.stdout
    assert f"'title': '{article['title']}'" in result.stdout


def test_progress_text_gives_the_total_and_what_is_left():
    assert progress_text("export", 1500, 12000, "articles", 6.0) == \
        "export: 1,500 of 12,000 articles (12%), about 0:42 left"
    assert progress_text("export", 12000, 12000, "articles", 48.0) == \
        "export: 12,000 of 12,000 articles (100%)"
    assert progress_text("import", 300, None, "responses", 2.0) == "import: 300 responses, 150/s"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_redraws_in_place_on_a_terminal_only():
    ticks = iter([0.0, 0.1, 0.15, 0.5, 0.6])
    out = Terminal()
    bar = ProgressLine("import", "responses", 100, stream=out, clock=lambda: next(ticks))
    bar.message("import: 10 responses read")  # at 0.1 s
    bar.update(20)  # 0.15 s: within the interval, not redrawn
    bar.update(50)  # 0.5 s
    bar.close()
    assert out.getvalue().split("\r") == [
        "", "import: 10 of 100 responses (10%), about 0:01 left\x1b[K",
        "import: 50 of 100 responses (50%), about 0:01 left\x1b[K", "\x1b[K"]
    piped = io.StringIO()
    quiet = ProgressLine("import", "responses", 100, stream=piped, clock=lambda: 1.0)
    quiet.update(10)
    quiet.close()
    assert piped.getvalue() == ""
