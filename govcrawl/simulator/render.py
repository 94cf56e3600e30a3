"""Pages per dialect: article pages, list pages, the Hanweb dataproxy XML, stubs and shells.

Every function returns a `Page` (status, headers, bytes) and is a pure function of the corpus
state, so the same seed gives byte-identical output.  Markup follows the templates documented
in docs/portals.md §1–§2 and the devset pages.
"""

from __future__ import annotations

import codecs
import functools
import math
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

from pypinyin import Style, pinyin

from govcrawl.simulator.corpus import (
    COURT_LIST_ID,
    DISCOVERY_COLUMNS,
    DISCOVERY_SHAPES,
    FOUNDER_NODE,
    HANWEB,
    ArticleView,
    Corpus,
    PortalSpec,
    convert,
    discovery_channel_path,
    rng_for,
)


@dataclass
class Page:
    """A rendered HTTP response before faults are applied."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    extra: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Encodings

# profile -> (Content-Type header, meta charset or None, python codec)
ENCODING_PROFILES: dict[str, tuple[str, str | None, str]] = {
    "utf-8": ("text/html; charset=utf-8", "utf-8", "utf-8"),
    "utf8-as-gb2312": ("text/html", "gb2312", "utf-8"),
    "gbk": ("text/html; charset=gbk", "gbk", "gbk"),
    "gb2312-gbk": ("text/html; charset=gb2312", "gb2312", "gbk"),
    "latin1-gbk": ("text/html; charset=ISO-8859-1", "gbk", "gbk"),
    "gbk-undeclared": ("text/html", None, "gbk"),
    "big5": ("text/html; charset=big5", "big5", "big5"),
}


def meta_charset(profile: str) -> str:
    """The <meta> charset declaration of an encoding profile (may be absent)."""
    meta = ENCODING_PROFILES[profile][1]
    if meta is None:
        return ""
    return f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">\n'


def encode_html(html: str, profile: str) -> tuple[bytes, str]:
    """Encode a page in its profile's real encoding; unencodable characters become NCRs."""
    ctype, _, codec = ENCODING_PROFILES[profile]
    return html.encode(codec, errors="xmlcharrefreplace"), ctype


# --------------------------------------------------------------------------------------------
# Farm mirror: traditional characters, tone-marked pinyin, the GBK byte-shift garble


def _farm_swallow(exc: UnicodeError) -> tuple[str, int]:
    """The farm's decoder: an invalid GBK pair becomes '?' and eats the next ASCII byte."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    nxt = exc.start + 1
    if nxt < len(exc.object) and exc.object[nxt] < 0x80:
        return "?", nxt + 1
    return "?", exc.end


codecs.register_error("govcrawl-sim-farm", _farm_swallow)

FARM_PUNCT = str.maketrans({"，": ",", "：": ":", "；": ";", "！": "!", "？": "?", "（": "(",
                            "）": ")"})


@functools.lru_cache(maxsize=8192)
def tone_pinyin(char: str) -> str | None:
    """Tone-marked pinyin of one Han character, or None."""
    if not ("\u3400" <= char <= "\u9fff"):
        return None
    py = pinyin(char, style=Style.TONE, heteronym=False)[0][0]
    if py == char or not py.isalpha():
        return None
    return py


def farm_annotated(char: str) -> bool:
    """The farm's fixed dictionary: which characters get a (pinyin) annotation."""
    return tone_pinyin(char) is not None and zlib.crc32(char.encode("utf-8")) % 100 < 40


def _gbk(char: str) -> bytes | None:
    try:
        b = char.encode("gbk")
    except UnicodeEncodeError:
        return None
    return b if len(b) == 2 else None


@functools.lru_cache(maxsize=256)
def _row_pinyin_counts(lead: int) -> Counter[str | None]:
    """How many GBK characters with this lead byte share each tone-marked pinyin."""
    counts: Counter[str | None] = Counter()
    for trail in range(0x40, 0xFF):
        try:
            char = bytes([lead, trail]).decode("gbk")
        except UnicodeDecodeError:
            continue
        counts[tone_pinyin(char)] += 1
    return counts


def _garble_site(chars: list[str], k: int) -> tuple[str, int] | None:
    """If chars[k]'s trail byte + chars[k+1]'s lead byte spell an annotated Han character Z
    and the shifted decode after it re-syncs cleanly on an ASCII byte, return (Z, run end)."""
    x, y = _gbk(chars[k]), _gbk(chars[k + 1])
    if x is None or y is None or x[1] < 0x81:
        return None
    try:
        z = bytes([x[1], y[0]]).decode("gbk")
    except UnicodeDecodeError:
        return None
    if tone_pinyin(z) is None or _row_pinyin_counts(x[1])[tone_pinyin(z)] != 1:
        return None  # the repair must be unambiguous: one character per (lead, pinyin)
    stream = bytearray([y[1]])
    j = k + 2
    while j < len(chars) and len(stream) < 24:
        b = chars[j].encode("gbk", errors="replace")
        stream += b
        j += 1
        # simulate the shifted decode over what we have so far
        pos = 0
        ok = True
        while pos < len(stream):
            if stream[pos] < 0x80:
                pos += 1
                # re-synced: the rest decodes aligned iff pos lands on a char boundary
                return (z, j) if pos == len(stream) else None
            if pos + 1 >= len(stream):
                break
            try:
                bytes(stream[pos:pos + 2]).decode("gbk")
            except UnicodeDecodeError:
                ok = False
                break
            pos += 2
        if not ok:
            return None
    return None


