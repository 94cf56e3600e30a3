"""Deep and oversized documents: nothing silently dropped, every cut named in the warnings."""

from __future__ import annotations

import pytest

from govcrawl.extract import article as A
from govcrawl.extract import page as page_module
from govcrawl.extract.page import extract_page
from tests.conftest import FIXTURES, load_fixture

URL = "http://fy.example.gov.cn/a/20221102_1.html"
TITLE = "全省法院工作会议召开"
PARA = "甘肃省高级人民法院召开全省法院工作会议，部署扫黑除恶专项斗争和诉源治理工作。"


def page_html(body: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{TITLE}</title></head><body>"
            f"<h1>{TITLE}</h1>{body}<p>文章结尾。</p></body></html>").encode()


@pytest.mark.parametrize("depth", [300, 1500, 3000])
def test_deeply_nested_content_is_kept_and_the_flattening_reported(depth):
    """300: past libxml2's default 255 levels; 1500: past Python's recursion limit in the
    walkers; 3000: past libxml2's limit even with huge_tree."""
    body = page_html("<div>" * depth + f"<p>{PARA}</p><p>第二段：{PARA}</p>" + "</div>" * depth)
    page = extract_page(body, URL)
    assert page.kind == "article"
    lines = page.body_text.splitlines()
    assert lines[lines.index(PARA) + 1] == f"第二段：{PARA}"  # both kept, still two lines
    assert page.title == TITLE
    assert any(w.startswith(("html-flattened", "html-too-deep")) for w in page.warnings)
    assert not any(w.startswith("html-cut") for w in page.warnings)


@pytest.mark.parametrize("count", [300, 3000])
def test_unclosed_font_tags_keep_every_paragraph(count):
    body = page_html("<div id='zoom'>" + "".join(
        f"<font color='#000'><p>第{i}段：{PARA}</p>" for i in range(count)) + "</div>")
    page = extract_page(body, URL)
    lines = page.body_text.splitlines()
    assert [line for line in lines if line.startswith("第")] == [
        f"第{i}段：{PARA}" for i in range(count)]
    assert page.warnings  # the nesting was flattened or the font tags removed, and said so


def test_a_document_over_the_tag_budget_is_truncated_with_a_warning():
    text = page_html("".join(f"<p>第{i}段：{PARA}</p>" for i in range(40))).decode()
    parsed = A.parse_document(text, max_tags=30)
    kept = [p.text for p in parsed.root.iter("p")]
    assert 10 <= len(kept) < 40 and kept[0] == f"第0段：{PARA}"
    end = [i for i, c in enumerate(text) if c == "<"][30]  # the 31st tag is not read
    assert parsed.warnings == [f"html-truncated: {text.count('<')} tags, over the budget of 30; "
                               f"only the first {end} characters were parsed"]


def test_an_oversized_body_is_cut_at_a_character_boundary_with_a_warning(monkeypatch):
    monkeypatch.setattr(page_module, "MAX_BODY_BYTES", 3000)
    body = page_html("".join(f"<p>第{i}段：{PARA}</p>" for i in range(40))).replace(
        b"utf-8", b"gbk").decode().encode("gbk")
    assert len(body) > 3000
    page = extract_page(body, URL)
    assert page.encoding == "gb18030" and page.replaced_bytes == 0
    assert any(w.startswith(f"page-truncated: {len(body)} bytes, over the budget of 3000")
               for w in page.warnings)
    assert f"第0段：{PARA}" in page.body_text.splitlines()
    assert f"第39段：{PARA}" not in page.body_text


def test_one_paragraph_too_long_for_the_body_budget_is_not_cut_inside_a_character(monkeypatch):
    body = page_html(f"<p>{PARA * 2000}</p>")  # 240 KB of text without an ASCII byte
    start = body.index(b"<p>") + 3
    monkeypatch.setattr(page_module, "MAX_BODY_BYTES", start + 70001)  # inside a character
    page = extract_page(body, URL)
    assert page.encoding == "utf-8" and page.replaced_bytes == 0
    last = page.body_text.splitlines()[-1]
    assert last == (PARA * 2000)[:70001 // 3]  # the whole characters before the limit
    assert any(w.startswith(f"page-truncated: {len(body)} bytes") for w in page.warnings)


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("encoding/*.html")), ids=lambda p: p.stem)
def test_ordinary_pages_get_no_parse_warning(fixture):
    body, meta = load_fixture(fixture)
    page = extract_page(body, meta["url"], headers=meta["headers"])
    assert not [w for w in page.warnings if w.startswith(("html-", "page-truncated"))]


def test_a_text_node_past_libxml2s_10_mb_limit_is_kept():
    text = "<html><body><p>" + "法" * 3_600_000 + "</p><p>结尾</p></body></html>"  # 10.8 MB
    parsed = A.parse_document(text)
    assert [len(p.text) for p in parsed.root.iter("p")] == [3_600_000, 2]
    assert parsed.warnings == []
