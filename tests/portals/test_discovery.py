"""Homepage discovery: article shapes and channels from URL shape, repetition and link text.

The simulator's discovery portals (govcrawl/simulator/corpus.py DISCOVERY_PORTALS) use URL
shapes of real provincial portals that no dialect knows (docs/portals.md §7), behind home
pages with navigation, footer, 专题 and friend-link noise. No saved pages of the real
homepage-evidence portals exist, so this is where their declarations' dialect is tested.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govcrawl.portals import discovery
from govcrawl.portals.dialects import DiscoverDialect, ListRequest
from govcrawl.portals.discovery import Link
from govcrawl.portals.registry import Portal, portal_from_mapping
from govcrawl.simulator import Simulator
from govcrawl.simulator.corpus import DISCOVERY_PORTALS
from govcrawl.simulator.render import DISCOVERY_STATIC
from tests.simulator.conftest import fetch

# Article URLs from docs/portals.md §7, one per shape.
REAL_ARTICLES = (
    "https://www.bj148.org/sa1/ajbb/202401/t20240103_1661271.html",
    "http://www.jlpeace.gov.cn/jlscaw/qwfb/202601/dc5a6c30274c4e9fbf94965983cb5e6a.shtml",
    "http://putian.pafj.net/caw/f/10/view-225-766722.html",
    "https://zfw.changzhou.gov.cn/html/czzf/2023/FCQNQHAO_0328/21635.html",
    "https://www.gdzf.org.cn/index/gzdt/content/post_189021.html",
    "https://www.hnzhengfa.gov.cn/news/shixiandongtai/show-65456.html",
    "http://www.hljzfw.gov.cn/Grassroots_dynamics/content/2025-06/09/content_9196387.html",
    "https://www.sichuanpeace.gov.cn/azsf/20250829/2992286.html",
)
NOT_ARTICLES = (
    "https://www.gdzf.org.cn/jjzfgz/", "https://www.gdzf.org.cn/jjzfgz/index_2.html",
    "https://www.hnzf.gov.cn/channel/24213.html", "http://putian.pafj.net/caw/f/list-225.html",
    "https://www.bj148.org/about.html", "https://www.bj148.org/",
    "http://www.chinapeace.gov.cn/chinapeace/c100007/index.shtml",
)


@pytest.mark.parametrize("url", REAL_ARTICLES)
def test_real_article_urls_look_like_articles_and_match_their_own_shape(url: str) -> None:
    assert discovery.looks_like_article(url)
    assert discovery.matches(url, [discovery.path_shape(url)])


@pytest.mark.parametrize("url", NOT_ARTICLES)
def test_channel_index_and_static_urls_are_not_articles(url: str) -> None:
    assert not discovery.looks_like_article(url)


def test_ids_and_dates_generalise_but_the_template_word_stays() -> None:
    shape = discovery.path_shape(REAL_ARTICLES[0])
    assert discovery.matches("https://x.cn/zz1/shaq/202207/t20220711_1636261.html", [shape])
    assert not discovery.matches("https://x.cn/zz1/shaq/202207/p20220711_1636261.html", [shape])
    assert not discovery.matches("https://x.cn/zz1/202207/t20220711_1636261.html", [shape])


def _links(*pairs: tuple[str, str]) -> list[Link]:
    return [Link("https://x.cn" + path, text) for path, text in pairs]


def test_a_shape_needs_repetition_and_headline_text() -> None:
    headlines = _links(*((f"/zfyw/content/post_{n}.html", "全省政法系统召开队伍教育整顿推进会")
                         for n in range(100, 103)))
    footer = _links(*((f"/footer/{n}.html", label)
                      for n, label in ((1001, "网站声明"), (1002, "联系我们"), (1003, "网站地图"))))
    topics = _links(("/zt/2024/zt_101.html", "扫黑除恶常态化专题"),
                    ("/zt/2024/zt_102.html", "平安建设宣传月专题"))
    shapes = discovery.learn_shapes(headlines + footer + topics)
    assert shapes == [discovery.path_shape(headlines[0].url)]


def test_channels_are_more_links_list_pages_and_article_folders() -> None:
    home = "https://x.cn/"
    links = _links(("/", "首页"), ("/index.html", "首页"), ("/about.html", "关于我们"),
                   ("/zfyw/", "政法要闻"), ("/ajbb/index.shtml", "案件播报"),
                   ("/yasf/more.html", "更多>>"), ("/channel/24213.html", "法学会"),
                   *((f"/zfyw/content/post_{n}.html", "全省政法系统召开队伍教育整顿推进会")
                     for n in range(100, 103)))
    links.append(Link("https://other.cn/zfyw/", "友情链接"))
    shapes = discovery.learn_shapes(links)

    def is_article(url: str) -> bool:
        return discovery.matches(url, shapes)

    assert discovery.channel_links(home, links, is_article, home) == [
        "https://x.cn/zfyw/", "https://x.cn/ajbb/index.shtml", "https://x.cn/yasf/more.html",
        "https://x.cn/channel/24213.html"]


def test_next_page_by_label_else_by_number() -> None:
    page = "https://x.cn/zfyw/index.html"
    labelled = _links(("/zfyw/index_1.html", "下一页"), ("/zfyw/index_9.html", "尾页"))
    numbered = _links(("/zfyw/index.html", "1"), ("/zfyw/index_1.html", "2"),
                      ("/zfyw/index_2.html", "3"))
    never = _links(("/yasf/", "更多>>"))
    assert discovery.next_page(page, labelled, lambda u: False, 0, "https://x.cn/") \
        == "https://x.cn/zfyw/index_1.html"
    assert discovery.next_page("https://x.cn/zfyw/index_1.html", numbered, lambda u: False, 1,
                               "https://x.cn/") == "https://x.cn/zfyw/index_2.html"
    assert discovery.next_page(page, never, lambda u: False, 0, "https://x.cn/") is None


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(size=120, seed=3) as simulator:
        yield simulator


def _declaration(sim: Simulator, pid: str) -> Portal:
    return portal_from_mapping({"id": pid, "name": pid, "dialect": "discover",
                                "start_urls": [sim.url(f"/{pid}/")]})


def walk(sim: Simulator, portal: Portal) -> tuple[set[str], list[str]]:
    """Every list request the dialect asks for, breadth first, as the spider would make them:
    the article URLs found, and the list pages fetched."""
    dialect = DiscoverDialect()
    home = portal.start_urls[0]
    queue, fetched, found = [ListRequest(home, home)], [], set()
    while queue:
        request = queue.pop(0)
        if request.url in fetched:
            continue
        fetched.append(request.url)
        response = fetch(request.url)
        assert response.status == 200, request.url
        page = dialect.parse_list(portal, request, response.body.decode("utf-8"),
                                  len(response.body))
        found |= {row.url for row in page.rows}
        queue += page.next
    return found, fetched


@pytest.mark.parametrize("spec", DISCOVERY_PORTALS, ids=lambda s: f"{s.id}-{s.shape}")
def test_discovery_finds_the_articles_of_every_simulated_shape(sim: Simulator, spec) -> None:
    found, fetched = walk(sim, _declaration(sim, spec.id))
    truth = {a["url"] for a in sim.iter_articles(spec.id)}
    assert found <= truth, sorted(found - truth)[:5]  # no navigation or list page as an article
    assert len(found) >= 0.95 * len(truth), (len(found), len(truth))
    assert not set(fetched) & truth  # no article was read as a list page
    noise = {sim.url(f"/{spec.id}{path}") for path in DISCOVERY_STATIC}
    assert not noise & (found | set(fetched))


def test_a_declared_pattern_replaces_the_learned_shapes(sim: Simulator) -> None:
    portal = portal_from_mapping({"id": "qiongzhou", "name": "琼州", "dialect": "discover",
                                  "start_urls": [sim.url("/qiongzhou/")],
                                  "article_pattern": r"/news/yianshuofa/show-\d+\.html$"})
    found, _fetched = walk(sim, portal)
    truth = {a["url"] for a in sim.iter_articles("qiongzhou") if "/yianshuofa/" in a["url"]}
    assert found == truth


def test_discovery_stays_on_the_home_page_site(sim: Simulator) -> None:
    _found, fetched = walk(sim, _declaration(sim, "lingnan"))
    assert all(url.startswith(sim.url("/lingnan/")) for url in fetched)