def farm_text(text: str, salt: object, garble: bool, ascii_punct: bool) -> str:
    """What a content farm makes of clean simplified text (portals.md §4, format A).

    With `garble`, pinyin is inserted on GBK bytes at one misaligned position, and the bytes
    are decoded the way the farm did, giving the `績(jī)?yōu)辄h` pattern.
    """
    trad = convert(text, "s2t")
    if ascii_punct:
        trad = trad.translate(FARM_PUNCT)
    chars = list(trad)
    site: tuple[int, str, int] | None = None
    if garble and len(chars) > 4:
        rng = rng_for("farm-garble", salt)
        starts = list(range(len(chars) - 2))
        rng.shuffle(starts)
        for k in starts[:400]:
            found = _garble_site(chars, k)
            if found is not None:
                site = (k, found[0], found[1])
                break
    if site is None:
        return "".join(c + (f"({tone_pinyin(c)})" if farm_annotated(c) else "") for c in chars)
    k, z, run_end = site
    out = bytearray()
    for i, c in enumerate(chars):
        b = c.encode("gbk", errors="replace")
        if i == k + 1:
            out += b[:1] + f"({tone_pinyin(z)})".encode("gbk") + b[1:]
            continue
        out += b
        if farm_annotated(c) and not (k + 1 < i < run_end):
            out += f"({tone_pinyin(c)})".encode("gbk")
    return out.decode("gbk", errors="govcrawl-sim-farm")


# --------------------------------------------------------------------------------------------
# Byline pieces

TOOLBAR = ('【字体：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a>'
           ' <a href="javascript:doZoom(12)">小</a>】')
TOOLBAR_END = ('【<a href="javascript:window.print()">打印本页</a>】'
               '【<a href="javascript:window.close()">关闭窗口</a>】')
SEP_HTML = {"nbsp": "&nbsp;&nbsp;&nbsp;", "u3000": "\u3000\u3000", "pipes": " | ",
            "br": "<br>", "spans": " ", "glued": "", "space": " "}


def _colon(view: ArticleView) -> str:
    return ":" if view.index % 5 == 0 else "："


def _field(view: ArticleView, label: str, value: str) -> str:
    if label.endswith("丨"):
        return f"{label}{value}"
    return f"{label}{_colon(view)}{value}"


def byline_fields(view: ArticleView, order: tuple[str, ...]) -> list[str]:
    """Byline fields (already HTML) in the given order of 'time', 'author', 'source', 'editor'."""
    fields: list[str] = []
    for name in order:
        if name == "time":
            if view.time_label is None:
                fields.append(view.date_text)
            else:
                fields.append(_field(view, view.time_label, view.date_text))
        elif name == "author" and view.credits_line is None:
            if view.anonymous:
                fields.append(_field(view, view.author_label, "佚名"))
            elif view.authors_shown:
                fields.append(_field(view, view.author_label, escape(" ".join(
                    view.authors_shown))))
        elif name == "source" and view.source_shown is not None:
            fields.append(_field(view, view.source_label, escape(view.source_shown)))
        elif name == "editor" and view.editor_pos == "top" and view.editor_shown:
            fields.append(_field(view, view.editor_label, escape(view.editor_shown)))
    return fields


def join_byline(view: ArticleView, fields: list[str]) -> str:
    """Join fields with the view's separator; add the view counter widget if any."""
    if view.pv_placeholder:
        fields = [*fields, "点击数：{{ pvCount }} 次"]
    if view.separator == "spans":
        return " ".join(f"<span>{f}</span>" for f in fields)
    return SEP_HTML[view.separator].join(fields)


def banner_html(view: ArticleView) -> str:
    """`今天是` banner: empty (JS-filled) or with a date that is not the publish date."""
    if view.banner == "empty":
        return '<span id="today">今天是：</span><script>showToday("today")</script>'
    if view.banner == "wrong":
        return "今天是 2024年12月29日 星期日"
    return ""


def body_html(view: ArticleView, indent: str = "　　", p_attr: str = "") -> str:
    """Body paragraphs with images (+captions) in place and an optional credits line."""
    out: list[str] = []
    images = {m.after_paragraph: m for m in view.media if m.kind == "image"}
    for i, para in enumerate(view.content.paragraphs):
        out.append(f"<p{p_attr}>{indent}{escape(para)}</p>")
        img = images.get(i)
        if img is not None:
            out.append(f'<p style="text-align:center"><img src="{img.url}" '
                       f'alt="{escape(img.text or "")}"></p>')
            out.append(f'<p style="text-align:center">{escape(img.text or "")}</p>')
    if view.credits_line:
        out.append(f"<p{p_attr}>{indent}{escape(view.credits_line)}</p>")
    return "\n".join(out)


def attachments_html(view: ArticleView) -> str:
    """Attachment links, outside the body container."""
    atts = [m for m in view.media if m.kind == "attachment"]
    if not atts:
        return ""
    links = "".join(f'<li><a href="{m.url}">{escape(m.text or "")}</a></li>' for m in atts)
    return f'<div class="attachments">附件：<ul>{links}</ul></div>\n'


