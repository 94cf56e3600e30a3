"""End-to-end: crawl the simulator as a user does and compare the archive with ground truth."""

from __future__ import annotations

import hashlib
import json
import unicodedata

import pytest

from govcrawl.store import bodies

pytestmark = pytest.mark.slow

ALL = ("sim_spp", "sim_changan", "sim_jszf", "sim_fzw", "sim_court", "sim_county", "sim_twfx",
       "sim_farm")
FAULTS = ("404=0.05,500=0.03,challenge-412=0.03,challenge-521=0.03,challenge-512=0.03,"
          "waf-403=0.03,robots=0.04,reset=0.03,truncated=0.03,redirect-loop=0.03,binary=0.03,"
          "oversized=0.03,oversize-bytes=200000")


def nows(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def test_every_dialect_archived_with_faults_recorded_and_robots_respected(site_factory):
    site = site_factory(size=12, faults=FAULTS)
    result = site.crawl(*ALL, args=("-s", "DOWNLOAD_MAXSIZE=100000"))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    truth = site.simulator.truth()
    articles = {row[0]: row for row in site.sql(
        "select url, title, source, author, editor, published_at, published_precision, "
        "body_text, duplicate_of, id from articles")}
    rejects = {}
    for url, kind, reason in site.sql("select url, kind, reason from rejects"):
        rejects.setdefault(url, set()).add((kind, reason))
    missing, wrong = [], []
    for portal in truth["portals"]:
        for article in portal["articles"]:
            url = article["url"]
            kind = article["expected_kind"]
            if kind == "article":
                row = articles.get(url)
                if row is None:
                    missing.append(url)
                    continue
                got = dict(zip(("title", "source", "author", "editor", "published_at",
                                "published_precision"), row[1:7], strict=True))
                for field, value in got.items():
                    if nows(value) != nows(article[field]):
                        wrong.append((url, field, value, article[field]))
                body = nows(row[7])
                if not (body.startswith(nows(article["body_starts"]))
                        and body.endswith(nows(article["body_ends"]))):
                    wrong.append((url, "body", body[:30], article["body_starts"]))
            elif kind == "skipped":  # robots.txt exclusion: never fetched, nothing stored
                assert url not in articles
            else:
                assert (kind, article["expected_reason"]) in rejects.get(url, set()), url
    assert missing == []
    assert wrong == []
    assert site.simulator.stats()["robots_violations"] == []
    # Every raw response reads back byte for byte (packed by the extraction workers).
    stored = site.sql("select body, body_compression, body_sha256, body_size from responses")
    assert stored
    for blob, compression, sha256, size in stored:
        raw = bodies.unpack(blob, compression)
        assert (hashlib.sha256(raw).hexdigest(), len(raw)) == (sha256, size)
    # Syndicated copies are linked to one head, never dropped.
    ids = {row[0]: (row[9], row[8]) for row in articles.values()}
    for group in truth["syndication_groups"]:
        present = [ids[u] for u in group if u in ids]
        heads = {dup or aid for aid, dup in present}
        assert len(heads) <= 1, group


def test_second_run_downloads_nothing_known_and_new_articles_are_fetched(site_factory):
    site = site_factory(size=10)
    first = site.crawl("sim_spp", "sim_jszf", "sim_county")
    assert first.returncode == 0, first.stderr[-3000:]
    before = site.simulator.stats()["requests"]
    second = site.crawl("sim_spp", "sim_jszf", "sim_county")
    assert second.returncode == 0
    assert "articles new 0" in second.stdout
    assert "known skipped" in second.stdout
    fetched = site.simulator.stats()["requests"] - before
    list_requests = sum(1 for line in second.stdout.splitlines() if line.startswith(" "))
    assert fetched < 15, (fetched, list_requests)  # list pages and robots.txt only
    count = site.sql("select count(*) from articles")[0][0]
    site.simulator.publish(3)
    third = site.crawl("sim_spp", "sim_jszf", "sim_county")
    assert third.returncode == 0
    assert site.sql("select count(*) from articles")[0][0] == count + 9
    assert third.stdout.count("articles new 3") == 3


def test_scrapy_crawl_exports_utf8_jsonl_in_declared_order(site_factory, tmp_path):
    site = site_factory(size=5)
    out = tmp_path / "out.jsonl"
    result = site.scrapy("crawl", "sim_changan", "-O", str(out), "-s", "DOWNLOAD_DELAY=0",
                         "-s", "AUTOTHROTTLE_ENABLED=False")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = out.read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len([r for r in records if r["kind"] == "article"]) == 5
    assert "\\u" not in lines[0]  # Chinese is written as UTF-8, not escaped
    assert list(records[0])[:4] == ["portal", "url", "canonical_url", "kind"]
    assert "raw" not in records[0]
    assert site.sql("select count(*) from articles")[0][0] == 5


def test_exit_status_when_a_portal_fails_entirely(site_factory, tmp_path):
    site = site_factory(size=3)
    dead = tmp_path / "dead.toml"
    dead.write_text('[[portal]]\nid = "dead"\nname = "死站"\ndialect = "trs"\n'
                    'start_urls = ["http://127.0.0.1:9/dead/index.shtml"]\n', "utf-8")
    site.env["GOVCRAWL_PORTALS"] += ":" + str(dead)
    result = site.crawl("dead", "sim_spp")
    assert result.returncode == 1, result.stdout
    assert "dead failed entirely" in result.stdout
    runs = {spider: (status, json.loads(stats).get("govcrawl/failure_reason", "")[:20])
            for spider, status, stats in site.sql("select spider, status, stats from runs")}
    assert runs == {"dead": ("failed", "dead failed entirely"), "sim_spp": ("finished", "")}


def test_bad_arguments_exit_2_with_one_line(site_factory):
    site = site_factory(size=2)
    result = site.crawl("sim_spp", args=("-a", "since=yesterday"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "govcrawl crawl: -a since='yesterday': expected YYYY-MM-DD"]
    assert site.crawl("nosuch").returncode == 2


def test_each_run_reports_the_new_and_duplicate_split_the_archive_holds(site_factory):
    """Each run's report counts its articles by the groups the archive holds when the run ends
    (docs/syndication.md), so the report and `query --collapse` agree."""
    site = site_factory(size=12)
    reported = []
    for portal in ("sim_changan", "sim_spp", "sim_farm"):  # the mirror copies both
        result = site.crawl(portal)
        assert result.returncode == 0, result.stdout + result.stderr[-2000:]
        run_id = site.sql("select max(id) from runs")[0][0]
        stats = json.loads(site.sql("select stats from runs where id = ?", run_id)[0][0])
        copies, stored = site.sql(
            "select count(a.duplicate_of), count(*) from articles a "
            "join responses r on r.id = a.response_id where r.run_id = ?", run_id)[0]
        got = (stats.get("govcrawl/stored/new", 0), stats.get("govcrawl/stored/duplicate", 0))
        assert got == (stored - copies, copies), (portal, got, stored, copies)
        assert f"articles new {stored - copies}," in result.stdout
        reported.append(copies)
    assert reported[-1] > 0  # the mirror's copies were counted as copies
