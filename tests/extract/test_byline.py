import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcrawl.extract.byline import (
    _ORDERED,
    LABEL_RE,
    _label_pattern,
    clean_people,
    has_field_label,
    parse_byline,
)
from govcrawl.extract.credits import parse_credits


@pytest.mark.parametrize(
    ("text", "source", "author", "editor", "published"),
    [
        ("来源：中国长安网\u00a0\u00a0责任编辑：李婷\u00a0\u00a0发布时间：2022-05-10",
         "中国长安网", None, "李婷", "2022-05-10"),
        ("时间：2021-03-05　　作者：邱春艳　　来源：高检网　　【字体：大 中 小】",
         "高检网", "邱春艳", None, "2021-03-05"),
        ("来源:  | 发布时间: 2018-05-17 | 浏览次数: ", None, None, None, "2018-05-17"),
        ("2021-10-20 14:39    来源:市人大     字号:    点击数:{{ pvCount }} 次",
         "市人大", None, None, "2021-10-20T14:39:00+08:00"),
        ("发布时间:2024-03-04 12:39:00来源: 法治日报", "法治日报", None, None,
         "2024-03-04T12:39:00+08:00"),
        ("责任编辑:狄东阳作者:宋芳科 沈文刚 任磊", None, "宋芳科 沈文刚 任磊", "狄东阳", None),
        ("来源丨中国法律评论", "中国法律评论", None, None, None),
        ("作者:佚名    来源:北京市监狱管理局    点击数:1423    更新时间:2018-10-15     文章录入:bgs",
         "北京市监狱管理局", None, None, None),
        ("来源:邵阳市人大常委会研究室 作者:黄士成 编辑:redcloud 2017-09-26 08:22:25",
         "邵阳市人大常委会研究室", "黄士成", "redcloud", "2017-09-26T08:22:25+08:00"),
        ("时间:2014-07-09 10:09:43    作者:刘静 齐绍杰    来源:湖南省高级人民法院",
         "湖南省高级人民法院", "刘静 齐绍杰", None, "2014-07-09T10:09:43+08:00"),
        ("作者：李四 SF183　王五、赵六　审核：钱七", None, "李四 王五 赵六", None, None),
        ("发 布 时 间 ： 2022-05-10 来 源 ： 新华社", "新华社", None, None, "2022-05-10"),
    ],
)
def test_parse_byline(text, source, author, editor, published) -> None:
    b = parse_byline(text)
    assert (b.source, b.author, b.editor) == (source, author, editor)
    assert (b.published.iso if b.published else None) == published


def test_updated_time_is_not_the_publish_time() -> None:
    b = parse_byline("作者：张三 更新时间：2018-10-15")
    assert b.published is None


def test_body_phrase_is_not_a_byline() -> None:
    assert not has_field_label("牵头部门:第一检察厅;责任部门:第一、二、四检察厅")
    assert not has_field_label("活动时间：5月1日")
    assert has_field_label("时间：2021-10-08")


@pytest.mark.parametrize(
    ("text", "author", "editor"),
    [
        ("　　记者　王玥　通讯员　陈镕", "王玥 陈镕", None),
        ("（作者：段彩云　责编：贾静怡）", "段彩云", "贾静怡"),
        ("【责任编辑：刘洋】", None, "刘洋"),
    ],
)
def test_credits_only_paragraphs(text, author, editor) -> None:
    credits = parse_credits(text)
    assert credits is not None
    assert (credits.author, credits.editor) == (author, editor)


@pytest.mark.parametrize("text", ["记者从盐城市公安局获悉，该局近期成功打掉一个犯罪集团。",
                                  "记者来到现场看到，群众正在排队办理业务"])
def test_sentences_mentioning_reporters_are_body(text: str) -> None:
    assert parse_credits(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("佚名", None), ("104363", None), ("{{ author }}", None), ("张三  李四", "张三 李四"),
     ("elite", "elite"), ("首先欢迎你来到这里，请问", None), ("放飞&心情 振威将军(从一品)", "放飞&心情")],
)
def test_clean_people(value: str, expected: str | None) -> None:
    assert clean_people(value) == expected


# LABEL_RE without its first-character look-ahead (a speed-up only)
_PLAIN_LABEL_RE = re.compile(
    "(?P<label>" + "|".join(map(_label_pattern, _ORDERED)) + r")\s*(?P<sep>[:丨])\s*"
)


@given(st.lists(st.sampled_from([*_ORDERED, ":", "丨", " ", "新华社", "活动", "总", "2022"]),
                max_size=8).map("".join))
def test_the_label_look_ahead_changes_no_match(text: str) -> None:
    def spans(pattern: re.Pattern[str]) -> list[tuple[tuple[int, int], str]]:
        return [(m.span(), m["label"]) for m in pattern.finditer(text)]

    assert spans(LABEL_RE) == spans(_PLAIN_LABEL_RE)
