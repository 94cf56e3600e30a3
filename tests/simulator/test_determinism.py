"""Same seed, same bytes; different seed, different corpus; lazy generation at 25,000."""

from __future__ import annotations

import time

from govcrawl.simulator import FaultPlan, Simulator
from govcrawl.simulator.corpus import nows


def _sample_paths(sim: Simulator) -> list[str]:
    paths = ["/robots.txt"]
    for portal in sim.truth_portals():
        paths += [u.split(sim.base_url, 1)[1] for u in portal["start_urls"]]
        paths += [a["url_path"] for a in list(sim.iter_articles(portal["id"]))[:6]]
    return paths


def test_same_seed_byte_identical(get) -> None:
    plan = FaultPlan.parse("404=0.1,challenge-412=0.1,robots=0.1", seed=1)
    with Simulator(size=12, seed=3, faults=plan) as a, Simulator(size=12, seed=3,
                                                                 faults=plan) as b:
        paths = _sample_paths(a)
        assert paths == _sample_paths(b)
        for path in paths:
            ra, rb = get(a.url(path)), get(b.url(path))
            assert (ra.status, ra.body) == (rb.status, rb.body), path
        ta, tb = a.truth(), b.truth()
        ta.pop("base_url"), tb.pop("base_url")
        assert str(ta).replace(a.base_url, "") == str(tb).replace(b.base_url, "")


def test_different_seed_differs() -> None:
    a, b = Simulator(size=10, seed=1), Simulator(size=10, seed=2)
    ta = [x["title"] for x in a.iter_articles("spp")]
    tb = [x["title"] for x in b.iter_articles("spp")]
    assert ta != tb


def _shingles(text: str, n: int = 6) -> set[str]:
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def test_distinct_articles_differ_in_content() -> None:
    sim = Simulator(size=120, seed=8)
    bodies = {}
    for pid in ("spp", "court"):
        for index in range(120):
            view = sim.corpus.view(pid, index)
            if view.origin == (pid, index):
                bodies[(pid, index)] = _shingles(nows("".join(view.content.paragraphs)))
    keys = list(bodies)
    worst = 0.0
    for i, ka in enumerate(keys):
        for kb in keys[i + 1:]:
            a, b = bodies[ka], bodies[kb]
            worst = max(worst, len(a & b) / len(a | b))
    assert worst < 0.5


def test_syndication_groups_share_the_story() -> None:
    sim = Simulator(size=80, seed=8)
    truth = sim.truth()
    by_id = {a["id"]: a for p in truth["portals"] for a in p["articles"]}
    groups = truth["syndication_group_ids"]
    assert len(groups) > 10
    for group in groups:
        heads = {by_id[a]["body_starts"][:12] for a in group}
        assert len(heads) == 1, group
        assert len({by_id[a]["origin"] for a in group}) == 1
    # traditional copies (farm, twfx) are in groups too
    members = {a.split(":")[0] for g in groups for a in g}
    assert {"farm", "twfx"} <= members


def test_large_corpus_is_lazy(get) -> None:
    t0 = time.monotonic()
    with Simulator(size=25_000, seed=1) as sim:
        last = sim.url("/court/article/index/id/MzAwNDAwMgCRhAEA/page/1250.shtml")
        resp = get(last)
        assert resp.status == 200 and resp.body.count(b"<li>") == 20
        art = sim.article_truth("farm:24999")
        assert get(art["url"]).status == 200
    assert time.monotonic() - t0 < 5
