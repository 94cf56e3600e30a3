"""Article fields out of a parsed (already decoded and repaired) HTML document.

Everything reads *displayed text nodes* only: comments, ``<script>``/``<style>`` and ``alt``/
``title`` attributes are never evidence (stale template values live there), while text between
``<!--begin-->…<!--end-->`` comment markers is displayed and kept.

Parsing (``parse_document``) loses nothing silently: a page over MAX_TAGS tags is cut there
(``html-truncated``); nesting past libxml2's default 256 levels is parsed again with
``huge_tree`` and flattened below MAX_DEPTH for the recursive walkers (``html-flattened``: text
and line breaks kept); past even ``huge_tree``'s 2048 levels, presentational and then block
tags are removed before parsing (``html-too-deep``); whatever libxml2 still drops is named
(``html-cut``). The memory these bounds give is measured in page.py's docstring.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin

from lxml import etree
from lxml.cssselect import CSSSelector

from govcrawl.extract.byline import Byline, has_field_label, parse_byline
from govcrawl.extract.credits import ending_credit, leading_credit, parse_credits
from govcrawl.extract.dates import ParsedDate, parse_date
from govcrawl.records import Media
from govcrawl.text.hanzi import run_chars

SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "head", "title", "select", "option",
    "textarea", "iframe", "object", "embed", "button", "svg", "canvas", "map", "input",
})
LINE_TAGS = frozenset({
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
    "article", "blockquote", "dd", "dt", "dl", "ul", "ol", "pre", "center", "form", "header",
    "footer", "aside", "nav", "main", "hr", "tbody", "thead", "td", "th", "figure",
    "figcaption", "address", "body", "html", "caption",
})
# Byline blocks are the nearest enclosing *block* of a text node; table cells and spans are
# inline here so that ``<td>来源：</td><td>新华社</td>`` stays one block.
BYLINE_BLOCKS = LINE_TAGS - {"br", "td", "th", "hr", "tbody", "thead", "caption"}

KNOWN_CONTAINERS = (
    "#UCAP-CONTENT", ".trs_editor_view", ".TRS_UEDITOR", ".TRS_Editor", "#zoom", "#Zoom",
    "#js_content", "#fontzoom", ".detail_txt", "#CONTENT-MAIN", ".main-txt", ".v_news_content",
    "#vsb_content", ".article-content", ".art-content", ".article-body", "#news_conent_two_text",
    ".pages_content", "#ArticleContent", ".article_content", "#article_content", ".TRS_PreAppend",
    ".wp_articlecontent", "#artibody", "#endText", ".post_text", "#ctrlfscont", ".content_main",
)
_KNOWN_IDS = {c[1:]: i for i, c in enumerate(KNOWN_CONTAINERS) if c.startswith("#")}
_KNOWN_CLASSES = {c[1:]: i for i, c in enumerate(KNOWN_CONTAINERS) if c.startswith(".")}
TITLE_HINT_RE = re.compile(r"(^|[-_\s])(title|tit|bt|biaoti|headline)", re.I)
ATTACH_EXT_RE = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|wps|et|zip|rar|7z|txt|ofd|ceb|caj)(?:$|[?#])", re.I
)

# Toolbar / share / counter chrome.  A line is dropped only when nothing else is left after
# removing these tokens, so body subheads such as 【基本案情】 survive.
_TOOLBAR_TOKEN_RE = re.compile(
    r"(点击蓝字\s*关注我们|关注我们|长按(?:识别)?二维码(?:关注)?|微信扫一扫|"
    r"字\s*[体號号體]\s*[:：]?\s*[〖【\[]?\s*(?:[大中小]|放大|正常|缩小|默认|超大|特大|A)"
    r"(?:[\s\u00a0牋]*(?:[大中小]|放大|正常|缩小|默认|超大|特大|A))*\s*[〗】\]]?|"
    r"字\s*[体號号體]\s*[:：]|[颜顏]\s*色\s*[:：]?|打印本页|打印|关闭窗口|关闭|我要纠错|纠错|"
    r"收藏本页|加入收藏|收藏|分享到\s*[:：]?|分享|扫一扫在手机(?:上)?打开(?:当前|本)页|扫一扫|"
    r"是否打开信息无障碍浏览|无障碍浏览|返回顶部|返回|"
    r"(?:浏览|阅读|访问|点击)(?:次数|量|数)?\s*[:：]?\s*(?:\d+|\{\{[^}]*\}\})?\s*次?|"
    r"\{\{[^}]*\}\}|"
    r"【\s*】|\[\s*\]|〖\s*〗|[|｜])"
)
_JUNK_ONLY_RE = re.compile(
    r"^[\s\u00a0\u3000|｜:：、,，.。·•/\\\-—_()（）【】\[\]〖〗<>《》?？!！A]*$"
)
_NAV_LINE_RE = re.compile(r"^(上一篇|下一篇|上一条|下一条|相关链接|相关新闻|相关阅读)\s*[:：]")
_STRAY_TAG_RE = re.compile(r"\??/?[a-zA-Z]{1,6}>$|\?/p>")
_WS_RE = re.compile(r"[ \t\r\f\v\u00a0\u3000\u2000-\u200b\u202f\u205f\ufeff]+")
_HAN_RUN_RE = re.compile(r"[\u3400-\u9fff]+")
_PUNCT_RUN_RE = re.compile("[，。、；：？！“”‘’（）《》,.;:?!]+")
# Byline separators as displayed: the matching copy (folded, simplified) has a ``:`` or ``丨``
# exactly when the displayed text has one of these.
_SEPARATOR_RE = re.compile("[:：丨]")


# ---------------------------------------------------------------------------------- parsing


# lxml.html's parser is this parser plus a Python-level element class lookup on every element
# proxy; the plain classes are enough here and markedly cheaper to walk. Past libxml2's default
# limits (256 levels of nesting, 10 MB in one text node) the parse stops and the rest of the
# document is lost: such a document is parsed again with ``huge_tree`` (2048 levels). Checking
# for the error costs nothing on ordinary pages; memory is bounded by MAX_TAGS instead.
_PARSER = etree.HTMLParser()
_HUGE_PARSER = etree.HTMLParser(huge_tree=True)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*>")
# What lxml.html's ``text_content()`` is: every descendant text node, comments excluded.
string_content = etree.XPath("string()", smart_strings=False)

#: Markup tags (``<`` characters) read per page; the rest of a larger page is not parsed.
MAX_TAGS = 100_000
#: Nesting the recursive walkers below handle; deeper markup is flattened (text and line
#: breaks kept) so that they stay clear of Python's recursion limit.
MAX_DEPTH = 256
_TOO_DEEP = etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")
_AT_MAX_DEPTH = etree.XPath("/*" * MAX_DEPTH + "[*]")
# Tried in turn when the document nests past libxml2's limit even with ``huge_tree``: first the
# presentational wrappers (unclosed ``<font>`` runs) go, then block wrappers become line breaks.
_INLINE_TAG_RE = re.compile(
    r"</?(?:font|span|b|i|u|s|em|strong|small|big|strike|tt|sub|sup|ins|del|mark|label|"
    r"center|nobr|abbr|cite|q)\b[^>]*>", re.I)
_BLOCK_TAG_RE = re.compile(
    r"</?(?:div|p|table|tbody|thead|tfoot|tr|td|th|section|article|blockquote|ul|ol|li|dl|dd|"
    r"dt|form|header|footer|aside|nav|main|figure|figcaption|address|h[1-6]|pre|a)\b[^>]*>",
    re.I)


@dataclass
class Parsed:
    """A parsed document and what had to be changed to parse it within bounds."""

    root: etree._Element | None
    warnings: list[str] = field(default_factory=list)


def parse_html(text: str) -> etree._Element | None:
    """lxml document from text; tolerant of farm-broken markup (never raises)."""
    return parse_document(text).root


def parse_document(text: str, max_tags: int = MAX_TAGS) -> Parsed:
    """Parse within the tag budget and without silent loss to nesting: every cut or
    flattening is named in ``warnings``."""
    warnings: list[str] = []
    text = _XML_DECL_RE.sub("", text)
    if not text.strip():
        return Parsed(None)
    tags = text.count("<")
    if tags > max_tags:
        end = -1
        for _ in range(max_tags + 1):
            end = text.find("<", end + 1)
        text = text[:end]
        warnings.append(f"html-truncated: {tags} tags, over the budget of {max_tags}; only the "
                        f"first {end} characters were parsed")
    root, fatal, huge = _parse(text)
    for pattern, replacement, what in (
            (_INLINE_TAG_RE, "", "presentational tags removed"),
            (_BLOCK_TAG_RE, "<br>", "block tags turned into line breaks")):
        if fatal is None or "Excessive depth" not in fatal:
            break
        text = pattern.sub(replacement, text)
        root, fatal, huge = _parse(text)
        warnings.append(f"html-too-deep: nesting past libxml2's limit, {what}")
    if fatal is not None:
        warnings.append(f"html-cut: {fatal}; the rest of the document was dropped")
    if huge and root is not None and _TOO_DEEP(root):
        for el in _AT_MAX_DEPTH(root):
            _flatten(el)
        warnings.append(f"html-flattened: markup nested deeper than {MAX_DEPTH} levels was "
                        "flattened (its text and line breaks kept)")
    return Parsed(root, warnings)


def _parse(text: str) -> tuple[etree._Element | None, str | None, bool]:
    """The document, libxml2's message if it still stopped early, and whether ``huge_tree``
    was needed (only then can the tree be deeper than MAX_DEPTH)."""
    try:
        root = etree.fromstring(text, _PARSER)  # None for a document with no elements
        if _fatal(_PARSER) is None:
            return root, None, False
        return etree.fromstring(text, _HUGE_PARSER), _fatal(_HUGE_PARSER), True
    except ValueError:
        return None, None, False


def _fatal(parser: etree.HTMLParser) -> str | None:
    for error in parser.error_log:
        if error.level == etree.ErrorLevels.FATAL:
            return f"{error.message.strip()} (line {error.line}, column {error.column})"
    return None


def _flatten(el: etree._Element) -> None:
    """Unwrap every descendant of ``el``: hidden content goes, text stays, and each line-making
    element leaves a ``<br>`` before and after its content."""
    etree.strip_elements(el, *SKIP_TAGS, with_tail=False)
    names = set()
    for node in list(el.iterdescendants()):
        tag = _tag(node)
        if tag is None or tag in ("br", "img"):
            continue
        names.add(node.tag)
        if tag in LINE_TAGS:
            node.addprevious(etree.Element("br"))
            node.append(etree.Element("br"))
    etree.strip_tags(el, *names)


@lru_cache(maxsize=512)
def compile_selector(css: str) -> Callable[[etree._Element], list]:
    """CSS (or XPath when it starts with ``/``) compiled once per process."""
    if css.startswith("/") or css.startswith("("):
        return etree.XPath(css)
    return CSSSelector(css, translator="html")


def select(root: etree._Element, css: str) -> list[etree._Element]:
    try:
        return [e for e in compile_selector(css)(root) if isinstance(e, etree._Element)]
    except (etree.XPathError, ValueError, SyntaxError, Exception):
        return []


def _tag(el: etree._Element) -> str | None:
    tag = el.tag
    return tag.lower() if isinstance(tag, str) else None


def inline_text(el: etree._Element) -> str:
    """Displayed text of an element (no comments/scripts/attributes), blocks joined by a space."""
    parts: list[str] = []

    def visit(node: etree._Element) -> None:
        tag = _tag(node)
        if tag is not None and tag not in SKIP_TAGS:
            if tag in LINE_TAGS:
                parts.append(" ")
            if node.text:
                parts.append(node.text)
            for child in node:
                visit(child)
                if child.tail:
                    parts.append(child.tail)
            if tag in LINE_TAGS:
                parts.append(" ")

    try:
        visit(el)
    except RecursionError:
        return ""
    return "".join(parts)


def collapse(text: str) -> str:
    """Odd spaces folded and runs collapsed to one ASCII space; trimmed."""
    return _WS_RE.sub(" ", text).strip()


# ---------------------------------------------------------------------------------- meta


def read_meta(root: etree._Element) -> dict[str, str]:
    """``<meta name=… content=…>`` by lower-cased name/property (first non-empty wins)."""
    out: dict[str, str] = {}
    for m in root.iter("meta"):
        key = (m.get("name") or m.get("property") or m.get("itemprop") or "").strip().lower()
        value = (m.get("content") or "").strip()
        if key and value and key not in out:
            out[key] = value
    return out


def meta_title(meta: Mapping[str, str]) -> str | None:
    return meta.get("articletitle") or None


_META_DATE_KEYS = ("pubdate", "publishdate", "article:published_time", "og:release_date",
                   "published_time", "publish_time", "dc.date.issued", "firstpublishedtime")


def meta_date(meta: Mapping[str, str]) -> ParsedDate | None:
    for key in _META_DATE_KEYS:
        parsed = parse_date(meta.get(key))
        if parsed is not None:
            return parsed
    return None


def meta_source(meta: Mapping[str, str]) -> str | None:
    for key in ("contentsource", "source"):
        value = meta.get(key)
        if value:
            value = re.sub(r"^\s*(来源|來源)\s*[:：]\s*", "", value).strip()
            if value:
                return value
    return None


def meta_author(meta: Mapping[str, str]) -> str | None:
    """Gov ``Author`` meta when it holds a name; numeric staff ids (人民网 ``104363``) never."""
    value = (meta.get("author") or "").strip()
    if not value or len(value) > 30 or _META_AUTHOR_JUNK_RE.search(value):
        return None
    if len(value.split()) > 3:  # a list of organisations / keywords, not bylined people
        return None
    return value


# ids (104363, L_104485), domains (51offer.com), handles and organisations are not authors
_META_AUTHOR_JUNK_RE = re.compile(
    r"^[\d\s,;]+$|\d{3,}|\.|^(?:http|@)|www|(?:网|网络|集团|公司|报社|出版社|频道)$", re.I
)


# ---------------------------------------------------------------------------------- title


_SUFFIX_SPLIT_RE = re.compile(r"\s*(?:--|——|_|\||｜|\s-\s|-)\s*")
_SITE_SUFFIX_RE = re.compile(
    r"(网|網|网站|網站|门户网站|門戶網站|政府|人民检察院|人民法院|检察院|法院|政法委|委员会|"
    r"公安局|司法局|司法厅|公安厅|法学会|资讯|新闻|频道|在线|之窗|平台)$"
)


def strip_site_suffix(title: str, site_name: str | None) -> str:
    """Remove a trailing ``_站名`` only when it is the site's name (SiteName meta or a name-like
    suffix such as ``_最高人民检察院``, ``--湖南长安网``); never cut a headline's own dash."""
    title = title.strip()
    for _ in range(3):
        parts = list(_SUFFIX_SPLIT_RE.finditer(title))
        if not parts:
            break
        last = parts[-1]
        head, tail = title[: last.start()].strip(), title[last.end():].strip()
        if not head or not tail:
            break
        is_site = (site_name and tail == site_name.strip()) or (
            len(tail) <= 20 and _SITE_SUFFIX_RE.search(tail) and len(head) >= 4
        )
        if not is_site:
            break
        title = head
    return title


