"""The Datasette plugin behind `govcrawl browse`: read-only connections, Chinese search, facets.

Registered by `govcrawl.browse.build_datasette` (not through an entry point), and inert unless
the metadata names the archive under `plugins.govcrawl-browse.database`, so it never touches
another Datasette. It is a package so Datasette finds `templates/` beside it (through
importlib.resources), which holds the article page.
"""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.parse
from typing import Any

from datasette import hookimpl
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from datasette.utils.asgi import Request
from markupsafe import Markup, escape

PLUGIN_NAME = "govcrawl-browse"


def _archive_name(datasette: Any) -> str | None:
    config = datasette.plugin_config(PLUGIN_NAME) or {}
    return config.get("database")


def _search_terms(value: object) -> str:
    """The terms of a search text and their variants as JSON (`store.query.search_terms`)."""
    from govcrawl.store.query import search_terms

    return json.dumps(search_terms(value) if isinstance(value, str) else [],
                      ensure_ascii=False)


#: A value SQLite passes to, and takes back from, a Python function.
_SQLiteValue = str | bytes | int | float | None


def _fold(value: _SQLiteValue) -> _SQLiteValue:
    """A search term case-folded as the trigram index folds it (SQL lower() folds ASCII only)."""
    if not isinstance(value, str):
        return value
    from govcrawl.store.query import fold

    return fold(value)


def _url_key(value: object) -> str | None:
    """The archive's identity key of a URL (dedup.url_key), or None for what is not one."""
    if not isinstance(value, str) or "://" not in value:
        return None
    from govcrawl.dedup import url_key

    try:
        return url_key(value.strip())
    except ValueError:
        return None


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    """Every connection to the archive is query_only (even one a plugin opens to write)."""
    if database != _archive_name(datasette):
        return
    conn.execute("PRAGMA query_only = 1")
    conn.create_function("govcrawl_search_terms", 1, _search_terms, deterministic=True)
    conn.create_function("govcrawl_fold", 1, _fold, deterministic=True)
    conn.create_function("govcrawl_url_key", 1, _url_key, deterministic=True)


#: Tables whose search box (`?_search=`) goes through `store.query.match_sql`.
SEARCHABLE = ("articles", "article_list")


@hookimpl(trylast=True)
def filters_from_request(request: Request, database: str, table: str,
                         datasette: Any) -> FilterArguments | None:
    """`?_search=` on articles and article_list, by the CLI's own search: every term (AND),
    any length, either script. No `fts_table` is configured, so Datasette's own FTS search
    (which finds nothing for a two-character word in a trigram index) never runs; running last,
    this hook's `supports_search` shows the search box anyway."""
    if database != _archive_name(datasette) or table not in SEARCHABLE:
        return None
    from govcrawl.store.query import match_sql

    text = request.args.get("_search", "")
    extra = {"supports_search": True, "search": text}
    sql, params = match_sql(text, "id", prefix="govcrawl_search")
    if not sql:
        return FilterArguments([], extra_context=extra)
    return FilterArguments([sql], params, [f"搜索 search: {text}"], extra)


