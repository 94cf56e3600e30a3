"""Labelled byline parsing: 来源 / 作者 / 责任编辑 / 发布时间 out of one short byline text.

Works on a *matching copy* of the text: pinyin already stripped, converted to simplified, labels
folded (``：``→``:``, NBSP/U+3000→space, spaces allowed between label characters). A value runs
up to the NEXT KNOWN LABEL rather than the next whitespace, because farms glue fields together
(``责任编辑:狄东阳作者:…``, ``12:39:00来源:``) while multi-author values contain spaces.  Inside a
labelled byline even a generic label glued to the value before it ends that value when its
separator follows (``来源:市检察院编辑:吴昊``, ``作者:胡鹏飞时间:2021-…``); a value is also cut at
toolbar words, and a name field whose value reads as a sentence (the first body paragraph after
an empty ``来源:``) is dropped with a warning rather than stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from govcrawl.extract.dates import DATE_RE, ParsedDate, find_dates, fold_digits, parse_date
from govcrawl.extract.names import person_names
from govcrawl.text.repair import PINYIN_LETTERS

HAN = r"\u3400-\u9fff"

# Canonical field for every label.  Fields other than source/author/editor/time are recognised
# only so that they terminate the previous value and are then ignored.
LABELS: dict[str, str] = {
    # 来源
    "信息来源": "source",
    "稿件来源": "source",
    "文章来源": "source",
    "新闻来源": "source",
    "内容来源": "source",
    "来源": "source",
    "稿源": "source",
    "出处": "source",
    # 作者
    "作者": "author",
    "记者": "author",
    "通讯员": "author",
    "文/图": "author",
    "图/文": "author",
    "撰文": "author",
    "撰稿": "author",
    "撰稿人": "author",
    "文": "author",
    "特约记者": "author",
    "执笔人": "author",
    "执笔": "author",
    # 编辑.  审核/审校 name a reviewer, not the editor: recognised, never used (see module doc).
    "责任编辑": "editor",
    "责编": "editor",
    "网络编辑": "editor",
    "编辑": "editor",
    "值班编辑": "editor",
    "审核": "reviewer",
    "审校": "reviewer",
    "终审": "reviewer",
    "初审": "reviewer",
    "复审": "reviewer",
    "校对": "reviewer",
    "签发": "reviewer",
    "总编辑": "reviewer",
    "副总编辑": "reviewer",
    "主编": "reviewer",
    # 时间
    "发布时间": "time",
    "发表于": "time",
    "发布于": "time",
    "发布日期": "time",
    "发表时间": "time",
    "发稿时间": "time",
    "时间": "time",
    "日期": "time",
    "发表日期": "time",
    "发文日期": "time",
    "更新时间": "updated",
    "更新日期": "updated",
    "修改时间": "updated",
    # noise
    "文章录入": "uploader",
    "录入": "uploader",
    "发布人": "uploader",
    "发布者": "uploader",
    "浏览次数": "counter",
    "阅读次数": "counter",
    "访问次数": "counter",
    "点击数": "counter",
    "点击量": "counter",
    "点击率": "counter",
    "浏览量": "counter",
    "阅读量": "counter",
    "点击": "counter",
    "浏览": "counter",
    "阅读": "counter",
    "访问量": "counter",
    "访问统计": "counter",
    "评论": "counter",
    "译者": "translator",
    "翻译": "translator",
    "译": "translator",
    "出自": "source",
    "摄影": "photo",
    "摄像": "photo",
    "图片": "photo",
    "字号": "toolbar",
    "字体": "toolbar",
    "颜色": "toolbar",
    "分享到": "toolbar",
    "分享": "toolbar",
}
FIELD_LABELS = frozenset(
    k for k, v in LABELS.items() if v in {"source", "author", "editor", "time"}
)
# Generic labels that also occur inside ordinary words (活动时间, 总编辑, 原文): they must not be
# glued to a preceding Han character.
_LOOSE = frozenset(
    {
        "译",
        "评论",
        "翻译",
        "时间",
        "日期",
        "编辑",
        "文",
        "点击",
        "浏览",
        "阅读",
        "分享",
        "图片",
        "录入",
        "审核",
        "校对",
        "出处",
        "颜色",
        "字体",
        "字号",
    }
)


# The labels' traditional-only characters (``來源``, ``責任編輯``, ``發佈時間``, ``點擊數``): a page
# read as simplified may still print traditional labels.  Such text, and text with pinyin a farm
# left inside a label (``来(lai)源`` when the page's pinyin was too sparse to strip), is scanned
# with the WIDE patterns; the values keep the page's own script.
_TRADITIONAL = dict(zip(
    "佈來內員問圖執實審對擊攝數時瀏發筆簽約終絡統網編總習聞處號複覈見覽計訊記訪評論譯讀責輯錄間閱閲顏體點",
    "布来内员问图执实审对击摄数时浏发笔签约终络统网编总习闻处号复核见览计讯记访评论译读责辑录间阅阅颜体点",
    strict=True,
))
_VARIANTS: dict[str, str] = {}
for _trad, _simp in _TRADITIONAL.items():
    _VARIANTS[_simp] = _VARIANTS.get(_simp, _simp) + _trad
_TO_SIMPLIFIED = str.maketrans(_TRADITIONAL)
_WIDE_HINT_RE = re.compile(rf"[{''.join(_TRADITIONAL)}(]")
_PINYIN_GAP = rf"(?:\s|\([{PINYIN_LETTERS}]{{1,7}}\))*"


def _label_pattern(label: str, glued: bool = False, wide: bool = False) -> str:
    if wide:
        body = _PINYIN_GAP.join(f"[{_VARIANTS[c]}]" if c in _VARIANTS else re.escape(c)
                                for c in label)
    else:
        body = r"\s*".join(re.escape(c) for c in label)
    if label in _LOOSE and not glued:
        return rf"(?<![{HAN}A-Za-z]){body}"
    return body


_ORDERED = sorted(LABELS, key=len, reverse=True)


def _label_re(wide: bool, glued: bool = False) -> re.Pattern[str]:
    """Every label with its separator.  With ``glued``, a generic label glued to the value
    before it (where the look-behind stops the label itself) matches as ``glued``: parse_byline
    takes it only after a byline's first label.  The leading look-ahead on the labels' first
    characters lets the scan skip a position with one class test instead of trying every
    alternative (and every look-behind) there."""
    firsts = {c for lbl in LABELS for c in (_VARIANTS.get(lbl[0], lbl[0]) if wide else lbl[0])}
    gap = _PINYIN_GAP if wide else r"\s*"
    alternatives = "(?P<label>" + "|".join(_label_pattern(lbl, wide=wide) for lbl in _ORDERED)
    if glued:
        alternatives += rf")|(?<=[{HAN}A-Za-z])(?P<glued>" + "|".join(
            _label_pattern(lbl, glued=True, wide=wide) for lbl in _ORDERED if lbl in _LOOSE)
    return re.compile(
        "(?=[" + "".join(sorted(firsts)) + "])(?:" + alternatives + "))"
        + gap + r"(?P<sep>[:丨])\s*"
    )


_PATTERNS = {wide: (_label_re(wide), _label_re(wide, glued=True)) for wide in (False, True)}
LABEL_RE = _PATTERNS[False][0]


def _patterns(folded: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The label patterns (alone, and with glued labels) a text needs (see _WIDE_HINT_RE)."""
    return _PATTERNS[_WIDE_HINT_RE.search(folded) is not None]