_TITLE_SPACE_RE = re.compile(r"[\s\u3000\u00a0]+")


def _norm_title(text: str) -> str:
    return _TITLE_SPACE_RE.sub("", text)


_HEADING_RANK = {"h1": 3.0, "h2": 2.0, "h3": 1.0}
_TITLE_HINT_TAGS = frozenset({"div", "td", "p", "span", "strong", "b", "font"})


@dataclass
class TitleChoice:
    text: str
    provenance: str
    element: etree._Element | None = None


def choose_title(
    root: etree._Element, meta: Mapping[str, str], fold: Callable[[str], str]
) -> TitleChoice | None:
    """The article's own headline: ArticleTitle meta → heading/title-class node matching the
    ``<title>`` → ``<title>`` minus the site suffix.  ``fold`` maps text to a comparable form."""
    head_title = ""
    for t in root.iter("title"):
        head_title = collapse(string_content(t) or "")
        break
    site = meta.get("sitename")
    stripped = strip_site_suffix(head_title, site) if head_title else ""
    ref = _norm_title(fold(stripped or head_title))

    best: tuple[float, etree._Element, str] | None = None
    for el in root.iter():
        tag = _tag(el)
        rank = _HEADING_RANK.get(tag) if tag is not None else None
        if rank is None:
            if tag not in _TITLE_HINT_TAGS or not TITLE_HINT_RE.search(
                f"{el.get('class') or ''} {el.get('id') or ''}"
            ):
                continue
            rank = 2.5
        text = collapse(inline_text(el))
        if not text or len(text) > 150 or has_field_label(text):
            continue
        norm = _norm_title(fold(text))
        if len(norm) < 4:
            continue
        if ref:
            if norm == ref:
                score = 10.0
            elif ref.startswith(norm) or norm in ref:
                score = 5.0 + 4.0 * len(norm) / max(len(ref), 1)
            elif ref in norm and len(norm) <= len(ref) + 6:
                score = 6.0
            else:
                score = 0.0
        else:
            score = 1.0
        if score == 0.0 and ref:
            continue
        total = score + rank * 0.1
        if best is None or total > best[0]:
            best = (total, el, text)
    mt = meta_title(meta)
    if mt:
        return TitleChoice(collapse(mt), "meta", best[1] if best else None)
    if best is not None:
        return TitleChoice(best[2], "h1" if _tag(best[1]) == "h1" else "heading", best[1])
    # no <title> match: the first h1 that is not chrome
    for el in root.iter("h1"):
        text = collapse(inline_text(el))
        if 4 <= len(text) <= 150 and not has_field_label(text):
            return TitleChoice(text, "h1", el)
    if stripped:
        return TitleChoice(stripped, "title-tag")
    return None


