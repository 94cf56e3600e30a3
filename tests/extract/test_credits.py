"""Credit lines (记者/通讯员/文/摄 …) as Chinese news prints them in the body."""

import pytest

from govcrawl.extract.byline import fold_text, parse_byline
from govcrawl.extract.credits import ending_credit, leading_credit, merge_credits, parse_credits
from govcrawl.extract.names import person_names


def people(credit):
    return None if credit is None else (credit.author, credit.editor, credit.photographer)


@pytest.mark.parametrize(
    ("text", "author", "editor", "photographer"),
    [
        # outlets before the role
        ("光明日报记者 王建宏 张文攀", "王建宏 张文攀", None, None),
        ("□ 本报记者 葛灵丹", "葛灵丹", None, None),
        ("新华日报·交汇点记者 徐睿翔", "徐睿翔", None, None),
        ("整合 新华日报·交汇点记者 徐睿翔", "徐睿翔", None, None),
        ("新华网黑龙江频道 记者 伊琳 李清芬", "伊琳 李清芬", None, None),
        ("（总台记者 张倩）", "张倩", None, None),
        ("(信报记者 蔡雪婧)", "蔡雪婧", None, None),
        ("本报驻京记者 张三", "张三", None, None),
        ("本报实习生 刘国栋 周炜 本报记者 王燕平 方云凤", "刘国栋 周炜 王燕平 方云凤", None, None),
        # tails that are not names
        ("新京报记者 彭冲 山东冠县报道", "彭冲", None, None),
        ("记者 张三 通讯员 李四 报道", "张三 李四", None, None),
        ("本报记者罗科苏盈发自北京", "罗科苏盈", None, None),
        ("顶端新闻·河南商报记者马俊峰/文受访者供图", "马俊峰", None, None),
        ("（姚峰 上海报道）", "姚峰", None, None),
        # 文 / 执笔人 / parenthesised
        ("文/张三", "张三", None, None),
        ("文 | 张三", "张三", None, None),
        ("文：眉间尺", "眉间尺", None, None),
        ("执笔人：闵乐夫 赵兰波 刘韬", "闵乐夫 赵兰波 刘韬", None, None),
        ("（记者 胡晓蓉）", "胡晓蓉", None, None),
        ("（本报记者 张三 通讯员 李四）", "张三 李四", None, None),
        ("（通讯员 陈镕）", "陈镕", None, None),
        ("（编辑 王五）", None, "王五", None),
        # 摄 = photographer, kept apart from the writer
        ("蔡雪婧/摄", None, None, "蔡雪婧"),
        ("记者 张三 摄", None, None, "张三"),
        ("摄影 李四", None, None, "李四"),
        ("张三/文 李四/摄", "张三", None, "李四"),
        ("文/张三 图/李四", "张三", None, "李四"),
    ],
)
def test_credits_only_paragraph(text, author, editor, photographer) -> None:
    assert people(parse_credits(text)) == (author, editor, photographer)


@pytest.mark.parametrize(
    "text",
    [
        "记者手记",  # a column, not 记者 + a name glued to it
        "记者调查",
        "本报记者从市公安局获悉",
        "记者来到现场看到",
        "本报北京1月1日电",
        "受访者供图",  # nobody named
        "（完）",
        "（2022年2月13日）",
        "（北京）",  # a bare name is no credit in the middle of the text
        "（袁源）",
        "（上海报道）",
        "央视新闻 北京报道",  # not a personal name before the dateline
        "（新华社）",
        "（原标题：平安建设推进会召开）",
    ],
)
def test_not_a_credits_paragraph(text: str) -> None:
    assert parse_credits(text) is None


