"""Metadata is generated from the live schema: every table, view and column is described."""

from __future__ import annotations

import re
import sqlite3
from html import unescape

import pytest

from govcrawl.browse.descriptions import DESCRIPTIONS
from govcrawl.browse.metadata import (
    DB_NAME,
    UNDESCRIBED,
    build_metadata,
    live_schema,
    missing_descriptions,
)
from govcrawl.store.db import open_archive


def column_toggle(table: dict) -> dict[str, str]:
    """{column: description} from the folded-away list in a table's description."""
    html = table["description_html"]
    folded = html[html.index('<details class="govcrawl-columns">'):]
    return {unescape(dt): unescape(dd)
            for dt, dd in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", folded)}


@pytest.fixture
def fresh_archive(tmp_path):
    """An empty archive at the newest schema revision, made by the store's own migrations."""
    path = tmp_path / "fresh.db"
    open_archive(f"sqlite:///{path}").close()
    return path


def test_every_table_view_and_column_of_the_live_schema_is_described(fresh_archive):
    schema = live_schema(fresh_archive)
    assert {"articles", "article_list", "syndication_groups", "articles_fts"} <= set(schema)
    assert missing_descriptions(schema) == []
    tables = build_metadata(fresh_archive)["databases"][DB_NAME]["tables"]
    assert set(tables) == set(schema)
    for name, (_kind, columns) in schema.items():
        assert DESCRIPTIONS[name].text.zh and DESCRIPTIONS[name].text.en, name
        described = column_toggle(tables[name])
        assert list(described) == columns, name
        for column, text in described.items():
            zh, en = text.split(" / ", 1)
            assert zh.strip() and en.strip() and text != UNDESCRIBED.both(), (name, column)


def test_a_new_column_is_listed_and_reported_until_described(fresh_archive):
    with sqlite3.connect(fresh_archive) as conn:
        conn.execute("ALTER TABLE articles ADD COLUMN mood TEXT")
        conn.execute("CREATE VIEW article_moods AS SELECT id, mood FROM articles")
    schema = live_schema(fresh_archive)
    assert missing_descriptions(schema) == ["article_moods", "articles.mood"]
    tables = build_metadata(fresh_archive)["databases"][DB_NAME]["tables"]
    assert column_toggle(tables["articles"])["mood"] == UNDESCRIBED.both()
    assert "article_moods" in tables


def test_sql_is_off_unless_allowed(fresh_archive):
    assert build_metadata(fresh_archive)["allow_sql"] is False
    assert "allow_sql" not in build_metadata(fresh_archive, allow_sql=True)