# ---------------------------------------------------------------------------- page text, byline


@dataclass
class PageText:
    """The displayed text of ``<body>`` (else the whole document), read in one walk."""

    text: str  # blocks joined by a space, as ``inline_text`` gives it
    blocks: list[tuple[etree._Element, str]]  # each byline block with the text it owns
    prose: list[list[str]] | None  # per block: its non-link text nodes (None: walk too deep)
    parents: list[int]  # per block: the index of its nearest enclosing block (-1 for block 0)


def read_page_text(root: etree._Element) -> PageText:
    """Page text, byline blocks (nearest block ancestor of each text node) and per-block prose
    in one walk, in document order: each is a walk over the same nodes otherwise."""
    body = root.find("body")
    start = body if body is not None else root
    flat: list[str] = []
    blocks: list[etree._Element] = [start]
    owned: list[list[str]] = [[]]
    prose: list[list[str]] = [[]]
    parents: list[int] = [-1]

    def visit(
        node: etree._Element, own: list[str], nonlink: list[str], in_link: bool, block: int
    ) -> None:
        tag = _tag(node)
        if tag is None or tag in SKIP_TAGS:
            return
        in_link = in_link or tag == "a"
        if tag in BYLINE_BLOCKS:
            own, nonlink = [], []
            parents.append(block)
            block = len(blocks)
            blocks.append(node)
            owned.append(own)
            prose.append(nonlink)
        elif tag == "br":
            own.append(" ")
        line = tag in LINE_TAGS
        if line:
            flat.append(" ")
        if node.text:
            flat.append(node.text)
            own.append(node.text)
            if not in_link:
                nonlink.append(node.text)
        for child in node:
            visit(child, own, nonlink, in_link, block)
            if child.tail:
                flat.append(child.tail)
                own.append(child.tail)
                if not in_link:
                    nonlink.append(child.tail)
        if line:
            flat.append(" ")

    # ``start`` is block 0; its own leading text is page text but belongs to no block.
    edge = " " if _tag(start) in LINE_TAGS else ""
    flat += (edge, start.text or "")
    try:
        for child in start:
            visit(child, owned[0], prose[0], False, 0)
            if child.tail:
                flat.append(child.tail)
                owned[0].append(child.tail)
                prose[0].append(child.tail)
    except RecursionError:  # past libxml2's own depth limit: no page text, no density
        return PageText("", list(zip(blocks, map("".join, owned), strict=True)), None, parents)
    flat.append(edge)
    return PageText("".join(flat), list(zip(blocks, map("".join, owned), strict=True)), prose,
                    parents)


