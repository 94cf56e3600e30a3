"""Crawl state kept in the archive: runs, failures with no response, per-URL retry backoff,
channel backfill progress, known articles, removals, and what a revisit should fetch.

The archive is the record a scheduled crawl resumes from (JOBDIR and Redis are conveniences on
top). `CrawlState` is a part of `Archive` (store/archive.py): the same engines, lock and short
write transactions.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, or_, select, update

from govcrawl import dedup
from govcrawl.store.schema import (
    article_events,
    articles,
    channel_progress,
    fetch_state,
    rejects,
    responses,
    runs,
)

RETRY_BASE = timedelta(minutes=5)
RETRY_MAX = timedelta(days=7)


def utc_now() -> datetime:
    """Now, with its offset: every time the archive stores keeps one."""
    return datetime.now(UTC)


# A running run's stats name its process, so only a run whose process is gone is aborted.
OWNER_STAT = "govcrawl/owner"


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """A process's state and start time (clock ticks since boot, /proc/PID/stat field 22):
    with the pid, the start tells a reused pid from the process that had it. None without
    /proc or without the process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], fields[19]


def run_owner() -> dict[str, Any]:
    """This process, as a run's owner: host, pid and start time."""
    pid = os.getpid()
    stat = _proc_stat(pid)
    return {"host": socket.gethostname(), "pid": pid, "started": stat and stat[1]}


def owner_gone(owner: dict | None, pid: int | None, me: dict[str, Any]) -> bool:
    """Whether a running run's owner provably no longer runs it (judged from process `me`).

    A run recorded before owners were is judged by its pid as if on this host (the single
    process crawl it then was). A process on another host cannot be judged from here.
    """
    if owner is None:
        owner = {"host": me["host"], "pid": pid, "started": None}
    if owner.get("pid") is None:
        return True
    if owner.get("host") != me["host"]:
        return False
    if owner["pid"] == me["pid"]:
        # an earlier process with this pid, or this one starting the spider again: either
        # way that run's end was never recorded
        return True
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    stat = _proc_stat(owner["pid"])
    if stat is None:
        return False  # it exists, and nothing more can be told
    state, started = stat
    # a zombie has exited (only its parent's wait is missing); another start is another process
    return state == "Z" or owner.get("started") not in (None, started)


