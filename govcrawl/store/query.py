"""Reads from the archive: full-text search, syndication groups, simple listings.

Search on SQLite goes through the FTS5 trigram index for any query of two or more characters:
a 3+ character query is one FTS5 string; a two-character one (法院), which a trigram index has
no entry for, becomes the indexed trigrams that start with it, read from the `articles_fts_terms`
vocabulary (migration 0004 indexes each text with a newline appended, so every occurrence starts
a trigram). Only a one-character query scans the content table with `instr`. On PostgreSQL,
ILIKE over pg_trgm GIN indexes. Traditional input is converted with OpenCC t2s and both forms
are searched. Parameters only: no user text is spliced into SQL.

A search text is one or more terms, all of which must occur (AND): words split at white space,
a "quoted phrase" kept whole (`search_terms`). `match_sql` turns it into the one SQLite
condition the CLI, the Python API and browse's search box all use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, TextClause, and_, or_, select, text

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


#: A "quoted phrase" (kept whole, quotes dropped) or a run of non-space characters; a quote
#: with no partner is an ordinary character.
_TERM = re.compile(r'"([^"]*[^\s"][^"]*)"|(\S+)')


def search_terms(text: str) -> list[list[str]]:
    """The terms of a search text, each as its variants (as written, and simplified when that
    differs); a match must contain every term in one of its variants."""
    terms: list[list[str]] = []
    for phrase, word in _TERM.findall(text):
        variants = _variants(phrase or word)
        if variants[0] and variants not in terms:
            terms.append(variants)
    return terms


def match_sql(text: str, id_column: str, prefix: str = "search") -> tuple[str, dict[str, str]]:
    """A SQLite condition on `id_column` (an articles id) selecting the articles that contain
    every term of `text`, and its parameters (named `prefix`_i_j); ('', {}) for no terms."""
    conds, params = [], {}
    for i, variants in enumerate(search_terms(text)):
        alternatives = []
        for j, variant in enumerate(variants):
            name = f"{prefix}_{i}_{j}"
            if len(variant) >= 3:
                match, params[name] = f":{name}", _fts_string(variant)
            elif len(variant) == 2:
                match, params[name] = TWO_CHAR_MATCH.format(t=f":{name}"), fold(variant)
            else:
                alternatives.append(f"{id_column} IN (SELECT id FROM articles WHERE "
                                    f"instr(title, :{name}) > 0 OR instr(body_text, :{name}) > 0)")
                params[name] = variant
                continue
            alternatives.append(f"{id_column} IN (SELECT rowid FROM articles_fts "
                                f"WHERE articles_fts MATCH {match})")
        conds.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(conds), params


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


#: FTS5 query text for the two-character term in SQL expression {t}, already case-folded with
#: `fold` (SQL's lower() folds ASCII only): its trigrams OR-ed together, or '""' (matches
#: nothing) when no indexed text contains it.
TWO_CHAR_MATCH = (
    "(SELECT coalesce(group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), '\"\"')"
    " FROM articles_fts_terms WHERE term >= {t} AND term < {t} || char(1114111))"
)


def fold(term: str) -> str:
    """Case-fold as the trigram index does, one character at a time (ＡＩ → ａｉ, ΣΟ → σο;
    SQL's lower() folds ASCII only)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in term)


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def like_condition(text: str) -> ColumnElement[bool] | None:
    """PostgreSQL's form of `match_sql`: every term (either variant) in title or body, by ILIKE
    (pg_trgm indexes serve it); None for no terms."""
    conds = []
    for variants in search_terms(text):
        patterns = [_like_pattern(v) for v in variants]
        conds.append(or_(*(c.ilike(p, escape="\\") for p in patterns
                           for c in (articles.c.title, articles.c.body_text))))
    return and_(*conds) if conds else None


def search_condition(text_: str, dialect: str) -> ColumnElement[bool] | TextClause | None:
    """The search as a WHERE condition on the `articles` table (None: no terms)."""
    if dialect != "sqlite":
        return like_condition(text_)
    sql, params = match_sql(text_, "articles.id")
    return text(sql).bindparams(**params) if sql else None


def search(db: Any, query: str, limit: int = 20, heads_only: bool = False) -> list[Hit]:
    """Articles containing every term of `query` (newest id first)."""
    engine = _engine(db)
    cond = search_condition(query, engine.dialect.name)
    if cond is None:
        return []
    q = (select(articles.c.id, articles.c.duplicate_of, articles.c.portal_id, articles.c.title,
                articles.c.url, articles.c.published_at)
         .where(cond).order_by(articles.c.id.desc()).limit(limit))
    if heads_only:
        q = q.where(articles.c.duplicate_of.is_(None))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
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