@dataclass
class BylineBlock:
    element: etree._Element
    text: str  # displayed text as found
    match_text: str  # matching copy (simplified)
    byline: Byline


def find_byline_blocks(
    blocks: Iterable[tuple[etree._Element, str]], to_match: Callable[[str], str],
    max_chars: int = 300,
) -> list[BylineBlock]:
    """Short blocks holding ≥1 byline label: the only places labels are believed."""
    out: list[BylineBlock] = []
    items = list(blocks)
    for i, (el, text) in enumerate(items):
        if not _SEPARATOR_RE.search(text):  # no label without its separator: skip the matching
            continue
        shown = collapse(text)
        if not shown or len(shown) > max_chars:
            continue
        match = to_match(shown)
        if not has_field_label(match):
            continue
        # a label whose value sits in the next block (``<td>来源：</td></tr><tr><td>新华社``)
        if match.rstrip().endswith((":", "丨")):
            nxt = next((t for t in (collapse(t) for _e, t in items[i + 1:i + 4]) if t), "")
            if nxt and len(nxt) <= 60 and not has_field_label(to_match(nxt)):
                shown = f"{shown} {nxt}"
                match = to_match(shown)
        out.append(BylineBlock(el, shown, match, parse_byline(match)))
    return out


# ---------------------------------------------------------------------------------- body


