"""Extraction workers that die: every page is extracted again, none becomes a reject because
of the infrastructure; a page that kills its worker every time is rejected, retryably."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
from scrapy.settings import Settings

from govcrawl import pipelines
from govcrawl.extract import extract_page
from govcrawl.items import PENDING, CrawledPage
from govcrawl.records import RawResponse
from tests.conftest import ROOT
from tests.crawl.conftest import FAST

FIXTURE = ROOT / "tests" / "fixtures" / "extract" / "byline_br_cjk_minute"


class FakePool(Executor):
    """A process pool whose worker dies when the test says: `kill_when(pool, fn, args)` is
    asked at each submit; True fails every call in flight, as a dead worker does. Calls
    complete on the event loop's next turn, so pages submitted together are in flight together.
    """

    made: ClassVar[list[FakePool]] = []
    kill_when = staticmethod(lambda pool, fn, args: False)

    def __init__(self, *args, **kwargs) -> None:
        self.pending: list[Future] = []
        self.broken = False
        self.extracted = 0  # pages extracted by this pool's "worker"
        FakePool.made.append(self)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if self.broken:
            raise BrokenProcessPool("a child process terminated abruptly")
        future: Future = Future()
        self.pending.append(future)
        if FakePool.kill_when(self, fn, args):
            self.broken = True
            for waiting in self.pending:
                waiting.set_exception(BrokenProcessPool("a child process terminated abruptly"))
            self.pending = []
        else:
            asyncio.get_running_loop().call_soon(self._complete, future, fn, args)
        return future

    def _complete(self, future: Future, fn, args) -> None:
        if future.done():  # failed by a death meanwhile
            return
        self.pending.remove(future)
        future.set_result(fn(*args))
        self.extracted += fn is pipelines.extract_with_keys

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass


@pytest.fixture
def fake_pools(monkeypatch):
    FakePool.made = []
    monkeypatch.setattr(pipelines, "ProcessPoolExecutor", FakePool)
    yield FakePool
    FakePool.kill_when = staticmethod(lambda pool, fn, args: False)


def page_item(url: str) -> CrawledPage:
    meta = json.loads(FIXTURE.with_suffix(".json").read_text("utf-8"))
    raw = RawResponse(url=url, status=meta["status"], headers=meta["headers"],
                      body=FIXTURE.with_suffix(".html").read_bytes(),
                      fetched_at=datetime.now(UTC))
    return CrawledPage(url=url, status=200, kind=PENDING, raw=raw)


def make_pipeline(**settings) -> pipelines.ExtractionPipeline:
    stats = Counter()
    project = Settings()
    project.setmodule("govcrawl.settings", priority="project")  # the defaults a crawl has
    project.setdict({"GOVCRAWL_EXTRACT_WORKERS": 1, **settings}, priority="cmdline")
    crawler = SimpleNamespace(
        settings=project,
        spider=SimpleNamespace(name="test", portal=None),
        stats=SimpleNamespace(inc_value=lambda key, n=1: stats.update({key: n}),
                              counts=stats))
    pipeline = pipelines.ExtractionPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def test_two_pages_in_flight_when_the_pool_breaks_are_both_extracted(fake_pools):
    # the worker dies with both pages in flight (the first pool has extracted nothing yet)
    fake_pools.kill_when = staticmethod(
        lambda pool, fn, args: pool is FakePool.made[0] and len(pool.pending) == 2)
    pipeline = make_pipeline()
    url = json.loads(FIXTURE.with_suffix(".json").read_text("utf-8"))["url"]
    items = [page_item(url), page_item(url.replace(".html", "1.html"))]

    async def both():
        return await asyncio.gather(*(pipeline.process_item(i) for i in items))

    done = asyncio.run(both())
    expected = extract_page(items[0].raw.body, url, 200, items[0].raw.headers)
    assert expected.kind == "article"
    for item in done:
        assert (item.kind, item.reason) == (expected.kind, expected.reason), item.warnings
        assert item.title == expected.title
    assert len(FakePool.made) == 2  # replaced once, not once per page
    assert FakePool.made[1].extracted == 2  # in the new worker, not in-process
    assert pipeline.crawler.stats.counts["govcrawl/extract_respawns"] == 1
    pipeline.close_spider()


def test_a_page_that_kills_every_worker_is_rejected_alone_and_retryably(fake_pools):
    url = json.loads(FIXTURE.with_suffix(".json").read_text("utf-8"))["url"]
    killer = url.replace(".html", "-huge.html")
    fake_pools.kill_when = staticmethod(
        lambda pool, fn, args: fn is pipelines.extract_with_keys and args[1] == killer)
    pipeline = make_pipeline(GOVCRAWL_EXTRACT_KILLS=3)
    items = [page_item(url), page_item(killer), page_item(url.replace(".html", "1.html"))]

    async def all_of_them():
        return await asyncio.gather(*(pipeline.process_item(i) for i in items))

    good, bad, other = asyncio.run(all_of_them())
    assert (bad.kind, bad.reason) == ("error", "extraction-killed-worker")
    assert bad.kind in pipelines.RETRYABLE  # fetched again in a later run, with backoff
    assert (good.kind, other.kind) == ("article", "article")
    assert len(FakePool.made) == 4  # three deaths, three new pools, never a fourth death
    pipeline.close_spider()


def test_workers_that_cannot_start_fall_back_to_in_process(fake_pools):
    fake_pools.kill_when = staticmethod(lambda pool, fn, args: True)  # no worker ever runs
    pipeline = make_pipeline()
    url = json.loads(FIXTURE.with_suffix(".json").read_text("utf-8"))["url"]
    items = [page_item(url), page_item(url.replace(".html", "1.html"))]

    async def both():
        return await asyncio.gather(*(pipeline.process_item(i) for i in items))

    assert [i.kind for i in asyncio.run(both())] == ["article", "article"]
    assert pipeline.pool is None and len(FakePool.made) == 2  # one probe, then in-process


# -- end to end: SIGKILL the real extraction worker of a real crawl --------------------------------
def _extraction_workers(pid: int) -> set[int]:
    """The crawl's spawned multiprocessing workers (not its resource tracker)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and b"spawn_main" in (proc / "cmdline").read_bytes():
                found.add(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue  # it exited meanwhile
    return found


def _stored(site) -> int:
    try:
        return site.sql("select count(*) from articles")[0][0]
    except sqlite3.Error:  # the archive may not exist yet
        return 0


@pytest.mark.slow
def test_sigkilled_extraction_workers_lose_no_article(site_factory):
    site = site_factory(size=150)
    command = [sys.executable, "-m", "govcrawl", "crawl", "sim_changan", *FAST,
               "-s", "GOVCRAWL_EXTRACT_WORKERS=1", "-s", "GOVCRAWL_BATCH_SIZE=5"]
    process = subprocess.Popen(command, cwd=site.workdir, env=site.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        # Twice, the second time a respawned worker: once the worker has extracted pages
        # (they are stored) while the list pages' other articles queue up for it.
        while len(killed) < 2 and time.monotonic() < deadline and process.poll() is None:
            workers = _extraction_workers(process.pid) - killed
            if workers and _stored(site) >= 10 + 40 * len(killed):
                for pid in workers:
                    os.kill(pid, signal.SIGKILL)
                killed |= workers
            time.sleep(0.01)
        err = process.communicate(timeout=120)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert killed, "no extraction worker to kill"
    assert process.returncode == 0, err[-3000:]
    rejects = site.sql("select url, kind, reason from rejects where reason like 'extraction%'")
    assert rejects == []
    truth = {a["url"] for a in site.simulator.iter_articles("changan")
             if a["expected_kind"] == "article"}
    urls = [url for (url,) in site.sql("select url from articles")]
    assert sorted(urls) == sorted(truth)  # every article, none twice
    assert "an extraction worker died" in err
