"""Dialects on small hand-made list pages in each CMS family's documented shape."""

from __future__ import annotations

from govcrawl.portals.dialects import ListRequest, dialect_for
from govcrawl.portals.registry import portal_from_mapping


def portal(dialect: str, **extra):
    return portal_from_mapping({"id": f"t_{dialect}", "name": "测试", "dialect": dialect,
                                "start_urls": ["http://127.0.0.1/t/index.shtml"], **extra})


TRS_LIST = """<html><body><div class="commonList_con"><ul class="li_line">
<li><a href="./202103/t20210305_510599.shtml">最高检发布指导性案例</a><span>2021-03-05</span></li>
<li><a href="./202103/t20210304_510500.shtml" title="检察机关依法履职">检察机关…</a><span>2021-03-04</span></li>
<li><a href="/t/about.html">关于我们</a></li>
</ul></div>
<script>createPageHTML(3, 0, "index", "shtml");</script></body></html>"""


def test_trs_rows_dates_and_createpagehtml_paging():
    dialect = dialect_for(portal("trs"))
    request = ListRequest("http://127.0.0.1/t/index.shtml", "http://127.0.0.1/t/index.shtml")
    page = dialect.parse_list(portal("trs"), request, TRS_LIST, len(TRS_LIST))
    assert [(r.url, r.date) for r in page.rows] == [
        ("http://127.0.0.1/t/202103/t20210305_510599.shtml", "2021-03-05"),
        ("http://127.0.0.1/t/202103/t20210304_510500.shtml", "2021-03-04"),
    ]
    assert page.rows[1].title == "检察机关依法履职"
    assert page.total_pages == 3
    assert [n.url for n in page.next] == ["http://127.0.0.1/t/index_1.shtml"]  # not index_2
    last = ListRequest("http://127.0.0.1/t/index_2.shtml", request.channel, page=2)
    assert dialect.parse_list(portal("trs"), last, TRS_LIST.replace("3, 0", "3, 2"),
                              2000).next == []


def test_trs_stub_page_past_the_end():
    request = ListRequest("http://127.0.0.1/t/index_9.shtml", "http://127.0.0.1/t/index.shtml", 9)
    stub = "<html><body></body></html>"
    assert dialect_for(portal("trs")).parse_list(portal("trs"), request, stub, len(stub)).is_stub


def test_generic_follows_the_next_link_and_needs_a_pattern():
    html = """<ul><li><a href="/a/1.html">一</a></li><li><a href="/a/2.html">二</a></li></ul>
    <a href="/list_2.html">下一页</a><a href="http://elsewhere.example/a/3.html">外站</a>"""
    p = portal("generic", article_pattern=r"/a/\d+\.html$")
    request = ListRequest("http://127.0.0.1/list.html", "http://127.0.0.1/list.html")
    page = dialect_for(p).parse_list(p, request, html, len(html))
    assert [r.url for r in page.rows] == ["http://127.0.0.1/a/1.html", "http://127.0.0.1/a/2.html"]
    assert [n.url for n in page.next] == ["http://127.0.0.1/list_2.html"]


def test_chinacourt_pages_up_to_the_last_page_link():
    html = """<div id="list"><li><a href="/article/detail/2022/05/id/6706278.shtml">法院</a></li></div>
    <div class="paginationControl"><a href="/article/index/id/MzAw/page/2.shtml">下一页</a>
    <a href="/article/index/id/MzAw/page/4.shtml">尾页</a></div>"""
    p = portal("chinacourt", start_urls=["http://127.0.0.1/article/index/id/MzAw.shtml"])
    channel = "http://127.0.0.1/article/index/id/MzAw.shtml"
    page = dialect_for(p).parse_list(p, ListRequest(channel, channel), html, len(html))
    assert [r.url for r in page.rows] == ["http://127.0.0.1/article/detail/2022/05/id/6706278.shtml"]
    assert page.total_pages == 4
    assert [n.url for n in page.next] == ["http://127.0.0.1/article/index/id/MzAw/page/2.shtml"]
    fourth = ListRequest("http://127.0.0.1/article/index/id/MzAw/page/4.shtml", channel, 3)
    assert dialect_for(p).parse_list(p, fourth, html, len(html)).next == []


def test_hanweb_posts_to_dataproxy_and_pages_by_totalrecord():
    p = portal("hanweb", start_urls=["http://127.0.0.1/col/col282/index.html?uid=423656"])
    channel = "http://127.0.0.1/col/col282/index.html?uid=423656&pageNum=1"
    column = "<script>var webid = '3'; perpage: 2; proxyUrl: '/module/web/jpage/dataproxy.jsp'</script>"
    first = dialect_for(p).parse_list(p, ListRequest(channel, channel), column, len(column))
    [proxy] = first.next
    assert proxy.method == "POST"
    assert proxy.url == "http://127.0.0.1/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=2&perpage=2"
    assert proxy.formdata["columnid"] == "282" and proxy.formdata["unitid"] == "423656"
    assert proxy.formdata["webid"] == "3"
    xml = """<datastore><totalrecord>3</totalrecord><recordset>
    <record><![CDATA[<li><a href="/art/2022/5/10/art_282_1.html" title="甲">甲</a><span>2022-05-10</span></li>]]></record>
    <record><![CDATA[<li><a href="/art/2022/5/9/art_282_2.html">乙</a><span>2022-05-09</span></li>]]></record>
    </recordset></datastore>"""
    page = dialect_for(p).parse_list(p, proxy, xml, len(xml))
    assert [(r.url, r.date) for r in page.rows] == [
        ("http://127.0.0.1/art/2022/5/10/art_282_1.html", "2022-05-10"),
        ("http://127.0.0.1/art/2022/5/9/art_282_2.html", "2022-05-09")]
    assert page.total_pages == 2
    [second] = page.next
    assert "startrecord=3&endrecord=4" in second.url
    last = dialect_for(p).parse_list(p, second, xml.replace("art_282_1", "art_282_3"), 500)
    assert last.next == []
