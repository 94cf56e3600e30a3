"""extract_page on raw-byte fixtures (bytes + sidecar headers), one documented case each."""

import json
from pathlib import Path

import pytest

from govcrawl.extract import article as A
from govcrawl.text.decode import decode_body
from govcrawl.text.repair import repair_document

NON_ARTICLES = [
    ("ruishu_412", "challenge", "ruishu-412"),
    ("jsl_521", "challenge", "jsl-521"),
    ("jsl_512", "challenge", "jsl-512"),
    ("challenge_ruishu_200", "challenge", "ruishu-200"),
    ("waf_403", "blocked", "waf-403"),
    ("geo_403", "blocked", "geo-403"),
    ("http_404", "error", "http-404"),
    ("soft_404", "error", "soft-404"),
    ("trs_index_stub", "stub", "empty-page"),
    ("list_page", "list", "list"),
    ("binary_pdf", "other", "binary"),
]


@pytest.mark.parametrize(("stem", "kind", "reason"), NON_ARTICLES)
def test_non_articles_are_classified_not_parsed(extract_fixture, stem, kind, reason) -> None:
    r = extract_fixture(stem)
    assert (r.kind, r.reason) == (kind, reason)
    assert r.title is None and r.body_text is None


def test_farm_pinyin_a_mirror(extract_fixture) -> None:
    r = extract_fixture("farm_pinyin_a")
    assert r.kind == "article" and r.is_mirror and r.script == "traditional"
    assert r.title == "最高检:以高质量的检察履职实绩为党分忧为民解难"
    assert (r.source, r.author, r.editor) == ("中国长安网", None, "李婷")
    assert (r.published_at, r.published_precision) == ("2022-05-10", "day")
    assert "(" not in r.body_text.split("\n")[0] and "辄" not in r.body_text
    assert "牵头部门:第一检察厅" in r.body_text  # a label-like body phrase stays body
    assert "實績" in r.body_original and "实绩" in r.body_text
    assert "字号" not in r.body_text and "2024" not in (r.published_at or "")


def test_pinyin_b_glued_date(extract_fixture) -> None:
    r = extract_fixture("farm_pinyin_b_glued_date")
    assert r.is_mirror
    assert (r.source, r.published_at) == ("法治日报", "2022-03-04T12:39:00+08:00")
    assert r.published_precision == "second" and r.author is None


def test_byline_at_end_inside_container_gbk(extract_fixture) -> None:
    r = extract_fixture("farm_byline_at_end_gbk")
    assert r.encoding == "gb18030"
    assert (r.author, r.editor) == ("郑秀英 沈志强 袁振华", "孙佳怡")
    assert "编辑" not in r.body_text.split("\n")[-1]
    assert "/p>" not in r.body_text


def test_credits_paragraph_feeds_author(extract_fixture) -> None:
    r = extract_fixture("legaldaily_credits_gb2312")
    assert r.author == "王玥 陈镕" and r.provenance["author"] == "credits"
    assert "通讯员" not in r.body_text and "玥" in r.byline_raw


def test_stale_alt_and_commented_editor(extract_fixture) -> None:
    r = extract_fixture("stale_alt_commented_editor")
    assert r.published_at == "2022-10-18T08:30:00+08:00"
    assert r.source == "韶关市委政法委" and r.editor is None
    assert r.title == "韶关市扎实推进平安建设"


def test_comment_wrapped_value_and_meta_precision(extract_fixture) -> None:
    r = extract_fixture("hanweb_comment_wrapped")
    assert r.source == "盐城市委政法委"
    # the page shows a date only; meta PubDate has minutes but the displayed precision wins
    assert (r.published_at, r.published_precision) == ("2022-09-27", "day")
    assert "扫一扫" not in r.body_text and "打印" not in r.body_text


def test_pv_placeholder_and_unlabelled_date(extract_fixture) -> None:
    r = extract_fixture("trs_pv_placeholder")
    assert r.published_at == "2021-10-20T14:39:00+08:00" and r.source == "华容县委政法委"
    assert r.editor == "周楠" and r.title == "华容县“网格+警格”守护群众平安"


def test_empty_source_is_none(extract_fixture) -> None:
    r = extract_fixture("vsb_empty_source")
    assert r.source is None and r.author == "程雪梅" and r.published_at == "2018-05-17"


def test_numeric_meta_author_ignored(extract_fixture) -> None:
    r = extract_fixture("numeric_meta_author")
    assert (r.author, r.editor) == ("曹志强", "刘洋")
    assert r.published_at == "2022-05-30T07:02:00+08:00"


