"""List pages of every dialect yield exactly the portal's articles, in order, as documented."""

from __future__ import annotations

import math
import re
from urllib.parse import urlencode, urljoin

import lxml.html

from govcrawl.simulator import Simulator
from govcrawl.simulator.corpus import HANWEB

PAGE_COUNT = re.compile(r"""createPageHTML\s*\(\s*(?:['"][^'"]*['"]\s*,\s*)?(\d+)""")


def _truth_urls(sim: Simulator, portal_id: str) -> list[str]:
    return [a["url"] for a in sim.iter_articles(portal_id)]


def _links(html: bytes, base: str, selector: str, encoding: str = "utf-8") -> list[str]:
    doc = lxml.html.fromstring(html.decode(encoding))
    return [urljoin(base, a.get("href")) for a in doc.cssselect(selector)]


def _start(sim: Simulator, portal_id: str) -> str:
    return next(p for p in sim.truth_portals() if p["id"] == portal_id)["start_urls"][0]


def test_trs_pages_follow_create_page_html_and_end_in_stubs(sim: Simulator, get) -> None:
    start = _start(sim, "spp")
    first = get(start)
    count = int(PAGE_COUNT.search(first.body.decode()).group(1))
    assert count == math.ceil(47 / 20)
    found: list[str] = []
    for i in range(count):
        url = start if i == 0 else start.replace("index.shtml", f"index_{i}.shtml")
        resp = get(url)
        assert resp.status == 200
        assert f"createPageHTML({count}, {i}, " in resp.body.decode()
        found += _links(resp.body, url, "div.commonList_con ul.li_line li a")
        spans = lxml.html.fromstring(resp.body.decode()).cssselect("ul.li_line li span")
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", s.text) for s in spans)
    assert found == _truth_urls(sim, "spp")
    stub = get(start.replace("index.shtml", f"index_{count}.shtml"))
    assert stub.status == 200 and len(stub.body) < 600
    assert get(start.replace("index.shtml", "index_0.shtml")).status == 404


def test_trs_url_date_sometimes_differs_from_displayed_date(sim: Simulator) -> None:
    mismatched = 0
    for art in sim.iter_articles("spp"):
        tdate = re.search(r"/t(\d{8})_", art["url"]).group(1)
        mismatched += tdate != art["published_at"][:10].replace("-", "")
    assert 0 < mismatched < 47


def test_chinapeace_lists(sim: Simulator, get) -> None:
    start = _start(sim, "changan")
    first = get(start)
    count = int(PAGE_COUNT.search(first.body.decode()).group(1))
    assert count == math.ceil(47 / 30)
    found = []
    for i in range(count):
        url = start if i == 0 else start.replace("index.shtml", f"index_{i}.shtml")
        found += _links(get(url).body, url, "div.w1200.bgfff div.list_box_left li a")
    assert found == _truth_urls(sim, "changan")
    assert all(re.search(r"/chinapeace/c100007/\d{4}-\d{2}/\d{2}/content_\d+\.shtml$", u)
               for u in found)