_TIME_KINDS = frozenset({"time", "updated"})
# Brackets, template and script debris, toolbar words: a value ends at the first.  (The look-ahead
# skips a position with one class test, as in LABEL_RE.)
_STOP_RE = re.compile(
    r"(?=[【〖\[|｜】〗\]{<打关扫我字分收加返浏阅点])"
    r"(?:[【〖\[|｜】〗\]]|\{\{|<script|打印|关闭|扫一扫|我要纠错|字体|字号|分享到|收藏本|加入收藏|"
    r"返回顶部|浏览次数|阅读次数|点击数)"
)
_PLACEHOLDER_RE = re.compile(r"^[\s|｜:：,，;；.。\-—_/()（）【】\[\]{}<>]*$")
_STAFF_ID_RE = re.compile(r"^(?:[A-Z]{2}\d+|\d+)$")
_SENTENCE_RE = re.compile(r"[，。？！?!]")
_NOT_NAME_RE = re.compile(r"[()（）:：\[\]【】=<>\"'{}]|^(?=.*\d)(?=.*[\u3400-\u9fff])")
_STOP_WORD_RE = re.compile(
    r"^(阅读|评论|点击|浏览|编辑|发表|我来说两句|访问|出自|出处|译|转载|"
    r"原创|来自|收藏|分享|打印|关闭|更多)"
)
# A bracketed value followed only by separators or junk up to the end: ``[ 黄宇 ]\ue5c2 ``.
_BRACKETED_RE = re.compile(r"[\[【]\s*([^\[\]【】:]{2,20}?)\s*[\]】][^\w\[【]{0,3}$")
# A CMS login ending in digits, glued to a bare date: the date starts at the first 19xx/20xx.
_LOGIN_DATE_RE = re.compile(r"[A-Za-z]\d*?(?=(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2})")
_ANON = frozenset({"佚名", "匿名", "不详", "未知", "无", "暂无"})
# A name field's value that reads as a sentence (the first body paragraph after an empty
# ``来源:``): it opens with a date or a time adverb, runs on past a clause break after a long first
# clause, or is long and has a reporting verb.  Names and outlets do none of these (an outlet
# may be followed by a short remark: ``人民网，原标题：…``).
_SENTENCE_OPENING_RE = re.compile(
    r"^(?:\d{1,2}月\d{1,2}日|(?:19|20)\d{2}年|\d{1,2}月(?:上旬|中旬|下旬|初|底)|"
    r"近日|近期|日前|近年|今年|去年|昨天|昨日|今天|今日|目前|为[了进]|据[悉了])"
)
_CLAUSE_END_RE = re.compile(r"[，。；！？!?;]")
_CLAUSE_RE = re.compile(rf"^[^，。！？；!?;]{{8,}}[，。！？；!?;][^{HAN}]*[{HAN}]")
_VERB_RE = re.compile(
    "启动|开展|召开|举行|举办|通报|表示|指出|强调|报警|推进|部署|依托|印发|出台|审结|判处|破获|"
    "抓获|组织开展|深入开展|进行了|发布会"
)

