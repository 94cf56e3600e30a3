"""Deterministic synthetic portals and their ground truth.

Everything here is a pure function of (seed, portal, article index, version): nothing is
pre-rendered, so 25,000 articles per portal cost only the small mutable state (counts, edits,
deletions).  The renderer (`render.py`) turns an `ArticleView` into bytes; the truth of the
same view is what an ideal extractor should recover from those bytes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any

import opencc

CST = timezone(timedelta(hours=8))
BASE_TIME = datetime(2021, 1, 4, 8, 0, 0, tzinfo=CST)
STEP_MINUTES = 97  # one article per ~1.6 h per portal; jitter stays below this, so order holds

# --------------------------------------------------------------------------------------------
# Portal specifications


@dataclass(frozen=True)
class PortalSpec:
    """One synthetic portal: URL dialect, script, encodings and list geometry."""

    id: str
    name: str
    dialect: str  # trs | chinapeace | hanweb | founder | chinacourt | generic | farm
    script: str = "simplified"
    encodings: tuple[tuple[str, int], ...] = (("utf-8", 1),)
    page_size: int = 20
    id_base: int = 100000
    id_step: int = 1
    gov_meta: bool = False
    gbk_only_names: bool = False
    list_path: str = ""  # generic dialect: list page path template with {n}
    shape: str = ""  # discovery portals: the URL shape (DISCOVERY_SHAPES), else ""


PORTALS: tuple[PortalSpec, ...] = (
    PortalSpec("spp", "最高人民检察院", "trs", page_size=20, id_base=510000, gov_meta=True,
               encodings=(("utf-8", 8), ("utf8-as-gb2312", 2))),
    PortalSpec("changan", "中国长安网", "chinapeace", page_size=30, id_base=12500000, id_step=3),
    PortalSpec("jszf", "江苏长安网", "hanweb", page_size=15, id_base=180000, gov_meta=True,
               encodings=(("utf-8", 8), ("gbk", 2))),
    PortalSpec("fzw", "法治网", "founder", page_size=25, id_base=8600000, gbk_only_names=True,
               encodings=(("gb2312-gbk", 8), ("latin1-gbk", 2))),
    PortalSpec("court", "中国法院网", "chinacourt", page_size=20, id_base=6700000, id_step=7),
    PortalSpec("county", "临洮长安网", "generic", page_size=15, id_base=15300000,
               encodings=(("gbk", 6), ("gbk-undeclared", 2), ("utf-8", 2)),
               list_path="/zfdt/list_{n}.html"),
    PortalSpec("twfx", "两岸法讯网", "generic", script="traditional", page_size=15, id_base=8800,
               encodings=(("big5", 1),), list_path="/news/list_{n}.html"),
    PortalSpec("farm", "甘肃政法网", "farm", script="traditional", page_size=20,
               encodings=(("utf-8", 7), ("gbk", 3)), list_path="/a/list_{n}.html"),
)
PORTAL_BY_ID = {p.id: p for p in PORTALS}

# Portals known only by their home page (docs/portals.md §7): URL shapes from real provincial
# portals that no dialect knows, each behind a home page with navigation, footer and friend
# links, reached by homepage discovery. Kept out of PORTALS, so adding them changes none of
# the original portals' pages, syndication or ground truth. Articles are never copies.
DISCOVERY_COLUMNS = 3  # article `index` belongs to column index % 3
DISCOVERY_PORTALS: tuple[PortalSpec, ...] = (
    PortalSpec("lingnan", "岭南政法网", "generic", page_size=10, id_base=189000, shape="post"),
    PortalSpec("qiongzhou", "琼州政法网", "generic", page_size=10, id_base=65000, shape="show"),
    PortalSpec("changbai", "长白长安网", "generic", page_size=10, id_base=1000, shape="guid"),
    PortalSpec("minjiang", "闽江长安网", "generic", page_size=10, id_base=766000,
               shape="jeesite"),
    PortalSpec("longcheng", "龙城长安网", "generic", page_size=10, id_base=21600,
               shape="code"),
)
DISCOVERY_BY_ID = {p.id: p for p in DISCOVERY_PORTALS}
ANY_PORTAL_BY_ID = {**PORTAL_BY_ID, **DISCOVERY_BY_ID}
# Per shape: column slugs, then (display names).
DISCOVERY_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "post": (("gzdt", "yasf", "jjzfgz"), ("工作动态", "以案说法", "基层政法")),
    "show": (("shixiandongtai", "yianshuofa", "zhengfayaowen"),
             ("市县动态", "以案说法", "政法要闻")),
    "guid": (("qwfb", "zfyw", "jcdt"), ("权威发布", "政法要闻", "基层动态")),
    "jeesite": (("225", "226", "227"), ("政法动态", "平安建设", "法治宣传")),
    "code": (("FCQNQHAO", "KDJWLSPE", "MNBVCXZQ"), ("政法要闻", "平安创建", "队伍建设")),
}
FARM_SOURCES = ("changan", "spp", "jszf", "fzw", "court", "county")
SYNDICATION_SHARE = 0.08  # share of a portal's articles that are copies of another portal's

# Hanweb constants (documented dataproxy form)
HANWEB = {"col": "1", "appid": "1", "webid": "3", "path": "/", "columnid": "282",
          "sourceContentType": "1", "unitid": "423656", "webname": "江苏长安网",
          "permissiontype": "0"}
COURT_LIST_ID = "MzAwNDAwMgCRhAEA"
FOUNDER_NODE = "5955"

ENCODING_TRUE = {"utf-8": "utf-8", "utf8-as-gb2312": "utf-8", "gbk": "gbk", "gb2312-gbk": "gbk",
                 "latin1-gbk": "gbk", "gbk-undeclared": "gbk", "big5": "big5"}


@functools.cache
def phrases() -> dict[str, Any]:
    """The phrase bank (package data), loaded once."""
    text = resources.files("govcrawl.simulator").joinpath("corpus/phrases.json").read_text("utf-8")
    return json.loads(text)


_CONVERTERS: dict[str, opencc.OpenCC] = {}
_CONV_LOCK = threading.Lock()


def convert(text: str, config: str) -> str:
    """OpenCC conversion (s2t, s2tw, t2s) with one shared converter per config."""
    conv = _CONVERTERS.get(config)
    if conv is None:
        with _CONV_LOCK:
            conv = _CONVERTERS.setdefault(config, opencc.OpenCC(config))
    return conv.convert(text)


def rng_for(*parts: object) -> random.Random:
    """A Random seeded from a stable digest of the parts (never Python's salted hash)."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def unit_hash(*parts: object) -> float:
    """A stable number in [0, 1) for the parts: used for share-based decisions."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def nows(text: str) -> str:
    """Remove all whitespace (the gold convention for body edges and lengths)."""
    return "".join(text.split())


# --------------------------------------------------------------------------------------------
# Content (what the story says) and views (how one portal shows it)


@dataclass
class Content:
    """The clean, simplified story, independent of any portal's chrome."""

    topic: str
    title: str
    paragraphs: list[str]
    source: str | None
    authors: list[str]
    editor: str | None
    published: datetime
    image_captions: list[str]
    attachments: list[str]


@dataclass
class MediaItem:
    """An image or attachment linked from an article."""

    url: str
    kind: str  # "image" | "attachment"
    text: str | None
    after_paragraph: int = -1  # images: placed after this body paragraph


@dataclass
class ArticleView:
    """One article as one portal shows it: enough for the renderer and for the truth."""

    portal: PortalSpec
    index: int
    version: int
    path: str  # URL path including the portal prefix (and query for Founder)
    content: Content
    origin: tuple[str, int]  # (portal id, index) whose story this is
    source_shown: str | None  # value displayed after the 来源 label ("" = label with empty value)
    source_label: str
    authors_shown: list[str]
    anonymous: bool
    author_label: str
    credits_line: str | None
    editor_shown: str | None
    editor_label: str
    editor_pos: str  # top | footer | commented | none
    published: datetime
    precision: str  # day | minute | second
    date_text: str
    time_label: str | None
    separator: str
    banner: str | None  # None | "empty" | "wrong"
    pv_placeholder: bool
    toolbar: bool
    gov_meta: str | None  # None | "filled" | "empty"
    encoding: str
    script: str
    farm_garble: bool = False
    farm_ascii_punct: bool = False
    media: list[MediaItem] = field(default_factory=list)

    @property
    def article_id(self) -> str:
        """Stable id used by the control API and the truth: '<portal>:<index>'."""
        return f"{self.portal.id}:{self.index}"

    def expected_text(self, text: str) -> str:
        """The simplified form an ideal extractor recovers from this page's script."""
        if self.script == "traditional":
            config = "s2tw" if self.portal.dialect == "generic" else "s2t"
            return convert(convert(text, config), "t2s")
        return text

    def body_text(self) -> str:
        """Body as the ground truth counts it: paragraphs plus image captions, no credits."""
        parts = list(self.content.paragraphs)
        for item in self.media:
            if item.kind == "image" and item.text:
                parts.insert(min(item.after_paragraph + 1, len(parts)), item.text)
        return self.expected_text(nows("".join(parts)))

    def truth(self) -> dict[str, Any]:
        """Expected extraction result for this page (gold conventions of the devset)."""
        body = self.body_text()
        authors = [] if self.anonymous else list(self.authors_shown)
        if self.precision == "day":
            published_at = self.published.strftime("%Y-%m-%d")
        elif self.precision == "minute":
            published_at = self.published.strftime("%Y-%m-%dT%H:%M:00+08:00")
        else:
            published_at = self.published.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        exp = self.expected_text
        return {
            "id": self.article_id,
            "portal": self.portal.id,
            "index": self.index,
            "version": self.version,
            "url_path": self.path,
            "title": exp(self.content.title),
            "source": exp(self.source_shown) if self.source_shown else None,
            "author": exp(" ".join(authors)) if authors else None,
            "editor": (exp(self.editor_shown)
                       if self.editor_shown and self.editor_pos in ("top", "footer") else None),
            "published_at": published_at,
            "published_precision": self.precision,
            "body_starts": body[:30],
            "body_ends": body[-30:],
            "body_chars": len(body),
            "media": [{"url": m.url, "kind": m.kind, "text": exp(m.text) if m.text else None}
                      for m in self.media],
            "encoding": ENCODING_TRUE[self.encoding],
            "encoding_profile": self.encoding,
            "script": self.script,
            "origin": f"{self.origin[0]}:{self.origin[1]}",
            "simplified": True,
        }


# --------------------------------------------------------------------------------------------
# Text generation

_CONNECTORS = ("", "", "", "同时，", "此外，", "另外，", "据悉，", "与此同时，", "据介绍，")


def _person(rng: random.Random, gbk_only: bool = False) -> str:
    ph = phrases()
    given = ph["given_gbk_only"] if gbk_only else ph["given"]
    return rng.choice(ph["surnames"]) + rng.choice(given)


def _fill(template: str, base: dict[str, str], rng: random.Random, gbk_only: bool) -> str:
    slots = dict(base)
    slots["name"] = _person(rng, gbk_only and rng.random() < 0.5)
    slots["num"] = str(rng.randint(100, 9999))
    slots["num2"] = str(rng.randint(2, 60))
    slots["money"] = str(rng.randint(12, 3800))
    slots["pct"] = str(rng.randint(12, 99))
    slots["years"] = str(rng.randint(1, 12))
    return template.format_map(slots)


def article_time(portal_id: str, index: int, seed: int) -> datetime:
    """Publish time of article `index`: increasing with the index, seconds included."""
    jitter = rng_for(seed, "time", portal_id, index).randint(0, 40 * 60)
    return BASE_TIME + timedelta(minutes=index * STEP_MINUTES, seconds=jitter)


def make_content(seed: int, portal: PortalSpec, index: int) -> Content:
    """The original story of (portal, index): title, paragraphs and people."""
    ph = phrases()
    rng = rng_for(seed, "content", portal.id, index)
    gbk = portal.gbk_only_names
    published = article_time(portal.id, index, seed)
    topics = list(ph["topics"])
    primary = rng.choice(topics)
    secondary = rng.choice([t for t in topics if t != primary])
    tp, ts = ph["topics"][primary], ph["topics"][secondary]
    base = {
        "city": rng.choice(ph["cities"]),
        "county": rng.choice(ph["counties"]),
        "province": rng.choice(ph["provinces"]),
        "year": str(published.year - rng.randint(0, 3)),
        "month": str(rng.randint(1, 12)),
        "day": str(rng.randint(1, 28)),
        "crime": rng.choice(ph["crimes"]),
    }
    title = _fill(rng.choice(tp["titles"]), base, rng, gbk)
    pool = [(s, primary) for s in tp["body"]]
    pool += [(s, secondary) for s in rng.sample(ts["body"], k=min(3, len(ts["body"])))]
    pool += [(s, "general") for s in rng.sample(ph["general"], k=3)]
    rng.shuffle(pool)
    length = rng.choice((3, 4, 5, 6, 6, 7, 8, 10, 12))
    chosen = pool[:length]
    sentences = [_fill(rng.choice(tp["lead"]), base, rng, gbk)]
    for i, (s, _) in enumerate(chosen):
        text = _fill(s, base, rng, gbk)
        conn = rng.choice(_CONNECTORS) if i and not text.startswith("【") else ""
        sentences.append(conn + text)
    sentences.append(_fill(rng.choice(tp["close"]), base, rng, gbk))
    if rng.random() < 0.07:  # long article: a second round from the secondary topic
        sentences[1:1] = [_fill(s, base, rng, gbk) for s in ts["body"]]
    paragraphs: list[str] = []
    buf = ""
    for s in sentences:
        if s.startswith("【") and buf:
            paragraphs.append(buf)
            buf = ""
        buf += s
        if rng.random() < 0.55:
            paragraphs.append(buf)
            buf = ""
    if buf:
        paragraphs.append(buf)
    n_auth = rng.choice((0, 0, 1, 1, 1, 2, 3))
    authors = [_person(rng, gbk and rng.random() < 0.5) for _ in range(n_auth)]
    captions = []
    if rng.random() < 0.2 and len(paragraphs) >= 3:
        captions.append(_fill(rng.choice(ph["captions"]), base, rng, gbk))
    attachments = []
    if rng.random() < 0.12:
        attachments = [_fill(a, base, rng, gbk) for a in rng.sample(ph["attachments"], k=2)]
    source = rng.choice(ph["sources"]) if rng.random() < 0.85 else portal.name
    editor = (rng.choice(ph["logins"]) if rng.random() < 0.1
              else rng.choice(ph["portal_editors"]))
    return Content(primary, title, paragraphs, source, authors, editor, published, captions,
                   attachments)


def edited_content(content: Content, seed: int, article_id: str, version: int) -> Content:
    """Apply `version` edits: a correction paragraph appended and a new editor each time."""
    if version == 0:
        return content
    ph = phrases()
    paragraphs = list(content.paragraphs)
    editor = content.editor
    for v in range(1, version + 1):
        rng = rng_for(seed, "edit", article_id, v)
        base = {"city": rng.choice(ph["cities"]), "county": rng.choice(ph["counties"]),
                "province": rng.choice(ph["provinces"]), "year": "2023", "month": "6",
                "day": "18", "crime": "诈骗"}
        fix = _fill(rng.choice(ph["general"]), base, rng, False)
        paragraphs.append(f"（第{v}次更新）{fix}")
        editor = rng.choice(ph["portal_editors"])
    return Content(content.topic, content.title, paragraphs, content.source, content.authors,
                   editor, content.published, content.image_captions, content.attachments)


# --------------------------------------------------------------------------------------------
# URLs per dialect


def _url_date(portal: PortalSpec, index: int, seed: int, published: datetime) -> datetime:
    """TRS t-date: usually the publish date, sometimes days away from it (§3 case 2)."""
    if portal.dialect == "trs" and unit_hash(seed, "tdate", portal.id, index) < 0.15:
        shift = rng_for(seed, "tdate", portal.id, index).choice((-9, -3, -1, 1, 2, 5, 31))
        return published + timedelta(days=shift)
    return published


def discovery_article_path(seed: int, portal: PortalSpec, index: int) -> str:
    """Article path of a discovery portal, in its shape (docs/portals.md §7)."""
    aid = portal.id_base + index * portal.id_step
    pub = article_time(portal.id, index, seed)
    col = DISCOVERY_SHAPES[portal.shape][0][index % DISCOVERY_COLUMNS]
    p = f"/{portal.id}"
    if portal.shape == "post":
        return f"{p}/{col}/content/post_{aid}.html"
    if portal.shape == "show":
        return f"{p}/news/{col}/show-{aid}.html"
    if portal.shape == "guid":
        guid = hashlib.blake2b(f"{portal.id}:{aid}".encode(), digest_size=16).hexdigest()
        return f"{p}/jlscaw/{col}/{pub:%Y%m}/{guid}.shtml"
    if portal.shape == "jeesite":
        return f"{p}/caw/f/10/view-{col}-{aid}.html"
    return f"{p}/html/lczf/{pub:%Y}/{col}_{pub:%m%d}/{aid}.html"


def discovery_channel_path(portal: PortalSpec, column: int, page: int) -> str:
    """List page `page` (0-based) of a discovery portal's column."""
    col = DISCOVERY_SHAPES[portal.shape][0][column]
    p = f"/{portal.id}"
    if portal.shape == "post":
        return f"{p}/{col}/" + (f"index_{page + 1}.html" if page else "")
    if portal.shape == "show":
        return f"{p}/news/{col}/" + (f"{page + 1}.html" if page else "")
    if portal.shape == "guid":
        return f"{p}/jlscaw/{col}/index" + (f"_{page}" if page else "") + ".shtml"
    if portal.shape == "jeesite":
        return f"{p}/caw/f/list-{col}.html" + (f"?pageNo={page + 1}" if page else "")
    return f"{p}/html/lczf/{col}/index" + (f"_{page + 1}" if page else "") + ".html"


def article_path(seed: int, portal: PortalSpec, index: int) -> str:
    """Canonical URL path (with portal prefix) of article `index`."""
    if portal.shape:
        return discovery_article_path(seed, portal, index)
    if portal.dialect == "farm":
        src = PORTAL_BY_ID[FARM_SOURCES[index % len(FARM_SOURCES)]]
        return f"/{portal.id}" + article_path(seed, src, index)[len(src.id) + 1:]
    aid = portal.id_base + index * portal.id_step
    pub = article_time(portal.id, index, seed)
    p = f"/{portal.id}"
    if portal.dialect == "trs":
        d = _url_date(portal, index, seed, pub)
        return f"{p}/zdgz/{d:%Y%m}/t{d:%Y%m%d}_{aid}.shtml"
    if portal.dialect == "chinapeace":
        return f"{p}/chinapeace/c100007/{pub:%Y-%m}/{pub:%d}/content_{aid}.shtml"
    if portal.dialect == "hanweb":
        return f"{p}/art/{pub.year}/{pub.month}/{pub.day}/art_282_{aid}.html"
    if portal.dialect == "founder":
        return (f"{p}/index_article/content/{pub:%Y-%m}/{pub:%d}/content_{aid}.htm"
                f"?node={FOUNDER_NODE}")
    if portal.dialect == "chinacourt":
        return f"{p}/article/detail/{pub:%Y}/{pub:%m}/id/{aid}.shtml"
    if portal.id == "twfx":
        return f"{p}/news/{pub:%Y}/{pub:%m%d}/{aid}.html"
    return f"{p}/content/646943/69/{aid}.html"


def index_from_id(portal: PortalSpec, aid: int) -> int | None:
    """Inverse of the id numbering: None when the id is not one of ours."""
    off = aid - portal.id_base
    if off < 0 or off % portal.id_step:
        return None
    return off // portal.id_step


# --------------------------------------------------------------------------------------------
# Byline display variants

SOURCE_LABELS = ("来源", "稿源", "信息来源", "稿件来源", "文章来源", "来源丨")
AUTHOR_LABELS = ("作者", "记者", "通讯员")
EDITOR_LABELS = ("责任编辑", "责编", "编辑")
TIME_LABELS = ("发布时间", "时间", "发布日期")
SEPARATORS = ("nbsp", "u3000", "pipes", "br", "spans", "glued")
DATE_FORMATS = ("day", "minute", "second", "cjk", "cjk-minute", "slash", "dot")


def format_date(dt: datetime, fmt: str) -> tuple[str, str]:
    """Display text and precision of a publish time in one of the documented formats."""
    if fmt == "day":
        return dt.strftime("%Y-%m-%d"), "day"
    if fmt == "minute":
        return dt.strftime("%Y-%m-%d %H:%M"), "minute"
    if fmt == "second":
        return dt.strftime("%Y-%m-%d %H:%M:%S"), "second"
    if fmt == "cjk":
        return dt.strftime("%Y年%m月%d日"), "day"
    if fmt == "cjk-minute":
        return dt.strftime("%Y年%m月%d日 %H:%M"), "minute"
    if fmt == "slash":
        return f"{dt.year}/{dt.month}/{dt.day}", "day"
    return dt.strftime("%Y.%m.%d"), "day"


def is_copy(seed: int, portal_id: str, index: int) -> bool:
    """Whether (portal, index) republishes another portal's story (farm: always; discovery
    portals: never)."""
    if portal_id == "farm":
        return True
    if portal_id in DISCOVERY_BY_ID:
        return False
    return unit_hash(seed, "syndicate", portal_id, index) < SYNDICATION_SHARE


def origin_of(seed: int, portal_id: str, index: int) -> tuple[str, int]:
    """The (portal, index) whose original story this article shows."""
    if portal_id == "farm":
        src = FARM_SOURCES[index % len(FARM_SOURCES)]
        return origin_of(seed, src, index)
    if not is_copy(seed, portal_id, index):
        return (portal_id, index)
    candidates = [p.id for p in PORTALS
                  if p.id not in (portal_id, "farm") and not is_copy(seed, p.id, index)]
    if not candidates:
        return (portal_id, index)
    return (rng_for(seed, "origin", portal_id, index).choice(candidates), index)


class Corpus:
    """Deterministic portals plus the mutable clock state (counts, edits, deletions)."""

    def __init__(self, size: int = 100, seed: int = 0) -> None:
        self.seed = seed
        self.initial_size = size
        self.count = size  # same number of article slots on every portal
        self.versions: dict[str, int] = {}
        self.modified: dict[str, datetime] = {}
        self.deleted: set[str] = set()
        self.clock = self.newest_time() + timedelta(hours=1)
        self._lock = threading.RLock()
        self._live_cache: dict[str, list[int]] = {}
        self._view_cache: dict[tuple[str, int, int], ArticleView] = {}

    # -- clock ---------------------------------------------------------------------------

    def newest_time(self) -> datetime:
        """Publish time of the newest slot (the clock never runs behind it)."""
        return BASE_TIME + timedelta(minutes=max(self.count, 1) * STEP_MINUTES)

    def publish(self, n: int) -> None:
        """Add n newer articles per portal: they go on top of every first list page."""
        with self._lock:
            self.count += n
            self.clock = max(self.clock, self.newest_time()) + timedelta(minutes=1)
            self._live_cache.clear()

    def edit(self, article_id: str) -> int:
        """Change an article's text and editor; returns the new version number."""
        self.parse_id(article_id)
        with self._lock:
            version = self.versions.get(article_id, 0) + 1
            self.versions[article_id] = version
            self.clock += timedelta(minutes=1)
            self.modified[article_id] = self.clock
            return version

    def delete(self, article_id: str) -> None:
        """Make an article 404 and drop it from the lists."""
        self.parse_id(article_id)
        with self._lock:
            self.deleted.add(article_id)
            self._live_cache.clear()

    def parse_id(self, article_id: str) -> tuple[PortalSpec, int]:
        """Validate '<portal>:<index>' against the current corpus."""
        pid, _, num = article_id.partition(":")
        if pid not in ANY_PORTAL_BY_ID or not num.isdigit() or int(num) >= self.count:
            raise KeyError(f"unknown article id: {article_id!r}")
        return ANY_PORTAL_BY_ID[pid], int(num)

    # -- listing ---------------------------------------------------------------------------

    def live_indices(self, portal_id: str) -> list[int]:
        """Indices shown in lists, newest first (deleted ones removed)."""
        with self._lock:
            cached = self._live_cache.get(portal_id)
            if cached is None:
                cached = [i for i in range(self.count - 1, -1, -1)
                          if f"{portal_id}:{i}" not in self.deleted]
                self._live_cache[portal_id] = cached
            return cached

    def is_live(self, portal_id: str, index: int) -> bool:
        """Whether the article exists now (published and not deleted)."""
        return 0 <= index < self.count and f"{portal_id}:{index}" not in self.deleted

    def last_modified(self, view: ArticleView) -> datetime:
        """Last-Modified of an article: its publish time, or the clock time of its last edit."""
        return self.modified.get(view.article_id, view.published)

    # -- views -----------------------------------------------------------------------------

    def view(self, portal_id: str, index: int) -> ArticleView:
        """How `portal_id` shows article `index` at its current version (cached, bounded)."""
        article_id = f"{portal_id}:{index}"
        version = self.versions.get(article_id, 0)
        key = (portal_id, index, version)
        cached = self._view_cache.get(key)
        if cached is not None:
            return cached
        view = self._build_view(ANY_PORTAL_BY_ID[portal_id], index, version)
        with self._lock:
            if len(self._view_cache) > 4096:
                self._view_cache.clear()
            self._view_cache[key] = view
        return view

    def _build_view(self, portal: PortalSpec, index: int, version: int) -> ArticleView:
        seed = self.seed
        origin = origin_of(seed, portal.id, index)
        origin_portal = ANY_PORTAL_BY_ID[origin[0]]
        base = make_content(seed, origin_portal, origin[1])
        rng = rng_for(seed, "display", portal.id, index)
        if portal.dialect == "farm":
            src_view = self._build_view(PORTAL_BY_ID[FARM_SOURCES[index % len(FARM_SOURCES)]],
                                        index, 0)
            return self._farm_view(portal, index, version, src_view, rng)
        content = edited_content(base, seed, f"{portal.id}:{index}", version)
        copy = origin[0] != portal.id
        if copy:
            # a syndicated copy: the origin's name as 来源 and this portal's own editor line
            source: str | None = origin_portal.name
            editor = rng.choice(phrases()["portal_editors"])
            if version:
                editor = content.editor
        else:
            source = content.source
            editor = content.editor
        encoding = _weighted(rng, portal.encodings)
        authors = list(content.authors)
        anonymous = False
        credits_line = None
        if authors and rng.random() < 0.2 and portal.dialect in ("founder", "generic", "trs"):
            # a credits-only paragraph at the end of the body (byline, not body)
            credits_line = "　".join(
                f"{lab}　{name}" for lab, name in zip(("记者", "通讯员", "记者"), authors,
                                                      strict=False))
        elif not authors and rng.random() < 0.15:
            anonymous = True
        source_shown: str | None = source
        if rng.random() < 0.08:
            source_shown = ""  # label present, value empty
        date_fmt = rng.choice(DATE_FORMATS)
        if portal.dialect == "chinacourt":
            date_fmt = "second"
        elif portal.dialect == "hanweb":
            date_fmt = rng.choice(("day", "minute"))
        elif portal.dialect == "founder":
            date_fmt = rng.choice(("second", "minute"))
        date_text, precision = format_date(content.published, date_fmt)
        editor_pos = rng.choice(("top", "top", "footer", "footer", "commented", "none"))
        if copy:
            editor_pos = rng.choice(("top", "footer"))
        time_label: str | None = rng.choice(TIME_LABELS)
        if rng.random() < 0.1:
            time_label = None  # a bare date in the byline
        view = ArticleView(
            portal=portal, index=index, version=version,
            path=article_path(seed, portal, index), content=content, origin=origin,
            source_shown=source_shown, source_label=rng.choice(SOURCE_LABELS),
            authors_shown=authors, anonymous=anonymous, author_label=rng.choice(AUTHOR_LABELS),
            credits_line=credits_line, editor_shown=editor,
            editor_label=rng.choice(EDITOR_LABELS), editor_pos=editor_pos,
            published=content.published, precision=precision, date_text=date_text,
            time_label=time_label, separator=rng.choice(SEPARATORS),
            banner=rng.choice((None, None, "empty", "wrong")),
            pv_placeholder=rng.random() < 0.25, toolbar=rng.random() < 0.7,
            gov_meta=(rng.choice(("filled", "filled", "empty")) if portal.gov_meta else None),
            encoding=encoding, script=portal.script,
        )
        view.media = self._media(view, rng)
        return view

    def _farm_view(self, portal: PortalSpec, index: int, version: int, src: ArticleView,
                   rng: random.Random) -> ArticleView:
        content = edited_content(src.content, self.seed, f"{portal.id}:{index}", version)
        date_fmt = rng.choice(("day", "minute", "second"))
        date_text, precision = format_date(src.published, date_fmt)
        view = ArticleView(
            portal=portal, index=index, version=version,
            path=article_path(self.seed, portal, index), content=content, origin=src.origin,
            source_shown=src.source_shown or None, source_label="来源",
            authors_shown=[] if src.anonymous else list(src.authors_shown), anonymous=False,
            author_label="作者", credits_line=None, editor_shown=src.editor_shown,
            editor_label="责任编辑",
            editor_pos="top" if src.editor_pos in ("top", "footer") else "none",
            published=src.published, precision=precision, date_text=date_text,
            time_label=rng.choice(("发布时间", None)), separator=rng.choice(("space", "glued")),
            banner="wrong", pv_placeholder=False, toolbar=True, gov_meta=None,
            encoding=_weighted(rng, portal.encodings), script="traditional",
            farm_garble=rng.random() < 0.4, farm_ascii_punct=rng.random() < 0.5,
        )
        return view

    def _media(self, view: ArticleView, rng: random.Random) -> list[MediaItem]:
        media: list[MediaItem] = []
        folder = f"/{view.portal.id}/files/{view.index}"
        for k, caption in enumerate(view.content.image_captions):
            after = rng.randint(0, len(view.content.paragraphs) - 2)
            media.append(MediaItem(f"{folder}/img{k}.jpg", "image", caption, after))
        for k, name in enumerate(view.content.attachments):
            ext = name.rsplit(".", 1)[-1]
            media.append(MediaItem(f"{folder}/att{k}.{ext}", "attachment", name))
        return media

    # -- truth -----------------------------------------------------------------------------

    def start_paths(self, portal: PortalSpec) -> list[str]:
        """Where a crawler starts on each portal (path with prefix)."""
        p = f"/{portal.id}"
        if portal.shape:
            return [f"{p}/"]
        return {
            "trs": [f"{p}/zdgz/index.shtml"],
            "chinapeace": [f"{p}/chinapeace/c100007/index.shtml"],
            "hanweb": [f"{p}/col/col282/index.html"],
            "founder": [f"{p}/index_article/node_{FOUNDER_NODE}.htm"],
            "chinacourt": [f"{p}/article/index/id/{COURT_LIST_ID}.shtml"],
        }.get(portal.dialect, [p + portal.list_path.format(n=1)])

    def iter_truth(self, portal_id: str) -> Iterator[dict[str, Any]]:
        """Truth records of a portal's live articles, newest first (lazy)."""
        for index in self.live_indices(portal_id):
            yield self.view(portal_id, index).truth()

    def syndication_groups(self) -> list[list[str]]:
        """Article ids (live, ≥ 2 per group) that show the same story."""
        groups: dict[tuple[str, int], list[str]] = {}
        for portal in PORTALS:
            for index in self.live_indices(portal.id):
                groups.setdefault(origin_of(self.seed, portal.id, index), []).append(
                    f"{portal.id}:{index}")
        return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    names = [o[0] for o in options]
    weights = [o[1] for o in options]
    return rng.choices(names, weights=weights, k=1)[0]
