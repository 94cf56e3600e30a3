"""Syndication groups: which archived articles are one story, and which copy heads the group.

Pure (no database, no Scrapy): the archive supplies the articles, their head rank and their
verified copies; this module decides the links. The rule (docs/syndication.md):

* Two articles are *copies* when `dedup.compare` says so (containment >= 0.85 of the smaller
  text, agreeing numbers, at most one substitution, at most one sentence inserted between
  shared ones, not each with a lead of its own): a pair property, so it does not depend on
  what else is archived or when either arrived. Title is not compared; shared boilerplate
  counts as text, and the sentence layout keeps articles built from it apart.
* Articles are ranked by `head_rank`: official before mirror, earliest published, then the URL
  key (unique). Neither the id nor the time an article was fetched takes part.
* Going through the articles best rank first, an article joins the best-ranked *head* it is a
  copy of; if it is a copy of no head ranked above it, it is a head itself. A copy therefore
  always links straight to a head it was verified against (similarity >= the threshold), never
  through another copy: when A~B and B~C but not A~C, A heads {A, B} and C heads its own group.

The result is a function of the set of articles, whatever order they were stored in. `group`
computes it for a whole set; `settle` updates a stored grouping after articles were added or
edited, re-deciding only the articles whose decision can have changed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

#: (head id or None for a head, similarity to that head or None)
Link = tuple[int | None, float | None]


def head_rank(is_mirror: bool | None, published_at: str | None, url_key: str) -> tuple:
    """Order of preference for the head: official copy, earliest publication day, earliest
    time that day, then the URL key (unique, so the order is total and order-free)."""
    published = published_at or "9999"
    return (bool(is_mirror), published[:10], published, url_key)


def choose(
    x: int, neighbours: Mapping[int, float], rank: Callable[[int], tuple],
    is_head: Callable[[int], bool],
) -> Link:
    """x's link: the best-ranked head above x that x is a copy of, or none (x heads)."""
    mine = rank(x)
    heads = [(rank(y), y) for y in neighbours if y != x and rank(y) < mine and is_head(y)]
    if not heads:
        return (None, None)
    h = min(heads)[1]
    return (h, neighbours[h])


def group(ranks: Mapping[int, tuple], neighbours: Mapping[int, Mapping[int, float]]
          ) -> dict[int, Link]:
    """The grouping of a whole set: every article's link, deciding them best rank first.

    `neighbours[x]` maps each verified copy of x to its similarity (symmetric; articles outside
    `ranks` are ignored)."""
    links: dict[int, Link] = {}
    for x in sorted(ranks, key=ranks.__getitem__):
        near = {y: s for y, s in neighbours.get(x, {}).items() if y in ranks}
        links[x] = choose(x, near, ranks.__getitem__, lambda y: links[y][0] is None)
    return links


class Grouping(Protocol):
    """A stored grouping as `settle` sees it (the archive implements it over SQL)."""

    def rank(self, x: int) -> tuple: ...

    def neighbours(self, x: int) -> Mapping[int, float]: ...

    def link(self, x: int) -> Link:
        """x's stored link (before `settle` changes anything)."""
        ...

    def members(self, h: int) -> Iterable[int]:
        """The articles stored as copies of h."""
        ...


def settle(g: Grouping, added: Iterable[int], changed: Iterable[int] = ()) -> dict[int, Link]:
    """Re-decide the links that can differ from `group` of the current set; return the new ones.

    The stored links must be `group` of the set before the change. `added` are the articles
    added; `changed` those whose text or rank changed (their stored copies may be copies no
    more). An article's decision depends only on the heads ranked above it, so the work goes
    best rank first and spreads only to what ranks below an article that became or stopped
    being a head (an article is decided again if something above it changed after it was).
    """
    fresh = set(added) | set(changed)
    new_links: dict[int, Link] = {}
    queued = set(fresh)
    heap = [(g.rank(x), x) for x in queued]
    heapq.heapify(heap)

    def current(y: int) -> Link:
        return new_links[y] if y in new_links else g.link(y)

    def push(y: int) -> None:
        if y not in queued:
            queued.add(y)
            heapq.heappush(heap, (g.rank(y), y))

    while heap:
        rank_x, x = heapq.heappop(heap)
        queued.discard(x)
        before = current(x)
        near = g.neighbours(x)
        after = new_links[x] = choose(x, near, g.rank, lambda y: current(y)[0] is None)
        if x in fresh:  # new, or read otherwise: its stored copies may be copies no more
            fresh.discard(x)
            for m in g.members(x):
                push(m)
            spread = after[0] is None
        else:
            spread = (before[0] is None) != (after[0] is None)
        if spread:  # a head now, or no more: what ranks below it may choose otherwise
            for y in near:
                if g.rank(y) > rank_x:
                    push(y)
    return {x: link for x, link in new_links.items() if link != g.link(x)}