def editor_footer(view: ArticleView, css: str = "editor") -> str:
    """End-of-page editor line, or its commented-out form."""
    if not view.editor_shown:
        return ""
    line = f'<div class="{css}">（{view.editor_label}：{escape(view.editor_shown)}）</div>'
    if view.editor_pos == "footer":
        return line + "\n"
    if view.editor_pos == "commented":
        return f"<!--{line}-->\n"
    return ""


def gov_meta_html(view: ArticleView) -> str:
    """Government meta tags (ArticleTitle, PubDate, ContentSource, Author), filled or empty."""
    if view.gov_meta is None:
        return ""
    filled = view.gov_meta == "filled"
    fmt = {"day": "%Y-%m-%d", "minute": "%Y-%m-%d %H:%M", "second": "%Y-%m-%d %H:%M:%S"}
    vals = {
        "SiteName": view.portal.name,
        "ColumnName": "政法要闻",
        "ArticleTitle": view.content.title if filled else "",
        "PubDate": view.published.strftime(fmt[view.precision]) if filled else "",
        "ContentSource": (view.source_shown or "") if filled else "",
        "Author": " ".join(view.authors_shown) if filled and not view.anonymous else "",
    }
    return "".join(f'<meta name="{k}" content="{escape(v)}">\n' for k, v in vals.items())


def _head(view: ArticleView, title_suffix: str) -> str:
    return (f"<!DOCTYPE html>\n<html>\n<head>\n{meta_charset(view.encoding)}"
            f"<title>{escape(view.content.title)}{title_suffix}</title>\n{gov_meta_html(view)}"
            "</head>\n<body>\n")


# --------------------------------------------------------------------------------------------
# Article pages per dialect


def _article_trs(view: ArticleView) -> str:
    fields = byline_fields(view, ("time", "author", "source", "editor"))
    tool = TOOLBAR if view.toolbar else ""
    return (
        _head(view, f"_{view.portal.name}")
        + f'<div class="header"><img src="/images/logo.png" alt="{view.portal.name}">'
        f"{banner_html(view)}</div>\n"
        f'<div class="detail_tit">{escape(view.content.title)}</div>\n'
        f'<div class="detail_extend1">{join_byline(view, fields)}\u3000\u3000{tool}</div>\n'
        '<div id="fontzoom">\n<div class="TRS_Editor">'
        + body_html(view)
        + "</div>\n<!--内容加载完，执行分页，优化展示效果-->\n</div>\n"
        + attachments_html(view) + editor_footer(view)
        + f'<div class="footer">{view.portal.name} 版权所有</div>\n'
        '<script>createPageHTML(1, 0, "t", "shtml");</script>\n</body>\n</html>\n'
    )


def _article_chinapeace(view: ArticleView) -> str:
    fields = byline_fields(view, ("source", "editor", "time", "author"))
    tool = (TOOLBAR + TOOLBAR_END) if view.toolbar else ""
    return (
        _head(view, f"_{view.portal.name}")
        + f'<div class="topbar"><div class="w1200">{banner_html(view)}'
        '<a href="/">首页</a></div></div>\n<div class="w1200 bgfff">\n'
        '<div class="crumb">当前位置：<a href="/">首页</a> &gt; '
        f'<a href="/{view.portal.id}/chinapeace/c100007/index.shtml">政法要闻</a></div>\n'
        f'<div class="title">{escape(view.content.title)}</div>\n'
        f'<div class="info">{join_byline(view, fields)}</div>\n'
        f'<div class="tool">{tool}</div>\n'
        '<div class="content_main"><div id="js_content">\n'
        + body_html(view) + "\n</div></div>\n" + attachments_html(view) + editor_footer(view)
        + "</div>\n"
        '<div class="footer">中央政法委员会主办 版权所有 京ICP备19003405号</div>\n'
        "</body>\n</html>\n"
    )


def _article_hanweb(view: ArticleView) -> str:
    spans = [f"<span>发布日期：{view.date_text}</span>"]
    if view.authors_shown and not view.anonymous:
        spans.append(f"<span>作者：{escape(' '.join(view.authors_shown))}</span>")
    spans.append("<span>浏览次数： </span>")
    if view.source_shown is not None:
        spans.append("<span>信息来源：<!--<$[信息来源]>begin-->"
                     f"{escape(view.source_shown)}<!--<$[信息来源]>end--></span>")
    if view.editor_pos == "top" and view.editor_shown:
        spans.append(f"<span>责任编辑：{escape(view.editor_shown)}</span>")
    return (
        _head(view, "")
        + f'<div class="banner">{view.portal.name}</div>\n<table class="main"><tr><td>\n'
        f'<div class="title">{escape(view.content.title)}</div>\n'
        f'<div class="info">{" ".join(spans)}</div>\n'
        '<div class="main-txt" id="zoom"> <!--<$[信息内容]>begin-->\n'
        + body_html(view, indent="", p_attr=' style="text-indent:2em"')
        + "\n<!--<$[信息内容]>end--></div>\n" + attachments_html(view) + editor_footer(view)
        + f'<div class="fun">{TOOLBAR_END} 扫一扫在手机打开当前页</div>\n'
        "</td></tr></table>\n</body>\n</html>\n"
    )


