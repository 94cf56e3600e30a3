"""``extract_page``: the one entry point the crawl, ``govcrawl extract``, import and reprocess call.

bytes → decode → repair (GBK byte-shift, pinyin, mojibake) → classify → fields → normalise.
Byline labels are matched on a simplified, folded copy; output values are simplified only when
the page itself is in traditional script (so 邓昇 on a simplified page stays 邓昇).

Memory per page is bounded: extraction reads at most MAX_BODY_BYTES (8 MiB) of a body and
parses at most ``article.MAX_TAGS`` (100,000) tags of it; each cut is a warning
(``page-truncated``, ``html-truncated``), never silent, and the archive keeps the whole body.
Peak RSS of a fresh process extracting one page (``resource.getrusage``; Python 3.11, lxml 6.2,
libxml2 2.14; the interpreter and govcrawl with a trivial page take 60 MB): 181 MB for the
worst page inside both budgets (8.3 MB, 50,000 paragraphs); 129 MB for 10 MB of 1,000,000
``<p>`` (1,055 MB on the code before these bounds); 61 MB for nesting 300 deep and for 300
unclosed ``<font>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from lxml import etree

from govcrawl.extract import article as A
from govcrawl.extract.byline import (
    Byline,
    clean_people,
    clean_source,
    fold_text,
    has_field_label,
    parse_byline,
)
from govcrawl.extract.credits import merge_credits, parse_credits
from govcrawl.extract.dates import ParsedDate, find_dates, parse_date, url_date
from govcrawl.extract.pagekind import classify_content, classify_response, soft_404_text
from govcrawl.records import PageResult
from govcrawl.text.decode import decode_body
from govcrawl.text.repair import detect_script, normalise_spaces, repair_document, to_simplified

_HTML_RE = re.compile(r"<\s*(html|head|body|div|p|table|title|meta|span|br|a|td|!doctype)\b",
                      re.I)
_BANNER_RE = re.compile(r"(今天是|欢迎访问|欢迎光临|当前位置|您的位置|您现在的位置)")
_MAINLAND_RE = re.compile(
    r"(政法委|人民检察院|人民法院|公安局|司法局|长安网|检察日报|法治日报|人民日报|新华社|"
    r"最高检|最高法|中国法院网|人民政府)"
)
_SELECTOR_LABEL_RE = re.compile(r"^[^:：]{1,6}[:：]\s*")
_LINKS = etree.XPath("//a")
_BREADCRUMB_RE = re.compile(r"(当前位置|您的位置|您现在的位置|首页\s*[>›»/])")
#: Bytes of one response that extraction reads (20× the largest page of the dev set and CWCED).
MAX_BODY_BYTES = 8 * 1024 * 1024
_SAFE_CUT_BYTES = (b"<", b">", b"\n", b" ", b",", b".", b"\"", b"=", b"/")


def _is_html(text: str) -> bool:
    tags = _HTML_RE.finditer(text[:5000])  # two are enough: stop there
    return next(tags, None) is not None and next(tags, None) is not None


@lru_cache(maxsize=4096)
def _t2s(text: str) -> str:
    return to_simplified(text)


def _matcher(traditional: bool) -> Callable[[str], str]:
    """The matching copy: simplified (only if the page is traditional) and label-folded."""
    if traditional:
        return lambda s: fold_text(_t2s(s))
    return fold_text


def _norm(text: str | None) -> str | None:
    if text is None:
        return None
    out = A.collapse(normalise_spaces(text))
    return out or None


def _is_mirror(url: str, script: str, pinyin_groups: int, repairs: list[str], sample: str) -> bool:
    """A content-farm copy: injected pinyin or the GBK byte-shift garble; or a traditional-only
    conversion of mainland institutional text on a host outside TW/HK/MO."""
    if pinyin_groups > 0 or any(r.startswith("gbk-byte-shift") for r in repairs):
        return True
    if script != "traditional":
        return False
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith((".tw", ".hk", ".mo")):
        return False
    return bool(_MAINLAND_RE.search(sample))


class _Fields:
    """Field values with provenance; the first writer wins (callers go in evidence order)."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.provenance: dict[str, str] = {}

    def offer(self, name: str, value: object, provenance: str) -> None:
        if value in (None, "") or name in self.values:
            return
        self.values[name] = value
        self.provenance[name] = provenance

    def offer_byline(self, byline: Byline, provenance: str) -> None:
        self.offer("source", byline.source, provenance)
        self.offer("author", byline.author, provenance)
        self.offer("editor", byline.editor, provenance)


