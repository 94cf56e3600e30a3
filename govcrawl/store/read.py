"""Filtered reads of the archive: the listing behind `query`/`export`/the notebook API, one
article in full (`show`), and per-portal statistics (`stats`).

Plain SQLAlchemy Core over the engine, no Scrapy. Every user value (filter text, search text,
dates) is bound as a parameter; search is `store.query.search_condition` (every term, AND;
FTS5 trigram index for 2+ characters, `instr` on the content table for one, ILIKE over pg_trgm on
PostgreSQL; traditional input is searched in both scripts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    TextClause,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.engine import make_url

from govcrawl import dedup
from govcrawl.records import RawResponse
from govcrawl.store import bodies
from govcrawl.store.db import resolve_url
from govcrawl.store.query import _like_pattern, _variants, group_of, search_condition
from govcrawl.store.schema import (
    article_events,
    article_versions,
    articles,
    media,
    portals,
    rejects,
    responses,
    runs,
)

SORTS = ("published", "first_seen", "portal")
#: The keys of one listing record, in output (CSV column) order; JSON records also carry
#: `authors`, the 作者 names as a list.
RECORD_KEYS = (
    "id", "url", "canonical_url", "portal", "portal_name", "province", "title", "source",
    "author", "editor", "published_at", "published_precision", "duplicate_of", "similarity",
    "is_mirror", "first_seen", "last_seen", "removed_at",
)
BODY_KEYS = ("body_text", "body_original", "byline_raw")


def require_existing(url: str | None) -> None:
    """FileNotFoundError if `url` (resolved as open_archive does) names a missing SQLite file:
    reading must not silently create an empty archive."""
    parsed = make_url(resolve_url(url))
    database = parsed.database
    if (parsed.get_backend_name() == "sqlite" and database and database != ":memory:"
            and not database.startswith("file:") and not Path(database).is_file()):
        raise FileNotFoundError(f"no archive at {database}")


class NotFound(LookupError):
    """No article has this id or URL."""


def parse_day(value: str, what: str = "date") -> date:
    """A YYYY-MM-DD day; ValueError with a one-line message otherwise."""
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} {value!r}: expected a date as YYYY-MM-DD") from None


@dataclass(frozen=True)
class Filters:
    """What `query`, `export` and `ArchiveReader.articles` select; None/False = no filter."""

    portal: str | None = None
    province: str | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    since: date | None = None  # published on or after (day precision)
    until: date | None = None  # published on or before
    search: str | None = None
    edited: bool = False  # only articles with at least one version
    removed: bool = False  # only articles a portal took down
    collapse: bool = False  # only group heads (one row per syndicated story)
    sort: str = "published"
    limit: int | None = None  # None: every match

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"sort {self.sort!r}: expected one of {', '.join(SORTS)}")
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"limit {self.limit}: must be 0 or more")
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since {self.since} is after until {self.until}")


def _engine(db: Any) -> Engine:
    return getattr(db, "read_engine", db)


def _contains(column: Any, value: str, dialect: str) -> ColumnElement[bool]:
    """Substring match in either script (bound parameters only)."""
    conds = []
    for term in _variants(value):
        if dialect == "sqlite":
            conds.append(func.instr(column, term) > 0)
        else:
            conds.append(column.ilike(_like_pattern(term), escape="\\"))
    return or_(*conds)


def _listing_columns(body: bool) -> list[Any]:
    cols = [articles.c.id, articles.c.url, articles.c.canonical_url,
            articles.c.portal_id.label("portal"), portals.c.name.label("portal_name"),
            portals.c.province, articles.c.title, articles.c.source, articles.c.author,
            articles.c.editor, articles.c.published_at, articles.c.published_precision,
            articles.c.duplicate_of, articles.c.similarity, articles.c.is_mirror,
            articles.c.first_seen, articles.c.last_seen, articles.c.removed_at]
    if body:
        cols += [articles.c[k] for k in BODY_KEYS]
    return cols


def build_select(f: Filters, dialect: str, columns: list[Any]) -> Select:
    """The filtered, sorted, limited SELECT over articles ⟕ portals."""
    q = select(*columns).select_from(
        articles.outerjoin(portals, portals.c.id == articles.c.portal_id))
    conds: list[ColumnElement[bool] | TextClause] = []
    if f.portal is not None:
        conds.append(articles.c.portal_id == f.portal)
    if f.province is not None:
        conds.append(portals.c.province == f.province)
    for name in ("source", "author", "editor"):
        value = getattr(f, name)
        if value:
            conds.append(_contains(articles.c[name], value, dialect))
    if f.since is not None:  # "2022-05-10" and "2022-05-10T…" both sort at or after the day
        conds.append(articles.c.published_at >= f.since.isoformat())
    if f.until is not None:
        conds.append(articles.c.published_at < (f.until + timedelta(days=1)).isoformat())
    if f.search:
        cond = search_condition(f.search, dialect)
        if cond is not None:
            conds.append(cond)
    if f.edited:
        conds.append(exists().where(article_versions.c.article_id == articles.c.id))
    if f.removed:
        conds.append(articles.c.removed_at.is_not(None))
    if f.collapse:
        conds.append(articles.c.duplicate_of.is_(None))
    if conds:
        q = q.where(and_(*conds))
    # NULLS LAST (not an `IS NULL` key) so SQLite can walk ix_articles_published_at backwards.
    published_desc = (articles.c.published_at.desc().nulls_last(),)
    order = {
        "published": (*published_desc, articles.c.id.desc()),
        "first_seen": (articles.c.first_seen.desc(), articles.c.id.desc()),
        "portal": (articles.c.portal_id, *published_desc, articles.c.id.desc()),
    }[f.sort]
    q = q.order_by(*order)
    if f.limit is not None:
        q = q.limit(f.limit)
    return q


def count_articles(db: Any, f: Filters) -> int:
    """How many articles `f` selects, ignoring its limit (to say what a limit cut off)."""
    engine = _engine(db)
    q = build_select(replace(f, limit=None), engine.dialect.name, [articles.c.id])
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(q.subquery())).scalar_one())


def authors(author: str | None) -> list[str]:
    """The names of a byline's 作者 field, which extraction joins with one ASCII space."""
    return author.split(" ") if author else []


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _record(row: Any, body: bool) -> dict[str, Any]:
    keys = RECORD_KEYS + (BODY_KEYS if body else ())
    out = {k: _iso(getattr(row, k)) for k in keys}
    out["is_mirror"] = bool(out["is_mirror"])
    out["authors"] = authors(out["author"])
    return out


