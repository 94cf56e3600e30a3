"""Damaged UTF-8 stays UTF-8 (a stray byte, a cut last character); damaged GBK stays GBK."""

from __future__ import annotations

import pytest

from govcrawl.extract import extract_page
from govcrawl.text.decode import decode_body
from tests.conftest import FIXTURES, load_fixture

ARTICLE = "甘肃省高级人民法院召开全省法院工作会议，部署扫黑除恶专项斗争和诉源治理工作。" * 8
PAGE = (f"<html><head><meta charset=\"utf-8\"><title>全省法院工作会议召开</title></head>"
        f"<body><h1>全省法院工作会议召开</h1><p>{ARTICLE}</p><p>{ARTICLE}</p></body></html>")
GBK_PAGES = sorted(p for p in FIXTURES.glob("encoding/*.html")
                   if load_fixture(p)[1]["true_encoding"] in ("gbk", "gb2312", "gb18030"))


@pytest.mark.parametrize("headers", [None, {"Content-Type": "text/html; charset=gbk"}])
def test_utf8_with_one_stray_byte_stays_utf8(headers):
    body = PAGE.encode()
    middle = body.index("扫黑除恶".encode()) + 3  # between two characters
    damaged = body[:middle] + b"\xff" + body[middle:]
    decoded = decode_body(damaged, headers)
    assert decoded.encoding == "utf-8"
    assert decoded.text == PAGE[:PAGE.index("扫黑除恶") + 1] + "\ufffd" + PAGE[
        PAGE.index("扫黑除恶") + 1:]
    assert decoded.replaced == 1
    assert any(f"damaged utf-8: 1 invalid byte sequence(s), the first at byte {middle}" in w
               for w in decoded.warnings)


def test_utf8_cut_mid_character_at_the_end_stays_utf8():
    body = PAGE.encode()[: -len("</p></body></html>")] + "治".encode()[:2]
    decoded = decode_body(body, {"Content-Type": "text/html"})
    assert (decoded.encoding, decoded.reason) == ("utf-8", "meta")
    assert decoded.text == PAGE[: -len("</p></body></html>")] + "\ufffd"
    assert decoded.replaced == 1
    assert any("damaged utf-8" in w for w in decoded.warnings)


def test_undeclared_damaged_utf8_says_so_in_its_reason():
    body = PAGE.replace('<meta charset="utf-8">', "").encode()
    decoded = decode_body(body[:100] + b"\x80" + body[100:], None)
    assert (decoded.encoding, decoded.reason) == ("utf-8", "utf8-damaged")


def test_a_page_extracted_from_damaged_utf8_counts_the_replaced_bytes():
    body = PAGE.encode()
    cut = body.index(b"<p>") + 3 + len("甘肃省".encode()) + 1  # inside 高
    page = extract_page(body[:cut] + body[cut + 2:], "http://fy.example.gov.cn/a/1.html")
    assert page.encoding == "utf-8" and page.replaced_bytes == 1
    assert page.title == "全省法院工作会议召开"
    assert "部署扫黑除恶专项斗争" in page.body_text
    assert any("damaged utf-8" in w for w in page.warnings)


@pytest.mark.parametrize("page", GBK_PAGES, ids=lambda p: p.stem)
def test_gbk_pages_with_a_few_invalid_bytes_still_decode_as_gbk(page):
    body, meta = load_fixture(page)
    middle = body.index(b"<", len(body) // 2)  # a character boundary
    damaged = body[:middle] + b"\xff" + body[middle:] + b"\xff"
    decoded = decode_body(damaged, meta["headers"])
    assert decoded.encoding == "gb18030"
    assert decoded.text == (body[:middle].decode("gb18030") + "\ufffd"
                            + body[middle:].decode("gb18030") + "\ufffd")
    assert decoded.replaced == 2


def test_a_few_gbk_characters_in_an_ascii_page_are_not_damaged_utf8():
    """The bad-per-good ratio, not only the per-KB budget, keeps a sparse GBK page GBK."""
    body = ("<html><body>" + "<p>notice</p>" * 400 + "<p>法院公告</p></body></html>").encode("gbk")
    assert len(body) > 4096  # the per-KB budget alone would allow the few invalid sequences
    decoded = decode_body(body, None)
    assert decoded.encoding == "gb18030"
    assert "法院公告" in decoded.text
