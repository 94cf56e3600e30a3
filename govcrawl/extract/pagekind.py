"""Response classification: article, list, challenge, blocked, error, stub or other.

Anti-crawl responses (瑞数 412, 加速乐 521/512, WAF shells) must be classified, not parsed: their
bodies are not content and must never reach the extractor or dedup. Reasons are short tokens
(``ruishu-412``, ``jsl-521``, ``waf-403``, ``geo-403``, ``http-404``, ``soft-404``,
``empty-page``, ``list``, ``binary``…) shared with the crawl's reject log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_RUISHU_RE = re.compile(rb"\$_ts\s*=|\$_ts\.|\$_ts\[")
_JSL_RE = re.compile(rb"__jsl_clearance|document\.cookie\s*=")
_JSL_STRICT_RE = re.compile(rb"__jsl_clearance|_\)\+\(\'?j|jsl_clearance")
_ARTICLE_MARKUP_RE = re.compile(rb"<(?:p|article|h1|h2|td)[\s>]", re.I)
_GEO_RE = re.compile(
    "(所在(?:的)?(?:地区|区域|国家)|境外|海外|非中国大陆|地域|区域限制|"
    "not available in your (?:country|region))",
    re.I,
)
_SOFT404_RE = re.compile(
    r"(页面不存在|您访问的页面不存在|页面未找到|找不到(?:该|您要访问的)?页面|页面已删除|"
    r"信息已删除|文章不存在|该信息不存在|(?<!\d)404(?!\d)\s*(?:not\s*found|错误|页面|error)|"
    r"page not found)",
    re.I,
)
_BINARY_TYPES = ("application/pdf", "application/zip", "application/msword", "image/",
                 "audio/", "video/", "application/octet-stream", "application/vnd")
_HTML_TYPES = ("text/html", "application/xhtml", "text/plain", "text/xml", "application/xml")

WAF_SHELL_MAX = 3 * 1024
STUB_MAX = 600


@dataclass(frozen=True)
class Kind:
    """A classification: one of records.KINDS plus a short reason (None for articles)."""

    kind: str
    reason: str | None = None


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    if not headers:
        return ""
    lname = name.lower()
    for key, value in headers.items():
        if key.lower() == lname:
            return value
    return ""


def _has_jsl_marker(head: bytes) -> bool:
    # Substring tests first: the pattern's scan stops at every "_" of the page.
    return (b"jsl_clearance" in head or b"_)+(" in head) and bool(_JSL_STRICT_RE.search(head))


def classify_response(
    status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> Kind | None:
    """Classify on status, headers and raw bytes alone, before decoding.

    Returns None when the response looks like a content page that must be parsed to decide.
    """
    head = body[:20000]
    if status == 412 or (status < 400 and _RUISHU_RE.search(head) and len(body) < 20000):
        return Kind("challenge", f"ruishu-{status}")
    if status in (512, 521) or (
        status < 400 and len(body) < 20000 and _has_jsl_marker(head)
        and b"<p" not in head.lower()
    ):
        return Kind("challenge", f"jsl-{status}")
    if status in (403, 421, 429, 451):
        lowered = body[:WAF_SHELL_MAX * 4]
        text = lowered.decode("utf-8", "replace")
        if _GEO_RE.search(text) or status == 451:
            return Kind("blocked", f"geo-{status}")
        if len(body) <= WAF_SHELL_MAX or not _ARTICLE_MARKUP_RE.search(body):
            return Kind("blocked", f"waf-{status}")
        return Kind("blocked", f"http-{status}")
    if status >= 400:
        return Kind("error", f"http-{status}")
    if 300 <= status < 400:
        return Kind("other", f"redirect-{status}")
    ctype = _header(headers, "Content-Type").lower()
    if ctype and any(ctype.startswith(t) for t in _BINARY_TYPES):
        return Kind("other", "binary")
    if not body.strip():
        return Kind("stub", "empty-page")
    if ctype and not any(ctype.startswith(t) for t in _HTML_TYPES) and not ctype.startswith(
        "text/"
    ):
        return Kind("other", "non-html")
    if b"\x00" in head[:2048] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Kind("other", "binary")
    return None


def classify_content(
    *,
    body_size: int,
    title: str | None,
    prose_chars: int,
    link_count: int,
    link_chars: int,
    text_chars: int,
    has_byline: bool,
    text: str = "",
) -> Kind:
    """Classify a parsed 200 page from its measurements (after decode and repair).

    An article needs prose: a body container with real sentences, or a byline plus some text.
    A list page has many links and little prose; a stub is tiny or empty.
    """
    heading = title or ""
    # A bare "404" counts only as the whole heading; in text it is as likely a figure (404人次).
    if text_chars < 400 and (_SOFT404_RE.search(heading) or heading.strip() == "404"
                             or _SOFT404_RE.search(text)):
        return Kind("error", "soft-404")
    if prose_chars >= 120 or (has_byline and prose_chars >= 20):
        return Kind("article")
    if body_size < STUB_MAX or text_chars < 20:
        return Kind("stub", "empty-page")
    if link_count >= 8 and link_chars >= 0.4 * max(text_chars, 1):
        return Kind("list", "list")
    if prose_chars >= 50:
        return Kind("article")
    if link_count >= 8:
        return Kind("list", "list")
    return Kind("stub", "empty-page")


def soft_404_text(text: str) -> bool:
    """True when a short page's visible text says the page does not exist."""
    return len(text) < 400 and bool(_SOFT404_RE.search(text))
