"""Byline tokenizing (issue 21): values end at the next label even when glued to it, at toolbar
words, and a name field that reads as a sentence is dropped with a warning."""

from __future__ import annotations

import pytest

from govcrawl.extract.byline import looks_like_sentence, parse_byline
from govcrawl.extract.page import extract_page


@pytest.mark.parametrize(
    ("text", "source", "author", "editor", "published"),
    [
        ("来源:市检察院编辑:吴昊", "市检察院", None, "吴昊", None),
        ("作者:胡鹏飞时间:2021-01-09 10:20", None, "胡鹏飞", None, "2021-01-09T10:20:00+08:00"),
        ("责任编辑:周静时间:2021-01-09", None, None, "周静", "2021-01-09"),
        ("发布日期：2021/1/8来源：人民法院报编辑：李婷　　【字体：大 中 小】", "人民法院报", None,
         "李婷", "2021-01-08"),
        ("来源:本站原创编辑:李婷时间:2021-01-02", "本站原创", None, "李婷", "2021-01-02"),
        ("来源：检察日报时间：2021年1月9日 08:30", "检察日报", None, None,
         "2021-01-09T08:30:00+08:00"),
        # a chief editor is a label of its own, not the 编辑 of the article
        ("来源:人民日报总编辑:张三", "人民日报", None, None, None),
        # a login ending in digits glued to a bare date
        ("责任编辑:admin22021-01-09 12:36:35", None, None, "admin2", "2021-01-09T12:36:35+08:00"),
        # toolbar words end a value even without brackets or a separator
        ("来源：新华社字体 大 中 小", "新华社", None, None, None),
        ("来源：国务院办公厅 打印本页 关闭窗口", "国务院办公厅", None, None, None),
        ("作者：王五浏览次数：1234", None, "王五", None, None),
        # and at sentence punctuation
        ("来源：人民网，原标题：某某市召开政法工作会议", "人民网", None, None, None),
        # traditional labels on a page read as simplified; pinyin left inside a label
        ("來源：人民網 責任編輯：李婷 發佈時間：2022-05-10", "人民網", None, "李婷", "2022-05-10"),
        ("来(lai)源:人民网 编(bian)辑:张三", "人民网", None, "张三", None),
    ],
)
def test_values_end_where_the_next_label_begins(text, source, author, editor, published):
    b = parse_byline(text)
    assert (b.source, b.author, b.editor) == (source, author, editor)
    assert (b.published.iso if b.published else None) == published
    assert b.warnings == []


@pytest.mark.parametrize(
    "text",
    [
        "信息来源： 11月24日，市民孙秀英报警称，其在网上参与“刷单返利”时被骗523万元。",
        "来源：今年以来，南通市两级法院依托智慧诉讼服务平台，网上立案4098件，网上缴费4098笔",
        "来源: 10月10日，韶关市启动宪法宣传周活动",
        "来源：为进一步加强矛盾纠纷排查化解工作",
        "来源：市公安局交警支队在城区主要路段开展酒驾醉驾集中整治行动",
    ],
)
def test_an_empty_source_label_does_not_take_the_first_sentence(text):
    b = parse_byline(text)
    assert b.source is None
    assert b.warnings == ["byline-source-is-prose"]


@pytest.mark.parametrize(
    "value",
    ["人民网-文化频道 原创稿", "中共韶关市委政法委员会", "最高人民检察院、检察日报", "本站原创",
     "新华社", "湖南省高级人民法院", "法治日报·法治网", "江苏省人民检察院第一检察部", "admin2",
     "刘静 齐绍杰", "中国长安网"],
)
def test_names_and_outlets_are_not_sentences(value):
    assert not looks_like_sentence(value)
    assert parse_byline(f"来源：{value}").source == value


def test_a_glued_time_label_needs_a_date_after_it():
    b = parse_byline("作者:张三 来源:本站活动时间安排表")
    assert (b.author, b.source) == ("张三", "本站活动时间安排表")


def test_the_warning_reaches_the_page_result():
    body = "".join(f"<p>{s}</p>" for s in (
        "11月24日，市民孙秀英报警称，其在网上参与“刷单返利”时被骗523万元。",
        "民警提醒，网络刷单是诈骗，切勿轻信高额佣金，切勿向陌生账户转账，谨防上当受骗。" * 3,
    ))
    html = ("<html><head><title>刷单返利骗局</title></head><body><h1>刷单返利骗局</h1>"
            '<div class="info"><span>发布日期：2021-01-09</span> <span>作者：贺浩然</span> '
            "<span>信息来源：</span></div>"
            f'<div id="zoom">{body}</div></body></html>')
    r = extract_page(html.encode("utf-8"), "http://fy.example.gov.cn/a/1.html")
    assert r.kind == "article"
    assert (r.source, r.author, r.published_at) == (None, "贺浩然", "2021-01-09")
    assert "byline-source-is-prose" in r.warnings
    assert r.body_text.startswith("11月24日，市民孙秀英报警称")


def test_a_text_copy_without_a_title_line_has_no_title():
    first = ("10月10日，韶关市启动宪法宣传周活动，全市各级政法机关联合开展普法宣传，"
             "通过设置咨询台、发放宣传资料、现场解答群众法律问题等方式，引导群众尊法学法守法用法。"
             "活动期间，共发放宣传资料三千余份，接受群众咨询五百余人次，取得良好社会效果。")
    text = (f"欢迎访问韶关政法网 今天是 2024年12月29日 星期日\n\n{first}\n\n"
            "来源：韶关市委政法委 发布时间：2021-10-10\n\n"
            "下一步，韶关市将持续深化法治宣传教育，推动宪法精神深入人心。\n")
    r = extract_page(text.encode("utf-8"), "http://example.com/a/1.txt",
                     headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.kind == "article"
    assert r.title is None
    assert "no-title-line" in r.warnings
    assert r.body_text.startswith("10月10日，韶关市启动宪法宣传周活动")
    assert (r.source, r.published_at) == ("韶关市委政法委", "2021-10-10")


def test_a_text_copy_with_a_title_line_keeps_it():
    text = ("韶关市启动宪法宣传周活动\n来源：韶关市委政法委 发布时间：2021-10-10\n"
            "10月10日，韶关市启动宪法宣传周活动，全市各级政法机关联合开展普法宣传。\n")
    r = extract_page(text.encode("utf-8"), "http://example.com/a/1.txt",
                     headers={"Content-Type": "text/plain; charset=utf-8"})
    assert (r.kind, r.title) == ("article", "韶关市启动宪法宣传周活动")
    assert "no-title-line" not in r.warnings


def test_a_traditional_page_s_byline_names_are_converted_once() -> None:
    """龔昇 reads 龚昇; converting the already simplified value again gave 龚升."""
    from govcrawl.extract.page import extract_page

    prose = "檢察機關堅持以人民為中心，依法履行法律監督職責，推動各項檢察工作高質量發展。" * 6
    html = ("<html><head><meta charset='utf-8'><title>關於檢察工作的報導</title></head><body>"
            "<div class='title'><h1>關於檢察工作的報導</h1></div>"
            "<div class='info'>來源:本網 作者:龔昇 責任編輯:張偉 發布時間:2024-03-04 12:39</div>"
            f"<div class='content'><p>{prose}</p></div></body></html>")
    page = extract_page(html.encode(), "http://x.invalid/a/t20240304_1.html", 200,
                        {"Content-Type": "text/html; charset=utf-8"})
    assert page.script == "traditional"
    assert (page.title, page.author, page.editor) == ("关于检察工作的报导", "龚昇", "张伟")
