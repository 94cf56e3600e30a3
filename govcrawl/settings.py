"""Scrapy settings for govcrawl.

Precedence, lowest first: these project settings; `GOVCRAWL_*` environment variables (read
here, so they replace the defaults below); a portal declaration's own `settings` (applied by
its spider at Scrapy's "spider" priority); `-s NAME=VALUE` on the command line.

Every `GOVCRAWL_*` setting has its default here and nowhere else, as Scrapy's own settings have
theirs in `scrapy.settings.default_settings`: components read them without a fallback
(`settings.getint("GOVCRAWL_BATCH_SIZE")`), because every entry point that builds a crawler or
reads these settings loads this module at "project" priority (`scrapy crawl` through scrapy.cfg
or the `scrapy` entry point, `govcrawl crawl`/`workers`/`seed`, `govcrawl.crawl.run_portals`).
That is simpler than a second table of defaults with a helper every component would have to
call, and a component used outside the project sees Scrapy's usual "unset" value, not a
silently different default. A value that does not convert is kept as text, so the crawl entry
points refuse it in one line (govcrawl/settings_check.py) instead of this import failing.

Scale-out (docs/scale-out.md) is a Scrapy add-on, `govcrawl.distributed.ScaleOut`, listed in
ADDONS when GOVCRAWL_REDIS_URL is set; without it nothing imports redis or scrapy-redis.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from govcrawl.items import EXPORT_FIELDS

BOT_NAME = "govcrawl"
SPIDER_MODULES = ["govcrawl.spiders"]
NEWSPIDER_MODULE = "govcrawl.spiders"
SPIDER_LOADER_CLASS = "govcrawl.spiders.loader.PortalSpiderLoader"
COMMANDS_MODULE = "govcrawl.commands"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"GOVCRAWL_{name}", default)


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _typed(name: str, default: Any, convert: Callable[[str], Any]) -> Any:
    """GOVCRAWL_<name> converted, or its text as given when it does not convert: the crawl
    entry points then refuse it in one line (govcrawl/settings_check.py) instead of this
    module failing on import with a traceback."""
    text = os.environ.get(f"GOVCRAWL_{name}")
    if text is None:
        return default
    try:
        return convert(text)
    except ValueError:
        return text


# Identify the crawler, with a browser-like prefix: some portals (ASP.NET URLScan) reject
# anything else (portals.md §6).
GOVCRAWL_CONTACT_URL = _env("CONTACT_URL", "https://github.com/govcrawl/govcrawl")
USER_AGENT = _env(
    "USER_AGENT",
    f"Mozilla/5.0 (compatible; govcrawl/0.1; +{GOVCRAWL_CONTACT_URL})",
)

# Politeness towards government servers.
ROBOTSTXT_OBEY = _typed("ROBOTSTXT_OBEY", True, _flag)
CONCURRENT_REQUESTS = _typed("CONCURRENT_REQUESTS", 16, int)
CONCURRENT_REQUESTS_PER_DOMAIN = _typed("CONCURRENT_REQUESTS_PER_DOMAIN", 2, int)
DOWNLOAD_DELAY = _typed("DOWNLOAD_DELAY", 1.0, float)
AUTOTHROTTLE_ENABLED = _typed("AUTOTHROTTLE", True, _flag)
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# A page yields one item; Scrapy starts CONCURRENT_ITEMS tasks for every callback's output
# (100 by default), which costs more than the whole extraction.
CONCURRENT_ITEMS = _typed("CONCURRENT_ITEMS", 8, int)
DOWNLOAD_TIMEOUT = _typed("DOWNLOAD_TIMEOUT", 60, int)
DOWNLOAD_MAXSIZE = _typed("DOWNLOAD_MAXSIZE", 16 * 1024 * 1024, int)
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

# The archive.
GOVCRAWL_DATABASE_URL = os.environ.get("GOVCRAWL_DATABASE_URL")  # None: output/govcrawl.db
GOVCRAWL_OUTPUT_DIR = _env("OUTPUT_DIR", "output")
GOVCRAWL_BATCH_SIZE = _typed("BATCH_SIZE", 100, int)
GOVCRAWL_BATCH_SECONDS = _typed("BATCH_SECONDS", 2.0, float)
GOVCRAWL_FETCH_MEDIA = _typed("FETCH_MEDIA", False, _flag)
GOVCRAWL_PORTALS = None  # None: $GOVCRAWL_PORTALS, read by govcrawl/portals/registry.py
# Extraction runs in worker processes, one per core but one (0: in-process); a page in flight
# when this many workers died is rejected, retryably, instead of killing more.
GOVCRAWL_EXTRACT_WORKERS = _typed("EXTRACT_WORKERS", max(1, (os.cpu_count() or 2) - 1), int)
GOVCRAWL_EXTRACT_KILLS = _typed("EXTRACT_KILLS", 3, int)

GOVCRAWL_MEDIA_MAXSIZE = _typed("MEDIA_MAXSIZE", 20 * 1024 * 1024, int)
FILES_STORE = _env("FILES_STORE", "output/media")
ITEM_PIPELINES = {
    "govcrawl.pipelines.ExtractionPipeline": 100,
    "govcrawl.pipelines.MediaFilesPipeline": 300,  # off unless GOVCRAWL_FETCH_MEDIA
    "govcrawl.pipelines.ArchivePipeline": 800,
}
EXTENSIONS = {
    "govcrawl.extensions.RunLog": 100,
    "govcrawl.extensions.RobotsCrawlDelay": 110,
    "govcrawl.extensions.ConsoleProgress": 120,  # off unless GOVCRAWL_PROGRESS
    "govcrawl.extensions.FeedNote": 130,  # off unless a feed is written (-o/-O, FEEDS)
}
GOVCRAWL_PROGRESS = False  # a live progress line on the console (govcrawl crawl: on a terminal)
GOVCRAWL_EXPECTED_FAULTS = False  # the demo: retry give-ups stay in the run log, off the console
GOVCRAWL_LOG_DIR = _env("LOG_DIR", "output/logs")
GOVCRAWL_LOG_LEVEL = _env("LOG_LEVEL", "INFO")
DOWNLOADER_MIDDLEWARES = {
    "govcrawl.middlewares.HostBackoffMiddleware": 560,
}
GOVCRAWL_BACKOFF_MAX = 120.0  # the longest per-host delay a challenge or block backs off to

FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = EXPORT_FIELDS

# No remote consoles on an unattended crawler of government sites.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = _env("LOG_LEVEL", "INFO")

# Scale-out (docs/scale-out.md): with GOVCRAWL_REDIS_URL, workers share one crawl through Redis.
GOVCRAWL_REDIS_URL = os.environ.get("GOVCRAWL_REDIS_URL")
GOVCRAWL_REDIS_PREFIX = _env("REDIS_PREFIX", "govcrawl")
GOVCRAWL_IDLE_SECONDS = _typed("IDLE_SECONDS", 30.0, float)  # quiet period before the crawl ends
GOVCRAWL_WORKER_TIMEOUT = _typed("WORKER_TIMEOUT", 10.0, float)  # no heartbeat: presumed dead
GOVCRAWL_PROGRESS_SECONDS = _typed("PROGRESS_SECONDS", 30.0, float)
GOVCRAWL_RECOVER_ATTEMPTS = _typed("RECOVER_ATTEMPTS", 3, int)  # re-queues of one request
GOVCRAWL_REDIS_TTL = _typed("REDIS_TTL", 3 * 86400, int)  # expiry of an abandoned crawl's keys
ADDONS = {"govcrawl.distributed.ScaleOut": 0} if GOVCRAWL_REDIS_URL else {}
