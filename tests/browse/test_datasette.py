"""The archive in Datasette, in process: pages, facets, canned queries, search, feed, safety."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import create_engine

from govcrawl.browse import DB_NAME, build_datasette
from govcrawl.browse.metadata import build_metadata
from govcrawl.store import query

pytestmark = pytest.mark.slow

ATOM = "{http://www.w3.org/2005/Atom}"


def browse(archive: Any, body: Callable[[Any], Awaitable[None]], allow_sql: bool = False) -> None:
    """Run `body(datasette)` against a fresh read-only Datasette on the archive."""
    async def main() -> None:
        ds = build_datasette(archive.path, allow_sql=allow_sql)
        await ds.invoke_startup()
        try:
            await body(ds)
        finally:
            ds.get_database(DB_NAME).close()

    asyncio.run(main())


async def rows(ds: Any, path: str) -> list[dict]:
    name, _, args = path.partition("?")
    response = await ds.client.get(f"{name}.json?{args}&_shape=array")
    assert response.status_code == 200, response.text[:2000]
    return response.json()


def engine(archive: Any):
    return create_engine(f"sqlite:///file:{archive.path}?mode=ro&uri=true")


def test_pages_answer(archive):
    head_id = archive.sql("SELECT duplicate_of FROM articles WHERE duplicate_of IS NOT NULL "
                          "LIMIT 1")[0][0]
    paths = ["/", f"/{DB_NAME}", f"/{DB_NAME}/articles", f"/{DB_NAME}/article_list",
             f"/{DB_NAME}/syndication_groups", f"/{DB_NAME}/portals", f"/{DB_NAME}/run_summary",
             f"/{DB_NAME}/articles/{head_id}",
             *(f"/{DB_NAME}/{name}" for name in build_metadata(archive.path)["databases"][
                 DB_NAME]["queries"])]

    async def body(ds):
        for path in paths:
            response = await ds.client.get(path)
            assert response.status_code == 200, (path, response.text[:2000])

    browse(archive, body)


def test_facets_count_what_the_archive_holds(archive):
    async def body(ds):
        response = await ds.client.get(f"/{DB_NAME}/articles.json?_size=0")
        facets = response.json()["facet_results"]
        assert set(facets) == {"portal_id", "province(portal_id)", "source", "editor", "author",
                               "month(published_at)"}
        for column in ("portal_id", "source", "editor", "author"):
            expected = dict(archive.sql(f"SELECT {column}, COUNT(*) FROM articles WHERE "
                                        f"{column} IS NOT NULL GROUP BY {column}"))
            got = {r["value"]: r["count"] for r in facets[column]["results"]}
            assert got == {k: v for k, v in expected.items() if k in got}, column
            assert len(got) == min(len(expected), 30), column
        months = Counter(p[:7] for (p,) in archive.sql(
            "SELECT published_at FROM articles WHERE published_at IS NOT NULL"))
        assert {r["value"]: r["count"] for r in facets["month(published_at)"]["results"]} == months
        provinces = dict(archive.sql(
            "SELECT p.province, COUNT(*) FROM articles a JOIN portals p ON p.id = a.portal_id "
            "WHERE p.province IS NOT NULL GROUP BY p.province"))
        province = {r["value"]: r for r in facets["province(portal_id)"]["results"]}
        assert {k: r["count"] for k, r in province.items()} == provinces == {
            "江苏": provinces["江苏"], "甘肃": provinces["甘肃"]}
        # Choosing a facet value filters the rows to exactly those articles.
        chosen = await ds.client.get(province["甘肃"]["toggle_url"].replace(
            "http://localhost", "").replace("_size=0", "_size=max") + "&_shape=array")
        portals = {r["portal_id"] for r in chosen.json()}
        assert portals == {"sim_county", "sim_farm"}
        assert len(chosen.json()) == provinces["甘肃"]
        month = next(iter(months))
        chosen = await ds.client.get(f"/{DB_NAME}/article_list.json?_size=max&"
                                     f"published_at__startswith={month}&_shape=array")
        assert len(chosen.json()) == months[month]

    browse(archive, body)


def brute_force(archive: Any, term: str) -> set[int]:
    return {i for i, title, body in archive.sql("SELECT id, title, body_text FROM articles")
            if term in (title or "") or term in (body or "")}


@pytest.mark.parametrize("term", ["法院", "检察", "法", "檢察"])
def test_short_search_finds_what_a_scan_finds(archive, term):
    async def body(ds):
        found = {r["article_id"] for r in await rows(ds, f"/{DB_NAME}/search?q={term}")}
        expected = {h.id for h in query.search(engine(archive), term, limit=10**6)}
        assert found == expected
        assert found >= brute_force(archive, term.replace("檢", "检"))
        assert found, f"the archive should hold articles containing {term}"

    browse(archive, body)


def test_long_search_uses_the_trigram_index_and_agrees(archive):
    title = archive.sql("SELECT title FROM articles WHERE length(title) >= 8 LIMIT 1")[0][0]
    term = title[2:7]

    async def body(ds):
        found = {r["article_id"] for r in await rows(ds, f"/{DB_NAME}/search?q={term}")}
        assert found == brute_force(archive, term)
        assert found == {h.id for h in query.search(engine(archive), term, limit=10**6)}
        assert await rows(ds, f"/{DB_NAME}/search?q=") == []
        # Datasette's own search box on the table goes through the same index.
        box = await rows(ds, f"/{DB_NAME}/articles?_search=%22{term}%22&_size=max")
        assert {r["id"] for r in box} == found

    browse(archive, body)


def test_carried_by_lists_the_whole_group_by_id_or_url(archive):
    copy_id, head_id = archive.sql(
        "SELECT id, duplicate_of FROM articles WHERE duplicate_of IS NOT NULL LIMIT 1")[0]
    group = {i for (i,) in archive.sql(
        "SELECT id FROM articles WHERE id = ? OR duplicate_of = ?", head_id, head_id)}
    url = archive.sql("SELECT url FROM articles WHERE id = ?", copy_id)[0][0]
    other_scheme = url.replace("http://", "https://", 1)
    assert len(group) >= 2

    async def body(ds):
        for article in (str(copy_id), str(head_id), url, other_scheme):
            found = await rows(ds, f"/{DB_NAME}/carried_by?article={article}")
            assert {r["article_id"] for r in found} == group, article
            assert found[0]["article_id"] == head_id
            assert found[0]["role"].startswith("首发")
        assert await rows(ds, f"/{DB_NAME}/carried_by?article=999999") == []

    browse(archive, body)


def test_changed_since_lists_the_edit_and_the_removal(archive):
    edited = archive.sql("SELECT id FROM articles WHERE url = ?", archive.edited_url)[0][0]
    deleted = archive.sql("SELECT id FROM articles WHERE url = ?", archive.deleted_url)[0][0]

    async def body(ds):
        found = await rows(ds, f"/{DB_NAME}/changed_since?since=2000-01-01")
        assert {(r["article_id"], r["change"]) for r in found} == {
            (edited, "修改 edited"), (deleted, "删除 removed")}
        assert await rows(ds, f"/{DB_NAME}/changed_since?since=9999-01-01") == []

    browse(archive, body)


def test_quiet_portals_and_busiest_sources_and_editors(archive):
    async def body(ds):
        quiet = {r["portal_id"] for r in await rows(ds, f"/{DB_NAME}/quiet_portals?days=30")}
        assert set(archive.sql("SELECT DISTINCT portal_id FROM articles")) <= {
            (p,) for p in quiet}
        recent = {r["portal_id"] for r in await rows(ds, f"/{DB_NAME}/quiet_portals?days=99999")}
        assert recent == {p for (p,) in archive.sql(
            "SELECT id FROM portals WHERE id NOT IN (SELECT portal_id FROM articles)")}
        sources = await rows(ds, f"/{DB_NAME}/busiest_sources")
        top = archive.sql("SELECT COUNT(*) FROM articles WHERE source != '' GROUP BY source "
                          "ORDER BY 1 DESC LIMIT 1")[0][0]
        assert sources[0]["articles"] == top
        assert sum(r["articles"] for r in sources) == archive.sql(
            "SELECT COUNT(*) FROM articles WHERE source != ''")[0][0]
        editors = await rows(ds, f"/{DB_NAME}/busiest_editors")
        assert sum(r["articles"] for r in editors) == archive.sql(
            "SELECT COUNT(*) FROM articles WHERE editor != ''")[0][0]
        monthly = await rows(ds, f"/{DB_NAME}/articles_per_portal_month")
        assert sum(r["articles"] for r in monthly) == archive.sql(
            "SELECT COUNT(*) FROM articles WHERE published_at IS NOT NULL")[0][0]

    browse(archive, body)


def test_feed_is_atom_with_the_matching_articles(archive):
    expected = {url for (url,) in archive.sql(
        "SELECT canonical_url FROM articles WHERE instr(title, '法院') OR instr(body_text, '法院')")}

    async def body(ds):
        response = await ds.client.get(f"/{DB_NAME}/feed.atom?q=法院")
        assert response.status_code == 200
        feed = ET.fromstring(response.content)
        assert feed.tag == f"{ATOM}feed"
        entries = feed.findall(f"{ATOM}entry")
        assert {e.findtext(f"{ATOM}id") for e in entries} == expected
        for entry in entries:
            assert entry.findtext(f"{ATOM}title")
            assert entry.find(f"{ATOM}link").get("href").startswith("http://127.0.0.1:")
            assert entry.findtext(f"{ATOM}updated")
        # A search nothing matches yet is still a valid feed, with one fixed placeholder.
        empty = ET.fromstring((await ds.client.get(f"/{DB_NAME}/feed.atom?q=无此词语")).content)
        assert empty.tag == f"{ATOM}feed"
        [placeholder] = empty.findall(f"{ATOM}entry")
        assert placeholder.findtext(f"{ATOM}id").startswith("tag:govcrawl,")

    browse(archive, body)


def test_article_page_shows_fields_byline_copies_and_versions(archive):
    head_id, copy_portal = archive.sql(
        "SELECT c.duplicate_of, p.name FROM articles c JOIN portals p ON p.id = c.portal_id "
        "WHERE c.duplicate_of IS NOT NULL LIMIT 1")[0]
    title, byline = archive.sql("SELECT title, byline_raw FROM articles WHERE id = ?", head_id)[0]
    edited_id, changed = archive.sql(
        "SELECT a.id, v.changed FROM articles a JOIN article_versions v ON v.article_id = a.id "
        "WHERE a.url = ?", archive.edited_url)[0]

    async def body(ds):
        page = (await ds.client.get(f"/{DB_NAME}/articles/{head_id}")).text
        assert '<h1 class="article-title"' in page and title in page
        assert byline.splitlines()[0] in page
        assert "转载 copy" in page and copy_portal in page
        assert "No edits seen" in page
        page = (await ds.client.get(f"/{DB_NAME}/articles/{edited_id}")).text
        assert "No edits seen" not in page
        assert "修改记录 Versions" in page and changed.replace('"', "&#34;") in page

    browse(archive, body)


def test_arbitrary_sql_is_refused_unless_allowed(archive):
    async def refused(ds):
        for path in (f"/{DB_NAME}.json?sql=select+1", f"/{DB_NAME}?sql=select+1",
                     f"/{DB_NAME}/articles.json?_where=1=1"):
            assert (await ds.client.get(path)).status_code == 403, path

    async def allowed(ds):
        response = await ds.client.get(f"/{DB_NAME}.json?sql=select+1+as+n&_shape=array")
        assert response.status_code == 200 and response.json() == [{"n": 1}]

    browse(archive, refused)
    browse(archive, allowed, allow_sql=True)


def test_no_write_path(archive):
    before = hashlib.sha256(archive.path.read_bytes()).hexdigest()
    queries = build_metadata(archive.path, allow_sql=True)["databases"][DB_NAME]["queries"]
    assert not any(q.get("write") for q in queries.values())

    async def body(ds):
        db = ds.get_database(DB_NAME)
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|query_only|read-only"):
            await db.execute_write("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        response = await ds.client.get(f"/{DB_NAME}.json?sql=delete+from+meta")
        assert response.status_code == 400
        assert (await ds.client.get(f"/{DB_NAME}/articles/1")).status_code == 200

    browse(archive, body, allow_sql=True)
    assert hashlib.sha256(archive.path.read_bytes()).hexdigest() == before
    assert archive.sql("SELECT key FROM meta WHERE key = 'x'") == []


def test_search_machinery_is_not_listed_among_the_tables(archive):
    """Datasette hides what starts with an FTS table's name: articles_fts_terms too, which
    counts every posting of the index when opened (too slow on a large archive)."""

    async def body(ds):
        response = await ds.client.get(f"/{DB_NAME}.json")
        listed = {t["name"] for t in response.json()["tables"] if not t["hidden"]}
        assert "articles" in listed
        assert not {"articles_fts_terms", "articles_fts_data"} & listed

    browse(archive, body)
