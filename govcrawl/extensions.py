"""RunLog: one log file per portal run, `<GOVCRAWL_LOG_DIR>/<portal>-<run id>.log`.

Unattended runs are read after the fact; a file per run, with the run id on every line, is
what an operator greps. Settings: GOVCRAWL_LOG_DIR (default output/logs; empty disables),
GOVCRAWL_LOG_LEVEL (default INFO).
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import signals

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

        directory = crawler.settings.get("GOVCRAWL_LOG_DIR", "output/logs")
        if not directory:
            raise NotConfigured
        return cls(crawler, directory, crawler.settings.get("GOVCRAWL_LOG_LEVEL", "INFO"))

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
        spider.logger.info("run %s: logging to %s", run_id, path)

    def spider_closed(self, spider, reason) -> None:
        if self.handler is not None:
            spider.logger.info("run %s closed: %s", getattr(spider, "run_id", None), reason)
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()
            self.handler = None


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