def read_container(el: etree._Element, skip: frozenset[int]) -> tuple[list[str], int]:
    """The body container in one walk: its lines of displayed text (a line break at every block
    element and ``<br>``; elements whose id is in ``skip`` left out) and its prose, the Han
    characters of non-link displayed text (what makes a page an article, not a list)."""
    parts: list[str] = []
    prose: list[str] = []

    def visit(node: etree._Element, shown: bool, counted: bool) -> None:
        tag = _tag(node)
        if tag is None or tag in SKIP_TAGS:
            return
        shown = shown and id(node) not in skip
        counted = counted and tag != "a"
        if not (shown or counted):
            return
        brk = shown and tag in LINE_TAGS
        if brk:
            parts.append("\n")
        if node.text:
            if shown:
                parts.append(node.text)
            if counted:
                prose.append(node.text)
        for child in node:
            visit(child, shown, counted)
            if child.tail:
                if shown:
                    parts.append(child.tail)
                if counted:
                    prose.append(child.tail)
        if brk:
            parts.append("\n")

    try:
        visit(el, True, True)
    except RecursionError:  # past libxml2's own depth limit: no lines, the prose read so far
        parts = []
    han = run_chars(_HAN_RUN_RE, "".join(prose))  # counted once, not per text node
    return "".join(parts).split("\n"), han


