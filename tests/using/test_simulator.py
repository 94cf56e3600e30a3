"""The archive-use commands on an archive crawled from the simulator (a real crawl)."""

from __future__ import annotations

import hashlib
import json

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.using.usehelpers import SIM_PORTALS, sql

pytestmark = pytest.mark.slow


def test_query_lists_every_crawled_article_and_stats_report_the_runs(
        sim_archive, sim_copy, govcrawl_cli):
    expected = {a["url"] for p in sim_archive.truth["portals"] for a in p["articles"]
                if a["expected_kind"] == "article"}
    listed = govcrawl_cli("query", "--limit", "0").jsonl()
    assert {r["url"] for r in listed} == expected
    one = govcrawl_cli("query", "--portal", "sim_court", "--limit", "0").jsonl()
    assert one and {r["portal"] for r in one} == {"sim_court"}
    stats = {r["portal"]: r for r in govcrawl_cli("stats", "--json").jsonl()}
    assert set(stats) == set(SIM_PORTALS)
    for pid in SIM_PORTALS:
        assert stats[pid]["last_run"]["status"] == "finished"
        assert stats[pid]["articles"] == sum(1 for r in listed if r["portal"] == pid)
    dups = sum(r["duplicates"] for r in stats.values())
    assert dups == sum(1 for r in listed if r["duplicate_of"] is not None) and dups > 0


def test_warc_export_round_trips_into_an_empty_archive(sim_copy, tmp_path, govcrawl_cli):
    warc = tmp_path / "sim.warc.gz"
    assert govcrawl_cli("export", "--format", "warc", "-o", str(warc)).code == 0
    archived = dict(sql(sim_copy, "select a.url, r.body_sha256 from articles a "
                                  "join responses r on r.id = a.response_id"))
    with warc.open("rb") as fh:
        got = {r.rec_headers.get_header("WARC-Target-URI"):
               hashlib.sha256(r.content_stream().read()).hexdigest()
               for r in ArchiveIterator(fh) if r.rec_type == "response"}
    assert got == archived
    empty = f"sqlite:///{tmp_path}/empty.db"
    result = govcrawl_cli("import", "--warc", str(warc), "--database", empty)
    assert result.code == 0, result.err
    keys = ("url", "portal", "title", "source", "author", "editor", "published_at",
            "published_precision")
    before = govcrawl_cli("query", "--limit", "0").jsonl()
    after = govcrawl_cli("query", "--limit", "0", "--database", empty).jsonl()
    assert sorted(tuple(r[k] for k in keys) for r in after) == sorted(
        tuple(r[k] for k in keys) for r in before)
    assert sorted(r["duplicate_of"] is None for r in after) == sorted(
        r["duplicate_of"] is None for r in before)


def test_reprocess_of_a_crawl_changes_nothing_then_repairs_a_stale_row(sim_copy, govcrawl_cli):
    first = govcrawl_cli("reprocess")
    assert first.code == 0 and "0 changed" in first.out, first.out
    (aid, title) = sql(sim_copy, "select id, title from articles where portal_id = 'sim_spp' order by id limit 1")[0]
    import sqlite3

    with sqlite3.connect(sim_copy) as conn:
        conn.execute("update articles set title = '旧' where id = ?", (aid,))
    assert "1 changed" in govcrawl_cli("reprocess", "--portal", "sim_spp").out
    shown = json.loads(govcrawl_cli("show", str(aid), "--json").out)
    assert shown["fields"]["title"]["value"] == title
    assert shown["versions"][0]["changed"]["title"] == {"old": "旧", "new": title}
    assert "0 changed" in govcrawl_cli("reprocess").out