@pytest.mark.parametrize(
    ("text", "author"),
    [
        ("本报讯（记者 王玥 通讯员 陈镕）近日，某区法院审结一起案件。", "王玥 陈镕"),
        ("新华社北京1月1日电（记者 张三、李四）记者1日从公安部获悉，", "张三 李四"),
        ("据新华社拉萨电（记者 格桑边觉）记者近日从自治区农业农村厅获悉，", "格桑边觉"),
        ("人民网北京2月13日电 （记者 王五）近日，", "王五"),
        ("（记者 张三）记者近日从市检察院获悉，", "张三"),
    ],
)
def test_dateline_credit(text: str, author: str) -> None:
    assert leading_credit(fold_text(text)).author == author


@pytest.mark.parametrize(
    "text",
    ["他说（记者 张三）是这样的。", "（上接第一版）近日，某区法院审结一起案件。",
     "本报讯 近日，记者（张三）走访了", "本报讯（完）"],
)
def test_no_dateline_credit(text: str) -> None:
    assert leading_credit(fold_text(text)) is None


@pytest.mark.parametrize(
    ("text", "author", "alone"),
    [
        ("推动云南工业高质量发展。（记者 胡晓蓉）", "胡晓蓉", False),
        ("所有的改革难道不都是利益再分配的过程吗？”（姚峰 上海报道）", "姚峰", False),
        ("过一个平安、祥和、温馨、廉洁的新春佳节。（常书香 马丹阳 ）", "常书香 马丹阳", False),
        ("（袁源）", "袁源", True),
        ("（王建宏、张文攀）", "王建宏 张文攀", True),
        ("（欧阳明）", "欧阳明", True),
    ],
)
def test_ending_credit(text: str, author: str, alone: bool) -> None:
    credit, only = ending_credit(fold_text(text))
    assert (credit.author, only) == (author, alone)


@pytest.mark.parametrize(
    "text",
    [
        "会议在北京召开。（北京）",  # a place
        "工作会议在南京召开（江苏）",
        "双方当场达成和解。（完）",
        "就此结束。（未完待续）",
        "双方当场达成和解。（2022年1月1日）",
        "该案当事人为李某某。（李某某）",  # a withheld name is a party, not the reporter
        "文中当事人均为化名。（化名）",
        "据了解（新华社）",  # an organisation
        "（人民日报）",
        "（上）",
        "（全文）",
        "（图）",
        "指导这支乐队的是音乐老师（王芳）",  # explains a word, does not close the text
    ],
)
def test_no_ending_credit(text: str) -> None:
    assert ending_credit(fold_text(text)) == (None, False)


def test_editor_ending_is_no_author() -> None:
    credit, alone = ending_credit(fold_text("双方当场达成和解。（编辑 王五）"))
    assert (credit.author, credit.editor, alone) == (None, "王五", False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("袁源", "袁源"), ("常书香 马丹阳", "常书香 马丹阳"), ("司马光", "司马光"),
     ("江苏", None), ("上海", None), ("上海市", None), ("新华社", None), ("公安局", None),
     ("张三李四王五赵六", None), ("张", None), ("Alice", None), ("李某", None)],
)
def test_person_names(text: str, expected: str | None) -> None:
    assert person_names(text) == expected


def test_merged_credits_keep_every_person_once() -> None:
    merged = merge_credits([parse_credits("本报实习生 刘国栋 周炜"),
                            parse_credits("本报记者 王燕平 刘国栋"), parse_credits("蔡雪婧/摄")])
    assert (merged.author, merged.photographer) == ("刘国栋 周炜 王燕平", "蔡雪婧")


def test_bracketed_name_before_the_source_label() -> None:
    b = parse_byline(fold_text("BUSINESS.SOHU.COM 2004年7月16日08:19 [ 黄宇 ]\ue5c2 来源：[ 国际金融报 ]"))
    assert (b.author, b.source) == ("黄宇", "国际金融报")
    b = parse_byline(fold_text("[ 打印 ] 来源：新华社"))
    assert (b.author, b.source) == (None, "新华社")
    b = parse_byline(fold_text("[ 黄宇 ] 来源：新华社 作者：张三"))
    assert b.author == "张三"  # a labelled author wins over the bracket
