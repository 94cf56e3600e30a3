"""Reads from the archive: full-text search, syndication groups, simple listings.

Search on SQLite uses the FTS5 trigram index for queries of 3+ characters (the query quoted as
one FTS5 string) and `instr` on the content table for 1–2 characters, which a trigram index
cannot answer. On PostgreSQL, ILIKE over pg_trgm GIN indexes. Traditional input is converted
with OpenCC t2s and both forms are searched. Parameters only: no user text is spliced into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, or_, select, text

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
        conds = []
        params: dict[str, str] = {}
        for i, term in enumerate(terms):
            if len(term) >= 3:
                conds.append(
                    articles.c.id.in_(
                        select(text("rowid")).select_from(text("articles_fts"))
                        .where(text(f"articles_fts MATCH :fts{i}"))
                    )
                )
                params[f"fts{i}"] = _fts_string(term)
            else:
                conds.append(
                    or_(
                        text(f"instr(articles.title, :t{i}) > 0"),
                        text(f"instr(articles.body_text, :t{i}) > 0"),
                    )
                )
                params[f"t{i}"] = term
        query_ = select(*cols).where(or_(*conds))
    else:
        conds = []
        for term in terms:
            pattern = _like_pattern(term)
            conds += [articles.c.title.ilike(pattern, escape="\\"),
                      articles.c.body_text.ilike(pattern, escape="\\")]
        query_ = select(*cols).where(or_(*conds))
        params = {}
    if heads_only:
        query_ = query_.where(articles.c.duplicate_of.is_(None))
    query_ = query_.order_by(articles.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query_, params).all()
    return [Hit(r.id, r.duplicate_of or r.id, r.portal_id, r.title, r.url, r.published_at)
            for r in rows]


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
