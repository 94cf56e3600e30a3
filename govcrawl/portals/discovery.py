"""Homepage discovery: tell article links from channel (list) links by URL shape alone.

For portals known only by their home page (docs/portals.md §7) there is no article pattern to
declare. Article URLs on these CMSs carry an id in their last segment (`t20240103_1661271`,
`post_189021`, `show-65456`, `view-225-766722`, a 32-hex GUID, a date path …) and come in
runs of links with headline-length text; navigation, footer and friend links are short, few of
a kind, or off the site. So links are grouped by the shape of their path, a shape repeated
often enough with long enough link text is an article shape, and a site link that is no
article but is the folder of one, a list-like page, or a "更多" link is a channel.

Pure functions over (url, text) pairs: no Scrapy, no network.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from statistics import median
from urllib.parse import urljoin, urlsplit

MIN_REPEAT = 3  # links of one shape on a page before the shape counts as articles
MIN_TEXT = 6  # median characters of their link text (headlines, not menu labels)
# Leaf names that are list, index or paging pages, never articles.
LIST_WORDS = frozenset({
    "index", "list", "lists", "default", "more", "page", "node", "channel", "col", "column",
    "category", "catalog", "lm", "search", "tag", "tags",
})
# Folder names whose numbered pages are channels (`/channel/24213.html`, `/list/3.html`).
LIST_FOLDERS = frozenset({"channel", "col", "column", "list", "node", "category", "lm"})
MORE_TEXT = ("更多", "more", "MORE", "More", ">>", "》》", "查看全部")
NEXT_TEXT = ("下一页", "下页", "下一頁", "后页", "后一页", "Next", "next")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_TOKEN = re.compile(r"\d+|[A-Za-z]+|[^A-Za-z\d]+")
_DATEISH = re.compile(r"(?:19|20)\d{2}(?:\d{2}){0,2}")


@dataclass(frozen=True)
class Link:
    """An anchor on a page: absolute URL and its visible text (or title)."""

    url: str
    text: str


def _segment_regex(segment: str, leaf: bool) -> str:
    if _HEX32.fullmatch(segment):
        return "[0-9a-fA-F]{32}"
    out = []
    for position, token in enumerate(_TOKEN.findall(segment)):
        if token.isdigit():
            out.append(rf"\d{{{len(token)}}}" if _DATEISH.fullmatch(token) else r"\d+")
        elif token.isalpha():
            # a leaf's leading word names the template (t, post, show, view, content)
            out.append(re.escape(token) if leaf and position == 0 else "[A-Za-z]+")
        else:
            out.append(re.escape(token))
    return "".join(out)


def path_shape(url: str) -> str:
    """A regular expression for URL paths shaped like this one: ids and dates generalised,
    the leaf's leading word kept (`/zw/202401/t20240103_1.html` → `/[A-Za-z]+/\\d{6}/t…`)."""
    path = urlsplit(url).path or "/"
    segments = path.split("/")[1:]
    parts = []
    for i, segment in enumerate(segments):
        leaf = i == len(segments) - 1
        stem, dot, ext = segment.rpartition(".") if leaf and "." in segment else (segment, "", "")
        part = _segment_regex(stem, leaf)
        if dot:
            part += r"\." + re.escape(ext)
        parts.append(part)
    return "/" + "/".join(parts) + r"(?:\?.*)?$"


def _leaf(url: str) -> tuple[str, str]:
    """The last path segment without extension, and its leading word (lower-case)."""
    leaf = urlsplit(url).path.rsplit("/", 1)[-1]
    stem = leaf.rsplit(".", 1)[0] if "." in leaf else leaf
    m = re.match(r"[A-Za-z]*", stem)
    assert m is not None  # `*` matches the empty string: re.match never fails here
    word = m.group(0).lower()
    return stem, word


def looks_like_article(url: str) -> bool:
    """An id in the last segment (3+ digits, or a 32-hex GUID), and not a list-page name."""
    stem, word = _leaf(url)
    parent = urlsplit(url).path.rsplit("/", 2)[-2:][0].lower()
    if not stem or word in LIST_WORDS or parent in LIST_FOLDERS:
        return False
    return bool(_HEX32.search(stem) or re.search(r"\d{3,}", stem))