def _offer_credits(fields: _Fields, credits: list[Byline], raw_bylines: list[str]) -> None:
    """The body's credits as one (every person credited, once); a photographer is the author
    only when nobody is credited for the text (``记者 张三 摄`` under a photo story)."""
    merged = merge_credits(credits)
    fields.offer_byline(merged, "credits")
    fields.offer("author", merged.photographer, "photo-credits")
    raw_bylines.extend(credit.raw for credit in credits)


def _within_budget(body: bytes) -> bytes:
    """The body, or its first MAX_BODY_BYTES cut before markup, a space or a punctuation byte
    near the limit: never inside a character of UTF-8, GBK or Big5 (their trail bytes are all
    above 0x3F), so the cut itself adds no replacement character."""
    if len(body) <= MAX_BODY_BYTES:
        return body
    cut = max(body.rfind(byte, max(0, MAX_BODY_BYTES - 65536), MAX_BODY_BYTES)
              for byte in _SAFE_CUT_BYTES)
    if cut < 0:  # 64 KB without one: at least not inside a UTF-8 character
        cut = MAX_BODY_BYTES
        while cut > MAX_BODY_BYTES - 3 and 0x80 <= body[cut] < 0xC0:
            cut -= 1
    return body[:cut]


def extract_page(
    body: bytes,
    url: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    selectors: Mapping[str, str] | None = None,
) -> PageResult:
    """Decode, repair, classify and (for articles) extract one response into a PageResult."""
    pre = classify_response(status, body, headers)
    if pre is not None and pre.kind != "stub":
        return PageResult(url=url, status=status, kind=pre.kind, reason=pre.reason)
    read = _within_budget(body)
    decoded = decode_body(read, headers)
    result = PageResult(
        url=url, status=status, kind="other", encoding=decoded.encoding,
        encoding_reason=decoded.reason, encoding_confidence=decoded.confidence,
        replaced_bytes=decoded.replaced, warnings=list(decoded.warnings),
    )
    if len(read) < len(body):
        result.warnings.append(f"page-truncated: {len(body)} bytes, over the budget of "
                               f"{MAX_BODY_BYTES}; extraction read the first {len(read)}")
    if pre is not None:
        result.kind, result.reason = pre.kind, pre.reason
        return result
    repaired = repair_document(decoded.text)
    result.repairs = list(repaired.repairs)
    result.warnings.extend(repaired.warnings)
    text = repaired.text
    if _is_html(text):
        _extract_html(text, result, len(body), selectors or {}, repaired.pinyin_groups)
    else:
        _extract_text(text, result, repaired.pinyin_groups)
    return result


# ------------------------------------------------------------------------------------ HTML


def _selector_text(root: etree._Element, css: str | None) -> str | None:
    if not css:
        return None
    for el in A.select(root, css):
        text = A.collapse(A.inline_text(el))
        if text:
            return text
    return None


def _apply_selectors(
    root: etree._Element, selectors: Mapping[str, str], match: Callable[[str], str],
    fields: _Fields, raw_bylines: list[str],
) -> ParsedDate | None:
    """Per-portal selectors: the most trusted evidence when they match."""
    published: ParsedDate | None = None
    for name in ("source", "author", "editor"):
        text = _selector_text(root, selectors.get(name))
        if not text:
            continue
        matched = match(text)
        if has_field_label(matched):
            parsed = parse_byline(matched)
            value = getattr(parsed, name)
            fields.offer(name, value, "selector")
            continue
        matched = _SELECTOR_LABEL_RE.sub("", matched)  # an unknown site-specific label
        value = clean_source(matched) if name == "source" else clean_people(matched)
        fields.offer(name, value, "selector")
    text = _selector_text(root, selectors.get("byline"))
    if text:
        raw_bylines.append(text)
        byline = parse_byline(match(text))
        fields.offer_byline(byline, "selector")
        published = byline.published
    text = _selector_text(root, selectors.get("published_at"))
    if text:
        published = parse_date(fold_text(text)) or published
    return published


