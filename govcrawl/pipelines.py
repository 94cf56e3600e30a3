"""ArchivePipeline: store every CrawledPage in the archive, in batches, off the event loop.

Settings: GOVCRAWL_DATABASE_URL (default output/govcrawl.db), GOVCRAWL_BATCH_SIZE,
GOVCRAWL_BATCH_SECONDS, GOVCRAWL_OUTPUT_DIR (where a spill file goes when the database fails).

An item counts as stored (stats `govcrawl/stored/<outcome>`) only once its batch's transaction
has committed. When the database fails, the pending items go to a spill file in the output
folder (load it later with `govcrawl load-spill`), and the crawl stops with a failed status.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline

from govcrawl.crawl import count_extraction, run_status
from govcrawl.dedup import url_key
from govcrawl.extract import extract_page
from govcrawl.extract.worker import exit_with_parent, extract_with_keys
from govcrawl.items import PENDING, CrawledPage
from govcrawl.store import spill
from govcrawl.store.archive import StoreEntry
from govcrawl.store.writer import ArchiveWriter

logger = logging.getLogger(__name__)

# Rejects worth fetching again in a later run (with backoff); stubs, lists and robots
# exclusions are not. "error" includes a page whose extraction raised (a bug on that page) or
# kept killing its worker: the response is archived either way, and a fixed extractor gets the
# page on the next due fetch (the backoff doubles up to 7 days, so a page that fails forever
# costs one request a week).
RETRYABLE = frozenset({"challenge", "blocked", "error"})


class WorkerKilled(Exception):
    """A page was in flight every time its extraction worker died (a memory blowup?)."""


class ExtractionPipeline:
    """Run decode → repair → extract on fetched pages in worker processes.

    Extraction is CPU work; on the reactor thread it would hold up every download. Settings:
    GOVCRAWL_EXTRACT_WORKERS (default: one process per core but one; 0 extracts in-process);
    GOVCRAWL_EXTRACT_KILLS (3): a page in flight when a worker died this many times is
    rejected as `error/extraction-killed-worker` instead of killing workers forever.

    A worker that dies (SIGKILL, the OOM killer) breaks the whole pool and fails every page
    in flight. The first page to see a pool broken replaces it; every page is extracted again,
    those that were in flight one at a time, so a page that kills its worker every time is
    singled out and rejected, not its neighbours. Only when workers cannot start at all (a
    script without an `if __name__ == "__main__"` guard) does extraction move in-process.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.workers = crawler.settings.getint("GOVCRAWL_EXTRACT_WORKERS")
        self.max_kills = max(1, crawler.settings.getint("GOVCRAWL_EXTRACT_KILLS"))
        self.pool: ProcessPoolExecutor | None = None
        self.worked = False  # a worker extracted a page: workers can start here
        self._replacing = asyncio.Lock()
        self._one_at_a_time = asyncio.Lock()  # for pages that were in flight when one died

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        if self.workers > 0:
            self.pool = self._start_pool()
            self.crawler.spider.defer_extraction = True  # the spider leaves it to us

    def _start_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the crawl process runs threads (reactor pool, archive writer)
        return ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"),
                                   initializer=exit_with_parent, initargs=(os.getpid(),))

    async def process_item(self, item):
        if not isinstance(item, CrawledPage) or item.kind != PENDING or item.raw is None:
            return item
        portal = getattr(self.crawler.spider, "portal", None)
        args = (item.raw.body, item.url, item.raw.status, item.raw.headers,
                dict(portal.selectors) if portal else None)
        try:
            page, item.body_keys = await self._extract(args)
        except WorkerKilled as exc:
            logger.error("extraction of %s killed its worker %d times; rejected", item.url,
                         self.max_kills, extra={"spider": self.crawler.spider})
            item.kind, item.reason = "error", "extraction-killed-worker"
            item.warnings = [str(exc)]
            return item
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
        loop = asyncio.get_running_loop()
        kills = 0  # how often a worker died with this page in flight
        while True:
            async with self._one_at_a_time if kills else nullcontext():
                pool = self.pool
                if pool is None:
                    break
                try:
                    future = loop.run_in_executor(pool, extract_with_keys, *args)
                except BrokenProcessPool:  # broken before this page was sent: not its fault
                    future = None
                if future is not None:
                    try:
                        result = await future
                    except BrokenProcessPool:
                        kills += 1
                    else:
                        self.worked = True
                        return result
            await self._replace(pool)
            if kills >= self.max_kills:
                raise WorkerKilled(f"the extraction worker died {kills} times with this page "
                                   "in flight")
        return extract_page(*args), None

    async def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Replace a broken pool, once: the other pages that saw it broken find it replaced."""
        async with self._replacing:
            if self.pool is not broken:
                return
            # not cancel_futures: the broken pool fails its pending pages itself, and a
            # cancelled one would cancel the item's whole pipeline run
            broken.shutdown(wait=False)
            started = self._start_pool()
            pool: ProcessPoolExecutor | None = started
            if not self.worked and not await self._can_start(started):
                logger.warning("extraction workers cannot start (a script without an `if "
                               "__name__ == '__main__'` guard?); extracting in-process",
                               extra={"spider": self.crawler.spider})
                started.shutdown(wait=False)
                pool = None
            else:
                logger.warning("an extraction worker died; started new workers and "
                               "extracting its pages again", extra={"spider": self.crawler.spider})
                self.crawler.stats.inc_value("govcrawl/extract_respawns")
            self.pool = pool

    @staticmethod
    async def _can_start(pool: ProcessPoolExecutor) -> bool:
        try:
            await asyncio.get_running_loop().run_in_executor(pool, os.getpid)
        except BrokenProcessPool:
            return False
        return True

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


class ArchivePipeline:
    """The crawler's use of the process's one archive owner (store/writer.py): it opens the
    run, reads what the spider needs once, stores items in batches, takes the spider's
    progress writes and the redirect rejects of `request_dropped`, and records the run's end
    once its outcome is judged. Every write runs on the writer thread, never the reactor's.

    After a storage failure every item that still arrives is appended to the spill file; a
    spill that cannot be written is logged item by item and fails the run (exit 3).
    """

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.batch_size = settings.getint("GOVCRAWL_BATCH_SIZE")
        self.batch_seconds = settings.getfloat("GOVCRAWL_BATCH_SECONDS")
        self.output_dir = Path(settings["GOVCRAWL_OUTPUT_DIR"])
        self.pending: list[StoreEntry] = []
        self.stored_articles: list[tuple[str, int]] = []  # (status as stored, article id)
        self.last_flush = time.monotonic()
        self.failed = False
        self.writer: ArchiveWriter | None = None
        self.archive = None  # the writer's archive: called on its thread only
        self.run_id: int | None = None
        self.spill_path: Path | None = None
        self._lock = asyncio.Lock()
        self._closing: asyncio.Task | None = None
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def open_spider(self) -> None:
        spider = self.crawler.spider
        self.writer = await asyncio.to_thread(
            ArchiveWriter.acquire, self.crawler.settings.get("GOVCRAWL_DATABASE_URL"))
        self.archive = self.writer.archive
        self.run_id = await self.writer.run(
            self._start_run, spider.name, getattr(spider, "portal", None),
            getattr(spider, "arguments", {}))
        spider.run_id = self.run_id
        if hasattr(spider, "load_state"):  # a portal spider: its reads, once, off the reactor
            spider.archive = self.archive
            spider.progress_writer = self
            await self.writer.run(spider.load_state)

    def _start_run(self, name: str, portal, arguments: dict) -> int:
        if portal is not None:
            self.archive.ensure_portal(portal.id, portal.name, level=portal.level,
                                       province=portal.province,
                                       evidence=portal.evidence_label())
        return self.archive.start_run(name, arguments)

    def set_channel_progress(self, portal_id: str, channel_url: str, **progress) -> None:
        """The spider's backfill position, written after every write submitted before it."""
        assert self.writer is not None, "the spider gets this writer in open_spider"
        future = self.writer.submit(self.archive.set_channel_progress, portal_id, channel_url,
                                    **progress)
        future.add_done_callback(functools.partial(self._progress_written, channel_url))

    def _progress_written(self, channel_url: str, future) -> None:
        exc = future.exception()
        if exc is not None:  # the position stays behind: the next run re-reads from there
            logger.error("could not save the backfill position of %s: %s", channel_url, exc)
            self.crawler.stats.inc_value("govcrawl/progress_write_failed")

    def request_dropped(self, request: Request) -> None:
        dropped = getattr(self.crawler.spider, "dropped_redirect", None)
        item = dropped(request) if dropped is not None else None
        if item is not None:
            self._add(item)

    def _add(self, item: CrawledPage) -> StoreEntry:
        self.crawler.stats.inc_value(f"govcrawl/items/{item.kind}")
        # raw is None when there was no response at all (DNS, timeout, reset, robots).
        entry = StoreEntry(raw=item.raw, page=item, portal_id=item.portal, run_id=self.run_id,
                           keys=item.body_keys)
        self.pending.append(entry)
        return entry

    async def process_item(self, item):
        if not isinstance(item, CrawledPage):
            return item
        self._add(item)
        if (self.failed or len(self.pending) >= self.batch_size
                or time.monotonic() - self.last_flush >= self.batch_seconds):
            await self.flush()
        return item

    async def flush(self) -> None:
        async with self._lock:
            if not self.pending:
                return
            batch, self.pending = self.pending, []
            self.last_flush = time.monotonic()
            if self.failed:  # the archive failed earlier in this run: straight to the spill
                await self._spill(batch)
                return
            try:
                assert self.writer is not None, "items arrive only after open_spider"
                outcomes = await self.writer.run(self._write, batch)
            except Exception as exc:  # the database is unusable: spill, never lose
                self._fail(exc)
                batch, self.pending = batch + self.pending, []
                await self._spill(batch)
                return
            spider = self.crawler.spider
            for entry, (status, article_id) in zip(batch, outcomes, strict=True):
                if status in ("new", "duplicate"):
                    # counted at the end of the run: a later head can make this one a copy
                    assert article_id is not None, "store_batch: new/duplicate name an article"
                    self.stored_articles.append((status, article_id))
                else:
                    self.crawler.stats.inc_value(f"govcrawl/stored/{status}")
                if status in ("new", "duplicate") and hasattr(spider, "known"):
                    page = entry.page
                    assert isinstance(page, CrawledPage), "pending entries are made by _add"
                    spider.known.add(page.canonical_url or page.url)
            if hasattr(spider, "settle"):  # committed: backfill progress may move past them
                spider.settle(getattr(entry.page, "listed_url", None) for entry in batch)

    def _write(self, batch: list[StoreEntry]) -> list[tuple[str, int | None]]:
        """One transaction for the responses; failures without a response become rejects.
        Each entry's outcome and the article it stored (if any)."""
        failed_before = getattr(self.crawler.spider, "failed_before", {})
        with_response = [entry for entry in batch if entry.raw is not None]
        outcomes = iter(self.archive.store_batch(with_response))
        statuses = []
        for entry in batch:
            if entry.raw is not None:
                outcome = next(outcomes)
                status = outcome.status
                if getattr(entry.page, "removed", False):
                    reason = f"http-{entry.raw.status}" if entry.raw.status >= 400 \
                        else "redirected-home"
                    self.archive.mark_removed(entry.page.url, entry.raw.fetched_at, reason)
                statuses.append((status, outcome.article_id))
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
            statuses.append(("reject", None))
        return statuses

    def _fail(self, exc: Exception) -> None:
        self.failed = True
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.spill_path = self.output_dir / f"spill-{self.crawler.spider.name}-{stamp}.jsonl"
        logger.error("archive write failed (%s); this run's items go to %s — load them with "
                     "`govcrawl load-spill %s`", exc, self.spill_path, self.spill_path)
        self.crawler.stats.set_value("govcrawl/storage_failed", str(exc)[:500])
        self.crawler.stats.set_value("govcrawl/spill_file", str(self.spill_path))
        # Not awaited here: closing runs close_spider, which flushes under the same lock.
        self._closing = asyncio.get_running_loop().create_task(
            self.crawler.engine.close_spider_async(reason="storage_failed"))

    async def _spill(self, entries: list[StoreEntry]) -> None:
        """Append to the spill file; if even that fails, name every item that is lost."""
        stats = self.crawler.stats
        assert self.spill_path is not None, "set by _fail, which sets self.failed"
        try:
            await asyncio.to_thread(spill.write, self.spill_path, entries)
        except OSError as exc:
            stats.set_value("govcrawl/spill_failed", f"{self.spill_path}: {exc}"[:500])
            stats.inc_value("govcrawl/lost", len(entries))
            logger.error("could not write the spill file %s (%s): %d item(s) NOT saved",
                         self.spill_path, exc, len(entries))
            for entry in entries:
                logger.error("not saved (fetch it again): %s", entry.page.url)
            return
        stats.inc_value("govcrawl/spilled", len(entries))
        logger.warning("%d item(s) appended to the spill file %s", len(entries),
                       self.spill_path)

    async def close_spider(self) -> None:
        await self.flush()
        if self.stored_articles:
            await self._count_stored_articles()
        spider = self.crawler.spider
        unfinished = getattr(spider, "unfinished_backfills", None)
        left = unfinished() if unfinished is not None else []
        if left:
            self.crawler.stats.set_value("govcrawl/backfill_incomplete", len(left))
            self.crawler.stats.set_value("govcrawl/backfill_incomplete_channels", left)

    async def _count_stored_articles(self) -> None:
        """The report's new/duplicate split is the archive's grouping at the end of the run
        (docs/syndication.md), so it equals what `query` then shows; the split as stored is
        the fallback when the archive cannot be read."""
        stats = self.crawler.stats
        ids = [article_id for _, article_id in self.stored_articles]
        try:
            assert self.writer is not None, "stored_articles come from the writer's batches"
            copies = await self.writer.run(self.archive.copies_among, ids)
        except Exception as exc:
            logger.error("could not count this run's copies in the archive: %s", exc)
            copies = sum(1 for status, _ in self.stored_articles if status == "duplicate")
        stats.inc_value("govcrawl/stored/new", len(ids) - copies)
        stats.inc_value("govcrawl/stored/duplicate", copies)

    async def spider_closed(self, spider, reason: str) -> None:
        """Judge the run (crawl.run_status), record it, and release the archive."""
        if self.writer is None:
            return
        stats = self.crawler.stats
        # A scale-out worker's run is a share of one crawl, judged as a whole by
        # `govcrawl workers`: one that read no list page has not failed.
        status, why = run_status(spider.name, stats.get_stats(), reason,
                                 share=bool(self.crawler.settings.get("REDIS_URL")))
        if why:
            stats.set_value("govcrawl/failure_reason", why)
        recorded = {**_json_safe(stats.get_stats()), "finish_reason": reason}
        try:
            await self.writer.run(self.archive.finish_run, self.run_id, status, recorded)
        except Exception as exc:
            logger.error("could not record the end of run %s (%s): %s", self.run_id, status,
                         exc)
            stats.set_value("govcrawl/storage_failed",
                            f"recording the end of the run: {exc}"[:500])
        finally:
            writer, self.writer = self.writer, None
            await asyncio.to_thread(writer.release)


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
        pipeline.max_size = crawler.settings.getint("GOVCRAWL_MEDIA_MAXSIZE")
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