def _article_founder(view: ArticleView) -> str:
    spans = [f"<span>发布时间：{view.date_text}</span>"]
    if view.source_shown is not None:
        spans.append(f"<span>来源：{escape(view.source_shown)}</span>")
    if view.credits_line is None and view.authors_shown and not view.anonymous:
        spans.append(f"<span>作者：{escape(' '.join(view.authors_shown))}</span>")
    if view.editor_pos == "top" and view.editor_shown:
        spans.append(f"<span>责任编辑：{escape(view.editor_shown)}</span>")
    return (
        _head(view, "_法治网")
        + '<div id="TOP"><a href="/">法治网首页</a></div>\n<div id="CONTENT">\n'
        f"<h1>{escape(view.content.title)}</h1>\n"
        f'<div id="CONTENT-INFO">{"&nbsp;&nbsp;".join(spans)}</div>\n'
        '<div id="CONTENT-MAIN">\n' + body_html(view) + "\n</div>\n"
        + attachments_html(view) + editor_footer(view)
        + '</div>\n<div id="FOOT">法治日报社 版权所有</div>\n</body>\n</html>\n'
    )


def _article_chinacourt(view: ArticleView) -> str:
    thr = []
    if view.authors_shown and not view.anonymous:
        thr.append(f"作者：{escape(' '.join(view.authors_shown))}")
    elif view.anonymous:
        thr.append("作者：佚名")
    thr.append(f"发布时间：{view.date_text}")
    compile_ = ""
    if view.editor_shown and view.editor_pos in ("top", "footer"):
        compile_ = f'<div class="compile">责任编辑：{escape(view.editor_shown)}</div>\n'
    elif view.editor_shown and view.editor_pos == "commented":
        compile_ = f'<!--<div class="compile">责任编辑：{escape(view.editor_shown)}</div>-->\n'
    source = ""
    if view.source_shown is not None:
        source = f'<div class="source">来源：{escape(view.source_shown)}</div>\n'
    return (
        _head(view, "_中国法院网")
        + '<div class="address">您的位置：<a href="/">首页</a> &gt;&gt; <a>新闻中心</a>'
        " &gt;&gt; <a>法院动态</a></div>\n"
        f'<div class="detail_bigtitle">{escape(view.content.title)}</div>\n'
        f'<div class="detail_thr">{"&nbsp;&nbsp;&nbsp;&nbsp;".join(thr)}</div>\n'
        '<div class="detail_txt">\n' + body_html(view, indent="&nbsp;&nbsp;&nbsp;&nbsp;")
        + "\n</div>\n" + attachments_html(view) + source + compile_
        + f'<div class="detail_share">{TOOLBAR_END}</div>\n'
        '<div class="footer">中国法院网 版权所有</div>\n</body>\n</html>\n'
    )


def _article_generic(view: ArticleView) -> str:
    order = rng_for("order", view.portal.id, view.index).sample(
        ("time", "author", "source", "editor"), k=4)
    fields = byline_fields(view, tuple(order))
    tool = TOOLBAR if view.toolbar else ""
    html = (
        _head(view, f"--{view.portal.name}")
        + f'<div class="hd">{view.portal.name}　{banner_html(view)}</div>\n'
        f'<h1 class="art_title">{escape(view.content.title)}</h1>\n'
        f'<div class="by">{join_byline(view, fields)} {tool}</div>\n'
        '<div class="art_content">\n' + body_html(view) + "\n</div>\n"
        + attachments_html(view) + editor_footer(view)
        + f'<div class="ft">{TOOLBAR_END} {view.portal.name} 版权所有</div>\n</body>\n</html>\n'
    )
    if view.script == "traditional":
        html = convert(html, "s2tw")
    return html


def _article_farm(view: ArticleView) -> str:
    def f(text: str, tag: object, garble: bool = False) -> str:
        return escape(farm_text(text, (view.index, tag), garble and view.farm_garble,
                                view.farm_ascii_punct), quote=False)

    parts = []
    if view.source_shown:
        parts.append(f("来源", "l1") + ":" + f(view.source_shown, "v1"))
    if view.editor_pos == "top" and view.editor_shown:
        parts.append(f("责任编辑", "l2") + ":" + f(view.editor_shown, "v2"))
    if view.authors_shown:
        parts.append(f("作者", "l3") + ":" + f(" ".join(view.authors_shown), "v3"))
    date = view.date_text if view.time_label is None else f(view.time_label, "l4") + ":" + \
        view.date_text
    parts.append(date)
    sep = "" if view.separator == "glued" else " "
    title = f(view.content.title, "title", garble=True)
    paras = "\n".join(f"<p>  {f(p, ('p', i), garble=i % 2 == 1)}</p>"
                      for i, p in enumerate(view.content.paragraphs))
    return (
        f'<!DOCTYPE html>\n<html>\n<head>\n{meta_charset(view.encoding)}<title>{title}</title>\n'
        '<meta name="keywords" content="檢察,長安網">\n</head>\n<body>\n'
        f'<div class="top">歡迎訪問{convert(view.portal.name, "s2t")} '
        "今天是 2024年12月29日 星期日</div>\n"
        f'<div class="main">\n<h1>{title}</h1>\n<div class="info">{sep.join(parts)}</div>\n'
        '<div class="tools">字號(hào):A A\u00a0\u00a0\u00a0\u00a0顏色:</div>\n'
        f'<div class="content">\n{paras}\n</div>\n</div>\n'
        '<div class="links">友情链接：<a href="/">首頁</a></div>\n</body>\n</html>\n'
    )