def test_br_in_byline_cjk_minute(extract_fixture) -> None:
    r = extract_fixture("byline_br_cjk_minute")
    assert r.author == "梁佳怡 林俊杰" and r.source == "常德市中级人民法院"
    assert r.published_at == "2019-10-31T23:00:00+08:00"
    assert r.title == "武陵区人民法院审结一起诈骗案"  # rendered twice, reported once


def test_anonymous_author_and_updated_time(extract_fixture) -> None:
    r = extract_fixture("dongyi_anonymous_updated")
    assert r.author is None and r.published_at == "2022-04-18T09:30:00+08:00"


def test_big5_page_simplified(extract_fixture) -> None:
    r = extract_fixture("big5_mirror")
    assert r.encoding.startswith("big5") and r.script == "traditional"
    assert (r.title, r.source, r.author) == ("浈江区法院巡回审判进乡村", "中国法院网", "陈春燕")
    assert r.published_at == "2022-05-10T10:23:00+08:00"


def test_fullwidth_digits(extract_fixture) -> None:
    r = extract_fixture("fullwidth_digits")
    assert r.published_at == "2022-06-18T11:20:00+08:00" and r.author == "刘宏伟"


def test_simplified_page_names_not_converted(extract_fixture) -> None:
    r = extract_fixture("simplified_name_kept")
    assert r.editor == "邓昇" and r.script == "simplified"
    assert (r.published_at, r.published_precision) == ("2023-08-09", "day")


def test_media_credits_top_and_subheads(extract_fixture) -> None:
    r = extract_fixture("media_credits_top_gbk")
    assert (r.author, r.editor) == ("段彩云", "贾静怡")  # 审核 and 文章录入 are not editors
    assert r.source == "本院" and r.published_at == "2023-04-05T09:08:00+08:00"
    lines = r.body_text.split("\n")
    assert lines[0].startswith("4月3日，记者从")
    assert "【基本案情】" in lines and "段彩云" not in r.body_text
    assert not any("字体" in x or "纠错" in x for x in lines)
    assert r.title == "某某市检察院发布典型案例"
    media = {(m.kind, m.url, m.text) for m in r.media}
    assert ("image", "http://www.example-jcy.gov.cn/images/2023/04/a.jpg", "现场照片") in media
    assert ("attachment", "http://www.example-jcy.gov.cn/gzdt/files/案例汇编.pdf",
            "案例汇编.pdf") in media
    assert ("attachment", "http://www.example-jcy.gov.cn/files/b.docx", "申请表") in media
    assert len(r.media) == 3


def test_wechat_chrome_staff_ids_title_suffix(extract_fixture) -> None:
    r = extract_fixture("wechat_chrome_staffid")
    assert r.author == "李四 王五 赵六" and r.editor == "张编辑"
    assert (r.published_at, r.published_precision) == ("2022-05-10", "day")
    assert r.title == "平安建设推进会召开" and r.provenance["title"] == "title-tag"
    assert r.body_text.startswith("第0段") and r.body_text.endswith("新成效。")


def test_url_date_last_resort(extract_fixture) -> None:
    r = extract_fixture("title_suffix_only_url_date")
    assert r.published_at == "2022-05-11" and r.provenance["published_at"] == "url"
    assert "published-from-url" in r.warnings
    assert r.title == "法治宣传进社区活动举行"


def test_portal_selectors_are_most_trusted(extract_fixture) -> None:
    sel = {"title": ".x-head", "source": ".x-src", "author": ".x-who",
           "published_at": ".x-when", "body": ".x-body", "editor": ".x-edit"}
    r = extract_fixture("portal_selectors", sel)
    assert (r.title, r.source, r.author, r.editor) == ("某区政法委召开会议", "某区政法委",
                                                       "张三 李四", "李编辑")
    assert r.published_at == "2022-05-10T08:00:00+08:00"
    assert r.body_text.startswith("第0段") and "不应被选中" not in r.body_text
    assert set(r.provenance.values()) == {"selector"}
    fallback = extract_fixture("portal_selectors")
    assert fallback.source != "某区政法委"


@pytest.mark.parametrize("stem", ["big5_mirror", "byline_br_cjk_minute", "farm_pinyin_a",
                                  "hanweb_comment_wrapped", "list_page", "media_credits_top_gbk",
                                  "stale_alt_commented_editor", "trs_pv_placeholder"])
def test_the_one_walk_reads_the_page_text_as_inline_text_does(stem) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "extract"
    headers = json.loads((fixtures / f"{stem}.json").read_text(encoding="utf-8")).get("headers")
    text = decode_body((fixtures / f"{stem}.html").read_bytes(), headers).text
    root = A.parse_html(repair_document(text).text)
    page = A.read_page_text(root)
    start = root.find("body")
    assert page.text == A.inline_text(start if start is not None else root)
    assert page.blocks[0][0] is start and len(page.blocks) == len(page.prose)
