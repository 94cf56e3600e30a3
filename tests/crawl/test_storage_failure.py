"""When the database fails mid-crawl nothing is lost: a spill file, a failed run, exit 3."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from govcrawl.crawl import EXIT_STORAGE, assess
from govcrawl.items import CrawledPage
from govcrawl.pipelines import ArchivePipeline
from govcrawl.records import RawResponse
from govcrawl.store import open_archive, spill


class LockedArchive:
    """The pipeline's archive, whose batch writes fail as a database locked beyond its
    timeout does."""

    def __init__(self, archive):
        self.archive = archive

    def store_batch(self, entries):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    def __getattr__(self, name):
        return getattr(self.archive, name)


def item(n: int, raw: bool = True) -> CrawledPage:
    url = f"http://127.0.0.1/p/{n}.html"
    body = f"<html><body><h1>标题{n}</h1><p>正文{n}</p></body></html>".encode()
    return CrawledPage(
        url=url, status=200 if raw else 0, kind="article" if raw else "error",
        reason=None if raw else "dns", title=f"标题{n}", body_text=f"正文{n}", portal="p",
        raw=RawResponse(url, 200, {"Content-Type": "text/html"}, body, datetime.now(UTC))
        if raw else None)


def test_a_failed_database_spills_every_pending_item_and_fails_the_run(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    crawler = get_crawler(settings_dict={"GOVCRAWL_BATCH_SIZE": 3, "GOVCRAWL_DATABASE_URL": url,
                                         "GOVCRAWL_OUTPUT_DIR": str(tmp_path)})
    crawler.spider = SimpleNamespace(name="p", known=set())
    crawler.engine = mock.Mock()
    crawler.engine.close_spider_async = mock.AsyncMock()
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)

    async def crawl():
        await pipeline.open_spider()
        pipeline.archive = LockedArchive(pipeline.archive)
        for n in range(2):
            await pipeline.process_item(item(n))
        await pipeline.process_item(item(2, raw=False))  # the third item fills the batch
        await asyncio.sleep(0)
        await pipeline.process_item(item(3))  # in flight when it failed: appended
        await pipeline.close_spider()
        await pipeline.spider_closed(crawler.spider, "storage_failed")

    asyncio.run(crawl())
    crawler.engine.close_spider_async.assert_awaited_once_with(reason="storage_failed")
    stats = crawler.stats.get_stats()
    assert stats["govcrawl/spilled"] == 4
    assert "govcrawl/stored/new" not in stats  # nothing counts as stored without a commit
    assert assess("p", pipeline.run_id, stats).exit_status() == EXIT_STORAGE
    [path] = tmp_path.glob("spill-p-*.jsonl")
    # Later, with the database back, the spill file loads everything.
    archive = open_archive(url)
    try:
        with archive.read_engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM runs WHERE id = :i"),
                                  {"i": pipeline.run_id}).scalar()
        assert status == "failed"
        archive.ensure_portal("p", "测试")  # a portal spider's run would have declared it
        outcomes = spill.load(path, archive)
        assert [o.status for o in outcomes] == ["new", "new", "new"]
        assert archive.count("articles") == 3 and archive.count("rejects") == 1
    finally:
        archive.close()


@pytest.mark.slow
def test_the_failure_line_names_the_spill_file(tmp_path):
    stats = {"govcrawl/list_pages": 1, "govcrawl/list_pages_ok": 1,
             "govcrawl/storage_failed": "database is locked",
             "govcrawl/spill_file": str(tmp_path / "spill.jsonl")}
    report = assess("p", 1, stats)
    assert any("spill.jsonl" in line for line in report.lines())