ARTICLE_RENDERERS = {
    "trs": _article_trs, "chinapeace": _article_chinapeace, "hanweb": _article_hanweb,
    "founder": _article_founder, "chinacourt": _article_chinacourt,
    "generic": _article_generic, "farm": _article_farm,
}


def render_article(view: ArticleView) -> Page:
    """The article page in its dialect, encoded as its profile says."""
    html = ARTICLE_RENDERERS[view.portal.dialect](view)
    body, ctype = encode_html(html, view.encoding)
    headers = [("Content-Type", ctype)]
    if view.portal.dialect == "hanweb":
        headers.append(("Set-Cookie", "__jsluid_s=5d1f0c3a9b7e2d4f6a8c0e1b3d5f7a9c; path=/"))
    return Page(200, headers, body)


# --------------------------------------------------------------------------------------------
# List pages


def _list_title(portal: PortalSpec, view: ArticleView) -> str:
    if portal.script == "traditional":
        return convert(view.content.title, "s2tw" if portal.dialect == "generic" else "s2t")
    return view.content.title


def _rows(corpus: Corpus, portal: PortalSpec, page: int, per: int) -> list[ArticleView]:
    live = corpus.live_indices(portal.id)
    return [corpus.view(portal.id, i) for i in live[page * per:(page + 1) * per]]


def page_count(corpus: Corpus, portal: PortalSpec, per: int | None = None) -> int:
    """Number of list pages (at least 1)."""
    per = per or portal.page_size
    return max(1, math.ceil(len(corpus.live_indices(portal.id)) / per))


def _simple_page(title: str, body: str, charset: str = "utf-8") -> bytes:
    return (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="{charset}">\n<title>{title}</title>'
            f"\n</head>\n<body>\n{body}\n</body>\n</html>\n").encode(charset)


def _html_page(html: str) -> Page:
    return Page(200, [("Content-Type", "text/html; charset=utf-8")], html.encode("utf-8"))


def render_trs_list(corpus: Corpus, portal: PortalSpec, page: int) -> Page:
    """TRS list `index[_N].shtml` (0-based N) with createPageHTML; past the end: tiny stub."""
    n = page_count(corpus, portal)
    script = f'<script>createPageHTML({n}, {page}, "index", "shtml");</script>'
    if page >= n:
        html = (f'<html><head><meta charset="utf-8"><title>{portal.name}</title></head><body>'
                f'<div class="list"><ul></ul></div>{script}</body></html>')
        return _html_page(html)
    if portal.dialect == "trs":
        lis = "\n".join(
            f'<li><a href=".{v.path[len(portal.id) + 1 + len("/zdgz"):]}" target="_blank" '
            f'title="{escape(v.content.title)}">{escape(v.content.title)}</a>'
            f"<span>{v.published:%Y-%m-%d}</span></li>"
            for v in _rows(corpus, portal, page, portal.page_size))
        main = (f'<div class="commonList_con"><ul class="li_line">\n{lis}\n</ul></div>\n'
                f'<div class="page">{script}</div>')
    else:  # chinapeace
        lis = "\n".join(
            f'<li><a href="{v.path}" target="_blank">{escape(v.content.title)}</a>'
            f"<span>{v.published:%Y-%m-%d}</span></li>"
            for v in _rows(corpus, portal, page, portal.page_size))
        main = (f'<div class="w1200 bgfff"><div class="list_box_left"><ul>\n{lis}\n</ul>'
                f'<div class="page">{script}</div></div></div>')
    html = (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>政法要闻_'
            f"{portal.name}</title>\n</head>\n<body>\n"
            f'<div class="header">{portal.name}</div>\n{main}\n'
            f'<div class="footer">{portal.name} 版权所有</div>\n</body>\n</html>\n')
    return _html_page(html)


def render_hanweb_column(corpus: Corpus, portal: PortalSpec) -> Page:
    """Hanweb column page: no rows, only the jpage script configuration."""
    total = len(corpus.live_indices(portal.id))
    h = HANWEB
    html = (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f'<title>政法动态 {portal.name}</title>\n'
        '<script type="text/javascript" src="/module/web/jpage/jpage.js"></script>\n'
        "</head>\n<body>\n<div class=\"lm_title\">政法动态</div>\n"
        f'<div id="div{h["unitid"]}"></div>\n<script type="text/javascript">\n'
        f'$(document).ready(function(){{ $("#div{h["unitid"]}").jpage({{\n'
        f"  dataStore: [], proxyUrl: '/{portal.id}/module/web/jpage/dataproxy.jsp',\n"
        f"  perPage: {portal.page_size}, groupSize: 3, totalRecord: {total},\n"
        f"  ajaxParam: {{col:{h['col']},appid:{h['appid']},webid:{h['webid']},path:'{h['path']}',"
        f"columnid:{h['columnid']},sourceContentType:{h['sourceContentType']},"
        f"unitid:{h['unitid']},webname:'{h['webname']}',permissiontype:{h['permissiontype']}}}\n"
        "}); });\n</script>\n</body>\n</html>\n")
    return _html_page(html)


