"""Syndication groups are a property of the articles: no chains, every copy verified against
its head, the same groups and heads whatever order (or path) the articles were stored in."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping

import pytest
import stockgen
from factory import entry
from pairgen import generate
from sqlalchemy import select

from govcrawl import dedup, syndication
from govcrawl.store.schema import articles

# -- the pure rule ---------------------------------------------------------------------------


def test_a_copy_of_a_copy_is_not_chained() -> None:
    """A~B and B~C but not A~C: A heads {A, B}; C, a copy of no head, heads its own group."""
    ranks = {1: (0,), 2: (1,), 3: (2,)}
    near = {1: {2: 0.9}, 2: {1: 0.9, 3: 0.95}, 3: {2: 0.95}}
    assert syndication.group(ranks, near) == {1: (None, None), 2: (1, 0.9), 3: (None, None)}


def test_a_copy_joins_the_best_ranked_head_it_matches() -> None:
    ranks = {1: (0,), 2: (1,), 3: (2,)}
    near = {1: {3: 0.86}, 2: {3: 0.99}, 3: {1: 0.86, 2: 0.99}}
    assert syndication.group(ranks, near)[3] == (1, 0.86)


class _Stored:
    """A Grouping held in memory: links as `settle` leaves them, neighbours of present ids."""

    def __init__(self, ranks: Mapping[int, tuple], near: Mapping[int, Mapping[int, float]]):
        self.ranks, self.all_near, self.links = ranks, near, {}

    def rank(self, x: int) -> tuple:
        return self.ranks[x]

    def neighbours(self, x: int) -> dict[int, float]:
        return {y: s for y, s in self.all_near.get(x, {}).items() if y in self.links}

    def link(self, x: int) -> syndication.Link:
        return self.links[x]

    def members(self, h: int) -> list[int]:
        return [x for x, (head, _) in self.links.items() if head == h]


def _random_graph(rng: random.Random, n: int) -> tuple[dict, dict]:
    ranks = {x: (rng.randint(0, 5), x) for x in range(n)}
    near: dict[int, dict[int, float]] = {x: {} for x in range(n)}
    for x in range(n):
        for y in range(x + 1, n):
            if rng.random() < 0.15:
                near[x][y] = near[y][x] = round(rng.uniform(0.85, 1.0), 3)
    return ranks, near


@pytest.mark.parametrize("seed", range(30))
def test_settle_in_any_order_equals_the_grouping_of_the_set(seed: int) -> None:
    rng = random.Random(seed)
    ranks, near = _random_graph(rng, 40)
    stored = _Stored(ranks, near)
    order = list(ranks)
    rng.shuffle(order)
    i = 0
    while i < len(order):
        batch = order[i : i + rng.randint(1, 6)]
        i += len(batch)
        for x in batch:
            stored.links[x] = (None, None)
        stored.links.update(syndication.settle(stored, batch))
    assert stored.links == syndication.group(ranks, near)
    for x, (h, sim) in stored.links.items():  # no chains, every copy verified against its head
        assert h is None or (stored.links[h][0] is None and near[x][h] == sim)


@pytest.mark.parametrize("seed", range(10))
def test_settle_after_an_edit_equals_the_grouping_of_the_set(seed: int) -> None:
    rng = random.Random(seed)
    ranks, near = _random_graph(rng, 30)
    stored = _Stored(ranks, near)
    stored.links = dict(syndication.group(ranks, near))
    edited = rng.randrange(30)  # its text changes: it has other copies now
    for y in list(near[edited]):
        del near[y][edited]
    near[edited] = {}
    for y in rng.sample([y for y in ranks if y != edited], 5):
        near[edited][y] = near[y][edited] = 0.9
    stored.links.update(syndication.settle(stored, [], [edited]))
    assert stored.links == syndication.group(ranks, near)


@pytest.mark.parametrize("seed", range(20))
def test_settle_after_a_rank_change_equals_the_grouping_of_the_set(seed: int) -> None:
    """A re-fetch that corrects the publication date moves an article in the head order."""
    rng = random.Random(seed)
    ranks, near = _random_graph(rng, 30)
    stored = _Stored(ranks, near)
    stored.links = dict(syndication.group(ranks, near))
    heads = [h for h, (to, _) in stored.links.items() if to is None]
    moved = max(heads, key=lambda h: (len(stored.members(h)), h))  # a head with copies
    ranks[moved] = (rng.choice([-1, 6]), moved)
    stored.links.update(syndication.settle(stored, [], [moved]))
    assert stored.links == syndication.group(ranks, near)


# -- through the archive ---------------------------------------------------------------------

PORTALS = ("p1", "p2", "m1")


def _pages() -> list[tuple[str, str, str, str]]:
    """(url, portal, published_at, body): syndication pairs (copies and look-alikes), exact
    copies, and a stock-sentence portal of distinct articles, with few publication days so the
    URL tiebreak is exercised."""
    rng = random.Random(18)
    bodies = []
    pairs = [p for p in generate() if p.half == "B"]
    for p in [p for p in pairs if p.same][:24] + [p for p in pairs if not p.same][::40]:
        bodies += [p.a, p.b]
    bodies += bodies[:3]  # exact copies
    bodies += stockgen.corpus()
    days = ["2024-05-01", "2024-05-02", "2024-05-02T09:30:00+08:00", None]
    return [(f"http://{rng.choice('abc')}.cn/{i}.html", rng.choice(PORTALS), rng.choice(days), b)
            for i, b in enumerate(bodies)]


PAGES = _pages()


def _entry(page: tuple[str, str, str, str]):
    url, portal, published, body = page
    return entry(url, body, portal=portal, published_at=published, is_mirror=portal == "m1")


def _groups(arc) -> dict[str, str]:
    with arc.read_engine.connect() as conn:
        rows = conn.execute(select(articles.c.id, articles.c.url, articles.c.duplicate_of)).all()
    url = {r.id: r.url for r in rows}
    return {r.url: url[r.duplicate_of or r.id] for r in rows}


def _store_in_batches(arc, pages, rng: random.Random, most: int) -> None:
    i = 0
    while i < len(pages):
        n = rng.randint(1, most)
        arc.store_batch([_entry(p) for p in pages[i : i + n]])
        i += n


def _store_by_portal_threads(arc, pages, rng: random.Random) -> None:
    """One thread per portal, as concurrent crawls of several portals into one archive."""
    seeds = [rng.random() for _ in PORTALS]
    threads = [threading.Thread(target=_store_in_batches, args=(
        arc, [p for p in pages if p[1] == portal], random.Random(s), 7))
        for portal, s in zip(PORTALS, seeds, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _check_links(arc) -> None:
    """Every copy links straight to a head and is itself verified against that head."""
    with arc.read_engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(
            articles.c.id, articles.c.duplicate_of, articles.c.similarity, articles.c.body_text))}
    for r in rows.values():
        if r.duplicate_of is not None:
            head = rows[r.duplicate_of]
            assert head.duplicate_of is None
            assert r.similarity >= dedup.CONTAINMENT_THRESHOLD
            assert dedup.compare(r.body_text, head.body_text).same


def test_the_same_pages_in_any_order_give_the_same_groups(tmp_path) -> None:
    from govcrawl.store import open_archive
    from tests.store.conftest import _portals

    results = []
    for seed in range(4):
        rng = random.Random(seed)
        pages = list(PAGES)
        rng.shuffle(pages)
        arc = open_archive(f"sqlite:///{tmp_path}/order{seed}.db")
        _portals(arc)
        with arc:
            if seed == 0:  # one page at a time
                for p in pages:
                    arc.store_batch([_entry(p)])
            elif seed == 1:  # everything in one batch, as an import does
                arc.store_batch([_entry(p) for p in pages])
            elif seed == 2:
                _store_in_batches(arc, pages, rng, 25)
            else:
                _store_by_portal_threads(arc, pages, rng)
            _check_links(arc)
            results.append(_groups(arc))
    assert all(r == results[0] for r in results[1:])
    linked = {u for u, h in results[0].items() if u != h}
    assert len(linked) >= 24  # the copies were found
    stock = {u for u, _, _, b in PAGES if b in set(stockgen.corpus())}
    assert not stock & linked and not stock & set(results[0].values()) - stock


def test_a_corrected_publication_date_makes_the_earlier_copy_head(archive) -> None:
    body = stockgen.corpus()[0]
    archive.store_batch([entry("http://a.cn/1.html", body, published_at="2024-05-01"),
                         entry("http://b.cn/1.html", body + "\n责任编辑：李婷", portal="p2",
                               published_at="2024-05-02")])
    assert _groups(archive)["http://b.cn/1.html"] == "http://a.cn/1.html"
    [out] = archive.store_batch([entry("http://b.cn/1.html", body + "\n责任编辑：李婷",
                                       portal="p2", published_at="2024-04-30")])
    assert out.status == "updated" and out.head_id == out.article_id
    assert _groups(archive) == {"http://a.cn/1.html": "http://b.cn/1.html",
                                "http://b.cn/1.html": "http://b.cn/1.html"}
    _check_links(archive)
