"""extract_page on small raw-byte pages: credit lines as author evidence, each form once."""

from __future__ import annotations

import pytest

from govcrawl.extract.page import extract_page
from govcrawl.records import PageResult

URL = "http://www.example-zfw.gov.cn/xwzx/2022/0213/c123.html"
PROSE = [
    "近日，某区人民法院召开新闻发布会，通报近年来涉民生案件审判工作情况，并发布4起典型案例。",
    "该院有关负责人表示，将持续深化诉源治理，完善多元解纷机制，为经济社会高质量发展提供司法保障。",
    "在一起追索劳动报酬纠纷案中，承办法官多次组织双方调解，最终促成用工单位当庭支付全部欠薪。",
]


def page(paragraphs: list[str], *, byline: str = "来源：法治日报　发布时间：2022-02-13 09:12",
         encoding: str = "gb18030") -> bytes:
    """A portal article page as raw bytes: headline, byline block, ``#zoom`` body container."""
    charset = "gbk" if encoding == "gb18030" else encoding
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (f'<html><head><meta charset="{charset}"><title>某区法院发布典型案例_法治网</title></head>'
            f'<body><div class="nav"><a href="/">首页</a></div><h1>某区法院发布典型案例</h1>'
            f'<div class="info">{byline}</div><div id="zoom">{body}</div>'
            f'<div class="foot">版权所有</div></body></html>')
    return html.encode(encoding)


def extract(raw: bytes) -> PageResult:
    r = extract_page(raw, URL, 200, {})
    assert r.kind == "article"
    return r


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("光明日报记者 王建宏 张文攀", "王建宏 张文攀"),
        ("□ 本报记者 葛灵丹", "葛灵丹"),
        ("新京报记者 彭冲 山东冠县报道", "彭冲"),
        ("新华日报·交汇点记者 徐睿翔", "徐睿翔"),
        ("新华网黑龙江频道 记者 伊琳 李清芬", "伊琳 李清芬"),
        ("本报记者罗科苏盈发自北京", "罗科苏盈"),
        ("记者　王玥　通讯员　陈镕", "王玥 陈镕"),
        ("文/张三", "张三"),
        ("文 | 张三", "张三"),
        ("（通讯员 陈镕）", "陈镕"),
        ("执笔人：闵乐夫 赵兰波 刘韬", "闵乐夫 赵兰波 刘韬"),
    ],
)
@pytest.mark.parametrize("where", ["first", "last"])
def test_credits_only_paragraph_is_author_not_body(line: str, author: str, where: str) -> None:
    lines = [line, *PROSE] if where == "first" else [*PROSE, line]
    r = extract(page(lines))
    assert r.author == author
    assert r.provenance["author"] in {"credits", "byline"}  # 执笔人： is a labelled byline line
    assert r.body_text.split("\n") == PROSE


def test_dateline_credit_gives_the_author_and_stays_body() -> None:
    lead = "本报讯（记者 王玥 通讯员 陈镕）" + PROSE[0]
    r = extract(page([lead, *PROSE[1:]]))
    assert (r.author, r.provenance["author"]) == ("王玥 陈镕", "credits")
    assert r.body_text.split("\n")[0] == lead


def test_xinhua_dateline_with_two_reporters() -> None:
    lead = "新华社北京1月1日电（记者 张三、李四）" + PROSE[0]
    r = extract(page([lead, *PROSE[1:]], encoding="utf-8"))
    assert r.author == "张三 李四" and r.body_text.startswith("新华社北京1月1日电（记者")


@pytest.mark.parametrize(
    ("ending", "author"),
    [("（记者 胡晓蓉）", "胡晓蓉"), ("（总台记者 张倩）", "张倩"), ("（姚峰 上海报道）", "姚峰"),
     ("（常书香 马丹阳 ）", "常书香 马丹阳"), ("(信报记者 蔡雪婧)", "蔡雪婧")],
)
def test_credit_ending_the_last_paragraph(ending: str, author: str) -> None:
    r = extract(page([*PROSE[:-1], PROSE[-1] + ending]))
    assert (r.author, r.provenance["author"]) == (author, "credits")
    assert r.body_text.endswith(ending.strip())  # the paragraph stays as the page has it


def test_bare_name_closing_the_article() -> None:
    r = extract(page([*PROSE, "（袁源）"]))
    assert r.author == "袁源" and "袁源" not in r.body_text


@pytest.mark.parametrize("ending", ["（北京）", "（江苏）", "（完）", "（2022年2月13日）",
                                    "（李某某）", "（新华社）"])
def test_no_author_from_a_closing_place_date_or_end_mark(ending: str) -> None:
    r = extract(page([*PROSE, ending]))
    assert r.author is None and "author" not in r.provenance


def test_bare_name_only_at_the_very_end() -> None:
    r = extract(page([PROSE[0], "（袁源）", *PROSE[1:]]))
    assert r.author is None and "（袁源）" in r.body_text


