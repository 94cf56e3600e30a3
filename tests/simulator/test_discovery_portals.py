"""The discovery portals: home pages, column lists in each pager style, noise pages, articles
with ground truth, all kept apart from the eight original portals."""

from __future__ import annotations

import re

from govcrawl.simulator import Simulator
from govcrawl.simulator.corpus import DISCOVERY_COLUMNS, DISCOVERY_PORTALS, discovery_channel_path
from govcrawl.simulator.render import DISCOVERY_STATIC


def test_discovery_portals_serve_home_lists_noise_and_articles(get) -> None:
    with Simulator(size=45, seed=6) as sim:
        infos = {p["id"]: p for p in sim.discovery_portals()}
        assert set(infos) == {p.id for p in DISCOVERY_PORTALS}
        assert not set(infos) & {p["id"] for p in sim.truth_portals()}
        for spec in DISCOVERY_PORTALS:
            [home] = infos[spec.id]["start_urls"]
            assert home == sim.url(f"/{spec.id}/")
            page = get(home)
            assert page.status == 200 and "友情链接" in page.body.decode("utf-8")
            articles = list(sim.iter_articles(spec.id))
            assert len(articles) == 45 and all(a["portal"] == spec.id for a in articles)
            listed = set()
            for column in range(DISCOVERY_COLUMNS):
                first = get(sim.url(discovery_channel_path(spec, column, 0)))
                assert first.status == 200
                listed |= set(re.findall(r'<li><a href="([^"]+)"',
                                         first.body.decode("utf-8").split('class="side"')[0]))
                past = get(sim.url(discovery_channel_path(spec, column, 9)))
                assert past.status == 404
            assert len(listed) == 3 * spec.page_size  # the first page of each column
            article = articles[0]
            shown = get(article["url"])
            assert shown.status == 200 and article["title"] in shown.body.decode("utf-8")
            assert sim.article_truth(article["id"])["url"] == article["url"]
            for path in DISCOVERY_STATIC:
                assert get(sim.url(f"/{spec.id}{path}")).status == 200
            assert get(sim.url(f"/{spec.id}/nosuch/123456.html")).status == 404
