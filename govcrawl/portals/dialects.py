"""CMS dialects: how each portal family lists its articles and pages through a channel.

A dialect turns a channel's list response into article links and the next list requests. It
is plain code over text (no Scrapy), so it is tested on saved pages and the simulator alike.
Families (portals.md §1a): TRS WCM (index_N + createPageHTML), the 中国长安网 TRS variant,
Hanweb/大汉 (rows from a dataproxy.jsp POST), Founder (node_N.htm), chinacourt (/page/N.shtml
with a 尾页 link) and a generic site that links 下一页.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from govcrawl.portals import discovery
from govcrawl.portals.registry import Portal

STUB_BYTES = 600  # TRS pages past the end are 300–400 byte stubs (portals.md §1a)
_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_CREATE_PAGE_RE = re.compile(
    r"createPageHTML\s*\(\s*(?:['\"][^'\"]*['\"]\s*,\s*)?(\d+)\s*,\s*(\d+)"
    r"(?:\s*,\s*['\"]([^'\"]*)['\"]\s*,\s*['\"]([^'\"]*)['\"])?"
)
_COUNT_PAGE_RE = re.compile(r"countPage\s*=\s*(\d+)")
_NEXT_TEXT = ("下一页", "下页", "下一頁", "后页")
_LAST_TEXT = ("尾页", "末页", "尾頁", "最后一页")
# Article URL shapes of the documented families, used when a declaration gives no pattern.
DEFAULT_ARTICLE_PATTERNS = {
    "trs": r"/\d{6}/t\d{8}_\d+(?:\.s?html?)?$",
    "chinapeace": r"/\d{4}-\d{2}/\d{2}/content_\d+\.s?html?$",
    "hanweb": r"/art/\d{4}/(?:\d{1,2}/\d{1,2}/)?art_\w+\.html?$",
    "founder": r"/content/\d{4}-\d{2}/\d{2}/content_\d+\.html?(?:\?.*)?$",
    "chinacourt": r"/article/detail/\d{4}/\d{2}/id/\d+\.shtml$",
}
DEFAULT_LIST_SELECTORS = {
    "trs": "div.commonList_con ul.li_line li a, ul.li_line li a",
    "chinapeace": "div.list_box_left li a",
    "chinacourt": "#list li a, .left a",
}


@dataclass
class ListRequest:
    """A list-page request for the spider to make (GET, or a POST with form data)."""

    url: str
    channel: str
    page: int = 0
    method: str = "GET"
    formdata: dict[str, str] | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class ListingRow:
    url: str
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD shown beside the link, when the list shows one


@dataclass
class ListPage:
    rows: list[ListingRow]
    next: list[ListRequest]
    total_pages: int | None = None
    is_stub: bool = False
    patterns: list[str] = field(default_factory=list)  # discover: the article shapes used


def _row_date(text: str) -> str | None:
    match = _DATE_RE.search(text)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


class Dialect:
    """Generic behaviour: article links by pattern or selector, and 下一页 links."""

    name = "generic"

    def first_requests(self, portal: Portal, start_url: str) -> list[ListRequest]:
        return [ListRequest(url=start_url, channel=start_url)]

    def article_pattern(self, portal: Portal) -> re.Pattern[str] | None:
        pattern = portal.article_pattern or DEFAULT_ARTICLE_PATTERNS.get(self.name)
        return re.compile(pattern) if pattern else None

    def rows(self, portal: Portal, url: str, selector: Selector) -> list[ListingRow]:
        css = portal.selectors.get("list_links") or DEFAULT_LIST_SELECTORS.get(self.name)
        anchors = selector.css(css) if css else []
        pattern = self.article_pattern(portal)
        if not anchors:
            anchors = selector.css("a[href]")
        hosts = set(portal.allowed_domains)
        seen: dict[str, ListingRow] = {}
        for anchor in anchors:
            href = (anchor.attrib.get("href") or "").strip()
            if not href or href.startswith(("javascript:", "#", "mailto:")):
                continue
            absolute = urljoin(url, href)
            parts = urlsplit(absolute)
            if parts.scheme not in ("http", "https"):
                continue
            if hosts and not any(parts.hostname == h or (parts.hostname or "").endswith("." + h)
                                 for h in hosts):
                continue
            if pattern and not pattern.search(absolute):
                continue
            if not pattern and not css:
                continue  # no way to tell an article link from navigation
            if absolute in seen:
                continue
            title = anchor.attrib.get("title") or " ".join(anchor.css("::text").getall()).strip()
            container = anchor.xpath("ancestor::li[1]") or anchor.xpath("..")
            context = " ".join(container.css("::text").getall()) if container else ""
            seen[absolute] = ListingRow(absolute, title or None, _row_date(context))
        return list(seen.values())

    def next_requests(self, portal: Portal, request: ListRequest, selector: Selector,
                      text: str) -> tuple[list[ListRequest], int | None]:
        css = portal.selectors.get("next_page")
        anchors = selector.css(css) if css else [
            a for a in selector.css("a[href]")
            if any(t in "".join(a.css("::text").getall()) for t in _NEXT_TEXT)
        ]
        for anchor in anchors:
            href = (anchor.attrib.get("href") or "").strip()
            if href and not href.startswith(("javascript:", "#")):
                target = urljoin(request.url, href)
                if target != request.url:
                    return [ListRequest(target, request.channel, request.page + 1)], None
        return [], None

    def parse_list(self, portal: Portal, request: ListRequest, text: str,
                   body_size: int) -> ListPage:
        selector = Selector(text=text or "<html></html>")
        rows = self.rows(portal, request.url, selector)
        if body_size < STUB_BYTES and not rows:
            return ListPage([], [], None, is_stub=True)
        next_requests, total = self.next_requests(portal, request, selector, text)
        if not rows:
            next_requests = []  # a list page with no articles ends the channel
        return ListPage(rows, next_requests, total)


class TrsDialect(Dialect):
    """TRS WCM: index.shtml, then index_1 … index_{N-1}; N only in createPageHTML(N, i, …)."""

    name = "trs"

    def next_requests(self, portal, request, selector, text):
        match = _CREATE_PAGE_RE.search(text)
        count_match = _COUNT_PAGE_RE.search(text)
        total = int(match.group(1)) if match else int(count_match.group(1)) if count_match else None
        name, ext = self._page_name(request.channel, match)
        following = request.page + 1
        if total is not None:
            if following >= total:
                return [], total
            base = request.channel.rsplit("/", 1)[0]
            url = f"{base}/{name}_{following}.{ext}"
            return [ListRequest(url, request.channel, following)], total
        return super().next_requests(portal, request, selector, text)

    @staticmethod
    def _page_name(channel: str, match: re.Match[str] | None) -> tuple[str, str]:
        if match and match.group(3) and match.group(4):
            return match.group(3), match.group(4)
        leaf = channel.rsplit("/", 1)[-1] or "index.html"
        stem, _, ext = leaf.partition(".")
        return stem or "index", ext or "html"


class ChinapeaceDialect(TrsDialect):
    """中国长安网: the TRS variant with /YYYY-MM/DD/content_ID.shtml articles."""

    name = "chinapeace"


class FounderDialect(Dialect):
    """Founder-style (法治网): node_N.htm lists paged by 下一页 links."""

    name = "founder"


class ChinacourtDialect(Dialect):
    """中国法院网: /article/index/id/<id>.shtml, then /article/index/id/<id>/page/N.shtml."""

    name = "chinacourt"
    _PAGE_RE = re.compile(r"/page/(\d+)\.shtml")

    def next_requests(self, portal, request, selector, text):
        last = None
        for anchor in selector.css("div.paginationControl a[href], a[href]"):
            label = "".join(anchor.css("::text").getall())
            if any(t in label for t in _LAST_TEXT):
                found = self._PAGE_RE.search(anchor.attrib["href"])
                if found:
                    last = int(found.group(1))
                    break
        current = self._PAGE_RE.search(request.url)
        page = int(current.group(1)) if current else 1
        if last is not None:
            if page >= last:
                return [], last
            base = request.channel[: -len(".shtml")] if request.channel.endswith(".shtml") \
                else request.channel
            return [ListRequest(f"{base}/page/{page + 1}.shtml", request.channel,
                                request.page + 1)], last
        return super().next_requests(portal, request, selector, text)


class HanwebDialect(Dialect):
    """Hanweb/大汉 JCMS: the column page has no rows; they come from a dataproxy.jsp POST."""

    name = "hanweb"
    _CONFIG_RE: ClassVar[dict[str, re.Pattern[str]]] = {
        key: re.compile(rf"\b{key}\s*[:=]\s*['\"]?([\w/.%-]+)", re.IGNORECASE)
        for key in ("columnid", "unitid", "webid", "appid", "perpage", "webname", "path",
                    "sourceContentType", "permissiontype", "col", "proxyUrl")
    }
    _RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
    _TOTAL_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)

    def parse_list(self, portal, request, text, body_size):
        if request.context.get("proxy"):
            return self._parse_proxy(portal, request, text)
        config = self._config(portal, request.url, text)
        return ListPage([], [self._proxy_request(request, config, 1)], None)

    def _config(self, portal: Portal, url: str, text: str) -> dict[str, str]:
        config: dict[str, str] = {"col": "1", "appid": "1", "webid": "1", "path": "/",
                                  "sourceContentType": "1", "permissiontype": "0",
                                  "perpage": "15"}
        column = re.search(r"/col/col(\d+)/", url)
        if column:
            config["columnid"] = column.group(1)
        unit = re.search(r"[?&]uid=(\d+)", url)
        if unit:
            config["unitid"] = unit.group(1)
        for key, regex in self._CONFIG_RE.items():
            match = regex.search(text)
            if match:
                config[key] = match.group(1)
        config.update({k: str(v) for k, v in portal.dialect_options.items()})
        return config

    def _proxy_request(self, request: ListRequest, config: Mapping[str, str],
                       start: int) -> ListRequest:
        perpage = int(config.get("perpage", "15"))
        proxy = config.get("proxyUrl", "/module/web/jpage/dataproxy.jsp")
        url = urljoin(request.url, proxy) + (
            f"?startrecord={start}&endrecord={start + perpage - 1}&perpage={perpage}")
        form = {k: v for k, v in config.items() if k not in ("perpage", "proxyUrl")}
        page = (start - 1) // perpage
        return ListRequest(url, request.channel, page, "POST", form,
                           {"proxy": True, "config": dict(config), "start": start})

    def _parse_proxy(self, portal, request, text):
        rows: list[ListingRow] = []
        seen = set()
        for fragment in self._RECORD_RE.findall(text):
            for row in super().rows(portal, request.url, Selector(text=f"<ul>{fragment}</ul>")):
                if row.url not in seen:
                    seen.add(row.url)
                    rows.append(row)
        config = request.context["config"]
        perpage = int(config.get("perpage", "15"))
        total_match = self._TOTAL_RE.search(text)
        total_records = int(total_match.group(1)) if total_match else None
        total_pages = -(-total_records // perpage) if total_records is not None else None
        start = request.context["start"] + perpage
        more = rows and (total_records is None or start <= total_records)
        next_requests = [self._proxy_request(request, config, start)] if more else []
        return ListPage(rows, next_requests, total_pages, is_stub=not rows)


class DiscoverDialect(Dialect):
    """A portal known only by its home page (docs/portals.md §7): the home page's article
    shapes and channels are discovered (govcrawl/portals/discovery.py), then each channel is
    paged by its 下一页 or numbered links, or TRS createPageHTML. A declared article_pattern
    replaces the learned shapes. Context carried from page to page: `home`, `depth` (0 the
    home page, 1 a channel, 2 a sub-channel), `shapes`, `first` (the channel's first page).
    """

    name = "discover"
    MAX_DEPTH = 2

    def parse_list(self, portal, request, text, body_size):
        selector = Selector(text=text or "<html></html>")
        context = request.context
        home = context.get("home", request.url)
        depth = context.get("depth", 0)
        anchors, dates = [], {}
        for anchor in selector.css("a[href]"):
            href = anchor.attrib.get("href", "")
            label = anchor.attrib.get("title") or " ".join(anchor.css("::text").getall())
            anchors.append((href, label))
            container = anchor.xpath("ancestor::li[1]") or anchor.xpath("..")
            dates[urljoin(request.url, href.strip()).split("#")[0]] = _row_date(
                " ".join(container.css("::text").getall()))
        links = [link for link in discovery.absolute_links(request.url, anchors)
                 if discovery.in_scope(link.url, home)]
        declared = self.article_pattern(portal)
        shapes = sorted(set(context.get("shapes", ())) | set(
            [] if declared else discovery.learn_shapes(links)))

        def is_article(url: str) -> bool:
            if not discovery.in_scope(url, home):
                return False
            return bool(declared.search(url)) if declared else discovery.matches(url, shapes)

        rows = [ListingRow(link.url, link.text or None, dates.get(link.url))
                for link in discovery.article_links(links, is_article)]
        carried = {"home": home, "shapes": shapes}
        following: list[ListRequest] = []
        total = None
        if depth >= 1 and rows:
            first = context.get("first", request.url)
            total, url = self._next_url(request, text, links, is_article, first, home)
            if url:
                following.append(ListRequest(url, request.channel, request.page + 1,
                                             context={**carried, "depth": depth,
                                                      "first": first}))
        if depth < self.MAX_DEPTH and request.page == 0 and (rows or depth == 0):
            for url in discovery.channel_links(request.url, links, is_article, home):
                following.append(ListRequest(url, request.channel, 0,
                                             context={**carried, "depth": depth + 1}))
        patterns = [declared.pattern] if declared else shapes
        if not rows and not following:
            return ListPage([], [], total, body_size < STUB_BYTES, patterns)
        return ListPage(rows, following, total, patterns=patterns)

    @staticmethod
    def _next_url(request: ListRequest, text: str, links, is_article, first: str,
                  home: str) -> tuple[int | None, str | None]:
        match = _CREATE_PAGE_RE.search(text)
        if match:  # TRS: index_1 … index_{N-1}, the count only in the script
            total = int(match.group(1))
            following = request.page + 1
            if following >= total:
                return total, None
            name, ext = TrsDialect._page_name(first, match)
            return total, f"{first.rsplit('/', 1)[0]}/{name}_{following}.{ext}"
        return None, discovery.next_page(request.url, links, is_article, request.page, home)


DIALECT_CLASSES: dict[str, type[Dialect]] = {
    cls.name: cls for cls in (Dialect, TrsDialect, ChinapeaceDialect, FounderDialect,
                              ChinacourtDialect, HanwebDialect, DiscoverDialect)
}


def dialect_for(portal: Portal) -> Dialect:
    return DIALECT_CLASSES[portal.dialect]()
