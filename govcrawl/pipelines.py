"""ArchivePipeline: store every CrawledPage in the archive, in batches, off the event loop.

Settings: GOVCRAWL_DATABASE_URL (default output/govcrawl.db), GOVCRAWL_BATCH_SIZE,
GOVCRAWL_BATCH_SECONDS, GOVCRAWL_OUTPUT_DIR (where a spill file goes when the database fails).

An item counts as stored (stats `govcrawl/stored/<outcome>`) only once its batch's transaction
has committed. When the database fails, the pending items go to a spill file in the output
folder (load it later with `govcrawl load-spill`), and the crawl stops with a failed status.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline

from govcrawl.crawl import count_extraction
from govcrawl.dedup import BodyKeys, body_keys, url_key
from govcrawl.extract import extract_page
from govcrawl.items import PENDING, CrawledPage
from govcrawl.records import PageResult
from govcrawl.store import spill
from govcrawl.store.archive import StoreEntry

logger = logging.getLogger(__name__)

# Rejects worth fetching again in a later run (with backoff); stubs, lists and robots
# exclusions are not.
RETRYABLE = frozenset({"challenge", "blocked", "error"})


def _default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def _exit_with_parent(parent: int) -> None:
    """In each extraction worker: exit once the crawl process is gone. A SIGKILLed crawl
    (a scheduler's timeout) cannot shut its pool down, and the worker holds both ends of its
    task queue, so it would wait for work forever, ~100 MB each."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="govcrawl-parent-watch", daemon=True).start()


def extract_with_keys(*args) -> tuple[PageResult, BodyKeys | None]:
    """extract_page, plus an article's duplicate keys: both CPU work, done in the worker
    process so the crawl process (whose archive writer shares its GIL) is spared them."""
    page = extract_page(*args)
    return page, body_keys(page.body_text) if page.kind == "article" else None


class ExtractionPipeline:
    """Run decode → repair → extract on fetched pages in worker processes.

    Extraction is CPU work; on the reactor thread it would hold up every download. Setting:
    GOVCRAWL_EXTRACT_WORKERS (default: one process per core but one; 0 extracts in-process).
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.workers = crawler.settings.getint("GOVCRAWL_EXTRACT_WORKERS", _default_workers())
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        if self.workers > 0:
            # spawn, not fork: the crawl process runs threads (reactor pool, archive writer)
            self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"),
                                            initializer=_exit_with_parent,
                                            initargs=(os.getpid(),))
            self.crawler.spider.defer_extraction = True  # the spider leaves it to us

    async def process_item(self, item):
        if not isinstance(item, CrawledPage) or item.kind != PENDING or item.raw is None:
            return item
        portal = getattr(self.crawler.spider, "portal", None)
        args = (item.raw.body, item.url, item.raw.status, item.raw.headers,
                dict(portal.selectors) if portal else None)
        try:
            page, item.body_keys = await self._extract(args)
        except Exception as exc:  # a crashed extractor must not lose the response
            logger.error("extraction failed for %s: %r", item.url, exc,
                         extra={"spider": self.crawler.spider})
            item.kind, item.reason = "error", "extraction-failed"
            item.warnings = [repr(exc)[:500]]
            return item
        item.take(page)
        count_extraction(self.crawler.stats, page)
        return item

    async def _extract(self, args: tuple):
        if self.pool is not None:
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    self.pool, extract_with_keys, *args)
            except BrokenProcessPool as exc:
                # e.g. a script that starts crawls without an `if __name__ == "__main__"` guard
                logger.warning("extraction workers unavailable (%s); extracting in-process",
                               exc, extra={"spider": self.crawler.spider})
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
        return extract_page(*args), None

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.batch_size = settings.getint("GOVCRAWL_BATCH_SIZE", 100)
        self.batch_seconds = settings.getfloat("GOVCRAWL_BATCH_SECONDS", 2.0)
        self.output_dir = Path(settings.get("GOVCRAWL_OUTPUT_DIR", "output"))
        self.pending: list[StoreEntry] = []
        self.last_flush = time.monotonic()
        self.failed = False
        self.archive = None
        self.run_id: int | None = None
        self._lock = asyncio.Lock()
        self._closing: asyncio.Task | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.archive = getattr(spider, "archive", None)
        self.run_id = getattr(spider, "run_id", None)
        if self.archive is None:  # a hand-written spider: open the archive ourselves
            from govcrawl.store.db import open_archive

            self.archive = open_archive(self.crawler.settings.get("GOVCRAWL_DATABASE_URL"))
            self.run_id = self.archive.start_run(spider.name, {})

    async def process_item(self, item):
        if not isinstance(item, CrawledPage):
            return item
        if self.failed:
            raise DropItem("the archive failed earlier in this run; see the spill file")
        adapter = ItemAdapter(item)
        stats = self.crawler.stats
        # raw is None when there was no response at all (DNS, timeout, reset, robots).
        self.pending.append(StoreEntry(raw=item.raw, page=item, portal_id=item.portal,
                                       run_id=self.run_id, keys=item.body_keys))
        stats.inc_value(f"govcrawl/items/{adapter['kind']}")
        if (len(self.pending) >= self.batch_size
                or time.monotonic() - self.last_flush >= self.batch_seconds):
            await self.flush()
        return item

    async def flush(self) -> None:
        async with self._lock:
            if not self.pending or self.failed:
                return
            batch, self.pending = self.pending, []
            self.last_flush = time.monotonic()
            try:
                outcomes = await asyncio.to_thread(self._write, batch)
            except Exception as exc:  # the database is unusable: spill, never lose
                self._spill(batch + self.pending, exc)
                self.pending = []
                return
            spider = self.crawler.spider
            for entry, status in zip(batch, outcomes, strict=True):
                self.crawler.stats.inc_value(f"govcrawl/stored/{status}")
                if status in ("new", "duplicate") and hasattr(spider, "known"):
                    spider.known.add(entry.page.canonical_url or entry.page.url)
            if hasattr(spider, "settle"):  # committed: backfill progress may move past them
                spider.settle(getattr(entry.page, "listed_url", None) for entry in batch)

    def _write(self, batch: list[StoreEntry]) -> list[str]:
        """One transaction for the responses; failures without a response become rejects."""
        failed_before = getattr(self.crawler.spider, "failed_before", {})
        with_response = [entry for entry in batch if entry.raw is not None]
        outcomes = iter(self.archive.store_batch(with_response))
        statuses = []
        for entry in batch:
            if entry.raw is not None:
                status = next(outcomes).status
                if getattr(entry.page, "removed", False):
                    reason = f"http-{entry.raw.status}" if entry.raw.status >= 400 \
                        else "redirected-home"
                    self.archive.mark_removed(entry.page.url, entry.raw.fetched_at, reason)
                statuses.append(status)
                if status == "reject" and entry.page.kind in RETRYABLE:
                    self.archive.note_fetch_failure(entry.page.url, entry.page.kind)
                elif status != "reject" and url_key(entry.page.url) in failed_before:
                    self.archive.note_fetch_success(entry.page.url)
                continue
            page = entry.page
            self.archive.record_reject(page.url, entry.run_id, page.kind, page.reason,
                                       "; ".join(page.warnings) or None, entry.portal_id)
            if page.kind in RETRYABLE:
                self.archive.note_fetch_failure(page.url, page.kind)
            statuses.append("reject")
        return statuses

    def _spill(self, entries: list[StoreEntry], exc: Exception) -> None:
        self.failed = True
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = self.output_dir / f"spill-{self.crawler.spider.name}-{stamp}.jsonl"
        spill.write(path, entries)
        logger.error("archive write failed (%s); %d item(s) saved to %s — load them with "
                     "`govcrawl load-spill %s`", exc, len(entries), path, path)
        self.crawler.stats.set_value("govcrawl/storage_failed", str(exc)[:500])
        self.crawler.stats.set_value("govcrawl/spill_file", str(path))
        self.crawler.stats.inc_value("govcrawl/spilled", len(entries))
        # Not awaited here: closing runs close_spider, which flushes under the same lock.
        self._closing = asyncio.get_running_loop().create_task(
            self.crawler.engine.close_spider_async(reason="storage_failed"))

    async def close_spider(self) -> None:
        await self.flush()
        stats = self.crawler.stats.get_stats()
        status = "failed" if self.failed else "finished"
        reason = stats.get("finish_reason")
        if reason not in (None, "finished") and status == "finished":
            status = "aborted" if reason in ("shutdown", "cancelled") else status
        try:
            await asyncio.to_thread(self.archive.finish_run, self.run_id, status,
                                    _json_safe(stats))
        except Exception as exc:
            logger.error("could not record the end of run %s: %s", self.run_id, exc)


def _json_safe(stats: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in stats.items()}


class MediaFilesPipeline(FilesPipeline):
    """Download an article's attachments and images (off unless GOVCRAWL_FETCH_MEDIA).

    Files go to FILES_STORE (default output/media) and their path is recorded on the
    article's media rows. Each file is capped at GOVCRAWL_MEDIA_MAXSIZE bytes (default
    20 MiB): a larger one is not stored and its media row keeps no path.
    """

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GOVCRAWL_FETCH_MEDIA"):
            # No message: Scrapy logs a WARNING for a reason given, on every crawl of an
            # opt-in feature, and unattended runs watch their warnings.
            raise NotConfigured
        pipeline = super().from_crawler(crawler)
        pipeline.max_size = crawler.settings.getint("GOVCRAWL_MEDIA_MAXSIZE", 20 * 1024 * 1024)
        return pipeline

    def get_media_requests(self, item, info):
        if not isinstance(item, CrawledPage) or item.kind != "article":
            return []
        return [Request(media.url, callback=NO_CALLBACK,
                        meta={"download_maxsize": self.max_size, "download_warnsize": 0})
                for media in item.media]

    def item_completed(self, results, item, info):
        paths = {result["url"]: result["path"] for ok, result in results if ok}
        for media in item.media:
            media.path = paths.get(media.url)
        fetched = sum(1 for media in item.media if media.path)
        self.crawler.stats.inc_value("govcrawl/media_stored", fetched)
        self.crawler.stats.inc_value("govcrawl/media_not_stored", len(item.media) - fetched)
        return item