def known_portals(db: Any) -> set[str]:
    """Ids of the portals the archive has rows for."""
    with _engine(db).connect() as conn:
        return set(conn.execute(select(portals.c.id)).scalars())


def iter_articles(db: Any, f: Filters, body: bool = False) -> Iterator[dict[str, Any]]:
    """Plain dict records of the selected articles, streamed in the requested order."""
    engine = _engine(db)
    q = build_select(f, engine.dialect.name, _listing_columns(body))
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=500).execute(q):
            yield _record(row, body)


def iter_articles_raw(
    db: Any, f: Filters
) -> Iterator[tuple[dict[str, Any], RawResponse | None]]:
    """Records (with body) and the raw response each article was last stored from (WARC export)."""
    engine = _engine(db)
    raw_cols = [responses.c.url.label("r_url"), responses.c.final_url.label("r_final_url"),
                responses.c.status.label("r_status"), responses.c.headers.label("r_headers"),
                responses.c.method.label("r_method"),
                responses.c.request_headers.label("r_request_headers"),
                responses.c.request_body.label("r_request_body"),
                responses.c.body.label("r_body"),
                responses.c.body_compression.label("r_compression"),
                responses.c.fetched_at.label("r_fetched_at")]
    q = build_select(f, engine.dialect.name, [*_listing_columns(True), *raw_cols])
    q = q.outerjoin(responses, responses.c.id == articles.c.response_id)
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=200).execute(q):
            raw = None
            if row.r_body is not None:
                raw = RawResponse(
                    url=row.r_url, status=row.r_status, headers=dict(row.r_headers),
                    body=bodies.unpack(row.r_body, row.r_compression), fetched_at=row.r_fetched_at,
                    final_url=row.r_final_url, request_method=row.r_method,
                    request_headers=dict(row.r_request_headers),
                    request_body=row.r_request_body)
            yield _record(row, True), raw