_SPACE_RE = re.compile(r"[\u00a0\u3000\u2000-\u200b\u202f\u205f\ufeff\t\r\n]")


def fold_text(text: str) -> str:
    """Fold a matching copy: ``：``→``:``, odd spaces → space, full-width digits → ASCII.

    Length-preserving except for nothing: offsets stay comparable to the input.
    """
    text = _SPACE_RE.sub(" ", fold_digits(text))
    return text.replace("：", ":")


@dataclass
class Byline:
    """Fields parsed from byline text, each already cleaned (None = absent or empty)."""

    source: str | None = None
    author: str | None = None
    editor: str | None = None
    photographer: str | None = None  # 摄影 / 摄 credits: the author only when no writer is named
    published: ParsedDate | None = None
    published_labelled: bool = False
    raw: str = ""
    labels: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def merge(self, other: Byline) -> None:
        """Fill fields still missing from ``other`` (an earlier block wins)."""
        self.source = self.source or other.source
        self.author = self.author or other.author
        self.editor = self.editor or other.editor
        self.photographer = self.photographer or other.photographer
        if other.published and (
            self.published is None or (other.published_labelled and not self.published_labelled)
        ):
            self.published = other.published
            self.published_labelled = other.published_labelled
        self.labels.extend(other.labels)
        self.warnings.extend(w for w in other.warnings if w not in self.warnings)


def has_field_label(text: str) -> bool:
    """True when the text holds at least one source/author/editor/time label with a separator."""
    folded = fold_text(text)
    if ":" not in folded and "丨" not in folded:  # every label needs its separator
        return False
    if any(_canon(m["label"]) in FIELD_LABELS for m in LABEL_RE.finditer(folded)):
        return True
    wide = _PATTERNS[True][0]  # traditional labels or pinyin inside them (see _WIDE_HINT_RE)
    return _WIDE_HINT_RE.search(folded) is not None and any(
        _canon(m["label"]) in FIELD_LABELS for m in wide.finditer(folded))


_PINYIN_GROUP_RE = re.compile(r"\([^()]*\)|\s")


def _canon(label: str) -> str:
    """The vocabulary key of a matched label: no spaces or pinyin, simplified."""
    if not label.isalpha():  # spaces or pinyin groups inside
        label = _PINYIN_GROUP_RE.sub("", label)
    return label if label in LABELS else label.translate(_TO_SIMPLIFIED)


def clean_people(value: str | None) -> str | None:
    """Names separated by one ASCII space; 佚名 → None; staff ids (SF183, 104363) dropped."""
    if value is None:
        return None
    value = value.strip(" :|｜()（）【】[]<>《》\"'“”,，。;；")
    if not value or _PLACEHOLDER_RE.match(value) or "{{" in value:
        return None
    if _SENTENCE_RE.search(value):  # prose (an interview's 记者：问…), not a credit
        return None
    tokens = [t for t in re.split(r"[\s、,，;；/]+", value) if t]
    kept = []
    for token in tokens:
        if _NOT_NAME_RE.search(token) or _STOP_WORD_RE.match(token):
            break  # chrome after the names: 阅读(1660), 振威将军(从一品), size="20"
        if token not in _ANON and not _STAFF_ID_RE.match(token):
            kept.append(token)
    kept = [t for t in kept if t and t not in {"本报", "本站", "本网"}]
    if not kept:
        return None
    out = " ".join(kept)
    if len(out) > 40:  # prose, not a credit
        return None
    return out


def clean_source(value: str | None) -> str | None:
    """A 来源 value: trimmed, cut at a run of spaces (what follows is other chrome)."""
    if value is None:
        return None
    value = re.split(r"\s{2,}", value.strip())[0]
    value = value.strip(" :|｜()（）【】[]<>\"'“”,，;；。")
    if not value or _PLACEHOLDER_RE.match(value) or "{{" in value or len(value) > 60:
        return None
    return value