def _prose_stats(el: etree._Element) -> tuple[int, int]:
    """(non-link characters, link characters) of displayed text, each text node stripped."""
    prose: list[str] = []
    links: list[str] = []

    def visit(node: etree._Element, in_link: bool) -> None:
        tag = _tag(node)
        if tag is None or tag in SKIP_TAGS:
            return
        here = in_link or tag == "a"
        out = links if here else prose
        if node.text:
            out.append(node.text)
        for child in node:
            visit(child, here)
            if child.tail:
                out.append(child.tail)

    with contextlib.suppress(RecursionError):
        visit(el, False)
    return sum(len(t.strip()) for t in prose), sum(len(t.strip()) for t in links)


def _density_score(text: str) -> float:
    stripped = text.strip()
    if not stripped:
        return 0.0
    han = run_chars(_HAN_RUN_RE, stripped)
    punct = run_chars(_PUNCT_RUN_RE, stripped)
    return han + 0.3 * (len(stripped) - han) + 3 * punct


def density_container(page: PageText) -> etree._Element | None:
    """Text-density fallback for unknown templates: the element whose own paragraphs (its own
    text plus the text of its child blocks — the nearest ones, also through table cells and
    inline wrappers) carry the most non-link prose and punctuation."""
    if page.prose is None:
        return None
    start = page.blocks[0][0]
    scores = [sum(map(_density_score, texts), 0.0) for texts in page.prose]
    paragraphs = scores.copy()
    for block, parent in enumerate(page.parents):
        if parent >= 0:
            paragraphs[parent] += scores[block]
    best = max(range(len(paragraphs)), key=paragraphs.__getitem__)
    if paragraphs[best] < 20:
        return None
    # by id: ``page.blocks`` keeps every block's proxy, so no id is reused meanwhile
    own = {id(el): score for (el, _text), score in zip(page.blocks, scores, strict=True)}
    # A body split over sibling blocks (pages, post fragments): climb while the chosen element
    # holds well under half of its parent's prose and the parent is not link-dominated.
    subtree: dict[etree._Element, float] = {}  # keyed by element: keeps its proxy (and id) alive

    def total(el: etree._Element) -> float:
        if el not in subtree:
            value = own.get(id(el), 0.0)
            for child in el:
                if isinstance(child.tag, str):
                    value += total(child)
            subtree[el] = value
        return subtree[el]

    chosen = page.blocks[best][0]
    try:
        while True:
            parent = chosen.getparent()
            if parent is None or parent is start.getparent():
                break
            mine, theirs = total(chosen), total(parent)
            chars, link = _prose_stats(parent)
            if theirs <= 0 or mine >= 0.5 * theirs or link > 0.5 * max(chars, 1):
                break
            chosen = parent
    except RecursionError:
        pass
    return chosen