# ------------------------------------------------------------------------------------ show

FIELDS = ("title", "source", "author", "editor", "published_at", "published_precision",
          "body_text")
#: extract_page names some provenance entries after the evidence, not the column.
_PROVENANCE_KEY = {"body_text": "body", "published_precision": "published_at"}


def _find_id(conn: Any, key: int | str) -> int | None:
    if isinstance(key, int) or str(key).isdigit():
        return conn.execute(select(articles.c.id).where(articles.c.id == int(key))).scalar()
    return conn.execute(
        select(articles.c.id).where(articles.c.url_key == dedup.url_key(str(key)))).scalar()


def _versions(conn: Any, article_id: int, current: dict[str, Any]) -> list[dict[str, Any]]:
    """Versions oldest first, each field change as {old, new} (new = the next value seen)."""
    rows = conn.execute(
        select(article_versions).where(article_versions.c.article_id == article_id)
        .order_by(article_versions.c.observed_at, article_versions.c.id)).all()
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        changes = {}
        for name in r.changed:
            later = next((v.old_values[name] for v in rows[i + 1:] if name in v.changed),
                         current.get(name))
            changes[name] = {"old": r.old_values.get(name), "new": later}
        out.append({"observed_at": _iso(r.observed_at), "response_id": r.response_id,
                    "changed": changes})
    return out


def show_article(db: Any, key: int | str) -> dict[str, Any]:
    """Everything the archive knows about one article (by id or any form of its URL)."""
    engine = _engine(db)
    with engine.connect() as conn:
        article_id = _find_id(conn, key)
        if article_id is None:
            raise NotFound(f"no article {key!r} in the archive")
        a = conn.execute(
            select(articles, portals.c.name.label("portal_name"), portals.c.province)
            .select_from(articles.outerjoin(portals, portals.c.id == articles.c.portal_id))
            .where(articles.c.id == article_id)).one()._mapping
        provenance = dict(a["provenance"] or {})
        current = {k: a[k] for k in FIELDS}
        resp = None
        if a["response_id"] is not None:
            resp = conn.execute(
                select(*(c for c in responses.c if c.name != "body"))
                .where(responses.c.id == a["response_id"])).one()._mapping
        fetches = conn.execute(
            select(responses.c.id, responses.c.fetched_at, responses.c.status,
                   responses.c.body_sha256, responses.c.kind)
            .where(responses.c.url_key == a["url_key"]).order_by(responses.c.id)).all()
        events = conn.execute(
            select(article_events).where(article_events.c.article_id == article_id)
            .order_by(article_events.c.at, article_events.c.id)).all()
        items = conn.execute(select(media).where(media.c.article_id == article_id)
                             .order_by(media.c.id)).all()
        versions = _versions(conn, article_id, current)
    group = group_of(engine, article_id)
    members = [] if group is None else [group.head, *group.copies]
    return {
        "id": article_id,
        "url": a["url"], "canonical_url": a["canonical_url"],
        "portal": a["portal_id"], "portal_name": a["portal_name"], "province": a["province"],
        "fields": {k: {"value": current[k], "provenance": provenance.get(
            _PROVENANCE_KEY.get(k, k))} for k in FIELDS},
        "provenance": provenance,
        "authors": authors(a["author"]),
        "byline_raw": a["byline_raw"],
        "body_original": a["body_original"],
        "script": a["script"], "is_mirror": bool(a["is_mirror"]),
        "encoding": None if resp is None else {
            "name": resp["encoding"], "reason": resp["encoding_reason"],
            "confidence": resp["encoding_confidence"], "replaced_bytes": resp["replaced_bytes"]},
        "repairs": list(a["repairs"] or []), "warnings": list(a["warnings"] or []),
        "duplicate_of": a["duplicate_of"], "similarity": a["similarity"],
        "group": [{"id": m.id, "portal": m.portal_id, "url": m.url, "title": m.title,
                   "published_at": m.published_at, "similarity": m.similarity,
                   "is_mirror": m.is_mirror, "head": i == 0}
                  for i, m in enumerate(members) if m.id != article_id],
        "versions": versions,
        "events": [{"at": _iso(e.at), "event": e.event, "detail": e.detail} for e in events],
        "removed_at": _iso(a["removed_at"]),
        "media": [{"url": m.url, "kind": m.kind, "text": m.text, "path": m.path}
                  for m in items],
        "first_seen": _iso(a["first_seen"]), "last_seen": _iso(a["last_seen"]),
        "response": None if resp is None else {
            "id": resp["id"], "url": resp["url"], "final_url": resp["final_url"],
            "status": resp["status"], "method": resp["method"], "headers": resp["headers"],
            "fetched_at": _iso(resp["fetched_at"]), "sha256": resp["body_sha256"],
            "size": resp["body_size"], "kind": resp["kind"], "run_id": resp["run_id"]},
        "fetches": [{"response_id": r.id, "fetched_at": _iso(r.fetched_at), "status": r.status,
                     "sha256": r.body_sha256, "kind": r.kind} for r in fetches],
    }