class CrawlState:
    """What a crawl remembers between runs (mixed into `Archive`)."""

    read_engine: Engine
    _write: Any  # Archive._write: the lock plus one write transaction

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self, spider: str, arguments: dict) -> int:
        """Open a run, owned by this process (stats `govcrawl/owner` until it finishes).

        Earlier `running` runs of this spider whose owner is provably gone died without
        finishing: aborted. Provably gone means on this host, with its process ended (or its
        pid reused), or this very process starting the spider again. A live owner's run is
        never touched: scale-out workers run one spider side by side, and a dead worker on
        another host is aborted by scale-out recovery, which sees its heartbeat stop.
        """
        me = run_owner()
        with self._write() as conn:
            running = conn.execute(
                select(runs.c.id, runs.c.pid, runs.c.stats)
                .where(runs.c.spider == spider, runs.c.status == "running")
            ).all()
            for row in running:
                stats = dict(row.stats or {})
                if owner_gone(stats.get(OWNER_STAT), row.pid, me):
                    stats["govcrawl/aborted"] = {"by": me, "why": "its process had ended"}
                    conn.execute(
                        update(runs)
                        .where(runs.c.id == row.id, runs.c.status == "running")
                        .values(status="aborted", finished_at=utc_now(), stats=stats)
                    )
            return conn.execute(
                insert(runs).returning(runs.c.id),
                {"spider": spider, "arguments": arguments, "started_at": utc_now(),
                 "status": "running", "stats": {OWNER_STAT: me}, "pid": os.getpid()},
            ).scalar_one()

    def finish_run(self, run_id: int, status: str, stats: dict) -> None:
        """Close a run with its final status (finished, failed, aborted) and crawl stats."""
        if status not in ("finished", "failed", "aborted"):
            raise ValueError(f"unknown run status {status!r}")
        with self._write() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(status=status, stats=stats, finished_at=utc_now())
            )

    # -- rejects without a response, fetch state ----------------------------------------------
    def record_reject(
        self, url: str, run_id: int | None, kind: str, reason: str | None,
        detail: str | None = None, portal_id: str | None = None,
    ) -> None:
        """A failure with no response to keep (DNS, timeout, connection reset)."""
        with self._write() as conn:
            conn.execute(
                insert(rejects),
                {"url": url, "url_key": dedup.url_key(url), "portal_id": portal_id,
                 "run_id": run_id, "kind": kind, "reason": reason, "detail": detail,
                 "at": utc_now()},
            )

    def note_fetch_failure(self, url: str, kind: str, now: datetime | None = None) -> datetime:
        """Count a failed fetch; returns when the URL is next due (exponential backoff, capped)."""
        now = now or utc_now()
        key = dedup.url_key(url)
        with self._write() as conn:
            attempts = conn.execute(
                select(fetch_state.c.attempts).where(fetch_state.c.url_key == key)
            ).scalar()
            attempts = (attempts or 0) + 1
            due = now + min(RETRY_BASE * 2 ** (attempts - 1), RETRY_MAX)
            values = {"url": url, "last_kind": kind, "attempts": attempts, "last_try_at": now,
                      "next_try_at": due}
            if attempts == 1:
                conn.execute(insert(fetch_state).values(url_key=key, **values))
            else:
                conn.execute(
                    update(fetch_state).where(fetch_state.c.url_key == key).values(**values)
                )
        return due

    def note_fetch_success(self, url: str) -> None:
        """Forget the failure history of a URL that fetched fine."""
        with self._write() as conn:
            conn.execute(delete(fetch_state).where(fetch_state.c.url_key == dedup.url_key(url)))

    def fetch_failures(self) -> dict[str, datetime]:
        """URL key (see dedup.url_key) → when it is next due, for every URL that failed.

        A crawl loads them once rather than asking about every listed or stored URL.
        """
        with self.read_engine.connect() as conn:
            rows = conn.execute(select(fetch_state.c.url_key, fetch_state.c.next_try_at))
            return {row.url_key: row.next_try_at for row in rows}

    def due_for_retry(self, url: str, now: datetime | None = None) -> bool:
        """False while a failed URL is inside its backoff window."""
        with self.read_engine.connect() as conn:
            due = conn.execute(
                select(fetch_state.c.next_try_at).where(fetch_state.c.url_key == dedup.url_key(url))
            ).scalar()
        return due is None or due <= (now or utc_now())

    def get_channel_progress(self, portal_id: str, channel_url: str) -> dict | None:
        """{'backfill_complete', 'last_page', 'updated_at'} for a list channel, or None."""
        with self.read_engine.connect() as conn:
            row = conn.execute(
                select(channel_progress).where(
                    channel_progress.c.portal_id == portal_id,
                    channel_progress.c.channel_url == channel_url,
                )
            ).first()
        if row is None:
            return None
        return {"backfill_complete": bool(row.backfill_complete), "last_page": row.last_page,
                "updated_at": row.updated_at, "resume": row.resume}

    def set_channel_progress(
        self, portal_id: str, channel_url: str, *, last_page: int, backfill_complete: bool,
        resume: dict | None = None,
    ) -> None:
        """Remember how far back a channel's list pages have been read, and where to go on."""
        values = {"last_page": last_page, "backfill_complete": backfill_complete,
                  "updated_at": utc_now(), "resume": resume}
        where = and_(channel_progress.c.portal_id == portal_id,
                     channel_progress.c.channel_url == channel_url)
        with self._write() as conn:
            if not conn.execute(update(channel_progress).where(where).values(**values)).rowcount:
                conn.execute(
                    insert(channel_progress).values(
                        portal_id=portal_id, channel_url=channel_url, **values
                    )
                )

    # -- known articles, removal, revisits ------------------------------------------------------
    def is_known(self, url: str) -> bool:
        """Whether an article with this URL identity (canonical, scheme-less) is archived."""
        with self.read_engine.connect() as conn:
            return conn.execute(
                select(articles.c.id).where(articles.c.url_key == dedup.url_key(url))
            ).first() is not None

    def known_article_urls(self, portal_id: str) -> set[str]:
        """Canonical URLs of the portal's archived articles."""
        with self.read_engine.connect() as conn:
            return set(conn.execute(
                select(articles.c.canonical_url).where(articles.c.portal_id == portal_id)
            ).scalars())

    def mark_removed(self, url: str, when: datetime, reason: str) -> bool:
        """Record that a portal took an article down (the row and its text stay)."""
        with self._write() as conn:
            article_id = conn.execute(
                select(articles.c.id).where(articles.c.url_key == dedup.url_key(url))
            ).scalar()
            if article_id is None:
                return False
            conn.execute(update(articles).where(articles.c.id == article_id)
                         .values(removed_at=when))
            conn.execute(
                insert(article_events),
                {"article_id": article_id, "at": when, "event": "removed",
                 "detail": {"reason": reason}},
            )
            return True

    def articles_for_revisit(
        self, portal_id: str, since: datetime
    ) -> list[tuple[str, str | None, str | None]]:
        """(url, ETag, Last-Modified) of articles published since `since` and not removed.

        Recent articles are the ones portals still edit; the validators allow conditional GETs.
        An article without a publish time counts from when it was first seen. Published times
        are ISO text, so comparing with the day's `YYYY-MM-DD` works for dates and datetimes.
        Stalest (least recently seen) first.
        """
        recent = or_(articles.c.published_at >= since.date().isoformat(),
                     and_(articles.c.published_at.is_(None), articles.c.first_seen >= since))
        with self.read_engine.connect() as conn:
            rows = conn.execute(
                select(articles.c.url, responses.c.etag, responses.c.last_modified)
                .select_from(articles.outerjoin(responses,
                                                responses.c.id == articles.c.response_id))
                .where(articles.c.portal_id == portal_id, articles.c.removed_at.is_(None),
                       recent)
                .order_by(articles.c.last_seen, articles.c.id)
            ).all()
        return [(r.url, r.etag, r.last_modified) for r in rows]
