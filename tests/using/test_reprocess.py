"""`govcrawl reprocess`: re-extraction from the archived bytes, versions kept, idempotent."""

from __future__ import annotations

import json
import sqlite3

from tests.using.usehelpers import sql


def _counts(db) -> dict[str, int]:
    return {t: sql(db, f"select count(*) from {t}")[0][0]
            for t in ("articles", "article_versions", "rejects", "responses", "media")}


def test_reprocess_restores_stale_fields_keeps_old_values_and_second_run_changes_nothing(
        devset_copy, govcrawl_cli):
    before = _counts(devset_copy)
    stored = dict(sql(devset_copy, "select id, title from articles"))
    with sqlite3.connect(devset_copy) as conn:  # what an older extractor might have stored
        conn.execute("update articles set title = title || '_旧' where id in (2, 7)")
        conn.execute("update articles set author = '旧作者' where id = 9")
    first = govcrawl_cli("reprocess")
    assert first.code == 0, first.err
    assert "3 changed" in first.out and "updated 3" in first.out and "kept 4" in first.out
    assert dict(sql(devset_copy, "select id, title from articles")) == stored
    versions = {aid: (json.loads(ch), json.loads(old)) for aid, ch, old in sql(
        devset_copy, "select article_id, changed, old_values from article_versions")}
    assert versions[2] == (["title"], {"title": stored[2] + "_旧"})
    assert versions[9] == (["author"], {"author": "旧作者"})
    assert _counts(devset_copy) == {**before, "article_versions": 3}
    second = govcrawl_cli("reprocess")
    assert second.code == 0 and "0 changed" in second.out, second.out
    assert _counts(devset_copy) == {**before, "article_versions": 3}
    runs = sql(devset_copy, "select status from runs where spider = 'reprocess'")
    assert runs == [("finished",), ("finished",)]


def test_reprocess_portal_and_since_limit_the_work(devset_copy, govcrawl_cli):
    with sqlite3.connect(devset_copy) as conn:
        conn.execute("update articles set title = 'x' where portal_id in ('spp', 'gdzf')")
    spp = govcrawl_cli("reprocess", "--portal", "spp")
    n_spp = sql(devset_copy, "select count(*) from articles where portal_id = 'spp'")[0][0]
    assert f"{n_spp} changed" in spp.out, spp.out
    future = govcrawl_cli("reprocess", "--since", "2999-01-01")
    assert "0 changed" in future.out and "nothing" in future.out
    assert sql(devset_copy, "select count(*) from articles where title = 'x'")[0][0] > 0
    rest = govcrawl_cli("reprocess")
    assert sql(devset_copy, "select count(*) from articles where title = 'x'") == [(0,)]
    assert "changed" in rest.out


def test_reprocess_bad_arguments(devset_copy, govcrawl_cli):
    assert govcrawl_cli("reprocess", "--portal", "nope").code == 2
    assert govcrawl_cli("reprocess", "--since", "2024/01/01").code == 2
