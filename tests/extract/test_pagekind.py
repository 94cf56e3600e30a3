import pytest

from govcrawl.extract.pagekind import classify_content, classify_response


@pytest.mark.parametrize(
    ("status", "body", "kind", "reason"),
    [
        (412, b"<script>$_ts=window['$_ts'];</script>", "challenge", "ruishu-412"),
        (200, b"<html><script>$_ts=window['$_ts'];</script></html>", "challenge", "ruishu-200"),
        (521, b"<script>document.cookie=('__jsl_clearance=1')</script>", "challenge", "jsl-521"),
        (512, b"<script>document.cookie='x'</script>", "challenge", "jsl-512"),
        (403, b"<html><h1>403 Forbidden</h1><center>openresty</center></html>", "blocked",
         "waf-403"),
        (403, "<p>您所在的地区无法访问</p>".encode(), "blocked", "geo-403"),
        (404, b"<h1>Not Found</h1>", "error", "http-404"),
        (500, b"oops", "error", "http-500"),
        (200, b"", "stub", "empty-page"),
    ],
)
def test_classify_response(status, body, kind, reason) -> None:
    got = classify_response(status, body, {"Content-Type": "text/html"})
    assert got is not None and (got.kind, got.reason) == (kind, reason)


def test_ordinary_page_needs_parsing() -> None:
    assert classify_response(200, b"<html><p>hello</p></html>", {}) is None


def test_binary_content_type() -> None:
    got = classify_response(200, b"%PDF-1.4", {"content-type": "application/pdf"})
    assert got is not None and (got.kind, got.reason) == ("other", "binary")


def test_content_kinds() -> None:
    common = {"body_size": 5000, "title": "x", "text": ""}
    assert classify_content(prose_chars=400, link_count=50, link_chars=800, text_chars=1500,
                            has_byline=True, **common).kind == "article"
    assert classify_content(prose_chars=0, link_count=30, link_chars=600, text_chars=700,
                            has_byline=False, **common).kind == "list"
    assert classify_content(prose_chars=0, link_count=0, link_chars=0, text_chars=5,
                            has_byline=False, **common).kind == "stub"
    soft = classify_content(prose_chars=0, link_count=1, link_chars=4, text_chars=30,
                            has_byline=False, body_size=900, title="提示",
                            text="对不起，您访问的页面不存在！")
    assert (soft.kind, soft.reason) == ("error", "soft-404")


def test_a_number_containing_404_is_not_a_soft_404():
    from govcrawl.extract.pagekind import _SOFT404_RE

    assert not _SOFT404_RE.search("全年查获非法砂石4044余吨，罚款14040元")
    assert not _SOFT404_RE.search("投入警力404人次，开展夜间巡逻404余次")
    assert _SOFT404_RE.search("404 页面")
    assert _SOFT404_RE.search("404 Not Found")
