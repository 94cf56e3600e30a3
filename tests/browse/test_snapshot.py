"""An archived page shown again: nothing in it runs or loads from elsewhere (pure, no server)."""

from __future__ import annotations

import lxml.html

from govcrawl.browse.snapshot import Capture, render_snapshot

CAPTURE = Capture(url="http://www.court.gov.cn/zixun/2024/1.html",
                  fetched_at="2024-05-01T08:00:00+00:00", status=200,
                  article_href="/govcrawl/articles/7")

PAGE = """<html><head><title>法院通报</title>
<script src="http://cdn.example/x.js"></script><script>steal()</script>
<link rel="stylesheet" href="http://cdn.example/site.css">
<meta http-equiv="refresh" content="0; url=http://evil.example/">
<base href="http://www.court.gov.cn/zixun/2024/">
<style>body { color: #333 }</style><style>@import url(http://cdn.example/more.css);</style>
</head>
<body onload="track()">
<h1 style="background: url(http://cdn.example/bg.png)">最高人民法院发布典型案例</h1>
<p onclick="x()">正文第一段。</p>
<img src="/images/stored.jpg" alt="已下载的图片"><img src="http://cdn.example/other.png" alt="未下载">
<img src="/images/stored.jpg" srcset="http://cdn.example/big.jpg 2x" alt="再次">
<iframe src="http://video.example/embed"></iframe><object data="http://x.example/f.swf"></object>
<video src="http://video.example/v.mp4" poster="http://video.example/p.jpg"></video>
<form action="http://www.court.gov.cn/search"><input name="q"><button>搜索</button></form>
<a href="javascript:alert(1)">字体</a> <a href="2.html">下一篇</a>
<svg><image href="http://cdn.example/s.svg"/></svg>
</body></html>"""


def _render(html: str = PAGE, images: dict[str, str] | None = None) -> str:
    stored = {"http://www.court.gov.cn/images/stored.jpg": "/govcrawl/-/media/3"}
    return render_snapshot(html, CAPTURE, stored if images is None else images)


def test_scripts_forms_frames_handlers_and_offsite_loads_are_removed():
    out = _render()
    page = lxml.html.document_fromstring(out)
    for tag in ("script", "iframe", "object", "embed", "form", "input", "button", "link",
                "base", "video", "svg"):
        assert page.find(f".//{tag}") is None, tag
    assert page.find(".//meta[@http-equiv]") is None
    for element in page.iter():
        for name, value in element.attrib.items():
            assert not name.startswith("on"), (element.tag, name)
            assert "cdn.example" not in value and "video.example" not in value, (name, value)
            assert "javascript:" not in value
    assert "@import" not in out and "url(" not in out.replace("http://", "")
    assert "body { color: #333 }" in out  # harmless page styles stay


def test_text_and_links_stay_and_point_at_the_original_site():
    """Links resolve as the captured page resolved them (against its <base>), absolute, so
    they lead to the original site and never to the browse server."""
    page = lxml.html.document_fromstring(_render())
    assert page.findtext(".//h1") == "最高人民法院发布典型案例"
    assert "正文第一段。" in page.text_content()
    links = {a.text: a.get("href") for a in page.iter("a")}
    assert links["下一篇"] == "http://www.court.gov.cn/zixun/2024/2.html"  # as <base> said
    assert links["字体"] is None


def test_images_come_from_the_archive_or_not_at_all():
    page = lxml.html.document_fromstring(_render())
    assert [(i.get("src"), i.get("alt")) for i in page.iter("img")] == [
        ("/govcrawl/-/media/3", "已下载的图片"), ("/govcrawl/-/media/3", "再次")]
    assert not list(lxml.html.document_fromstring(_render(images={})).iter("img"))


def test_banner_says_when_and_from_where_it_was_captured():
    page = lxml.html.document_fromstring(_render())
    assert page.get("lang") == "zh-CN"
    banner = page.get_element_by_id("govcrawl-snapshot-banner")
    assert page.find("body")[0] is banner
    text = banner.text_content()
    assert "2024-05-01T08:00:00+00:00" in text and CAPTURE.url in text and "HTTP 200" in text
    assert {a.get("href") for a in banner.iter("a")} == {CAPTURE.url, "/govcrawl/articles/7"}


def test_any_body_renders_a_page():
    for html in ("", "纯文本，没有标签", "<p>片段</p>", "<html><body></body></html>"):
        page = lxml.html.document_fromstring(_render(html))
        assert page.get_element_by_id("govcrawl-snapshot-banner") is not None
    assert "纯文本，没有标签" in _render("纯文本，没有标签")
