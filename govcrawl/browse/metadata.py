"""Datasette metadata for an archive, generated from its live schema so it stays complete.

Tables, views and columns are read from the SQLite file itself (not from schema.py), so a table
a later migration adds is listed at once; its description comes from `descriptions`, and
`missing_descriptions` names whatever still lacks one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from govcrawl.browse.descriptions import DESCRIPTIONS, Text
from govcrawl.browse.queries import CHART_FRAGMENT, canned_queries

#: The name the archive has in Datasette URLs (/govcrawl/articles/1), whatever the file is called.
DB_NAME = "govcrawl"
PLUGIN_NAME = "govcrawl-browse"
UNDESCRIBED = Text("（尚无说明）", "(not yet described)")


def live_schema(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{name: (type, [columns])} of every table and view, read through a read-only connection."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = conn.execute(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
        ).fetchall()
        return {
            name: (kind, [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')])
            for name, kind in names
        }
    finally:
        conn.close()


def missing_descriptions(schema: dict[str, tuple[str, list[str]]]) -> list[str]:
    """`table` or `table.column` names of the schema that `descriptions` does not cover."""
    missing = []
    for name, (_kind, columns) in schema.items():
        described = DESCRIPTIONS.get(name)
        if described is None:
            missing.append(name)
            continue
        missing += [f"{name}.{col}" for col in columns if col not in described.columns]
    return missing


def search_form(action: str, name: str = "_search", value: str = "") -> str:
    """The search box: every word must occur; also on the home page (plugin)."""
    return (f'<form action="{action}" method="get" class="govcrawl-search" role="search">'
            f'<input type="search" name="{name}" value="{_escape(value)}" aria-label="搜索 Search"'
            ' placeholder="法院 检察 （多个词须同时出现 all words must occur）" size="40"> '
            '<input type="submit" value="搜索 Search"></form>')


# Facets a person asks for first. `month` and `province` are the browse plugin's facet types on
# `articles` (it has no publish_month or province column); article_list has both, and portal
# names rather than ids.
ARTICLE_FACETS: list[Any] = [
    "portal_id", {"province": "portal_id"}, "source", "editor", "author",
    {"month": "published_at"},
]
LIST_FACETS: list[Any] = ["portal", "province", "publish_month", "source", "editor", "author"]

#: Tables only the crawler needs: listed behind Datasette's "hidden tables" link.
INTERNAL_TABLES = frozenset({"alembic_version", "article_bands", "meta", "fetch_state",
                             "sqlite_sequence", "channel_progress"})
#: Views only the index reads. Datasette cannot hide a view, so its page is not served (the
#: index reads it inside SQLite, where Datasette's permissions do not apply).
INTERNAL_VIEWS = frozenset({"articles_fts_source"})

_TABLE_EXTRAS: dict[str, dict[str, Any]] = {
    "articles": {"label_column": "title", "sort_desc": "id", "facets": ARTICLE_FACETS},
    "article_list": {"title": "文章一览 Articles", "sort_desc": "published_at",
                     "facets": LIST_FACETS},
    "portals": {"label_column": "name", "facets": ["level", "province"]},
    "syndication_groups": {"sort_desc": "copies"},
    "article_versions": {"sort_desc": "observed_at", "facets": ["article_id"]},
    "article_events": {"sort_desc": "at", "facets": ["event"]},
    "rejects": {"sort_desc": "at", "facets": ["kind", "reason", "portal_id"]},
    "responses": {"sort_desc": "id", "facets": ["kind", "status", "portal_id"]},
    "runs": {"sort_desc": "id", "facets": ["status", "spider"]},
    "media": {"facets": ["kind"]},
}


def _columns_toggle(columns: list[str], known: dict[str, Text]) -> str:
    """Column descriptions folded away: a reader opens them when a column puzzles them."""
    items = "".join(f"<dt>{_escape(col)}</dt><dd>{_escape(known.get(col, UNDESCRIBED).both())}"
                    "</dd>" for col in columns)
    return ('<details class="govcrawl-columns"><summary>字段说明 What each column holds'
            f'</summary><dl class="column-descriptions">{items}</dl></details>')


def _table_metadata(name: str, columns: list[str]) -> dict[str, Any]:
    described = DESCRIPTIONS.get(name)
    text = described.text if described else UNDESCRIBED
    known = described.columns if described else {}
    table: dict[str, Any] = {
        "title": f"{name} · {text.zh}",
        "description_html": (f"{_escape(text.zh)}<br>{_escape(text.en)}"
                             + _columns_toggle(columns, known)),
    }
    if name in INTERNAL_TABLES:
        table["hidden"] = True
    if name in INTERNAL_VIEWS:
        table["allow"] = False
    table.update(_TABLE_EXTRAS.get(name, {}))
    return table


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_metadata(path: Path, allow_sql: bool = False) -> dict[str, Any]:
    """Datasette metadata for the archive at `path`: descriptions, facets, canned queries."""
    schema = live_schema(path)
    tables = {name: _table_metadata(name, cols) for name, (_kind, cols) in schema.items()}
    metadata: dict[str, Any] = {
        "title": "govcrawl 政法网站档案 · political-legal portal archive",
        "description_html": (
            "只读浏览 govcrawl 档案库。<br>Read-only view of a govcrawl archive: start with "
            f'<a href="/{DB_NAME}/article_list">文章一览 article list</a> or '
            f'<a href="/{DB_NAME}/articles_per_portal_month{CHART_FRAGMENT}">'
            "每月文章数图表 the monthly chart</a>."
            + search_form(f"/{DB_NAME}/article_list")),
        "databases": {
            DB_NAME: {
                "description_html": (
                    "政法门户网站文章档案。<br>Articles archived from political-legal portals."
                    + search_form(f"/{DB_NAME}/article_list")),
                "tables": tables,
                # The SQL of a canned query is for programmers: readers see its results.
                "queries": {name: {**query, "hide_sql": True}
                            for name, query in canned_queries().items()},
            }
        },
        "plugins": {PLUGIN_NAME: {"database": DB_NAME}},
    }
    if not allow_sql:
        # Arbitrary SQL (the SQL box, ?sql=, ?_where=) only with --allow-sql.
        metadata["allow_sql"] = False
    return metadata