def test_editor_credit_is_no_author() -> None:
    r = extract(page([*PROSE, "（编辑 王五）"]))
    assert (r.author, r.editor) == (None, "王五")


def test_photographer_is_the_author_only_when_no_writer_is_credited() -> None:
    r = extract(page(["记者 张三 摄", *PROSE]))
    assert (r.author, r.provenance["author"]) == ("张三", "photo-credits")
    r = extract(page(["蔡雪婧/摄", *PROSE, "（记者 李四）"]))
    assert (r.author, r.provenance["author"]) == ("李四", "credits")
    r = extract(page(["文/张三 图/李四", *PROSE]))
    assert r.author == "张三"


def test_credits_on_several_lines_are_merged() -> None:
    r = extract(page(["本报实习生 刘国栋 周炜", "本报记者 王燕平 方云凤", *PROSE]))
    assert r.author == "刘国栋 周炜 王燕平 方云凤"


def test_labelled_byline_wins_over_credits() -> None:
    r = extract(page([*PROSE, "（记者 胡晓蓉）"], byline="作者：段彩云　发布时间：2022-02-13"))
    assert (r.author, r.provenance["author"]) == ("段彩云", "byline")


def test_bracketed_author_before_the_source_label() -> None:
    r = extract(page(PROSE, byline="2004年7月16日08:19 [ 黄宇 ] 来源：[ 国际金融报 ]"))
    assert (r.author, r.source) == ("黄宇", "国际金融报")
    assert r.published_at == "2004-07-16T08:19:00+08:00"


def test_byline_line_under_a_headline_inside_the_container() -> None:
    """One block of ``<br>`` lines: the byline is a line of the body container, not a block."""
    lines = "<br>".join(["其他文章", "某区法院发布典型案例", "作者：周思博　2022年2月13日", *PROSE])
    html = (f"<html><head><title>某区法院发布典型案例</title></head><body><h1>某区法院发布典型案例</h1>"
            f'<div id="zoom">{lines}</div></body></html>')
    r = extract(html.encode("utf-8"))
    assert r.author == "周思博" and r.published_at == "2022-02-13"
    assert r.body_text.split("\n") == ["其他文章", "某区法院发布典型案例", *PROSE]


def test_byline_after_a_body_in_a_table_cell() -> None:
    """The 千龙网 layout: ``<p>`` paragraphs straight inside a ``<td>``, a related-links table
    with dates below, and the 编辑/来源/作者 row after the body."""
    paragraphs = "".join(f"<P>　　{p}\n" for p in PROSE * 2)
    related = "".join(f'<tr><td><a href="/a{i}.htm">相关报道标题第{i}条</a> 2005-07-1{i} 09:00:04'
                      f"</td></tr>" for i in range(8))
    html = ("<html><head><meta charset=gb2312><title>广汽回应现代合资内幕</title></head><body>"
            '<div class="Heading">广汽回应现代合资内幕</div><div class="Date">2005-07-18 13:03:17</div>'
            f'<table width="100%"><tr><td class="Content">{paragraphs}</td></tr></table>'
            "<table><tr><td>编辑：\n金金</td><td>来源：\n21世纪经济报道</td><td>作者：宋怡 杨志华</td></tr>"
            f'</table><table width="100%">{related}</table></body></html>')
    r = extract(html.encode("gb18030"))
    assert (r.author, r.editor, r.source) == ("宋怡 杨志华", "金金", "21世纪经济报道")
    assert r.body_text.split("\n") == PROSE * 2


def test_plain_text_input_reads_credits_too() -> None:
    text = "\n".join(["某区法院发布典型案例", "来源：法治日报 发布时间：2022-02-13",
                      "本报讯（记者 王玥）" + PROSE[0], *PROSE[1:], "（通讯员 陈镕）"])
    r = extract_page(text.encode("utf-8"), URL, 200, {"Content-Type": "text/plain; charset=utf-8"})
    assert r.kind == "article" and r.author == "王玥 陈镕"
    assert r.body_text.startswith("本报讯（记者 王玥）") and "陈镕" not in r.body_text


def test_a_labelled_photographer_is_the_author_only_when_no_writer_is_named() -> None:
    byline = "来源：法治日报　摄影：王五　发布时间：2022-02-13 09:12"
    r = extract(page(PROSE, byline=byline))
    assert (r.author, r.provenance["author"]) == ("王五", "photo-byline")
    assert "摄影：王五" in r.byline_raw and "王五" not in r.body_text
    r = extract(page([*PROSE, "（记者 李四）"], byline=byline))
    assert (r.author, r.provenance["author"]) == ("李四", "credits")
    r = extract(page(PROSE, byline="来源：法治日报　作者：赵六　摄影：王五"))
    assert (r.author, r.provenance["author"]) == ("赵六", "byline")
    r = extract(page(PROSE, byline="来源：法治日报　图片：新华社　发布时间：2022-02-13"))
    assert r.author is None