def test_hanweb_column_has_no_rows_and_dataproxy_pages(sim: Simulator, get) -> None:
    col = _start(sim, "jszf")
    page = get(col)
    assert "/art/" not in page.body.decode()
    assert "columnid:282" in page.body.decode() and "unitid:423656" in page.body.decode()
    proxy = urljoin(col, "/jszf/module/web/jpage/dataproxy.jsp")
    form = urlencode(HANWEB).encode()
    found: list[str] = []
    start = 1
    while True:
        q = urlencode({"startrecord": start, "endrecord": start + 44, "perpage": 15})
        resp = get(f"{proxy}?{q}", method="POST", body=form)
        text = resp.body.decode()
        assert int(re.search(r"<totalrecord>(\d+)</totalrecord>", text).group(1)) == 47
        rows = re.findall(r"<record><!\[CDATA\[(.*?)\]\]></record>", text, re.S)
        if not rows:
            break
        assert len(rows) == min(45, 47 - start + 1)
        for row in rows:
            found += _links(row.encode(), col, "li a")
        start += 45
    assert found == _truth_urls(sim, "jszf")
    assert all(re.search(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_282_\d+\.html$", u) for u in found)
    wrong = dict(HANWEB, columnid="999")
    resp = get(f"{proxy}?startrecord=1&endrecord=45&perpage=15", method="POST",
               body=urlencode(wrong).encode())
    assert "<totalrecord>0</totalrecord>" in resp.body.decode()
    assert "<record>" not in resp.body.decode()


def test_founder_next_links(sim: Simulator, get) -> None:
    url: str | None = _start(sim, "fzw")
    found: list[str] = []
    pages = 0
    while url:
        resp = get(url)
        assert resp.status == 200
        pages += 1
        found += _links(resp.body, url, "div.list li a", "gbk")
        doc = lxml.html.fromstring(resp.body.decode("gbk"))
        nxt = [a.get("href") for a in doc.cssselect("div.page a") if a.text == "下一页"]
        url = urljoin(url, nxt[0]) if nxt else None
    assert pages == math.ceil(47 / 25)
    assert found == _truth_urls(sim, "fzw")
    assert all(u.endswith("?node=5955") for u in found)


def test_chinacourt_last_page_link(sim: Simulator, get) -> None:
    start = _start(sim, "court")
    doc = lxml.html.fromstring(get(start).body.decode())
    last = [a.get("href") for a in doc.cssselect("div.paginationControl a") if a.text == "尾页"]
    n = math.ceil(47 / 20)
    assert last and last[0].endswith(f"/page/{n}.shtml")
    found = []
    for i in range(1, n + 1):
        url = start if i == 1 else urljoin(start, last[0].replace(f"/page/{n}.", f"/page/{i}."))
        found += _links(get(url).body, url, "#list.font14.dian_a li .left a")
    assert found == _truth_urls(sim, "court")
    assert get(urljoin(start, last[0].replace(f"/page/{n}.", f"/page/{n + 1}."))).status == 404


def test_generic_next_chain_ends(sim: Simulator, get) -> None:
    for pid, enc in (("county", "gbk"), ("twfx", "big5"), ("farm", "utf-8")):
        url: str | None = _start(sim, pid)
        found: list[str] = []
        seen = set()
        while url:
            assert url not in seen
            seen.add(url)
            resp = get(url)
            assert resp.status == 200
            text = resp.body.decode(enc)
            found += _links(resp.body, url, "ul.news_list li a", enc)
            doc = lxml.html.fromstring(text)
            nxt = [a.get("href") for a in doc.cssselect("div.pages a")
                   if a.text in ("下一页", "下一頁")]
            url = urljoin(url, nxt[0]) if nxt else None
        assert len(seen) == math.ceil(47 / 15 if pid != "farm" else 47 / 20)
        assert found == _truth_urls(sim, pid), pid


def test_robots_txt(get) -> None:
    from govcrawl.simulator import FaultPlan

    plan = FaultPlan.parse("robots=0.1,crawl-delay=1.5,robots-disallow=/search/", seed=3)
    with Simulator(size=20, seed=3, faults=plan) as s:
        text = get(s.url("/robots.txt")).body.decode()
        assert text.startswith("User-agent: *\n")
        assert "Crawl-delay: 1.5" in text
        assert "Disallow: /spp/search/" in text
        excluded = [a for p in s.truth()["portals"] for a in p["articles"] if a["fault"] == "robots"]
        assert excluded
        for art in excluded:
            assert f"Disallow: {art['url_path'].split('?')[0]}\n" in text
            assert art["expected_kind"] == "skipped"
        own = get(s.url("/court/robots.txt")).body.decode()
        assert "/spp/" not in own and "Disallow: /court/search/" in own
    with Simulator(size=5, seed=3) as s:
        assert get(s.url("/robots.txt")).body.decode() == "User-agent: *\nDisallow:\n"
