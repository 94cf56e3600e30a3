"""A captured page made safe to show again: the archived HTML with nothing that runs or loads.

The Wayback Machine's lesson: people trust an archive that shows what it captured, not a link to
a live site that may have changed or removed the page. `render_snapshot` is pure (HTML text in,
HTML text out): lxml_html_clean's Cleaner removes scripts, event handlers, `javascript:` URLs,
forms, frames, embeds, <link> and <meta>; a second pass here removes what still loads from
elsewhere (media elements, srcset, CSS with url() or @import) and points each <img> at the
archive's own copy of the file, or drops it when the crawl did not download it. The browse
plugin serves the result with a Content-Security-Policy that would block any load this missed.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

import lxml.html
from lxml_html_clean import Cleaner

#: What the browse plugin sends with a snapshot: nothing but the archive's own images and
#: inline styles may load, and no script runs, whatever the cleaning missed.
SNAPSHOT_CSP = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")

_CLEANER = Cleaner(
    scripts=True, javascript=True, comments=True, style=False, inline_style=False, links=True,
    meta=True, page_structure=False, processing_instructions=True, embedded=True, frames=True,
    forms=True, annoying_tags=True, remove_unknown_tags=False, safe_attrs_only=False,
    add_nofollow=False,
)
#: Elements that load or play something from elsewhere, which the Cleaner keeps.
_LOADERS = ("video", "audio", "source", "track", "picture", "base", "svg", "math", "template")
#: Attributes that load a resource by URL (img src is rewritten, not dropped).
_LOADING_ATTRS = ("srcset", "background", "poster", "lowsrc", "dynsrc", "data", "ping",
                  "formaction", "xlink:href")
_CSS_LOAD = re.compile(r"url\s*\(|@import|expression\s*\(|image-set\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class Capture:
    """What the banner says about a captured response."""

    url: str
    fetched_at: str
    status: int | None
    article_href: str | None  # the article page in browse, when the response is an article's


def render_snapshot(html: str, capture: Capture, images: Mapping[str, str]) -> str:
    """The captured page, cleaned, with a banner; `images` maps an absolute image URL to the
    address of the archive's stored copy."""
    if not html.strip():
        html = "<p>（空白页面 empty page）</p>"
    page = lxml.html.document_fromstring(html)
    # Relative links resolve as they did on the site (against its <base>, which goes), so
    # they lead to the original pages, never to the browse server.
    page.make_links_absolute(capture.url, resolve_base_href=True, handle_failures="discard")
    cleaned = _CLEANER.clean_html(page)
    for element in list(cleaned.iter(*_LOADERS)):
        element.drop_tree()
    for style in list(cleaned.iter("style")):
        if _CSS_LOAD.search(style.text or ""):
            style.drop_tree()
    for element in cleaned.iter():
        if not isinstance(element.tag, str):
            continue
        for name in _LOADING_ATTRS:
            element.attrib.pop(name, None)
        if _CSS_LOAD.search(element.get("style", "")):
            del element.attrib["style"]
        href = element.get("href")
        if href is not None and urllib.parse.urlsplit(href).scheme not in ("http", "https"):
            del element.attrib["href"]
    for img in list(cleaned.iter("img")):
        stored = images.get(img.get("src", ""))
        if stored is None:
            img.drop_tree()
        else:
            img.set("src", stored)
    body = cleaned.find("body")
    if body is None:
        body = lxml.html.Element("body")
        cleaned.append(body)
    banner = _banner(capture)
    banner.tail, body.text = body.text, None
    body.insert(0, banner)
    head = cleaned.find("head")
    if head is None:
        head = lxml.html.Element("head")
        cleaned.insert(0, head)
    head.insert(0, lxml.html.fragment_fromstring('<meta charset="utf-8">'))
    cleaned.set("lang", cleaned.get("lang") or "zh-CN")
    return "<!DOCTYPE html>\n" + lxml.html.tostring(cleaned, encoding="unicode")


def _banner(capture: Capture) -> lxml.html.HtmlElement:
    """The notice on top of a snapshot: when and from where it was captured. (Not styled with
    `all: initial`, which resets the locale lang gives, so Chinese took Japanese glyphs.)"""
    status = f" · HTTP {capture.status}" if capture.status is not None else ""
    back = (f' · <a href="{_attr(capture.article_href)}">文章页 article page</a>'
            if capture.article_href else "")
    return lxml.html.fragment_fromstring(
        '<div id="govcrawl-snapshot-banner" lang="zh-CN" style="display: block; margin: 0; '
        "text-align: left; box-sizing: border-box; width: 100%; padding: 8px 12px; "
        "background: #fff3c4; border-bottom: 2px solid #c9a400; font: 14px/1.5 sans-serif; "
        "color: #222; "
        'overflow-wrap: anywhere">'
        "<strong>govcrawl 存档快照 archived snapshot</strong> · "
        f"抓取于 captured {_text(capture.fetched_at)} (UTC){status} · "
        f'来自 from <a href="{_attr(capture.url)}" rel="noreferrer">{_text(capture.url)}</a>'
        f"{back}<br>这是档案保存的网页；脚本、表单和外部资源已移除，未下载的图片不显示。"
        " Captured HTML as archived: scripts, forms and off-site loads removed; images "
        "not downloaded by the crawl are not shown.</div>")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return _text(value).replace('"', "&quot;")