class _DerivedFacet(Facet):
    """A facet on a value derived from a column; selecting it adds an ordinary filter."""

    type: str = ""

    def value_sql(self, column: str) -> tuple[str, str]:
        """(FROM clause over the inner query `t`, SQL expression of the facet value)."""
        raise NotImplementedError

    async def filter_for(self, column: str, value: str) -> tuple[str, str]:
        """The querystring (key, value) that selects rows with this facet value."""
        raise NotImplementedError

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        from datasette.database import QueryInterrupted

        results: list[dict[str, Any]] = []
        timed_out: list[str] = []
        qs_pairs = self.get_querystring_pairs()
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            from_sql, value = self.value_sql(column)
            sql = (f"SELECT {value} AS value, COUNT(*) AS count FROM ({self.sql}) t {from_sql} "
                   f"WHERE {value} IS NOT NULL GROUP BY {value} "
                   f"ORDER BY count DESC, value LIMIT {size + 1}")
            try:
                rows = await self.ds.execute(
                    self.database, sql, self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(column)
                continue
            values = []
            for row in rows.rows[:size]:
                key, selector = await self.filter_for(column, str(row["value"]))
                selected = (key, selector) in qs_pairs
                toggle = (path_with_removed_args(self.request, {key: selector}) if selected
                          else path_with_added_args(self.request, {key: selector}))
                values.append({
                    "value": row["value"], "label": row["value"], "count": row["count"],
                    "toggle_url": self.ds.absolute_url(self.request, toggle),
                    "selected": selected,
                })
            results.append({
                "name": f"{self.type}({column})",
                "type": self.type,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": path_with_removed_args(self.request, {f"_facet_{self.type}": column}),
                "results": values,
                "truncated": len(rows.rows) > size,
            })
        return results, timed_out


class MonthFacet(_DerivedFacet):
    """Publication month (YYYY-MM) of a date column: `published_at` keeps mixed precisions."""

    type = "month"

    def value_sql(self, column: str) -> tuple[str, str]:
        return "", f"substr(t.{escape_sqlite(column)}, 1, 7)"

    async def filter_for(self, column: str, value: str) -> tuple[str, str]:
        return f"{column}__startswith", value


class ProvinceFacet(_DerivedFacet):
    """Province of the portal named by a portal-id column (provinces live in `portals`)."""

    type = "province"

    def value_sql(self, column: str) -> tuple[str, str]:
        return f"JOIN portals pv ON pv.id = t.{escape_sqlite(column)}", "pv.province"

    async def filter_for(self, column: str, value: str) -> tuple[str, str]:
        rows = await self.ds.execute(
            self.database, "SELECT id FROM portals WHERE province = ? ORDER BY id", [value])
        return f"{column}__in", ",".join(row["id"] for row in rows.rows)


@hookimpl
def register_facet_classes() -> list[type[Facet]]:
    return [MonthFacet, ProvinceFacet]


#: Columns of article_list whose cells open the article page (`id` and `title` the row's own).
_LIST_LINKS = {"id": "id", "title": "id", "head_id": "head_id"}


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Markup | None:
    """Article ids and titles link to the article page: in canned queries and article_list."""
    if database != _archive_name(datasette) or value in (None, ""):
        return None
    keys = row.keys() if hasattr(row, "keys") else []
    target: object = None
    if table == "article_list" and column in _LIST_LINKS:
        target = row[_LIST_LINKS[column]]
    elif table is not None:
        return None
    elif column in ("article_id", "head_id"):
        target = value
    elif column == "title" and "article_id" in keys:
        target = row["article_id"]
    if not isinstance(target, int):
        return None
    href = datasette.urls.row(database, "articles", str(target))
    return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')


_ARTICLE_COLUMNS = ("id, portal_id, title, source, author, editor, published_at, "
                    "published_precision, byline_raw, body_text, url, duplicate_of, similarity, "
                    "is_mirror, first_seen, last_seen, removed_at, script, response_id")


async def _article_context(datasette: Any, database: str, article_id: int) -> dict[str, Any]:
    """The article, its syndication group (head first) and its versions and events."""
    db = datasette.get_database(database)
    found = await db.execute(
        f"SELECT {_ARTICLE_COLUMNS}, (SELECT name FROM portals WHERE id = articles.portal_id) "
        "AS portal FROM articles WHERE id = ?", [article_id])
    if not found.rows:
        return {}
    article = dict(found.rows[0])
    head_id = article["duplicate_of"] or article["id"]
    group = await db.execute(
        "SELECT a.id, p.name AS portal, p.province, a.title, a.published_at, a.similarity, "
        "a.is_mirror, a.url, a.duplicate_of IS NULL AS is_head, a.removed_at "
        "FROM articles a JOIN portals p ON p.id = a.portal_id "
        "WHERE a.id = ? OR a.duplicate_of = ? "
        "ORDER BY a.duplicate_of IS NOT NULL, a.published_at, a.id", [head_id, head_id])
    versions = await db.execute(
        "SELECT id, observed_at, changed, old_values FROM article_versions "
        "WHERE article_id = ? ORDER BY observed_at DESC, id DESC", [article_id])
    events = await db.execute(
        "SELECT id, at, event, detail FROM article_events WHERE article_id = ? "
        "ORDER BY at DESC, id DESC", [article_id])
    return {
        "article": article,
        "group": [dict(r) for r in group.rows],
        "versions": [dict(r) for r in versions.rows],
        "events": [dict(r) for r in events.rows],
        "carried_by_url": datasette.urls.path(
            f"/{database}/carried_by?" + urllib.parse.urlencode({"article": article_id})),
        "snapshot_url": (datasette.urls.path(f"/{database}/-/snapshot/{article['response_id']}")
                         if article["response_id"] is not None else None),
    }


#: Human names for facets and the search form, by facet name.
LABELS = {
    "portal_id": "网站 portal", "portal": "网站 portal", "province(portal_id)": "省份 province",
    "province": "省份 province", "month(published_at)": "月份 month",
    "publish_month": "月份 month", "source": "来源 source", "editor": "编辑 editor",
    "author": "作者 author", "level": "级别 level", "kind": "类别 kind", "status": "状态 status",
    "event": "事件 event", "reason": "原因 reason", "spider": "爬虫 spider",
    "article_id": "文章 article",
}


@hookimpl
def extra_template_vars(view_name: str, database: str | None, table: str | None,
                        request: Request | None, datasette: Any) -> Any:
    """Labels for facets and, on the article page (row-govcrawl-articles.html), its data; a
    search's Atom feed address."""

    async def inner() -> dict[str, Any]:
        if database != _archive_name(datasette) or request is None:
            return {}
        found: dict[str, Any] = {"govcrawl_labels": LABELS}
        # ?_search= on a table, ?q= on the search query (Datasette names both views "table").
        text = request.args.get("_search") or request.args.get("q")
        if text and text.strip():
            found["govcrawl_feed_url"] = datasette.urls.path(
                f"/{database}/feed.atom?" + urllib.parse.urlencode({"q": text.strip()}))
            if "_search" not in request.args:  # the search query: the same search, sortable
                found["govcrawl_list_url"] = datasette.urls.table(database, "article_list") \
                    + "?" + urllib.parse.urlencode({"_search": text.strip()})
        if view_name == "row" and table == "articles":
            pks = request.url_vars.get("pks", "")
            if pks.isdigit():
                assert database is not None  # a row page always belongs to a database
                found["govcrawl_article"] = await _article_context(datasette, database,
                                                                   int(pks))
        return found

    return inner


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]] | None:
    """The home page, snapshots of archived responses, stored media and search feeds."""
    name = _archive_name(datasette)
    if name is None:
        return None
    from govcrawl.browse.plugin import pages

    db = re.escape(name)
    return [
        (r"^/$", pages.home),
        (rf"^/{db}/-/snapshot/(?P<response_id>[0-9]+)$", pages.snapshot),
        (rf"^/{db}/-/media/(?P<media_id>[0-9]+)$", pages.media_file),
        (rf"^/{db}/feed\.atom$", pages.feed),
    ]
