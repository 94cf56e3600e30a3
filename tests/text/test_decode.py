"""Decoding from raw bytes: every encoding lie the portals tell, and never an exception."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from govcrawl.text.decode import decode_body, normalise_label
from tests.conftest import FIXTURES, load_fixture

CODEC = {"gbk": "gb18030", "gb2312": "gb18030", "big5": "big5hkscs", "utf8": "utf-8"}
NAMES = "喆堃玥祎镕昇珺赟垚彧"  # GBK-only characters: strict GB2312 fails on them
ARTICLE = "甘肃省高级人民法院召开全省法院工作会议，部署扫黑除恶专项斗争和诉源治理工作。"


def truth(body: bytes, encoding: str) -> str:
    return body.decode(CODEC.get(encoding, encoding), errors="replace").lstrip("\ufeff")


@pytest.mark.parametrize("page", sorted(FIXTURES.glob("encoding/*.html")), ids=lambda p: p.stem)
def test_fixture_pages_decode_to_their_true_encoding(page):
    body, meta = load_fixture(page)
    decoded = decode_body(body, meta["headers"])
    assert decoded.text.lstrip("\ufeff") == truth(body, meta["true_encoding"])
    assert decoded.replaced == 0


def html(meta: str, text: str = ARTICLE) -> str:
    return f"<html><head>{meta}<title>{text[:6]}</title></head><body><p>{text}</p></body></html>"


def test_gb2312_label_over_gbk_only_characters_decodes_as_gb18030():
    body = html('<meta charset="gb2312">', ARTICLE + NAMES).encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    decoded = decode_body(body, {"Content-Type": "text/html; charset=gb2312"})
    assert decoded.encoding == "gb18030"
    assert decoded.reason == "meta"
    assert NAMES in decoded.text
    assert decoded.warnings == []


def test_utf8_bytes_under_gbk_labels_are_utf8_and_the_lie_is_reported():
    body = html('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode()
    decoded = decode_body(body, {"Content-Type": "text/html; charset=GBK"})
    assert decoded.encoding == "utf-8"
    assert decoded.reason == "utf8-valid"
    assert ARTICLE in decoded.text
    assert any("header declares GBK" in w for w in decoded.warnings)
    assert any("meta declares gb2312" in w for w in decoded.warnings)


@pytest.mark.parametrize("header", ["ISO-8859-1", "utf-8", "windows-1252"])
def test_gbk_body_under_a_wrong_header(header):
    body = html('<meta charset="gbk">').encode("gbk")
    decoded = decode_body(body, {"Content-Type": f"text/html; charset={header}"})
    assert decoded.encoding == "gb18030"
    assert ARTICLE in decoded.text


def test_header_and_meta_disagree_and_the_bytes_decide():
    body = html('<meta charset="big5">').encode("gbk")
    decoded = decode_body(body, {"Content-Type": "text/html; charset=gbk"})
    assert decoded.encoding == "gb18030"
    assert ARTICLE in decoded.text


def test_no_declaration_at_all_gbk():
    body = html("").encode("gbk")
    decoded = decode_body(body, {"Content-Type": "text/html"})
    assert (decoded.encoding, decoded.reason) == ("gb18030", "detected")
    assert decoded.confidence >= 0.5
    assert ARTICLE in decoded.text


def test_no_declaration_big5_is_told_from_gbk():
    traditional = "甘肅省高級人民法院召開全省法院工作會議，部署掃黑除惡專項鬥爭和訴源治理工作。"
    decoded = decode_body(html("", traditional).encode("big5"), None)
    assert decoded.encoding == "big5hkscs"
    assert traditional in decoded.text


def test_declared_big5():
    traditional = "臺灣高等法院新聞稿：檢察官偵結起訴。"
    body = html('<meta charset="big5">', traditional).encode("big5")
    decoded = decode_body(body, {"Content-Type": "text/html"})
    assert (decoded.encoding, decoded.reason) == ("big5hkscs", "meta")
    assert traditional in decoded.text


def test_bom_beats_a_gb_header():
    body = b"\xef\xbb\xbf" + html('<meta charset="gbk">').encode()
    decoded = decode_body(body, {"Content-Type": "text/html; charset=gbk"})
    assert (decoded.encoding, decoded.reason, decoded.confidence) == ("utf-8-sig", "bom", 1.0)
    assert decoded.text.startswith("<html>")


def test_utf16_bom():
    body = "\ufeff".encode("utf-16-le") + html("").encode("utf-16-le")
    decoded = decode_body(body, {"Content-Type": "text/html; charset=gbk"})
    assert decoded.reason == "bom"
    assert ARTICLE in decoded.text


def test_ascii_only_and_empty_bodies():
    assert decode_body(b"", None).text == ""
    decoded = decode_body(b"<html>plain</html>", {"Content-Type": "text/html"})
    assert (decoded.text, decoded.reason) == ("<html>plain</html>", "ascii")


def test_undecodable_bytes_are_replaced_counted_and_reported():
    body = html('<meta charset="gbk">').encode("gbk") + b"\xff\xff\x81"
    decoded = decode_body(body, {"Content-Type": "text/html; charset=gbk"})
    assert decoded.encoding == "gb18030"
    assert decoded.replaced >= 1
    assert "\ufffd" in decoded.text
    assert any("replaced" in w for w in decoded.warnings)


def test_header_name_is_case_insensitive():
    body = html("").encode("gbk")
    assert decode_body(body, {"content-type": "text/html; charset=gbk"}).reason == "header"


@pytest.mark.parametrize(
    ("label", "codec"),
    [("gb2312", "gb18030"), ("GBK", "gb18030"), ("x-gbk", "gb18030"), ("big5", "big5hkscs"),
     ("UTF8", "utf-8"), ("no-such-charset", None), ("", None)],
)
def test_label_normalisation(label, codec):
    assert normalise_label(label) == codec


def test_scrapy_trusts_a_wrong_header_and_we_do_not():
    """Pins the behaviour that makes our own decoder necessary (scrapy/scrapy#4933)."""
    body, meta = load_fixture(FIXTURES / "encoding" / "devset-011.html")
    scrapy_text = HtmlResponse(meta["url"], body=body, headers=meta["headers"]).text
    assert scrapy_text != truth(body, meta["true_encoding"])
    assert decode_body(body, meta["headers"]).text == truth(body, meta["true_encoding"])


def _reference_pages(testdata):
    for page in sorted((testdata / "devset" / "pages").glob("*.html")):
        meta = json.loads(page.with_suffix(".json").read_text("utf-8"))
        yield page.name, page.read_bytes(), meta["headers"], meta["true_encoding"]
    for page in sorted((testdata / "cwced" / "original").glob("*.html")):
        body = page.read_bytes()
        try:
            body.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
        match = re.match(rb'<text id="[^"]*" title="[^"]*" encoding="[^"]*">', body)
        if match:  # the corpus envelope is not part of the page
            body = body[match.end():].rsplit(b"</text>", 1)[0]
        yield page.name, body, {"Content-Type": "text/html"}, encoding


def test_every_devset_and_cwced_page_decodes_right(testdata):
    wrong = [name for name, body, headers, encoding in _reference_pages(testdata)
             if decode_body(body, headers).text.lstrip("\ufeff") != truth(body, encoding)]
    assert wrong == []


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=600),
    content_type=st.one_of(st.none(), st.text(max_size=40),
                           st.sampled_from(["text/html; charset=gbk", "text/html; charset=utf-16",
                                            "text/html; charset=\x00", "charset=big5"])),
)
def test_no_bytes_or_headers_make_decoding_raise(body, content_type):
    headers = None if content_type is None else {"Content-Type": content_type}
    decoded = decode_body(body, headers)
    assert isinstance(decoded.text, str)
    assert 0.0 <= decoded.confidence <= 1.0


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
                    min_size=1, max_size=80),
       prefix=st.binary(max_size=20))
def test_meta_declarations_inside_random_bytes_never_raise(text, prefix):
    body = prefix + b'<meta charset="' + text.encode("utf-8")[:30] + b'">' + text.encode("gbk")
    assert isinstance(decode_body(body, {"Content-Type": "text/html"}).text, str)
