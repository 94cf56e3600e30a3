"""RunLog: one log file per portal run, `<GOVCRAWL_LOG_DIR>/<portal>-<run id>.log`.

Unattended runs are read after the fact; a file per run, with the run id on every line, is
what an operator greps. Settings: GOVCRAWL_LOG_DIR (default output/logs; empty disables),
GOVCRAWL_LOG_LEVEL (default INFO; the file's level, whatever the console's LOG_LEVEL),
GOVCRAWL_EXPECTED_FAULTS (the demo: retry give-ups stay in the file, off the console).

ConsoleProgress: the live per-portal line `govcrawl crawl` and `demo` show on a terminal.
FeedNote: says why a feed (`scrapy crawl … -O FILE`) of an incremental run lacks known articles.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TextIO

from scrapy import signals
from scrapy.utils.log import get_scrapy_root_handler

from govcrawl.politeness import budget_of


class _ThisSpider(logging.Filter):
    """Keep the records of one spider when several crawl in one process."""

    def __init__(self, spider):
        super().__init__()
        self.spider = spider

    def filter(self, record: logging.LogRecord) -> bool:
        owner = getattr(record, "spider", None)
        if owner is not None:
            return owner is self.spider
        crawler = getattr(record, "crawler", None)
        if crawler is not None:
            return crawler.spider is self.spider
        return True


class _NotRetryGiveUps(logging.Filter):
    """Off the console: retry give-ups, which the demo's simulator causes on purpose (the
    report counts them as rejects; the run's log file keeps each one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "scrapy.downloadermiddlewares.retry"


class RunLog:
    def __init__(self, crawler, directory: str, level: str):
        self.crawler = crawler
        self.directory = Path(directory)
        self.level = logging.getLevelName(level.upper())
        self.handler: logging.Handler | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy.exceptions import NotConfigured

        directory = crawler.settings.get("GOVCRAWL_LOG_DIR")
        if not directory:
            raise NotConfigured
        return cls(crawler, directory, crawler.settings.get("GOVCRAWL_LOG_LEVEL"))

    def spider_opened(self, spider) -> None:
        run_id = getattr(spider, "run_id", None) or "norun"
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{spider.name}-{run_id}.log"
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setLevel(self.level)
        handler.setFormatter(logging.Formatter(
            f"%(asctime)s run={run_id} portal={spider.name} [%(name)s] %(levelname)s: "
            "%(message)s"))
        handler.addFilter(_ThisSpider(spider))
        logging.getLogger().addHandler(handler)
        self.handler = handler
        console = get_scrapy_root_handler()
        if console is not None and self.crawler.settings.getbool("GOVCRAWL_EXPECTED_FAULTS") \
                and not any(isinstance(f, _NotRetryGiveUps) for f in console.filters):
            console.addFilter(_NotRetryGiveUps())
        spider.logger.info("run %s: logging to %s", run_id, path)

    def spider_closed(self, spider, reason) -> None:
        if self.handler is not None:
            spider.logger.info("run %s closed: %s", getattr(spider, "run_id", None), reason)
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()
            self.handler = None


def progress_line(portals: Mapping[str, tuple[Mapping[str, Any], bool]], columns: int) -> str:
    """One line for every portal of the run: pages fetched, articles stored new, known
    articles skipped, `done` once closed; cut to the terminal's width."""
    from govcrawl.cli.output import fit

    parts = []
    for name, (stats, done) in portals.items():
        part = (f"{name} {stats.get('response_received_count', 0)} pages, "
                f"{stats.get('govcrawl/stored/new', 0)} new")
        known = stats.get("govcrawl/articles_known_skipped", 0)
        if known:
            part += f", {known} known"
        parts.append(part + (" done" if done else ""))
    return fit("crawling: " + " | ".join(parts), columns - 1)


class ConsoleProgress:
    """A live line on stderr while portals crawl (one line for all the portals of the process),
    erased when the last one closes so the report follows. On with GOVCRAWL_PROGRESS, which
    `govcrawl crawl` and `demo` set when stderr is a terminal."""

    INTERVAL = 0.5
    board: ClassVar[dict[str, ConsoleProgress]] = {}  # the portals crawling in this process
    ticker: ClassVar[Any] = None

    def __init__(self, crawler, stream: TextIO):
        self.crawler = crawler
        self.stream = stream
        self.done = False
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool("GOVCRAWL_PROGRESS"):
            raise NotConfigured
        return cls(crawler, sys.stderr)

    def spider_opened(self, spider) -> None:
        from twisted.internet.task import LoopingCall

        ConsoleProgress.board[spider.name] = self
        if ConsoleProgress.ticker is None:
            ConsoleProgress.ticker = LoopingCall(self.draw)
            ConsoleProgress.ticker.start(self.INTERVAL, now=True)

    def spider_closed(self, spider, reason) -> None:
        self.done = True
        if all(p.done for p in ConsoleProgress.board.values()):
            if ConsoleProgress.ticker is not None and ConsoleProgress.ticker.running:
                ConsoleProgress.ticker.stop()
            ConsoleProgress.ticker = None
            ConsoleProgress.board.clear()
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        else:
            self.draw()

    def draw(self) -> None:
        from govcrawl.cli.output import terminal_columns

        line = progress_line({name: (p.crawler.stats.get_stats(), p.done)
                              for name, p in ConsoleProgress.board.items()},
                             terminal_columns())
        self.stream.write(f"\r{line}\x1b[K")
        self.stream.flush()


class FeedNote:
    """An incremental run skips known articles without downloading them, so a feed written
    with `-O` holds only the run's new and changed articles (none at all when nothing
    changed); say so, and how to get every article, instead of leaving a silent empty file."""

    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getdict("FEEDS"):
            raise NotConfigured
        return cls(crawler)

    def spider_closed(self, spider, reason) -> None:
        known = self.crawler.stats.get_value("govcrawl/articles_known_skipped", 0)
        if known:
            logging.getLogger(__name__).warning(
                "the feed holds this run's articles only: %d known articles were skipped "
                "without downloading them (-a full=true fetches and writes them all; -o "
                "appends to a feed file, -O replaces it)", known, extra={"spider": spider})


class RobotsCrawlDelay:
    """Honour robots.txt `Crawl-delay` per host (Scrapy reads robots.txt but ignores it).

    The delay becomes a floor for the host's download slot; AutoThrottle and the backoff
    middleware may raise it further, never lower it.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT", "*")
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def robots_parsed(self, robotparser, request) -> None:
        protego = getattr(robotparser, "rp", None)
        crawl_delay = getattr(protego, "crawl_delay", None)
        delay = crawl_delay(self.user_agent) if callable(crawl_delay) else None
        if not delay:
            return
        downloader = self.crawler.engine.downloader
        key, slot = downloader._get_slot(request)  # the slot this host's requests use
        slot.delay = max(slot.delay, float(delay))
        budget = budget_of(self.crawler)  # scaled out: every worker keeps it
        if budget is not None:
            budget.set_crawl_delay(key, float(delay))
        self.crawler.stats.set_value(f"govcrawl/crawl_delay/{key}", float(delay))
        logging.getLogger(__name__).info(
            "robots.txt of %s asks for Crawl-delay %s s", key, delay,
            extra={"spider": self.crawler.spider})