# ------------------------------------------------------------------------------------ stats


def portal_stats(db: Any, since: date | None = None) -> list[dict[str, Any]]:
    """Per portal: articles, duplicates, rejects by kind, publish-date span, last run.

    `since` counts what was archived from that day on (first_seen, reject time, run start, UTC).
    """
    start = None if since is None else datetime(since.year, since.month, since.day, tzinfo=UTC)
    art_q = select(
        articles.c.portal_id, func.count().label("n"),
        func.count(articles.c.duplicate_of).label("dups"),
        func.min(func.substr(articles.c.published_at, 1, 10)).label("first"),
        func.max(func.substr(articles.c.published_at, 1, 10)).label("last"),
    ).group_by(articles.c.portal_id)
    rej_q = select(rejects.c.portal_id, rejects.c.kind, func.count().label("n")).group_by(
        rejects.c.portal_id, rejects.c.kind)
    run_q = select(runs.c.id, runs.c.spider, runs.c.status, runs.c.started_at,
                   runs.c.finished_at).where(
        runs.c.id.in_(select(func.max(runs.c.id)).group_by(runs.c.spider)))
    if start is not None:
        art_q = art_q.where(articles.c.first_seen >= start)
        rej_q = rej_q.where(rejects.c.at >= start)
        run_q = run_q.where(runs.c.started_at >= start)
    with _engine(db).connect() as conn:
        names = {r.id: r for r in conn.execute(select(portals.c.id, portals.c.name,
                                                      portals.c.province))}
        arts = {r.portal_id: r for r in conn.execute(art_q)}
        rej: dict[str | None, dict[str, int]] = {}
        for r in conn.execute(rej_q):
            rej.setdefault(r.portal_id, {})[r.kind] = r.n
        last_runs = {r.spider: r for r in conn.execute(run_q)}
    out = []
    for pid in sorted(set(names) | set(arts) | {p for p in rej if p is not None}):
        a, run, info = arts.get(pid), last_runs.get(pid), names.get(pid)
        out.append({
            "portal": pid, "name": info.name if info else None,
            "province": info.province if info else None,
            "articles": a.n if a else 0, "duplicates": a.dups if a else 0,
            "rejects": dict(sorted(rej.get(pid, {}).items())),
            "first_published": a.first if a else None, "last_published": a.last if a else None,
            "last_run": None if run is None else {
                "id": run.id, "status": run.status, "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at)},
        })
    return out
