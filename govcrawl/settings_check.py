"""Checks a crawl makes before it starts, so bad input is one line and exit 2, not a traceback.

A bad setting (`-s DOWNLOAD_DELAY=abc`, `GOVCRAWL_BATCH_SIZE=lots`, `LOG_LEVEL=LOUD`) used to
surface deep inside Scrapy, after the run row, its log file and the database were created.
`check_settings` reads every setting the crawl will read with Scrapy's own getters (so what
passes here is what the crawl gets) and says which one is wrong, where it came from and what
is expected. `check_archive` opens the archive once before the crawl does, so a database that
cannot be used is refused before any crawler exists. Used by `scrapy crawl` (govcrawl/commands)
and by `govcrawl crawl` / `govcrawl demo` (govcrawl/cli).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

# (name, getter, smallest value allowed, what is expected)
_NUMBERS: tuple[tuple[str, str, float, str], ...] = (
    ("DOWNLOAD_DELAY", "getfloat", 0, "a number of seconds >= 0"),
    ("DOWNLOAD_TIMEOUT", "getfloat", 0, "a number of seconds > 0"),
    ("AUTOTHROTTLE_START_DELAY", "getfloat", 0, "a number of seconds >= 0"),
    ("AUTOTHROTTLE_MAX_DELAY", "getfloat", 0, "a number of seconds >= 0"),
    ("AUTOTHROTTLE_TARGET_CONCURRENCY", "getfloat", 0, "a number > 0"),
    ("CLOSESPIDER_TIMEOUT", "getfloat", 0, "a number of seconds >= 0"),
    ("GOVCRAWL_BATCH_SECONDS", "getfloat", 0, "a number of seconds >= 0"),
    ("GOVCRAWL_BACKOFF_MAX", "getfloat", 0, "a number of seconds >= 0"),
    ("GOVCRAWL_IDLE_SECONDS", "getfloat", 0, "a number of seconds >= 0"),
    ("GOVCRAWL_WORKER_TIMEOUT", "getfloat", 0, "a number of seconds >= 0"),
    ("GOVCRAWL_PROGRESS_SECONDS", "getfloat", 0, "a number of seconds >= 0"),
    ("CONCURRENT_REQUESTS", "getint", 1, "a whole number >= 1"),
    ("CONCURRENT_REQUESTS_PER_DOMAIN", "getint", 1, "a whole number >= 1"),
    ("CONCURRENT_REQUESTS_PER_IP", "getint", 0, "a whole number >= 0"),
    ("CONCURRENT_ITEMS", "getint", 1, "a whole number >= 1"),
    ("DOWNLOAD_MAXSIZE", "getint", 0, "a number of bytes >= 0"),
    ("DOWNLOAD_WARNSIZE", "getint", 0, "a number of bytes >= 0"),
    ("RETRY_TIMES", "getint", 0, "a whole number >= 0"),
    ("DEPTH_LIMIT", "getint", 0, "a whole number >= 0"),
    ("CLOSESPIDER_ITEMCOUNT", "getint", 0, "a whole number >= 0"),
    ("CLOSESPIDER_PAGECOUNT", "getint", 0, "a whole number >= 0"),
    ("CLOSESPIDER_ERRORCOUNT", "getint", 0, "a whole number >= 0"),
    ("GOVCRAWL_BATCH_SIZE", "getint", 1, "a whole number >= 1"),
    ("GOVCRAWL_EXTRACT_WORKERS", "getint", 0, "a whole number >= 0 (0: extract in-process)"),
    ("GOVCRAWL_EXTRACT_KILLS", "getint", 1, "a whole number >= 1"),
    ("GOVCRAWL_MEDIA_MAXSIZE", "getint", 0, "a number of bytes >= 0"),
    ("GOVCRAWL_RECOVER_ATTEMPTS", "getint", 0, "a whole number >= 0"),
    ("GOVCRAWL_REDIS_TTL", "getint", 1, "a number of seconds >= 1"),
)
# Strictly positive, where zero would hang or divide by zero.
_POSITIVE = frozenset({"DOWNLOAD_TIMEOUT", "AUTOTHROTTLE_TARGET_CONCURRENCY"})
_BOOLEANS = (
    "ROBOTSTXT_OBEY", "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_DEBUG", "RANDOMIZE_DOWNLOAD_DELAY",
    "COOKIES_ENABLED", "RETRY_ENABLED", "REDIRECT_ENABLED", "HTTPCACHE_ENABLED", "LOG_ENABLED",
    "GOVCRAWL_FETCH_MEDIA", "GOVCRAWL_PROGRESS", "GOVCRAWL_EXPECTED_FAULTS",
)
# The environment variables govcrawl/settings.py reads into Scrapy's own settings; a
# GOVCRAWL_* setting is read from the variable of the same name.
ENVIRONMENT: Mapping[str, str] = {
    "ROBOTSTXT_OBEY": "GOVCRAWL_ROBOTSTXT_OBEY",
    "CONCURRENT_REQUESTS": "GOVCRAWL_CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "GOVCRAWL_CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY": "GOVCRAWL_DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED": "GOVCRAWL_AUTOTHROTTLE",
    "CONCURRENT_ITEMS": "GOVCRAWL_CONCURRENT_ITEMS",
    "DOWNLOAD_TIMEOUT": "GOVCRAWL_DOWNLOAD_TIMEOUT",
    "DOWNLOAD_MAXSIZE": "GOVCRAWL_DOWNLOAD_MAXSIZE",
    "LOG_LEVEL": "GOVCRAWL_LOG_LEVEL",
}
_LEVELS = "CRITICAL, ERROR, WARNING, INFO or DEBUG"


def _named(settings: BaseSettings, name: str, environ: Mapping[str, str]) -> str:
    """`NAME='value'`, naming the environment variable when the value came from it."""
    value = settings[name]
    variable = ENVIRONMENT.get(name, name if name.startswith("GOVCRAWL_") else None)
    if (variable and variable in environ
            and settings.getpriority(name) == SETTINGS_PRIORITIES["project"]):
        sets = "" if variable == name else f" (sets {name})"
        return f"{variable}={environ[variable]!r}{sets}"
    return f"{name}={value!r}"


def _number_problem(settings: BaseSettings, name: str, getter: str, least: float) -> bool:
    """Whether the setting does not read as a finite number of the right kind and range."""
    get: Callable[[str], float] = getattr(settings, getter)
    try:
        number = get(name)
    except (TypeError, ValueError, OverflowError):
        return True
    if getter == "getint" and isinstance(settings[name], float) and not settings[name].is_integer():
        return True  # Scrapy's getint would silently truncate 1.5 to 1
    if not math.isfinite(number) or number < least:
        return True
    return name in _POSITIVE and number <= 0


def check_settings(settings: BaseSettings, environ: Mapping[str, str]) -> list[str]:
    """One line per bad setting (empty when all are usable); `environ` names the source."""
    problems: list[str] = []
    for name, getter, least, expected in _NUMBERS:
        if settings.get(name) is not None and _number_problem(settings, name, getter, least):
            problems.append(f"{_named(settings, name, environ)}: expected {expected}")
    for name in _BOOLEANS:
        if settings.get(name) is None:
            continue
        try:
            settings.getbool(name)
        except ValueError:
            problems.append(f"{_named(settings, name, environ)}: expected true or false")
    levels = logging.getLevelNamesMapping()
    level = settings.get("LOG_LEVEL")
    if level is not None and not isinstance(level, int) and level not in levels:
        problems.append(f"{_named(settings, 'LOG_LEVEL', environ)}: expected {_LEVELS}")
    own_level = settings.get("GOVCRAWL_LOG_LEVEL")
    if own_level is not None and str(own_level).upper() not in levels:
        problems.append(f"{_named(settings, 'GOVCRAWL_LOG_LEVEL', environ)}: expected {_LEVELS}")
    return list(dict.fromkeys(problems))


def check_archive(url: str | None) -> str | None:
    """Open (create or upgrade) the archive once and close it: the problem, or None."""
    from sqlalchemy.exc import ArgumentError

    from govcrawl.store.db import ArchiveError, open_archive, resolve_url

    try:
        open_archive(url).close()
    except ArchiveError as exc:
        return str(exc)
    except (ArgumentError, ImportError) as exc:  # a malformed URL, or no driver for its scheme
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"{_hide_password(resolve_url(url))}: unsupported database URL ({first})"
    except OSError as exc:  # e.g. the SQLite file's folder cannot be created
        return f"{_hide_password(resolve_url(url))}: cannot open archive: {exc}"
    return None


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