def in_scope(url: str, home: str) -> bool:
    """On the home page's host and under its folder (a site is its whole host in practice;
    the simulator puts several sites on one host, one folder each)."""
    parts, base = urlsplit(url), urlsplit(home)
    if (parts.hostname, parts.port) != (base.hostname, base.port):
        return False
    folder = base.path.rsplit("/", 1)[0] + "/"
    return (parts.path or "/").startswith(folder)


def learn_shapes(links: Iterable[Link], min_repeat: int = MIN_REPEAT,
                 min_text: int = MIN_TEXT) -> list[str]:
    """Article shapes on one page: article-like URLs whose shape repeats with headline text."""
    groups: dict[str, dict[str, str]] = defaultdict(dict)
    for link in links:
        if looks_like_article(link.url):
            groups[path_shape(link.url)].setdefault(link.url.split("#")[0], link.text)
    shapes = []
    for shape, urls in groups.items():
        lengths = [len("".join(text.split())) for text in urls.values()]
        if len(urls) >= min_repeat and median(lengths) >= min_text:
            shapes.append(shape)
    return sorted(shapes)


def matches(url: str, shapes: Sequence[str]) -> bool:
    """Whether the URL's path (and query) has one of the shapes."""
    parts = urlsplit(url)
    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    return any(re.match(shape, path) for shape in shapes)


def article_links(links: Iterable[Link], is_article: Callable[[str], bool]) -> list[Link]:
    """Article links (by `is_article`), first occurrence of each URL, in page order."""
    seen: dict[str, Link] = {}
    for link in links:
        url = link.url.split("#")[0]
        if url not in seen and is_article(url):
            seen[url] = Link(url, link.text)
    return list(seen.values())


def _folder(url: str) -> str:
    """The folder a channel link stands for: itself if it ends in /, else its parent."""
    path = urlsplit(url).path or "/"
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


def channel_links(page_url: str, links: Iterable[Link], is_article: Callable[[str], bool],
                  home: str) -> list[str]:
    """Site links that look like channels: no article; a "更多" link, a list-like page, or the
    folder of an article seen on this page. The home page itself is left out."""
    links = [link for link in links if in_scope(link.url, home)]
    article_folders = {_folder(link.url) for link in links if is_article(link.url)}
    home_folder = _folder(home)
    found: dict[str, None] = {}
    for link in links:
        url = link.url.split("#")[0]
        home_index = _folder(url) == home_folder and _leaf(url)[1] in ("", "index", "default")
        if url in found or home_index or is_article(url):
            continue
        if url.rstrip("/") in (page_url.rstrip("/"), home.rstrip("/")):
            continue
        word = _leaf(url)[1]
        folder = _folder(url)
        parent = folder != home_folder and any(f.startswith(folder) for f in article_folders)
        folder_name = folder.rstrip("/").rsplit("/", 1)[-1].lower()
        if (any(t in link.text for t in MORE_TEXT) or word in LIST_WORDS
                or folder_name in LIST_FOLDERS or (parent and not looks_like_article(url))):
            found[url] = None
    return list(found)


def next_page(page_url: str, links: Iterable[Link], is_article: Callable[[str], bool],
              page: int, home: str) -> str | None:
    """The next list page: a 下一页-style link, else the link numbered page + 2 (`page` is
    0-based), never an article or the page itself."""
    numbered = None
    for link in links:
        url = link.url.split("#")[0]
        if not in_scope(url, home) or url == page_url or is_article(url):
            continue
        text = "".join(link.text.split())
        if any(t in text for t in NEXT_TEXT) and not any(t in text for t in MORE_TEXT):
            return url
        if numbered is None and text == str(page + 2):
            numbered = url
    return numbered


def absolute_links(base: str, anchors: Iterable[tuple[str, str]]) -> list[Link]:
    """(href, text) pairs made absolute; scripts, mail and fragments dropped."""
    out = []
    for href, text in anchors:
        href = (href or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:", "tel:")):
            continue
        url = urljoin(base, href)
        if urlsplit(url).scheme in ("http", "https"):
            out.append(Link(url, text.strip()))
    return out
