"""ArchiveWriter: the one owner of an archive in a crawl process.

Every crawler of a process (`govcrawl crawl a b c`) shares one `Archive` per database URL and
one writer thread: several SQLite engines on one file in one process contend for its lock and
lose POSIX locks when one of them closes, and a write on the reactor thread stalls every
download for as long as the database is busy. Writes run in submission order on the writer
thread, so a backfill position saved after a batch commits is never written before it.
Reference-counted: the last crawler to release it closes the archive.

A transient disconnect (a PostgreSQL backend terminated or restarted) fails one transaction;
each Archive call is one transaction, so it is retried on a fresh connection, a few times
with backoff, before the failure counts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

from sqlalchemy.exc import DBAPIError

from govcrawl.store.archive import Archive
from govcrawl.store.db import open_archive, resolve_url

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Pauses before each retry of a transaction cut by a disconnect: 7.5 s in all, bounded.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


def is_disconnect(exc: BaseException) -> bool:
    """A failure of the connection rather than of the statement (worth one more try)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def with_retry(call: Callable[..., T], *args: Any, delays: tuple[float, ...] = RETRY_DELAYS,
               **kwargs: Any) -> T:
    """`call(*args)`, retried after a disconnect; the last failure propagates."""
    for delay in (*delays, None):
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if delay is None or not is_disconnect(exc):
                raise
            logger.warning("archive connection lost (%s); retrying in %.1f s",
                           str(exc).splitlines()[0], delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


class RetryingArchive:
    """An Archive whose every method call (one transaction each) survives a disconnect."""

    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._archive, name)
        if not callable(value) or name.startswith("_"):
            return value

        def retried(*args: Any, **kwargs: Any) -> Any:
            return with_retry(value, *args, **kwargs)

        return retried


class ArchiveWriter:
    """One archive and its writer thread, shared by every crawler of the process."""

    _open: ClassVar[dict[str, ArchiveWriter]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, url: str, archive: Archive) -> None:
        self.url = url
        self.raw_archive = archive
        self.archive = RetryingArchive(archive)
        self.users = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govcrawl-archive")

    @classmethod
    def acquire(cls, url: str | None) -> ArchiveWriter:
        """The process's writer for `url` (opened on first use); pair with `release`."""
        url = resolve_url(url)
        with cls._guard:
            writer = cls._open.get(url)
            if writer is None:
                writer = cls._open[url] = cls(url, open_archive(url))
            writer.users += 1
            return writer

    def release(self) -> None:
        """The last user out finishes the queued writes and closes the archive."""
        with self._guard:
            self.users -= 1
            if self.users:
                return
            del self._open[self.url]
        self._thread.shutdown(wait=True)
        self.raw_archive.close()

    def submit(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run `call(*args, **kwargs)` on the writer thread, after everything submitted
        before it."""
        return self._thread.submit(call, *args, **kwargs)

    async def run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`submit`, awaited from the event loop without blocking it."""
        return await asyncio.wrap_future(self.submit(call, *args, **kwargs))
