"""Credit lines: who wrote or photographed an article, as Chinese news prints it in the body.

A credit names a role (记者, 通讯员, 实习生, 作者, 文, 执笔人; 编辑 for the editor; 摄影 or a
trailing 摄 for the photographer), often after the outlet that employs the person (本报记者,
新华社记者, 光明日报记者, 新华日报·交汇点记者, 新华网黑龙江频道 记者), and may end in a tail that
is not a name (山东冠县报道, 发自北京, /文, 受访者供图).  It is found

- as a paragraph of its own, anywhere in the body (``记者　王玥　通讯员　陈镕``,
  ``□ 本报记者 葛灵丹``, ``（记者 胡晓蓉）``, ``蔡雪婧/摄``): that paragraph is then not body;
- in the parentheses of a dateline leading a paragraph (``本报讯（记者 王玥）…``,
  ``新华社北京1月1日电（记者 张三、李四）…``): the paragraph stays body;
- in parentheses ending the last paragraph (``…发展。（记者 胡晓蓉）``, ``（姚峰 上海报道）``),
  where a bare name counts too when it looks like a personal name (``（袁源）``).

Functions take the matching copy (folded, simplified) of one paragraph; ``parse_credits`` also
takes a paragraph as displayed.  Names with no role word before them are believed only when
they look like personal names (``names.looks_like_person``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from govcrawl.extract.byline import HAN, Byline, clean_people, fold_text
from govcrawl.extract.names import person_names

_ROLES: dict[str, str] = {
    "特约记者": "author",
    "首席记者": "author",
    "见习记者": "author",
    "实习记者": "author",
    "记者": "author",
    "通讯员": "author",
    "实习生": "author",
    "作者": "author",
    "撰文": "author",
    "撰稿": "author",
    "执笔人": "author",
    "执笔": "author",
    "文/图": "author",
    "图/文": "author",
    "文": "author",
    "责任编辑": "editor",
    "责编": "editor",
    "编辑": "editor",
    "摄影": "photo",
    "摄": "photo",
    "图": "photo",
}
# One-character roles are roles only with a separator after them: 文/张三, 文 | 张三, 图：李四.
_SHORT_ROLES = frozenset({"文", "图", "摄"})
# The outlet that employs the credited person, printed before the role.
_OUTLET = (
    rf"(?:本报|本刊|本台|本网|本站|央视|央广|[{HAN}]{{0,10}}(?:报|社|台|网|刊|频道|新闻|客户端))"
    rf"(?:·[{HAN}]{{1,8}})?(?:驻[{HAN}]{{1,6}})?"
)
_SEP = r"[:丨|｜/]"


def _role_pattern(role: str) -> str:
    body = r"\s*".join(re.escape(c) for c in role)
    return rf"{body}(?=\s*{_SEP})" if role in _SHORT_ROLES else body


CREDIT_ROLE_RE = re.compile(
    rf"(?:(?P<outlet>{_OUTLET})\s?)?(?P<role>"
    + "|".join(_role_pattern(r) for r in sorted(_ROLES, key=len, reverse=True))
    + rf")(?P<sep>\s*{_SEP}?\s*)"
)
# A tail after the names: nobody (受访者供图), a photographer (/摄, 供图) or the writer's
# dateline (山东冠县报道, 发自北京, /文, 整理).
_TAIL_RE = re.compile(
    r"(?:(?P<nobody>\s*(?:受访者|资料|网络|视频)供图)"
    r"|(?P<photo>\s*[/／]?\s*(?:摄影?|供图))"
    rf"|(?P<writer>\s*[/／]\s*文|\s+[{HAN}]{{2,8}}报道|\s*报道|\s*发自[{HAN}]{{2,8}}|\s+整理))$"
)
# Every tail has one of these; a line without any cannot be an unlabelled credit.
_TAIL_HINTS = ("报道", "发自", "摄", "供图", "文", "整理")
_PART_SPLIT_RE = re.compile(r"(?<=[/／][文图摄])\s+")  # 张三/文 李四/摄
_NAME = rf"(?:[{HAN}·]{{2,5}}|[A-Za-z][A-Za-z0-9_.-]{{1,20}})"
_NAMES_RE = re.compile(rf"^{_NAME}(?:[\s、,，/]+{_NAME}){{0,5}}$")
# Ornaments before a credit (□ 本报记者) and words saying the credited person compiled the text.
_LEAD_RE = re.compile(r"^[□■●◆◇○◎▲△★☆▼▽※•·\-—\s]*(?:(?:整理|整合|综合)\s+)?")
_UNWRAP = " ()（）【】[]"
_MAX_CHARS = 80
# A dateline ending in 讯/电/消息 (or nothing) before the parenthesised credit.
_DATELINE_RE = re.compile(
    r"^(?:据)?(?:[^（()）,，。:]{0,30}?(?:讯|电|消息))?\s*[（(](?P<credit>[^（()）]{2,60})[)）]"
)
_SENTENCE_END = frozenset("。！？!?.”」』…）) ")
_ENDING_RE = re.compile(r"[（(](?P<credit>[^（()）]{2,40})[)）]\s*$")


def _strip_tails(value: str) -> tuple[str, str | None]:
    """Names without their tails, and the role a tail gives (photo/writer), if any."""
    role = None
    for _ in range(3):
        m = _TAIL_RE.search(value)
        if m is None:
            break
        value = value[: m.start()]
        if m["photo"]:
            role = "photo"
        elif m["writer"] and role is None:
            role = "writer"
    return value.strip(" ,，;；。/／"), role


def _add(result: Byline, role: str, names: str) -> None:
    people = clean_people(names)
    if not people:
        return
    if role == "author":
        result.author = f"{result.author} {people}" if result.author else people
    elif role == "photo":
        result.photographer = (
            f"{result.photographer} {people}" if result.photographer else people
        )
    elif result.editor is None:
        result.editor = people


def _unlabelled(text: str, bare: bool) -> list[tuple[str, str]] | None:
    """Personal names with a role tail (姚峰 上海报道, 蔡雪婧/摄, 张三/文 李四/摄); any personal
    names when ``bare`` (the last parentheses of an article)."""
    if not bare and not any(hint in text for hint in _TAIL_HINTS):
        return None
    items = []
    for part in _PART_SPLIT_RE.split(text):
        names, role = _strip_tails(part)
        if role is None and not bare:
            return None
        people = person_names(names)
        if people is None:
            return None
        items.append(("photo" if role == "photo" else "author", people))
    return items


def _labelled(text: str, wrapped: bool) -> list[tuple[str, str]] | None:
    """(role, names) for each role word of a credits-only text, or None."""
    if CREDIT_ROLE_RE.match(text) is None:  # most lines: decided without scanning
        return None
    matches = list(CREDIT_ROLE_RE.finditer(text))
    items = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        names, tail = _strip_tails(text[m.end() : end])
        if not names or not _NAMES_RE.match(names):
            return None
        # A name glued to its role word (记者罗科苏盈) needs more proof: 记者手记 is a column.
        glued = not m["sep"]
        if glued and not (m["outlet"] or tail or wrapped or len(matches) > 1):
            return None
        role = _ROLES["".join(m["role"].split())]
        items.append(("photo" if tail == "photo" else role, names))
    return items


def _read(text: str, *, wrapped: bool = False, bare: bool = False) -> Byline | None:
    inner = text.strip()
    if not inner or len(inner) > _MAX_CHARS:
        return None
    wrapped = wrapped or inner[0] in "(（[【" or inner[-1] in ")）]】"
    inner = _LEAD_RE.sub("", inner.strip(_UNWRAP), count=1).strip(_UNWRAP)
    if not inner:
        return None
    items = _labelled(inner, wrapped)
    if items is None:
        items = _unlabelled(inner, bare)
    if not items:
        return None
    result = Byline(raw=text.strip())
    for role, names in items:
        _add(result, role, names)
    if result.author is None and result.editor is None and result.photographer is None:
        return None
    return result


def parse_credits(text: str) -> Byline | None:
    """A paragraph made only of credits (``记者　王玥　通讯员　陈镕``, ``（作者：段彩云　责编：
    贾静怡）``, ``新京报记者 彭冲 山东冠县报道``) → its people; None when it holds anything else
    (then it is body)."""
    if len(text.strip()) > _MAX_CHARS:  # folding keeps the length: skip it for prose
        return None
    return _read(fold_text(text))


def leading_credit(text: str) -> Byline | None:
    """The credit in a dateline's parentheses leading a paragraph (``本报讯（记者 王玥）…``,
    ``据新华社拉萨电（记者 格桑边觉）…``); the paragraph itself stays body."""
    m = _DATELINE_RE.match(text)
    return _read(m["credit"], wrapped=True) if m else None


def ending_credit(text: str) -> tuple[Byline | None, bool]:
    """The credit in parentheses ending an article's last paragraph (``…。（记者 胡晓蓉）``,
    ``（袁源）``): bare personal names count here.  Also says whether the paragraph is nothing
    but that credit (then it is not body)."""
    text = text.strip()
    m = _ENDING_RE.search(text)
    if m is None:
        return None, False
    # a bare name must stand after the last sentence, not explain a word: 王老师（王芳）
    bare = m.start() == 0 or text[m.start() - 1] in _SENTENCE_END
    credit = _read(m["credit"], wrapped=True, bare=bare)
    return credit, credit is not None and m.start() == 0


def merge_credits(credits: Iterable[Byline]) -> Byline:
    """All credits of one article as one: every person once, in the order credited."""
    merged = Byline()
    for credit in credits:
        for name in ("author", "photographer"):
            value = getattr(credit, name)
            if value:
                old = getattr(merged, name)
                setattr(merged, name, " ".join(dict.fromkeys(f"{old or ''} {value}".split())))
        merged.editor = merged.editor or credit.editor
        merged.raw = "\n".join(filter(None, (merged.raw, credit.raw)))
    return merged