def _extract_html(
    text: str, result: PageResult, body_size: int, selectors: Mapping[str, str],
    pinyin_groups: int,
) -> None:
    parsed = A.parse_document(text)
    result.warnings.extend(parsed.warnings)
    root = parsed.root
    if root is None:
        result.kind, result.reason = "stub", "empty-page"
        return
    page = A.read_page_text(root)
    page_text = A.collapse(page.text)
    script = detect_script(page_text[:6000])
    result.script = script
    traditional = script == "traditional"
    match = _matcher(traditional)
    meta = A.read_meta(root)
    fields = _Fields()
    raw_bylines: list[str] = []

    # title
    title_el = None
    sel_title = _selector_text(root, selectors.get("title"))
    if sel_title:
        fields.offer("title", sel_title, "selector")
    choice = A.choose_title(root, meta, match)
    if choice is not None:
        title_el = choice.element
        fields.offer("title", choice.text, choice.provenance)

    # body container
    container, body_prov = A.find_container(root, selectors.get("body"), page)

    # byline blocks (short blocks with ≥1 label), nearest after the title first
    blocks = page.blocks
    found = A.find_byline_blocks(
        ((el, t) for el, t in blocks if el is not title_el and el is not container), match
    )
    if title_el is not None:
        positions = {id(el): i for i, (el, _t) in enumerate(blocks)}
        anchor = _block_index(title_el, positions)
        found.sort(key=lambda b: (positions.get(id(b.element), 0) < anchor,
                                  positions.get(id(b.element), 0)))

    # evidence: selectors → gov meta → byline blocks → edge lines/credits → url
    sel_date = _apply_selectors(root, selectors, match, fields, raw_bylines)
    fields.offer("source", _meta_value(A.meta_source(meta), match, clean_source), "meta")
    fields.offer("author", _meta_value(A.meta_author(meta), match, clean_people), "meta")

    merged = Byline()
    for block in found:
        merged.merge(block.byline)
        raw_bylines.append(block.text)
    fields.offer_byline(merged, "byline")

    # body lines
    lines: list[str] = []
    prose_chars = 0
    if container is not None:
        # byline blocks inside the container are not body; ``found`` keeps their ids alive
        rendered, prose = A.read_container(container, frozenset(id(b.element) for b in found))
        body = A.body_lines(rendered, match)
        for extra in body.bylines:
            merged.merge(extra)
            fields.offer_byline(extra, "byline")
            raw_bylines.append(extra.raw)
        _offer_credits(fields, body.credits, raw_bylines)
        fields.offer("author", merged.photographer, "photo-byline")
        lines = body.lines
        prose_chars = prose if lines else 0
        result.media = A.extract_media(container, result.url)
        result.provenance["body"] = body_prov
    result.warnings.extend(merged.warnings)

    # kind
    links = _LINKS(root)
    link_chars = sum(len(A.collapse(A.string_content(a) or "")) for a in links[:2000])
    title_text = fields.values.get("title")
    kind = classify_content(
        body_size=body_size, title=str(title_text) if title_text else None,
        prose_chars=prose_chars, link_count=len(links), link_chars=link_chars,
        text_chars=len(page_text), has_byline=bool(found), text=page_text,
    )
    result.kind, result.reason = kind.kind, kind.reason
    result.is_mirror = _is_mirror(result.url, script, pinyin_groups, result.repairs,
                                  page_text[:3000])
    if kind.kind != "article":
        return

    # date: selector → labelled/unlabelled byline → meta → url
    published = sel_date
    prov = "selector" if published else None
    if published is None and merged.published is not None:
        published, prov = merged.published, "byline"
    meta_pub = A.meta_date(meta)
    if published is None and meta_pub is not None:
        published, prov = meta_pub, "meta"
    elif published is not None and meta_pub is not None and meta_pub.day != published.day:
        result.warnings.append(f"meta-date-mismatch:{meta_pub.iso}")
    if published is None:
        published = _text_date(page_text, fields.values.get("title"))
        if published is not None:
            prov = "text"
            result.warnings.append("published-from-text")
    if published is None:
        published = url_date(result.url)
        if published is not None:
            prov = "url"
            result.warnings.append("published-from-url")
    if published is not None and prov:
        fields.offer("published_at", published, prov)

    _finish(result, fields, lines, raw_bylines, traditional)


def _text_date(page_text: str, title: object) -> ParsedDate | None:
    """Last resort before the URL: an unlabelled date shortly after the headline (a date with a
    time anywhere after it, else a bare date within 200 characters); banners are skipped."""
    start = 0
    if title:
        key = str(title)[:12]
        pos = page_text.find(key)
        if pos >= 0:
            start = pos + len(key)
    tail = page_text[start:start + 3000]
    found = find_dates(tail)
    for parsed in found:
        if parsed.precision != "day":
            return parsed
    for parsed in found:
        if parsed.start <= 200:
            return parsed
    return None


def _block_index(el: etree._Element, positions: dict[int, int]) -> int:
    node: etree._Element | None = el
    while node is not None:
        if id(node) in positions:
            return positions[id(node)]
        node = node.getparent()
    return 0