def render_hanweb_dataproxy(corpus: Corpus, portal: PortalSpec, start: int, end: int,
                            form: dict[str, str]) -> Page:
    """XML rows startrecord..endrecord (1-based, inclusive); totalrecord 0 on a wrong form."""
    live = corpus.live_indices(portal.id)
    ok = all(form.get(k) == HANWEB[k] for k in ("columnid", "unitid", "webid"))
    total = len(live) if ok else 0
    records = []
    if ok and start >= 1 and end >= start:
        for i in live[start - 1:end]:
            v = corpus.view(portal.id, i)
            t = escape(v.content.title)
            records.append(
                f'<record><![CDATA[<li><a href="{v.path}" title="{t}" target="_blank">{t}</a>'
                f"<span>{v.published:%Y-%m-%d}</span></li>]]></record>")
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
           f"<totalrecord>{total}</totalrecord>\n<recordset>\n" + "\n".join(records)
           + "\n</recordset>\n</datastore>\n")
    return Page(200, [("Content-Type", "text/xml; charset=UTF-8")], xml.encode("utf-8"))


def render_founder_list(corpus: Corpus, portal: PortalSpec, page: int) -> Page | None:
    """Founder `node_5955[_N].htm` (N from 2); numbered links and 下一页; None past the end."""
    n = page_count(corpus, portal)
    if page >= n:
        return None
    node = FOUNDER_NODE

    def name(p: int) -> str:
        return f"node_{node}.htm" if p == 0 else f"node_{node}_{p + 1}.htm"

    base = f"/{portal.id}/index_article/"
    lis = "\n".join(
        f'<li><a href="{v.path[len(base):]}" target="_blank">{escape(v.content.title)}</a>'
        f"<span>({v.published:%Y-%m-%d})</span></li>"
        for v in _rows(corpus, portal, page, portal.page_size))
    links = []
    if page > 0:
        links.append(f'<a href="{name(page - 1)}">上一页</a>')
    for p in range(max(0, page - 4), min(n, page + 5)):
        links.append(f"<b>{p + 1}</b>" if p == page else f'<a href="{name(p)}">{p + 1}</a>')
    if page + 1 < n:
        links.append(f'<a href="{name(page + 1)}">下一页</a>')
    html = (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="gbk">\n<title>法治要闻_法治网'
            f'</title>\n</head>\n<body>\n<div class="f14 list"><ul>\n{lis}\n</ul></div>\n'
            f'<div class="page">{" ".join(links)}</div>\n</body>\n</html>\n')
    return Page(200, [("Content-Type", "text/html; charset=gbk")], html.encode("gbk"))


def render_court_list(corpus: Corpus, portal: PortalSpec, page: int) -> Page | None:
    """chinacourt list page `page` (0-based) with div.paginationControl and 尾页."""
    n = page_count(corpus, portal)
    if page >= n:
        return None
    base = f"/{portal.id}/article/index/id/{COURT_LIST_ID}"

    def url(p: int) -> str:
        return f"{base}.shtml" if p == 0 else f"{base}/page/{p + 1}.shtml"

    lis = "\n".join(
        f'<li><span class="left"><a href="{v.path}" target="_blank">{escape(v.content.title)}'
        f'</a></span><span class="right">{v.published:%Y-%m-%d}</span></li>'
        for v in _rows(corpus, portal, page, portal.page_size))
    pager = [f'<a href="{url(0)}">首页</a>']
    if page > 0:
        pager.append(f'<a href="{url(page - 1)}">上一页</a>')
    for p in range(max(0, page - 3), min(n, page + 4)):
        pager.append(f'<span class="current">{p + 1}</span>' if p == page
                     else f'<a href="{url(p)}">{p + 1}</a>')
    if page + 1 < n:
        pager.append(f'<a href="{url(page + 1)}">下一页</a>')
    pager.append(f'<a href="{url(n - 1)}">尾页</a>')
    html = ('<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>法院动态_中国法院网'
            '</title>\n</head>\n<body>\n'
            '<div class="address">您的位置：首页 &gt;&gt; 法院动态</div>\n'
            f'<div id="list" class="font14 dian_a"><ul>\n{lis}\n</ul></div>\n'
            f'<div class="paginationControl">{" ".join(pager)}</div>\n</body>\n</html>\n')
    return _html_page(html)


def render_generic_list(corpus: Corpus, portal: PortalSpec, page: int) -> Page | None:
    """Generic `list_N.html` (N from 1) with a 下一页 link on every page but the last."""
    n = page_count(corpus, portal)
    if page >= n:
        return None
    lis = "\n".join(
        f'<li><a href="{v.path}">{escape(_list_title(portal, v))}</a>'
        f'<span class="date">{v.published:%Y-%m-%d}</span></li>'
        for v in _rows(corpus, portal, page, portal.page_size))
    nav = []
    if page > 0:
        nav.append(f'<a href="list_{page}.html">上一页</a>')
    nav.append(f"<span>第{page + 1}页</span>")
    if page + 1 < n:
        nav.append(f'<a href="list_{page + 2}.html">下一页</a>')
    title = "新闻列表" if portal.script == "simplified" else "新聞列表"
    profile = {"twfx": "big5", "county": "gbk"}.get(portal.id, "utf-8")
    html = (f'<!DOCTYPE html>\n<html>\n<head>\n{meta_charset(profile)}<title>{title}_'
            f"{portal.name}</title>\n</head>\n<body>\n"
            f'<ul class="news_list">\n{lis}\n</ul>\n<div class="pages">{" ".join(nav)}</div>\n'
            "</body>\n</html>\n")
    if portal.id == "twfx":
        html = convert(html, "s2tw")
    body, ctype = encode_html(html, profile)
    return Page(200, [("Content-Type", ctype)], body)


