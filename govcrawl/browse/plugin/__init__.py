"""The Datasette plugin behind `govcrawl browse`: read-only connections, Chinese search, facets.

Registered by `govcrawl.browse.build_datasette` (not through an entry point), and inert unless
the metadata names the archive under `plugins.govcrawl-browse.database`, so it never touches
another Datasette. It is a package so Datasette finds `templates/` beside it (through
importlib.resources), which holds the article page.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from typing import Any

from datasette import hookimpl
from datasette.facets import Facet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from datasette.utils.asgi import Request
from markupsafe import Markup, escape

PLUGIN_NAME = "govcrawl-browse"


def _archive_name(datasette: Any) -> str | None:
    config = datasette.plugin_config(PLUGIN_NAME) or {}
    return config.get("database")


def _t2s(value: object) -> object:
    """Simplified form of a traditional-script query, as `store.query.search` searches it."""
    if not isinstance(value, str):
        return value
    from govcrawl.dedup import _t2s as converter

    return converter().convert(value)


def _fold(value: object) -> object:
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
    conn.create_function("govcrawl_t2s", 1, _t2s, deterministic=True)
    conn.create_function("govcrawl_fold", 1, _fold, deterministic=True)
    conn.create_function("govcrawl_url_key", 1, _url_key, deterministic=True)


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


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Markup | None:
    """In canned queries, article ids and titles link to the article page."""
    if table is not None or database != _archive_name(datasette) or value in (None, ""):
        return None
    keys = row.keys() if hasattr(row, "keys") else []
    if column in ("article_id", "head_id") and isinstance(value, int):
        target = value
    elif column == "title" and "article_id" in keys and isinstance(row["article_id"], int):
        target = row["article_id"]
    else:
        return None
    href = datasette.urls.row(database, "articles", str(target))
    return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')


_ARTICLE_COLUMNS = ("id, portal_id, title, source, author, editor, published_at, "
                    "published_precision, byline_raw, body_text, url, duplicate_of, similarity, "
                    "is_mirror, first_seen, last_seen, removed_at, script")


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
    }


@hookimpl
def extra_template_vars(view_name: str, database: str | None, table: str | None,
                        request: Request | None, datasette: Any) -> Any:
    """Data for the article page template (row-govcrawl-articles.html)."""

    async def inner() -> dict[str, Any]:
        if (view_name != "row" or table != "articles" or request is None
                or database != _archive_name(datasette)):
            return {}
        pks = request.url_vars.get("pks", "")
        if not pks.isdigit():
            return {}
        return {"govcrawl_article": await _article_context(datasette, database, int(pks))}

    return inner
