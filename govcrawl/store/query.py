"""Reads from the archive: full-text search, syndication groups, simple listings.

Search on SQLite goes through the FTS5 trigram index for any query of two or more characters:
a 3+ character query is one FTS5 string; a two-character one (法院), which a trigram index has
no entry for, becomes the indexed trigrams that start with it, read from the `articles_fts_terms`
vocabulary (migration 0004 indexes each text with a newline appended, so every occurrence starts
a trigram). Only a one-character query scans the content table with `instr`. On PostgreSQL,
ILIKE over pg_trgm GIN indexes. Traditional input is converted with OpenCC t2s and both forms
are searched. Parameters only: no user text is spliced into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    TextClause,
    column,
    func,
    or_,
    select,
    table,
    text,
)

from govcrawl.dedup import _t2s
from govcrawl.store.schema import articles, portals, rejects


@dataclass
class Hit:
    """One article found by `search`."""

    id: int
    head_id: int
    portal_id: str
    title: str | None
    url: str
    published_at: str | None


@dataclass
class Member:
    """One article of a syndication group."""

    id: int
    portal_id: str
    url: str
    title: str | None
    published_at: str | None
    similarity: float | None
    is_mirror: bool


@dataclass
class Group:
    """A head (the article's best copy) and the copies pointing at it."""

    head: Member
    copies: list[Member]


def _engine(db: Any) -> Engine:
    return getattr(db, "read_engine", db)


def _variants(query: str) -> list[str]:
    query = query.strip()
    simplified = _t2s().convert(query)
    return [query] if simplified == query else [query, simplified]


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


#: FTS5 query text for the two-character term in SQL expression {t}, already case-folded with
#: `fold` (SQL's lower() folds ASCII only): its trigrams OR-ed together, or '""' (matches
#: nothing) when no indexed text contains it.
TWO_CHAR_MATCH = (
    "(SELECT coalesce(group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), '\"\"')"
    " FROM articles_fts_terms WHERE term >= {t} AND term < {t} || char(1114111))"
)

#: The FTS5 table as a FROM/JOIN target (SQLAlchemy cannot declare virtual tables).
articles_fts = table("articles_fts", column("rowid"))


def fts_match(term: str, param: str) -> TextClause | None:
    """`articles_fts MATCH …` for a term of 2+ characters (None: one character, no index)."""
    if len(term) >= 3:
        return text(f"articles_fts MATCH :{param}").bindparams(**{param: _fts_string(term)})
    if len(term) == 2:
        return text("articles_fts MATCH " + TWO_CHAR_MATCH.format(t=f":{param}")).bindparams(
            **{param: fold(term)})
    return None


def fold(term: str) -> str:
    """Case-fold as the trigram index does, one character at a time (ＡＩ → ａｉ, ΣΟ → σο;
    SQL's lower() folds ASCII only)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in term)


def scan_condition(term: str) -> ColumnElement[bool]:
    """Title or body contains `term`, by scanning the content table (SQLite, one character)."""
    return or_(func.instr(articles.c.title, term) > 0, func.instr(articles.c.body_text, term) > 0)


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(db: Any, query: str, limit: int = 20, heads_only: bool = False) -> list[Hit]:
    """Articles whose title or body contains `query` (newest id first)."""
    terms = [t for t in _variants(query) if t]
    if not terms:
        return []
    engine = _engine(db)
    cols = (articles.c.id, articles.c.duplicate_of, articles.c.portal_id, articles.c.title,
            articles.c.url, articles.c.published_at)
    if engine.dialect.name == "sqlite":
        queries = [_sqlite_search(term, i, cols) for i, term in enumerate(terms)]
    else:
        conds = []
        for term in terms:
            pattern = _like_pattern(term)
            conds += [articles.c.title.ilike(pattern, escape="\\"),
                      articles.c.body_text.ilike(pattern, escape="\\")]
        queries = [select(*cols).where(or_(*conds)).order_by(articles.c.id.desc())]
    found: dict[int, Any] = {}
    with engine.connect() as conn:
        for query_ in queries:
            if heads_only:
                query_ = query_.where(articles.c.duplicate_of.is_(None))
            for r in conn.execute(query_.limit(limit)):
                found[r.id] = r
    rows = sorted(found.values(), key=lambda r: r.id, reverse=True)[:limit]
    return [Hit(r.id, r.duplicate_of or r.id, r.portal_id, r.title, r.url, r.published_at)
            for r in rows]


def _sqlite_search(term: str, i: int, cols: tuple) -> Select:
    """Newest-first matches of one term: the trigram index, or `instr` for one character."""
    match = fts_match(term, f"term{i}")
    if match is None:
        return select(*cols).where(scan_condition(term)).order_by(articles.c.id.desc())
    return (select(*cols)
            .select_from(articles_fts.join(articles, articles.c.id == articles_fts.c.rowid))
            .where(match)
            .order_by(articles_fts.c.rowid.desc()))


def _member(r: Any) -> Member:
    return Member(r.id, r.portal_id, r.url, r.title, r.published_at, r.similarity,
                  bool(r.is_mirror))


def group_of(db: Any, article_id: int) -> Group | None:
    """The syndication group of any member (head or copy): head first, copies by date."""
    cols = (articles.c.id, articles.c.portal_id, articles.c.url, articles.c.title,
            articles.c.published_at, articles.c.similarity, articles.c.is_mirror,
            articles.c.duplicate_of)
    with _engine(db).connect() as conn:
        row = conn.execute(select(*cols).where(articles.c.id == article_id)).first()
        if row is None:
            return None
        head_id = row.duplicate_of or row.id
        head = conn.execute(select(*cols).where(articles.c.id == head_id)).one()
        copies = conn.execute(
            select(*cols).where(articles.c.duplicate_of == head_id)
            .order_by(articles.c.published_at, articles.c.id)
        ).all()
    return Group(_member(head), [_member(c) for c in copies])


def list_articles(db: Any, portal_id: str | None = None, limit: int = 50) -> list[dict]:
    """Most recently seen articles with their portal name and head id."""
    q = (
        select(articles.c.id, articles.c.title, articles.c.published_at, articles.c.url,
               articles.c.duplicate_of, portals.c.name.label("portal"))
        .join(portals, portals.c.id == articles.c.portal_id)
        .order_by(articles.c.last_seen.desc(), articles.c.id.desc()).limit(limit)
    )
    if portal_id is not None:
        q = q.where(articles.c.portal_id == portal_id)
    with _engine(db).connect() as conn:
        return [
            {"id": r.id, "title": r.title, "published_at": r.published_at, "url": r.url,
             "head_id": r.duplicate_of or r.id, "portal": r.portal}
            for r in conn.execute(q)
        ]


def reject_counts(db: Any, run_id: int | None = None) -> dict[tuple[str, str | None], int]:
    """{(kind, reason): count}, optionally for one run: a blocked portal shows up here."""
    from sqlalchemy import func

    q = select(rejects.c.kind, rejects.c.reason, func.count()).group_by(
        rejects.c.kind, rejects.c.reason)
    if run_id is not None:
        q = q.where(rejects.c.run_id == run_id)
    with _engine(db).connect() as conn:
        return {(k, r): n for k, r, n in conn.execute(q)}
