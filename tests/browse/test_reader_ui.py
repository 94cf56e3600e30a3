"""Browse as a reader meets it, in process: search everywhere alike, home page, linked rows,
hidden machinery, labelled facets, feeds titled by their query, snapshots of archived pages."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any

import lxml.html
import pytest

from govcrawl.browse import DB_NAME, build_datasette
from govcrawl.browse.metadata import INTERNAL_TABLES
from govcrawl.store import query
from govcrawl.store.bodies import unpack
from govcrawl.text.decode import decode_body
from tests.browse.test_datasette import ATOM, browse, engine, rows

pytestmark = pytest.mark.slow


def contains_all(archive: Any, words: list[str]) -> set[int]:
    return {i for i, title, body in archive.sql("SELECT id, title, body_text FROM articles")
            if all(w in (title or "") or w in (body or "") for w in words)}


async def page(ds: Any, path: str) -> lxml.html.HtmlElement:
    response = await ds.client.get(path)
    assert response.status_code == 200, response.text[:2000]
    return lxml.html.document_fromstring(response.text)


@pytest.mark.parametrize("text, words", [
    ("法院", ["法院"]), ("檢察", ["检察"]), ("法院 检察", ["法院", "检察"]),
    ('"法院" 法', ["法院", "法"]),
])
def test_search_box_cli_and_canned_query_find_the_same_articles(archive, text, words):
    expected = contains_all(archive, words)
    assert expected, f"the archive should hold articles with {words}"
    assert {h.id for h in query.search(engine(archive), text, limit=10**6)} == expected
    q = urllib.parse.quote(text)

    async def body(ds):
        for table in ("articles", "article_list"):
            found = await rows(ds, f"/{DB_NAME}/{table}?_search={q}&_size=max")
            assert {r["id"] for r in found} == expected, table
        canned = await rows(ds, f"/{DB_NAME}/search?q={q}")
        assert {r["article_id"] for r in canned} == expected
        box = (await page(ds, f"/{DB_NAME}/articles?_search={q}")).get_element_by_id("_search")
        assert box.get("value") == text  # the table's own search box, filled in

    browse(archive, body)


def test_search_results_sort_by_date_filter_by_portal_and_facet(archive):
    expected = contains_all(archive, ["法院"])

    async def body(ds):
        base = f"/{DB_NAME}/article_list?_search=%E6%B3%95%E9%99%A2"
        newest = await rows(ds, base + "&_sort_desc=published_at&_size=max")
        dates = [r["published_at"] for r in newest]
        assert {r["id"] for r in newest} == expected and dates == sorted(dates, reverse=True)
        portal = newest[0]["portal_id"]
        only = await rows(ds, base + f"&portal_id={portal}&_size=max")
        assert {r["id"] for r in only} == {r["id"] for r in newest if r["portal_id"] == portal}
        facets = (await ds.client.get(base.replace("article_list", "article_list.json")
                                      + "&_size=0")).json()["facet_results"]
        assert sum(v["count"] for v in facets["portal"]["results"]) == len(expected)
        html = await page(ds, base)
        labels = [s.text_content() for s in html.find_class("facet-info-name")]
        assert any(label.strip().startswith("月份 month") for label in labels), labels
        assert any(label.strip().startswith("网站 portal") for label in labels), labels

    browse(archive, body)


def test_home_page_puts_search_first_then_latest_articles_and_portal_health(archive):
    portals = {name for (name,) in archive.sql("SELECT name FROM portals")}
    newest = [i for (i,) in archive.sql(
        "SELECT id FROM articles ORDER BY published_at DESC, id DESC LIMIT 15")]

    async def body(ds):
        home = await page(ds, "/")
        assert home.get("lang") == "zh-CN"
        form = home.find_class("govcrawl-search")[0]
        assert form.get("action") == f"/{DB_NAME}/article_list"
        assert [i.get("name") for i in form.iter("input") if i.get("type") == "search"] == [
            "_search"]
        content = home.find_class("content")[0]
        assert next(content.iter("form")) is form  # nothing to fill in comes before search
        latest = [a.get("href") for a in home.find_class("latest")[0].iter("a")]
        assert latest == [f"/{DB_NAME}/articles/{i}" for i in newest]
        shown = {row.findall("td")[1].text_content()
                 for row in home.find_class("portals")[0].find("tbody")}
        assert shown == portals

    browse(archive, body)


def test_article_list_rows_link_to_their_article_page(archive):
    async def body(ds):
        html = await page(ds, f"/{DB_NAME}/article_list?_size=5")
        cells = html.find_class("col-title")[1:]  # the first is the header
        assert len(cells) == 5
        for cell in cells:
            link = cell.find("a")
            assert re.fullmatch(rf"/{DB_NAME}/articles/\d+", link.get("href")), link.get("href")
            article_id = int(link.get("href").rsplit("/", 1)[1])
            assert archive.sql("SELECT title FROM articles WHERE id = ?", article_id) == [
                (link.text_content(),)]

    browse(archive, body)


def test_internal_tables_and_query_sql_are_out_of_the_way(archive):
    async def body(ds):
        listing = (await ds.client.get(f"/{DB_NAME}.json")).json()["tables"]
        hidden = {t["name"] for t in listing if t["hidden"]}
        assert INTERNAL_TABLES & {t["name"] for t in listing} <= hidden
        assert {"alembic_version", "meta", "article_bands", "fetch_state"} <= hidden
        assert not {"articles", "article_list", "portals"} & hidden
        views = {v["name"] for v in (await ds.client.get(f"/{DB_NAME}.json")).json()["views"]}
        assert "articles_fts_source" not in views and "article_list" in views
        search = await ds.client.get(f"/{DB_NAME}/search?q=%E6%B3%95%E9%99%A2")
        assert "<textarea" not in search.text and "articles_fts" not in search.text
        table = await page(ds, f"/{DB_NAME}/articles")
        toggle = table.find_class("govcrawl-columns")[0]
        assert toggle.tag == "details" and toggle.get("open") is None
        assert toggle.find_class("column-descriptions")

    browse(archive, body)


def test_feed_is_titled_by_its_query_linked_from_the_search_and_dated(archive):
    async def body(ds):
        for path in (f"/{DB_NAME}/article_list?_search=%E6%B3%95%E9%99%A2",
                     f"/{DB_NAME}/search?q=%E6%B3%95%E9%99%A2"):
            html = await page(ds, path)
            alternate = html.find(".//link[@type='application/atom+xml']")
            assert alternate.get("href") == f"/{DB_NAME}/feed.atom?q=%E6%B3%95%E9%99%A2"
            assert html.find_class("govcrawl-feed")
        listed = html.find_class("govcrawl-list")[0].get("href")  # the search query's page
        assert listed == f"/{DB_NAME}/article_list?_search=%E6%B3%95%E9%99%A2"
        titles = set()
        for q in ("法院", "检察"):
            feed = ET.fromstring((await ds.client.get(f"/{DB_NAME}/feed.atom?q={q}")).content)
            titles.add(feed.findtext(f"{ATOM}title"))
            assert q in feed.findtext(f"{ATOM}title")
            for entry in feed.findall(f"{ATOM}entry"):
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d",
                                    entry.findtext(f"{ATOM}published")), entry
        assert len(titles) == 2

    browse(archive, body)


def test_snapshot_shows_the_captured_page_from_the_archive(archive):
    article_id, response_id, title, url = archive.sql(
        "SELECT a.id, a.response_id, a.title, r.url FROM articles a "
        "JOIN responses r ON r.id = a.response_id ORDER BY a.id LIMIT 1")[0]

    async def body(ds):
        article = await page(ds, f"/{DB_NAME}/articles/{article_id}")
        link = article.find_class("snapshot-link")[0].get("href")
        assert link == f"/{DB_NAME}/-/snapshot/{response_id}"
        response = await ds.client.get(link)
        assert response.status_code == 200
        assert "default-src 'none'" in response.headers["content-security-policy"]
        snap = lxml.html.document_fromstring(response.text)
        banner = snap.get_element_by_id("govcrawl-snapshot-banner")
        assert url in banner.text_content() and "抓取于" in banner.text_content()
        assert title in snap.text_content()
        assert snap.find(".//script") is None and snap.find(".//form") is None
        for element in snap.iter("img", "link", "iframe", "script", "source"):
            pytest.fail(f"{element.tag} would load {element.attrib}")
        assert (await ds.client.get(f"/{DB_NAME}/-/snapshot/999999")).status_code == 404

    browse(archive, body)


def test_snapshot_images_come_from_the_media_store_and_only_from_it(archive, tmp_path):
    """A downloaded image is shown from the media directory; a path leading out of it is not
    served."""
    copy = tmp_path / "archive.db"
    shutil.copy(archive.path, copy)
    article_id, response_id, blob, compression, headers = archive.sql(
        "SELECT a.id, a.response_id, r.body, r.body_compression, r.headers FROM articles a "
        "JOIN responses r ON r.id = a.response_id "
        "WHERE instr(r.url, '/spp/') ORDER BY a.id LIMIT 1")[0]
    html = decode_body(unpack(blob, compression), json.loads(headers)).text
    captured = lxml.html.document_fromstring(html)
    captured.make_links_absolute(archive.sql(
        "SELECT url FROM responses WHERE id = ?", response_id)[0][0])
    image = next(captured.iter("img")).get("src")
    media = tmp_path / "media"
    (media / "full").mkdir(parents=True)
    (media / "full" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n stored image")
    (tmp_path / "secret.png").write_bytes(b"outside the store")
    conn = sqlite3.connect(copy)
    with conn:
        stored = conn.execute("INSERT INTO media (article_id, url, kind, path) VALUES "
                              "(?, ?, 'image', 'full/a.png')", (article_id, image)).lastrowid
        escape = conn.execute("INSERT INTO media (article_id, url, kind, path) VALUES "
                              "(?, 'http://x.cn/s.png', 'image', '../secret.png')",
                              (article_id,)).lastrowid
    conn.close()

    async def body(ds):
        snap = lxml.html.document_fromstring(
            (await ds.client.get(f"/{DB_NAME}/-/snapshot/{response_id}")).text)
        assert {i.get("src") for i in snap.iter("img")} == {f"/{DB_NAME}/-/media/{stored}"}
        served = await ds.client.get(f"/{DB_NAME}/-/media/{stored}")
        assert served.status_code == 200 and served.content.endswith(b"stored image")
        assert served.headers["content-type"] == "image/png"
        assert (await ds.client.get(f"/{DB_NAME}/-/media/{escape}")).status_code == 404

    async def main():
        ds = build_datasette(copy, media_dir=media)
        await ds.invoke_startup()
        try:
            await body(ds)
        finally:
            ds.get_database(DB_NAME).close()

    asyncio.run(main())