def looks_like_sentence(value: str) -> bool:
    """True when a source/author/editor value is prose rather than a name (see _VERB_RE)."""
    value = value.strip(" :|｜,，;；。")
    if _SENTENCE_OPENING_RE.match(value):
        return True
    if len(value) > 16 and _CLAUSE_RE.match(value):
        return True
    first = _CLAUSE_END_RE.split(value, maxsplit=1)[0]  # what would be kept of the value
    return len(first) > 12 and _VERB_RE.search(first) is not None


def _bracketed_name_before(folded: str, pos: int) -> str | None:
    """Personal names alone in brackets right before ``pos`` (a 来源 label), else None."""
    m = _BRACKETED_RE.search(folded, max(0, pos - 30), pos)
    return person_names(m[1]) if m else None


def _cut_value(value: str, kind: str) -> str:
    value = value.lstrip(" [【〖")  # 来源：[ 国际金融报 ]: the bracket opens the value
    stop = _STOP_RE.search(value)
    if stop:
        value = value[: stop.start()]
    if kind in {"source", "author", "editor"}:
        folded = fold_digits(value)
        date = DATE_RE.search(folded)
        if date:
            value = value[: date.start()]
        elif login := _LOGIN_DATE_RE.search(folded):
            value = value[: login.end()]
    return value


def _login_date(folded: str) -> ParsedDate | None:
    """The bare date glued to a login's digits (``编辑:admin22021-01-09``), which DATE_RE, rightly
    wary of a year inside a longer number, does not find."""
    login = _LOGIN_DATE_RE.search(folded)
    if login is None:
        return None
    found = parse_date(folded[login.end() :])
    return found and replace(found, start=found.start + login.end(),
                             end=found.end + login.end())


def _labels(folded: str) -> list[re.Match[str]]:
    """The labels of a byline plus the generic ones glued to a value after its first label
    (``来源:人民法院报编辑:李婷``); a glued time label counts only before a date."""
    matches: list[re.Match[str]] = []
    for m in _patterns(folded)[1].finditer(folded):
        if m["label"] is not None or (matches and (
                LABELS[_canon(m["glued"])] not in _TIME_KINDS or DATE_RE.match(folded, m.end()))):
            matches.append(m)
    return matches


def parse_byline(text: str) -> Byline:
    """Parse one byline block (matching copy).  Unlabelled dates count only when nothing is
    labelled as the time, and never from 更新时间 values."""
    folded = fold_text(text)
    result = Byline(raw=text.strip())
    matches = _labels(folded)
    spans: list[tuple[int, int, str]] = []
    bracketed: str | None = None
    for i, m in enumerate(matches):
        label = _canon(m["label"] or m["glued"])
        kind = LABELS[label]
        end = matches[i + 1].start() if i + 1 < len(matches) else len(folded)
        spans.append((m.start(), end, kind))
        raw_value = folded[m.end() : end]
        result.labels.append(label)
        if kind == "time":
            if result.published is None or not result.published_labelled:
                parsed = parse_date(raw_value)
                if parsed is not None:
                    result.published = parsed
                    result.published_labelled = True
            continue
        if kind == "photo" and label == "摄影":  # 摄像 films, 图片 credits an agency
            people = clean_people(_cut_value(raw_value, "author"))
            if people:
                result.photographer = (f"{result.photographer} {people}"
                                       if result.photographer else people)
            continue
        if kind not in {"source", "author", "editor"}:
            continue
        value = _cut_value(raw_value, kind)
        if looks_like_sentence(value):
            result.warnings.append(f"byline-{kind}-is-prose")
            continue
        if kind == "source":
            if result.source is None:
                result.source = clean_source(_CLAUSE_END_RE.split(value, maxsplit=1)[0])
            # 搜狐 puts the author in brackets before the source: ``[ 黄宇 ] 来源：[ 国际金融报 ]``
            bracketed = bracketed or _bracketed_name_before(folded, m.start())
        elif kind == "author":
            people = clean_people(value)
            if people:
                result.author = f"{result.author} {people}" if result.author else people
        elif result.editor is None:
            result.editor = clean_people(value)
    if result.published is None:
        candidates = find_dates(folded)
        if not candidates and (login := _login_date(folded)) is not None:
            candidates = [login]
        for found in candidates:
            inside = [k for s, e, k in spans if s <= found.start < e]
            if inside and inside[0] in {"updated", "time", "counter", "uploader"}:
                continue
            result.published = found
            break
    if result.author:
        result.author = " ".join(dict.fromkeys(result.author.split()))
    result.author = result.author or bracketed
    return result