def find_container(
    root: etree._Element, selector: str | None, page: PageText
) -> tuple[etree._Element | None, str]:
    """Body container: portal selector → known CMS containers → text density."""
    if selector:
        for el in select(root, selector):
            if _prose_stats(el)[0] >= 10:
                return el, "selector"
    hits: list[tuple[int, etree._Element]] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        rank = _KNOWN_IDS.get(el.get("id") or "")
        for cls in (el.get("class") or "").split():
            r = _KNOWN_CLASSES.get(cls)
            if r is not None and (rank is None or r < rank):
                rank = r
        if rank is not None:
            hits.append((rank, el))
    hits.sort(key=lambda h: h[0])
    for _rank, el in hits:
        if _prose_stats(el)[0] >= 30:
            return el, "container"
    el = density_container(page)
    return el, "density"


def is_toolbar_line(line: str) -> bool:
    """True when a line is nothing but toolbar/share/counter chrome (whitelisted words)."""
    rest = _TOOLBAR_TOKEN_RE.sub("", line)
    return rest != line and bool(_JUNK_ONLY_RE.match(rest))


def clean_line(line: str) -> str:
    line = collapse(line)
    if ">" in line and _STRAY_TAG_RE.search(line):
        line = _STRAY_TAG_RE.sub("", line).rstrip()
    return line


