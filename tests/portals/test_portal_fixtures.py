"""Every shipped declaration against saved pages in its portal's documented shape.

The pages under tests/fixtures/portals/<id>/ are synthetic (the sidecar says so and cites the
section of docs/portals.md each follows); they are fed to the generated spider's own
callbacks, so a declaration, dialect or extractor change that breaks a portal fails here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from govcrawl.items import CrawledPage
from govcrawl.portals.dialects import ListRequest
from govcrawl.portals.registry import Portal, load_registry
from govcrawl.spiders.loader import spider_class_for
from govcrawl.spiders.portal import PortalSpider
from govcrawl.text.decode import decode_body

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "portals"
SHIPPED = ("chinapeace", "spp", "chinacourt", "legaldaily", "sichuanpeace", "hnzf", "gdzf",
           "jl_jcy")
ARTICLE_FIELDS = ("title", "source", "author", "editor", "published_at", "published_precision")


def _sidecar(page: Path) -> dict:
    return json.loads(page.with_suffix(".json").read_text("utf-8"))


def _pages(kind: str) -> list[tuple[str, Path]]:
    return [(pid, page) for pid in SHIPPED
            for page in sorted((FIXTURES / pid).glob("*.html")) if _sidecar(page)["kind"] == kind]


LISTS = _pages("list")
ARTICLES = _pages("article")


def _portal(pid: str) -> Portal:
    return load_registry(user_spec="").get(pid)


@pytest.fixture
def make_spider(tmp_path: Path) -> Iterator:
    """Builds the generated spider exactly as `scrapy crawl` would, on a throwaway archive."""
    spiders: list[PortalSpider] = []

    def build(portal: Portal) -> PortalSpider:
        crawler = get_crawler(spider_class_for(portal), settings_dict={
            "GOVCRAWL_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"})
        spider = crawler._create_spider()
        spiders.append(spider)
        return spider

    yield build
    for spider in spiders:  # the spider reads the archive only when a crawl opens it
        if spider.archive is not None:
            spider.archive.close()


def _response(page: Path, meta: dict) -> HtmlResponse:
    side = _sidecar(page)
    request = scrapy.Request(side["url"], meta=meta)
    return HtmlResponse(side["url"], status=side["status"], headers=side["headers"],
                        body=page.read_bytes(), request=request)


def test_every_shipped_declaration_has_a_list_and_two_article_pages() -> None:
    """Or it is a discover-dialect declaration, tested on the discovery simulator
    (tests/portals/test_discovery.py): nobody here could save pages of those portals."""
    registry = load_registry(user_spec="")
    assert not registry.errors
    with_pages = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    assert with_pages == sorted(SHIPPED)
    others = {pid: p.dialect for pid, p in registry.portals.items() if pid not in SHIPPED}
    assert set(others.values()) == {"discover"}, "a new declaration needs fixtures here"
    for pid in SHIPPED:
        portal = registry.get(pid)
        kinds = Counter()
        for page in sorted((FIXTURES / pid).glob("*.html")):
            side = _sidecar(page)
            kinds[side["kind"]] += 1
            assert side["synthetic"] is True, page
            assert side["follows"].startswith("docs/portals.md §"), page
            assert side["status"] == 200 and "Content-Type" in side["headers"], page
            assert side["expected"], page
            assert urlsplit(side["url"]).hostname in portal.allowed_domains, page
            if side["kind"] == "article":
                assert portal.article_regex().search(side["url"]), page
        assert kinds["list"] >= 1 and kinds["article"] >= 2, (pid, kinds)


def test_fixtures_come_in_both_gbk_and_utf8() -> None:
    encodings = Counter()
    for page in FIXTURES.glob("*/*.html"):
        body = page.read_bytes()
        try:
            body.decode("utf-8")
            encodings["utf-8"] += 1
        except UnicodeDecodeError:
            body.decode("gbk")
            encodings["gbk"] += 1
    assert encodings["gbk"] >= 5 and encodings["utf-8"] >= 5, encodings


@pytest.mark.parametrize(("pid", "page"), LISTS, ids=[f"{p}/{f.stem}" for p, f in LISTS])
def test_list_page_yields_the_expected_requests(pid: str, page: Path, make_spider) -> None:
    portal = _portal(pid)
    spider = make_spider(portal)
    side = _sidecar(page)
    expected = side["expected"]
    list_request = ListRequest(side["url"], side["list_request"]["channel"],
                               side["list_request"]["page"])
    out = list(spider.parse_list(_response(page, {"list_request": list_request})))

    articles = [r for r in out if r.callback == spider.parse_article]
    lists = [r for r in out if r.callback == spider.parse_list]
    assert len(articles) + len(lists) == len(out)
    assert [r.url for r in articles] == expected["article_urls"]
    assert [{"url": r.meta["list_request"].url, "page": r.meta["list_request"].page}
            for r in lists] == expected["next"]
    assert all(r.meta["list_request"].channel == list_request.channel for r in lists)
    text = decode_body(page.read_bytes(), side["headers"]).text
    total = spider.dialect.parse_list(portal, list_request, text, len(page.read_bytes()))
    assert total.total_pages == expected["total_pages"]


@pytest.mark.parametrize(("pid", "page"), ARTICLES, ids=[f"{p}/{f.stem}" for p, f in ARTICLES])
def test_article_page_yields_every_expected_field(pid: str, page: Path, make_spider) -> None:
    spider = make_spider(_portal(pid))
    expected = _sidecar(page)["expected"]
    items = list(spider.parse_article(_response(page, {"channel": "c"})))
    assert len(items) == 1
    item = items[0]
    assert isinstance(item, CrawledPage)
    assert (item.kind, item.reason, item.portal) == ("article", None, pid)
    assert {f: getattr(item, f) for f in ARTICLE_FIELDS} == {f: expected[f] for f in ARTICLE_FIELDS}
    assert item.body_text.startswith(expected["body_starts"]), item.body_text[:80]
    assert item.body_text.endswith(expected["body_ends"]), item.body_text[-80:]
    assert item.raw is not None and item.raw.body == page.read_bytes()
    assert item.channel == "c"


def test_chinapeace_list_selector_keeps_the_sidebar_out(make_spider) -> None:
    """The 热点 box links a c100008 article that matches the article pattern: only the list box
    may supply links, whereas a page-wide scan by pattern (the generic dialect) would take it."""
    page = FIXTURES / "chinapeace" / "list.html"
    side = _sidecar(page)
    strict = _portal("chinapeace")
    loose = replace(strict, id="chinapeace_loose", dialect="generic", selectors={
        k: v for k, v in strict.selectors.items() if k != "list_links"})
    request = ListRequest(side["url"], side["url"])
    strict_urls = [r.url for r in make_spider(strict).parse_list(
        _response(page, {"list_request": request})) if r.meta.get("list_request") is None]
    loose_urls = [r.url for r in make_spider(loose).parse_list(
        _response(page, {"list_request": request})) if r.meta.get("list_request") is None]
    sidebar = "https://www.chinapeace.gov.cn/chinapeace/c100008/2022-07/12/content_12647236.shtml"
    assert sidebar in loose_urls
    assert sidebar not in strict_urls and len(strict_urls) == 99
