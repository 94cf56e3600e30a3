"""Scrapy settings for govcrawl.

Precedence, lowest first: these project settings; `GOVCRAWL_*` environment variables (read
here, so they replace the defaults below); a portal declaration's own `settings` (applied by
its spider at Scrapy's "spider" priority); `-s NAME=VALUE` on the command line.
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
}
GOVCRAWL_LOG_DIR = _env("LOG_DIR", "output/logs")
GOVCRAWL_LOG_LEVEL = _env("LOG_LEVEL", "INFO")
DOWNLOADER_MIDDLEWARES = {
    "govcrawl.middlewares.HostBackoffMiddleware": 560,
}

FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = EXPORT_FIELDS

# No remote consoles on an unattended crawler of government sites.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = _env("LOG_LEVEL", "INFO")

# Scale-out (docs/scale-out.md): with GOVCRAWL_REDIS_URL, workers share one crawl through Redis.
if os.environ.get("GOVCRAWL_REDIS_URL"):
    from govcrawl.distributed import redis_settings

    globals().update(redis_settings(os.environ["GOVCRAWL_REDIS_URL"], globals()))
