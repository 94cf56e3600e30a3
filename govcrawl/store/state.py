"""Crawl state kept in the archive: runs, failures with no response, per-URL retry backoff,
channel backfill progress, known articles, removals, and what a revisit should fetch.

The archive is the record a scheduled crawl resumes from (JOBDIR and Redis are conveniences on
top). `CrawlState` is a part of `Archive` (store/archive.py): the same engines, lock and short
write transactions.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
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


class CrawlState:
    """What a crawl remembers between runs (mixed into `Archive`)."""

    read_engine: Engine
    _write: Any  # Archive._write: the lock plus one write transaction

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self, spider: str, arguments: dict) -> int:
        """Open a run; earlier `running` runs of this spider died without finishing: aborted."""
        with self._write() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.spider == spider, runs.c.status == "running")
                .values(status="aborted", finished_at=utc_now())
            )
            return conn.execute(
                insert(runs).returning(runs.c.id),
                {"spider": spider, "arguments": arguments, "started_at": utc_now(),
                 "status": "running", "stats": {}, "pid": os.getpid()},
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
