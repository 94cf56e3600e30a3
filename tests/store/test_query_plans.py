"""Every lookup on a hot path uses an index, whatever the archive's size.

Each case runs one hot-path operation for real, records the SELECTs it sends, and asks the
database for their plans: `EXPLAIN QUERY PLAN` on SQLite (no `SCAN <table>` of an archive
table), `EXPLAIN` with `enable_seqscan = off` on PostgreSQL (no `Seq Scan on <table>`: with
sequential scans priced out, one still chosen means no index can serve the query). A scan is
cheap on a test archive and grows with every article stored, so it shows only in plans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from factory import T0, entry
from sqlalchemy import event, text

from govcrawl.ingest import Importer, PortalResolver
from govcrawl.store.archive import Archive

#: Tables that grow with the archive: a hot-path query must not read them whole.
GROWING = ("responses", "articles", "article_bands", "article_versions", "article_events",
           "media", "rejects", "fetch_state")
BODY = ("最高人民法院今天发布一批知识产权司法保护典型案例，涉及商标、专利和著作权纠纷，"
        "要求各级法院依法平等保护中外权利人合法权益，营造良好营商环境。")


def _seed(arc: Archive) -> None:
    arc.store_batch([entry(f"http://x.cn/{i}.html", f"{BODY}第{i}号。") for i in range(6)]
                    + [entry("http://x.cn/stub.html", kind="stub")])
    arc.note_fetch_failure("http://x.cn/fail.html", "blocked", now=T0)


def _import_lookup(arc: Archive) -> None:
    """`import` skips responses already archived (same URL, same bytes)."""
    raws = [entry(f"http://x.cn/{i}.html", f"{BODY}第{i}号。").raw for i in range(3)]
    Importer(arc, PortalResolver([]))._already_archived(raws)


def _store_refetch(arc: Archive) -> None:
    """A crawl re-fetching known articles and finding new ones (url_key, content_hash and
    LSH band lookups, the groups' members)."""
    later = T0 + timedelta(days=1)
    arc.store_batch([entry("http://x.cn/1.html", f"{BODY}第1号。", fetched_at=later),
                     entry("http://x.cn/2.html", f"{BODY}第2号。", title="新标题",
                           fetched_at=later),
                     entry("http://y.cn/copy.html", f"{BODY}第3号。", portal="p2",
                           fetched_at=later)])


def _fetch_state(arc: Archive) -> None:
    """The retry backoff of one failing URL."""
    arc.note_fetch_failure("http://x.cn/fail.html", "blocked", now=T0 + timedelta(days=1))
    arc.due_for_retry("http://x.cn/fail.html", now=T0)
    arc.note_fetch_success("http://x.cn/fail.html")


def _known_urls(arc: Archive) -> None:
    """A portal spider's start: the articles it already has."""
    arc.known_article_urls("p1")
    arc.is_known("http://x.cn/1.html")


def _removed(arc: Archive) -> None:
    """A re-fetch that found an article gone."""
    arc.mark_removed("http://x.cn/4.html", T0 + timedelta(days=1), "http-404")


def _revisit(arc: Archive) -> None:
    """The conditional re-fetch of a portal's articles (their ETag and Last-Modified)."""
    arc.articles_for_revisit("p1", since=T0 - timedelta(days=1))


def _reprocess(arc: Archive) -> None:
    """`reprocess` storing re-extractions: one unchanged, one changed, one newly an article."""
    same = entry("http://x.cn/0.html", f"{BODY}第0号。").page
    edited = entry("http://x.cn/1.html", f"{BODY}第1号。", title="更正").page
    found = entry("http://x.cn/stub.html", f"{BODY}第9号。").page
    arc.apply_reprocessed([(1, same), (2, edited), (7, found)])


def _reread(arc: Archive) -> None:
    """`reprocess --portal` reading the stored responses back, a chunk at a time."""
    list(arc.iter_responses("p1", chunk=2))


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Archive], None]
    reads: str  # a table the operation must be seen reading (the case cannot pass empty)


CASES = [
    Case("import: responses by url_key and body hash", _import_lookup, "responses"),
    Case("store: articles by url_key", _store_refetch, "articles"),
    Case("store: articles by content_hash", _store_refetch, "content_hash"),
    Case("store: LSH band lookup", _store_refetch, "article_bands"),
    Case("crawl: fetch_state by url_key", _fetch_state, "fetch_state"),
    Case("crawl: known article URLs", _known_urls, "canonical_url"),
    Case("crawl: removed article by url_key", _removed, "articles"),
    Case("crawl: revisit by portal", _revisit, "etag"),
    Case("reprocess: a portal's responses in keyset chunks", _reread, "responses"),
    Case("reprocess: responses by id, articles by url_key", _reprocess, "responses"),
]


@contextmanager
def _recorded(arc: Archive) -> Iterator[list[tuple[str, object]]]:
    """The SELECT statements (with their parameters) sent on both of the archive's engines."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, params, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params[0] if executemany else params))

    for engine in (arc.engine, arc.read_engine):
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in (arc.engine, arc.read_engine):
            event.remove(engine, "before_cursor_execute", record)


def _scans(arc: Archive, case: Case) -> tuple[list[str], list[str]]:
    """(the statements the case sent, the plan lines that read a growing table whole)."""
    with _recorded(arc) as statements:
        case.run(arc)
    pg = arc.engine.dialect.name == "postgresql"
    scan = re.compile(rf"\b{'Seq Scan on' if pg else 'SCAN'} ({'|'.join(GROWING)})\b")
    bad = []
    with arc.read_engine.connect() as conn:
        if pg:
            conn.execute(text("SET enable_seqscan = off"))
        for statement, params in statements:
            rows = conn.exec_driver_sql(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ")
                                        + statement, params).all()
            plan = [str(r[0] if pg else r[-1]) for r in rows]
            bad += [f"{line}  <-  {' '.join(statement.split())[:200]}"
                    for line in plan if scan.search(line)]
        conn.rollback()
    return [s for s, _ in statements], bad


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sqlite_plans_use_indexes(archive, case: Case) -> None:
    _seed(archive)
    statements, bad = _scans(archive, case)
    assert any(case.reads in s for s in statements), statements
    assert bad == []


@pytest.mark.postgres
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_postgres_plans_use_indexes(pg_archive, case: Case) -> None:
    _seed(pg_archive)
    statements, bad = _scans(pg_archive, case)
    assert any(case.reads in s for s in statements), statements
    assert bad == []