@dataclass
class BodyResult:
    lines: list[str] = field(default_factory=list)
    credits: list[Byline] = field(default_factory=list)
    bylines: list[Byline] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def body_lines(lines: Iterable[str], to_match: Callable[[str], str]) -> BodyResult:
    """Article paragraphs: chrome dropped by whitelist; credits-only paragraphs and edge byline
    lines moved out (they feed author/editor); credits leading or ending the text read
    (``edge_credits``); everything else kept as the page has it."""
    kept: list[str] = []
    out = BodyResult()
    for raw in lines:
        line = clean_line(raw)
        if not line or _JUNK_ONLY_RE.match(line):
            continue
        if is_toolbar_line(line) or _NAV_LINE_RE.match(line):
            out.removed.append(line)
            continue
        credits = parse_credits(to_match(line))
        if credits is not None:
            out.credits.append(credits)
            out.removed.append(line)
            continue
        kept.append(line)
    # byline lines at the edges (a byline rendered inside the container, top or bottom); at the
    # top, a headline or a nav line may come before it
    top = 0
    while top < min(len(kept), 4) and _is_heading(kept[top]):
        top += 1
    for _ in range(4):
        if top >= len(kept) or not _take_byline(kept, top, to_match, out):
            break
    for _ in range(4):
        if not kept or not _take_byline(kept, -1, to_match, out):
            break
    out.lines, lead, end = edge_credits(kept, to_match)
    out.credits = [c for c in (lead, *out.credits, end) if c is not None]  # in reading order
    out.removed.extend(kept[len(out.lines):])
    return out


def _take_byline(
    kept: list[str], index: int, to_match: Callable[[str], str], out: BodyResult
) -> bool:
    """Move ``kept[index]`` to ``out`` when it is a byline line; say whether it was."""
    match = to_match(kept[index])
    if len(kept[index]) > 160 or not has_field_label(match):
        return False
    out.bylines.append(parse_byline(match))
    out.removed.append(kept.pop(index))
    return True


_HEADING_RE = re.compile("[。！？；：:!?;]")


def _is_heading(line: str) -> bool:
    """A short line with no sentence or label punctuation: a headline or a nav line."""
    return len(line) <= 40 and not _HEADING_RE.search(line)


_LEAD_LINES = 3  # a dateline leads the first paragraph; a subtitle or two may come before it


def edge_credits(
    lines: list[str], to_match: Callable[[str], str]
) -> tuple[list[str], Byline | None, Byline | None]:
    """The credit in a dateline leading one of the first paragraphs and the one in parentheses
    ending the last; the lines lose a last paragraph that was only a credit (``（袁源）``)."""
    lead = None
    for line in lines[:_LEAD_LINES]:
        lead = leading_credit(to_match(line))
        if lead is not None:
            break
    if not lines:
        return lines, lead, None
    end, alone = ending_credit(to_match(lines[-1]))
    return (lines[:-1] if alone else lines), lead, end


_CHROME_BLOCK_RE = re.compile(r"foot|bottom|copyright|banquan|nav|menu|friend|link|share",
                              re.I)


_HREFS_AFTER = etree.XPath("following::a/@href", smart_strings=False)


def _attachment_links_after(container: etree._Element) -> list[etree._Element]:
    """Attachment links after the body (a 附件 list below the text), but not in page chrome."""
    if not any(map(ATTACH_EXT_RE.search, _HREFS_AFTER(container))):
        return []  # the common case, decided on plain strings without making element proxies
    found = []
    for anchor in container.xpath("following::a[@href]"):
        if not ATTACH_EXT_RE.search(anchor.get("href") or ""):
            continue
        chrome = any(_CHROME_BLOCK_RE.search(f"{a.get('id', '')} {a.get('class', '')}")
                     for a in anchor.iterancestors())
        if not chrome:
            found.append(anchor)
    return found


def extract_media(container: etree._Element, base_url: str) -> list[Media]:
    """Images and attachments of the body container, plus attachments listed after it."""
    media: list[Media] = []
    seen: set[str] = set()
    for el in [*container.iter("a", "img"), *_attachment_links_after(container)]:
        if el.tag == "a":
            href = (el.get("href") or "").strip()
            if not href or href.startswith(("javascript:", "mailto:", "#")):
                continue
            if not ATTACH_EXT_RE.search(href):
                continue
            url = urljoin(base_url, href)
            kind = "attachment"
            text = collapse(inline_text(el)) or None
        else:
            src = (el.get("src") or el.get("data-src") or el.get("data-original") or "").strip()
            if not src or src.startswith("data:"):
                continue
            url = urljoin(base_url, src)
            kind = "image"
            text = collapse(el.get("alt") or el.get("title") or "") or None
        if url in seen:
            continue
        seen.add(url)
        media.append(Media(url=url, kind=kind, text=text))
    return media
