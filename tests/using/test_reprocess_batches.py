"""`reprocess` writes in batches: one write transaction per batch of changed responses, none
when nothing changed (a re-run over a large archive must not cost a commit per response)."""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from govcrawl import ingest
from govcrawl.portals.registry import load_registry
from govcrawl.store import open_archive
from tests.using.usehelpers import sql

#: A statement that changes what reprocess may change (not the runs table's bookkeeping).
ARCHIVE_WRITE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE)\b.*\b(responses|articles|article_versions|rejects|media|"
    r"article_bands|article_events)\b", re.IGNORECASE | re.DOTALL)


@contextmanager
def write_transactions(archive) -> Iterator[list[bool]]:
    """One flag per transaction begun on the archive's write engine: did it write archive rows."""
    txns: list[bool] = []

    def begin(conn) -> None:
        txns.append(False)

    def before(conn, cursor, statement, params, context, executemany) -> None:
        if ARCHIVE_WRITE.match(statement):
            txns[-1] = True

    event.listen(archive.engine, "begin", begin)
    event.listen(archive.engine, "before_cursor_execute", before)
    try:
        yield txns
    finally:
        event.remove(archive.engine, "before_cursor_execute", before)
        event.remove(archive.engine, "begin", begin)


def _reprocess(db) -> tuple[ingest.IngestReport, int]:
    resolver = ingest.PortalResolver(load_registry("").portals.values())
    with open_archive(f"sqlite:///{db}") as arc, write_transactions(arc) as txns:
        report = ingest.reprocess(arc, resolver)
    return report, sum(txns)


def test_unchanged_reprocess_opens_no_write_transaction(devset_copy, monkeypatch):
    monkeypatch.setattr(ingest, "REPROCESS_BATCH", 4, raising=False)
    n = sql(devset_copy, "select count(*) from articles")[0][0]
    report, writes = _reprocess(devset_copy)
    assert report.get("unchanged") == n > 8
    assert writes == 0


def test_changed_articles_are_written_one_transaction_per_batch(devset_copy, monkeypatch):
    monkeypatch.setattr(ingest, "REPROCESS_BATCH", 4, raising=False)
    seen = sql(devset_copy, "select id, last_seen from articles order by id")
    with sqlite3.connect(devset_copy) as conn:  # what an older extractor might have stored
        conn.execute("update articles set title = title || '_旧'")
    n = len(seen)
    report, writes = _reprocess(devset_copy)
    assert report.get("updated") == n > 8
    assert writes == math.ceil(n / 4)
    assert sql(devset_copy, "select count(*) from article_versions")[0][0] == n
    assert sql(devset_copy, "select count(*) from articles where title like '%_旧'") == [(0,)]
    # re-extracting fetched nothing: no article counts as seen again
    assert sql(devset_copy, "select id, last_seen from articles order by id") == seen
    again, writes = _reprocess(devset_copy)
    assert again.get("unchanged") == n and writes == 0


def test_reprocess_announces_its_total_before_it_starts(devset_copy):
    """The progress line's ETA needs the number of responses up front."""
    resolver = ingest.PortalResolver(load_registry("").portals.values())
    totals, messages = [], []
    with open_archive(f"sqlite:///{devset_copy}") as arc:
        report = ingest.reprocess(arc, resolver, progress=messages.append,
                                  total=lambda n: totals.append((n, len(messages))))
    done = sum(report.counts.values())
    assert totals == [(done, 0)]  # once, before the first progress message