# --------------------------------------------------------------------------------------------
# Discovery portals: a home page and column lists in chrome (docs/portals.md §7)

# Same-site pages that are neither lists nor articles: a footer of numbered pages with short
# labels (a shape that repeats, so only the link text tells it from articles), and the rest.
DISCOVERY_STATIC = {"/footer/1001.html": "网站声明", "/footer/1002.html": "联系我们",
                    "/footer/1003.html": "网站地图", "/about.html": "关于我们",
                    "/zt/2024/zt_101.html": "扫黑除恶常态化专题", "/zt/2024/zt_102.html":
                    "平安建设宣传月专题"}
FRIEND_LINKS = (("中国长安网", "http://www.chinapeace.gov.cn/"),
                ("最高人民检察院", "https://www.spp.gov.cn/"),
                ("京ICP备05070602号", "https://beian.miit.gov.cn/"))


def column_indices(corpus: Corpus, portal: PortalSpec, column: int) -> list[int]:
    """Live articles of one discovery column, newest first."""
    return [i for i in corpus.live_indices(portal.id) if i % DISCOVERY_COLUMNS == column]


def _discovery_chrome(portal: PortalSpec, main: str) -> Page:
    p = f"/{portal.id}"
    names = DISCOVERY_SHAPES[portal.shape][1]
    nav = [f'<a href="{p}/">首页</a>'] + [
        f'<a href="{discovery_channel_path(portal, c, 0)}">{names[c]}</a>'
        for c in range(DISCOVERY_COLUMNS)] + [
        f'<a href="{p}/about.html">关于我们</a>', f'<a href="{p}/mailbox/index.html">领导信箱</a>',
        '<a href="javascript:void(0)" onclick="addFavorite()">加入收藏</a>']
    friends = [f'<a href="{u}" target="_blank">{escape(t)}</a>' for t, u in FRIEND_LINKS]
    friends.append('<a href="/spp/zdgz/index.shtml">最高人民检察院要闻</a>')  # off this site
    footer = [f'<a href="{p}{path}">{t}</a>' for path, t in DISCOVERY_STATIC.items()
              if path.startswith("/footer/")]
    html = (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{portal.name}'
            f'</title>\n</head>\n<body>\n<div class="top">欢迎访问{portal.name}</div>\n'
            f'<div class="nav">{" | ".join(nav)}</div>\n{main}\n'
            f'<div class="friend">友情链接：{" ".join(friends)}</div>\n'
            f'<div class="footer">{" | ".join(footer)}<p>{portal.name} 版权所有</p></div>\n'
            "</body>\n</html>\n")
    return _html_page(html)


def _discovery_rows(corpus: Corpus, portal: PortalSpec, indices: list[int]) -> str:
    return "\n".join(
        f'<li><a href="{v.path}" target="_blank">{escape(v.content.title)}</a>'
        f'<span class="date">{v.published:%Y-%m-%d}</span></li>'
        for v in (corpus.view(portal.id, i) for i in indices))


def render_discovery_home(corpus: Corpus, portal: PortalSpec) -> Page:
    """The home page: headlines, five per column with a 更多 link, two 专题 links."""
    p = f"/{portal.id}"
    names = DISCOVERY_SHAPES[portal.shape][1]
    latest = _discovery_rows(corpus, portal, corpus.live_indices(portal.id)[:6])
    blocks = [f'<div class="headline"><ul>{latest}</ul></div>']
    for c in range(DISCOVERY_COLUMNS):
        blocks.append(
            f'<div class="block"><h3>{names[c]}<a class="more" '
            f'href="{discovery_channel_path(portal, c, 0)}">更多&gt;&gt;</a></h3>'
            f"<ul>{_discovery_rows(corpus, portal, column_indices(corpus, portal, c)[:5])}</ul>"
            "</div>")
    topics = [f'<a href="{p}{path}">{t}</a>' for path, t in DISCOVERY_STATIC.items()
              if path.startswith("/zt/")]
    blocks.append(f'<div class="zt">{" ".join(topics)}</div>')
    return _discovery_chrome(portal, "\n".join(blocks))


def render_discovery_list(corpus: Corpus, portal: PortalSpec, column: int,
                          page: int) -> Page | None:
    """List page `page` (0-based) of a column; its pager in the portal's own style."""
    indices = column_indices(corpus, portal, column)
    n = max(1, math.ceil(len(indices) / portal.page_size))
    if page >= n:
        return None
    rows = indices[page * portal.page_size:(page + 1) * portal.page_size]
    names = DISCOVERY_SHAPES[portal.shape][1]
    pager = []
    if portal.shape == "guid":  # TRS-style: the pager is drawn by script only
        pager.append(f'<script>createPageHTML({n}, {page}, "index", "shtml");</script>')
    elif portal.shape == "show":  # numbered links only
        pager += [f'<a href="{discovery_channel_path(portal, column, k)}">{k + 1}</a>'
                  if k != page else f"<b>{k + 1}</b>" for k in range(n)]
        pager.append(f'<a href="{discovery_channel_path(portal, column, n - 1)}">尾页</a>')
    elif page + 1 < n:
        label = {"code": "下页", "jeesite": "下一页 &gt;"}.get(portal.shape, "下一页")
        if page:
            pager.append(f'<a href="{discovery_channel_path(portal, column, page - 1)}">上一页</a>')
        pager.append(f'<a href="{discovery_channel_path(portal, column, page + 1)}">{label}</a>')
    hot = _discovery_rows(corpus, portal, corpus.live_indices(portal.id)[:5])
    main = (f'<div class="crumb"><a href="/{portal.id}/">首页</a> &gt; {names[column]}</div>\n'
            f'<ul class="list">\n{_discovery_rows(corpus, portal, rows)}\n</ul>\n'
            f'<div class="pages">{" ".join(pager)}</div>\n'
            f'<div class="side"><h4>热点排行</h4><ul>{hot}</ul></div>')
    return _discovery_chrome(portal, main)