def _meta_value(
    value: str | None, match: Callable[[str], str], clean: Callable[[str | None], str | None]
) -> str | None:
    if not value:
        return None
    return clean(match(value))


def _finish(
    result: PageResult, fields: _Fields, lines: list[str], raw_bylines: list[str],
    traditional: bool,
) -> None:
    """Normalise: spaces folded and collapsed; t2s only when the page is traditional.

    Byline values were read from the matching copy, which is already simplified on a
    traditional page: converting them again would change a simplified name (OpenCC maps the
    昇 of 龚昇 to 升 when it sees the name alone), so only the title is converted here."""

    def out(value: object, convert: bool = False) -> str | None:
        text = _norm(str(value)) if value is not None else None
        if text and convert:
            text = _t2s(text)
        return text

    v = fields.values
    result.title = out(v.get("title"), convert=traditional)
    result.source = out(v.get("source"))
    result.author = out(v.get("author"))
    result.editor = out(v.get("editor"))
    published = v.get("published_at")
    if isinstance(published, ParsedDate):
        result.published_at = published.iso
        result.published_precision = published.precision
    original = [x for x in (_norm(line) for line in lines) if x]
    result.body_original = "\n".join(original) or None
    if result.body_original is not None:
        result.body_text = _t2s(result.body_original) if traditional else result.body_original
    result.byline_raw = "\n".join(dict.fromkeys(b for b in raw_bylines if b)) or None
    result.provenance.update(fields.provenance)


# ------------------------------------------------------------------------------------ text


# A headline is short and is not a sentence: a first line longer than this, or holding a full
# stop, is the body's first paragraph (a content-farm text copy without its title line).
_TITLE_MAX_CHARS = 60
_FULL_STOP_RE = re.compile(r"。|\.(?=\s|$)")
# Without a title or a byline, a text is an article only with this much prose (as for HTML).
_UNTITLED_PROSE = 120


def _title_like(line: str) -> bool:
    """Could this first line of a text be its headline (see _TITLE_MAX_CHARS)?"""
    return len(line) <= _TITLE_MAX_CHARS and _FULL_STOP_RE.search(line) is None


def _extract_text(text: str, result: PageResult, pinyin_groups: int) -> None:
    """Plain-text input (an HTML-to-text copy): banner, title line, byline line(s), body."""
    script = detect_script(text[:6000])
    result.script = script
    traditional = script == "traditional"
    match = _matcher(traditional)
    fields = _Fields()
    raw_bylines: list[str] = []
    merged = Byline()
    credits: list[Byline] = []
    title: str | None = None
    looking = True  # for the title line: until the first line that could be one
    body: list[str] = []
    for raw in text.splitlines():
        line = A.clean_line(raw)
        if not line or A._JUNK_ONLY_RE.match(line):
            continue
        matched = match(line)
        if looking and _BANNER_RE.search(matched) and len(line) < 80:
            continue
        if len(line) <= 200 and has_field_label(matched):
            merged.merge(parse_byline(matched))
            raw_bylines.append(line)
            continue
        if A.is_toolbar_line(line):
            continue
        credit = parse_credits(matched)
        if credit is not None:
            credits.append(credit)
            continue
        if looking:
            if len(line) < 4 or _BREADCRUMB_RE.search(matched):
                continue
            looking = False
            if _title_like(line):
                title = line
                continue
            result.warnings.append("no-title-line")  # a text copy that starts with its body
        body.append(line)
    body, lead, end = A.edge_credits(body, match)
    fields.offer("title", title, "text")
    fields.offer_byline(merged, "byline")
    result.warnings.extend(merged.warnings)
    _offer_credits(fields, [c for c in (lead, *credits, end) if c is not None], raw_bylines)
    fields.offer("author", merged.photographer, "photo-byline")
    if merged.published is not None:
        fields.offer("published_at", merged.published, "byline")
    elif (guess := url_date(result.url)) is not None:
        fields.offer("published_at", guess, "url")
        result.warnings.append("published-from-url")
    result.provenance["body"] = "text"
    result.is_mirror = _is_mirror(result.url, script, pinyin_groups, result.repairs, text[:3000])
    prose = sum(len(line) for line in body)
    if prose >= 20 and (title or raw_bylines or prose >= _UNTITLED_PROSE):
        result.kind, result.reason = "article", None
    elif soft_404_text(text):
        result.kind, result.reason = "error", "soft-404"
    else:
        result.kind, result.reason = "stub", "empty-page"
        return
    _finish(result, fields, body, raw_bylines, traditional)
