"""Attachments and images: always recorded as media links; downloaded only when asked."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def expected_media(site) -> set[tuple[str, str, str]]:
    found = set()
    for article in site.simulator.iter_articles("spp"):
        if article["expected_kind"] == "article":
            for media in article["media"]:
                found.add((site.simulator.url(media["url"]), media["kind"], media["text"]))
    return found


def test_media_links_are_recorded_and_not_downloaded_by_default(site_factory):
    site = site_factory(size=20)
    result = site.crawl("sim_spp")
    assert result.returncode == 0
    assert "MediaFilesPipeline" not in result.stderr  # an opt-in feature off is not a warning
    rows = site.sql("select url, kind, text, path from media")
    assert {(u, k, t) for u, k, t, _ in rows} == expected_media(site)
    assert rows and all(path is None for *_, path in rows)
    assert not (site.workdir / "media").exists()


def test_media_are_downloaded_size_capped_and_linked_to_the_article(site_factory):
    site = site_factory(size=20)
    store = site.workdir / "media"
    result = site.crawl("sim_spp", args=("-s", "GOVCRAWL_FETCH_MEDIA=true",
                                         "-s", f"FILES_STORE={store}"))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = site.sql("select url, path from media")
    assert rows and all(path for _, path in rows)
    for _, path in rows:
        assert (store / path).is_file() and (store / path).stat().st_size > 0
    capped = site_factory(size=20)
    result = capped.crawl("sim_spp", args=("-s", "GOVCRAWL_FETCH_MEDIA=true",
                                           "-s", f"FILES_STORE={capped.workdir / 'm'}",
                                           "-s", "GOVCRAWL_MEDIA_MAXSIZE=10"))
    assert result.returncode == 0
    assert all(path is None for (path,) in capped.sql("select path from media"))
    assert capped.sql("select count(*) from media")[0][0] == len(rows)