def render_static(portal: PortalSpec, title: str) -> Page:
    """A same-site page that is neither list nor article (about, footer, 专题, mailbox)."""
    return _discovery_chrome(portal, f"<h2>{escape(title)}</h2><p>{portal.name}</p>")


# --------------------------------------------------------------------------------------------
# Non-article responses


def not_found() -> Page:
    """Plain 404."""
    return Page(404, [("Content-Type", "text/html; charset=utf-8")],
                _simple_page("404 Not Found", "<h1>404 Not Found</h1><p>您访问的页面不存在。</p>"))


def server_error() -> Page:
    """Plain 500."""
    return Page(500, [("Content-Type", "text/html; charset=utf-8")],
                _simple_page("500 Internal Server Error", "<h1>500 Internal Server Error</h1>"))


def ruishu_412(key: str) -> Page:
    """瑞数 challenge: HTTP 412, inline `$_ts` script and an external JS, cookie set."""
    token = zlib.crc32(key.encode()) % 99991
    body = (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; '
        'charset=utf-8"><meta id="9DhefwqGPrzGxEp9hPaoag" content="' + "u" * 120 + '">'
        '<script type="text/javascript">$_ts=window[\'$_ts\'];if(!$_ts)$_ts={};'
        f'$_ts.nsd={token};$_ts.cd="' + "q" * 180 + '";</script>'
        '<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js"'
        ' r="m"></script></head><body></body></html>')
    return Page(412, [("Content-Type", "text/html"),
                      ("Set-Cookie", "FSSBBIl1UgzbN7N80S=" + "u" * 60 + "; Path=/")],
                body.encode("ascii"))


def jsl_challenge(status: int) -> Page:
    """加速乐 challenge: 521 (older) or 512 (newer), body sets a cookie with `document.cookie`."""
    cookie = "__jsluid_h" if status == 521 else "__jsluid_s"
    body = ("<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')"
            "+('r')+('a')+('n')+('c')+('e')+('_')+('s')+('=')+(+new Date()+'|0|'+(-~[]+[]))"
            "+('fcAr'+'fRQ%3D')+';max-age=3600;path=/';location.href=location.pathname"
            "+location.search</script>")
    return Page(status, [("Content-Type", "text/html"),
                         ("Set-Cookie", f"{cookie}=6b0e2f6d3f1a7e2a9c4b5d8e7f6a1b2c; "
                                        "max-age=31536000; path=/; HttpOnly")],
                body.encode("ascii"))


def waf_403(key: str) -> Page:
    """~2.6 KB openresty 403 shell with an X-CCDN-REQ-ID header."""
    req = f"{zlib.crc32(key.encode()):08x}" * 4
    style = ('body{margin:0;padding:0;font-family:"Microsoft YaHei",Arial,sans-serif;'
             "background:#f5f5f5;}\n.box{width:600px;margin:120px auto;background:#fff;"
             "border:1px solid #e2e2e2;padding:40px;text-align:center;}\n"
             ".box h1{font-size:28px;color:#c00;margin:0 0 20px;}\n")
    pad = "<!-- a padding to disable MSIE and Chrome friendly error page -->\n" * 26
    html = ('<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>403 Forbidden</title>'
            f"\n<style>\n{style}</style>\n</head>\n<body>\n<div class=\"box\">\n"
            "<h1>403 Forbidden</h1>\n<p>您的访问请求被拒绝，当前访问可能存在安全风险。</p>\n"
            "<p>如果您是网站管理员，请登录云防护控制台查看详细拦截日志。</p>\n"
            f'<p class="code">Request ID: {req}-CCDN</p>\n<p><a href="/">返回首页</a></p>\n'
            f"</div>\n<hr>\n<center>openresty</center>\n{pad}</body>\n</html>\n")
    return Page(403, [("Content-Type", "text/html; charset=utf-8"), ("Server", "openresty"),
                      ("X-CCDN-REQ-ID", req)], html.encode("utf-8"))


def media_file(path: str) -> Page:
    """Tiny attachment/image bodies with the right content type."""
    ext = path.rsplit(".", 1)[-1].lower()
    types = {"pdf": ("application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"),
             "doc": ("application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 56),
             "xls": ("application/vnd.ms-excel", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 56),
             "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      b"PK\x03\x04" + b"\0" * 60),
             "jpg": ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 40 + b"\xff\xd9")}
    if ext not in types:
        return not_found()
    ctype, data = types[ext]
    return Page(200, [("Content-Type", ctype)], data)


def http_date(dt: datetime) -> str:
    """RFC 7231 date for Last-Modified."""
    return format_datetime(dt.astimezone(UTC), usegmt=True)
