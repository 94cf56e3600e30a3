"""Field accuracy on the simulator's ground truth: every portal, 800 articles, one seeded crawl.

Every stored title, source, author, editor and publish time is compared with what the
simulator says an ideal extractor recovers; each field must be right on at least 99.5 % of the
articles, and a failure lists the misses so that a regression names its pages.
"""

from __future__ import annotations

import unicodedata

import pytest

pytestmark = pytest.mark.slow

PORTALS = ("sim_spp", "sim_changan", "sim_jszf", "sim_fzw", "sim_court", "sim_county",
           "sim_twfx", "sim_farm")
FIELDS = ("title", "source", "author", "editor", "published_at", "published_precision")
TARGET = 0.995


def nows(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def test_every_field_matches_ground_truth_on_800_articles(site_factory):
    site = site_factory(size=100, seed=21)
    result = site.crawl(*PORTALS, args=("-s", "CONCURRENT_REQUESTS=32"))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    truth = [a for p in site.simulator.truth()["portals"] for a in p["articles"]
             if a["expected_kind"] == "article"]
    assert len(truth) >= 800
    rows = {row[0]: dict(zip(FIELDS, row[1:], strict=True)) for row in site.sql(
        f"select url, {', '.join(FIELDS)} from articles")}
    missing = [a["url"] for a in truth if a["url"] not in rows]
    misses: dict[str, list[str]] = {f: [] for f in FIELDS}
    for article in truth:
        got = rows.get(article["url"])
        for field in FIELDS:
            if got is None or nows(got[field]) != nows(article[field]):
                value = None if got is None else got[field]
                misses[field].append(f"{article['id']}: {value!r} != {article[field]!r}")
    accuracy = {f: 1 - len(m) / len(truth) for f, m in misses.items()}
    failing = {f: a for f, a in accuracy.items() if a < TARGET}
    report = "\n".join(f"{f} {accuracy[f]:.4f}\n  " + "\n  ".join(misses[f])
                       for f in FIELDS if misses[f])
    assert not missing, f"{len(missing)} articles not archived: {missing[:20]}"
    assert not failing, f"below {TARGET}: {failing}\n{report}"
