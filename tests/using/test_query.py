"""`govcrawl query`: filters, output formats and bad input, on the imported dev set."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from tests.using.usehelpers import sql

REQUIRED = {"id", "url", "canonical_url", "portal", "title", "source", "author", "editor",
            "published_at", "published_precision", "duplicate_of", "similarity"}


def _all(db) -> list[dict]:
    cols = ("id", "portal_id", "published_at", "duplicate_of", "title", "body_text", "source",
            "author", "editor")
    return [dict(zip(cols, r, strict=True))
            for r in sql(db, f"select {', '.join(cols)} from articles")]


def test_piped_output_is_jsonl_with_the_record_keys_newest_first(devset_env, govcrawl_cli):
    result = govcrawl_cli("query", "--limit", "0")
    assert result.code == 0, result.err
    records = result.jsonl()
    assert len(records) == 36
    assert set(records[0]) >= REQUIRED
    dated = [r["published_at"] for r in records if r["published_at"]]
    assert dated == sorted(dated, reverse=True)
    assert len(govcrawl_cli("query").jsonl()) == 36  # default limit 50
    assert len(govcrawl_cli("query", "--limit", "5").jsonl()) == 5


def test_portal_province_and_byline_filters_match_sql(devset_env, govcrawl_cli):
    rows = _all(devset_env)
    got = {r["id"] for r in govcrawl_cli("query", "--portal", "chinapeace").jsonl()}
    assert got == {r["id"] for r in rows if r["portal_id"] == "chinapeace"} and got
    guangdong = {r["id"] for r in govcrawl_cli("query", "--province", "广东").jsonl()}
    assert guangdong == {r["id"] for r in rows if r["portal_id"] == "gdzf"} and guangdong
    source = {r["id"] for r in govcrawl_cli("query", "--source", "法治日报").jsonl()}
    assert source == {r["id"] for r in rows if "法治日报" in (r["source"] or "")}
    assert len(source) >= 2
    editor = {r["id"] for r in govcrawl_cli("query", "--editor", "王磊").jsonl()}
    assert editor == {r["id"] for r in rows if "王磊" in (r["editor"] or "")} and editor
    author = {r["id"] for r in govcrawl_cli("query", "--author", "梁婷婷").jsonl()}
    assert author == {r["id"] for r in rows if "梁婷婷" in (r["author"] or "")} and author


def test_published_date_range_is_inclusive_at_day_precision(devset_env, govcrawl_cli):
    rows = _all(devset_env)
    got = govcrawl_cli("query", "--since", "2022-05-10", "--until", "2022-05-19").jsonl()
    expected = {r["id"] for r in rows
                if r["published_at"] and "2022-05-10" <= r["published_at"][:10] <= "2022-05-19"}
    assert {r["id"] for r in got} == expected
    # both a bare date and a minute-precision time on the boundary days are included
    assert {r["published_precision"] for r in got} >= {"day", "second"}


@pytest.mark.parametrize("term", ["检察", "扫黑除恶", "法", "公益诉讼守护"])
def test_search_matches_substrings_of_any_length(devset_env, govcrawl_cli, term):
    expected = {r["id"] for r in _all(devset_env)
                if term in (r["title"] or "") or term in (r["body_text"] or "")}
    got = {r["id"] for r in govcrawl_cli("query", "--search", term, "--limit", "0").jsonl()}
    assert got == expected and got


def test_search_accepts_traditional_input(devset_env, govcrawl_cli):
    simplified = {r["id"] for r in govcrawl_cli("query", "--search", "扫黑除恶").jsonl()}
    traditional = {r["id"] for r in govcrawl_cli("query", "--search", "掃黑除惡").jsonl()}
    assert traditional == simplified and simplified
    two = {r["id"] for r in govcrawl_cli("query", "--search", "檢察", "--limit", "0").jsonl()}
    assert two == {r["id"] for r in govcrawl_cli("query", "--search", "检察",
                                                 "--limit", "0").jsonl()}


def test_search_text_is_a_parameter_not_sql(devset_env, govcrawl_cli):
    rows = _all(devset_env)
    for text in ("'; DROP TABLE articles; --", '" OR 1=1 --', "%", "_", "12%"):
        result = govcrawl_cli("query", "--search", text, "--limit", "0")
        assert result.code == 0, result.err
        expected = {r["id"] for r in rows
                    if text in (r["title"] or "") or text in (r["body_text"] or "")}
        assert {r["id"] for r in result.jsonl()} == expected, text
    assert len(govcrawl_cli("query", "--search", "%", "--limit", "0").jsonl()) < len(rows)
    assert sql(devset_env, "select count(*) from articles") == [(36,)]


def test_collapse_lists_only_group_heads(devset_env, govcrawl_cli):
    everything = govcrawl_cli("query", "--limit", "0").jsonl()
    heads = govcrawl_cli("query", "--collapse", "--limit", "0").jsonl()
    copies = [r for r in everything if r["duplicate_of"] is not None]
    assert copies and all(r["similarity"] is not None for r in copies)
    assert {r["id"] for r in heads} == {r["id"] for r in everything} - {r["id"] for r in copies}
    ids = {r["id"] for r in heads}
    assert all(r["duplicate_of"] in ids for r in copies)


def test_sorts(devset_env, govcrawl_cli):
    by_portal = [r["portal"] for r in govcrawl_cli("query", "--sort", "portal", "--limit",
                                                   "0").jsonl()]
    assert by_portal == sorted(by_portal)
    seen = [r["first_seen"] for r in govcrawl_cli("query", "--sort", "first_seen").jsonl()]
    assert seen == sorted(seen, reverse=True)
    bad = govcrawl_cli("query", "--sort", "title")
    assert bad.code == 2


def test_csv_and_table_formats(devset_env, govcrawl_cli):
    out = govcrawl_cli("query", "--format", "csv", "--portal", "spp").out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["url"] for r in rows} == {u for (u,) in sql(
        devset_env, "select url from articles where portal_id = 'spp'")}
    assert set(rows[0]) >= REQUIRED
    table = govcrawl_cli("query", "--format", "table", "--portal", "spp").out
    assert table.splitlines()[0].split()[:3] == ["id", "published", "portal"]
    assert table.rstrip().endswith(f"({len(rows)} articles)")


def test_edited_and_removed_filters(devset_copy, govcrawl_cli):
    from govcrawl.ingest import PortalResolver, reprocess
    from govcrawl.store import open_archive

    assert govcrawl_cli("query", "--edited").jsonl() == []
    assert govcrawl_cli("query", "--removed").jsonl() == []
    url = sql(devset_copy, "select url from articles where id = 3")[0][0]
    with sqlite3.connect(devset_copy) as conn:  # an older title, as if the portal fixed it
        conn.execute("update articles set title = '旧标题' where id = 3")
    with open_archive(f"sqlite:///{devset_copy}") as arc:
        assert reprocess(arc, PortalResolver([])).get("updated") == 1
        from datetime import UTC, datetime

        arc.mark_removed(url, datetime(2024, 1, 2, tzinfo=UTC), "404")
    assert [r["id"] for r in govcrawl_cli("query", "--edited").jsonl()] == [3]
    removed = govcrawl_cli("query", "--removed").jsonl()
    assert [(r["id"], r["removed_at"]) for r in removed] == [(3, "2024-01-02T00:00:00+00:00")]


def test_bad_input_is_one_line_and_exit_2(devset_env, tmp_path, govcrawl_cli):
    cases = {
        ("query", "--portal", "nosuchportal"): "unknown portal",
        ("query", "--since", "2022-13-01"): "--since",
        ("query", "--until", "20220501"): "--until",
        ("query", "--since", "2023-01-01", "--until", "2022-01-01"): "after",
        ("query", "--database", f"sqlite:///{tmp_path}/missing.db"): "no archive",
    }
    for argv, words in cases.items():
        result = govcrawl_cli(*argv)
        assert result.code == 2, argv
        assert result.err.count("\n") == 1 and words in result.err, (argv, result.err)
        assert result.out == ""
    assert not (tmp_path / "missing.db").exists()  # reading never creates an archive


def test_foreign_and_newer_databases_are_refused(tmp_path, devset_db, govcrawl_cli):
    from tests.using.usehelpers import copy_db

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table notes (x)")
    result = govcrawl_cli("query", "--database", f"sqlite:///{other}")
    assert result.code == 2 and "not a govcrawl archive" in result.err
    newer = copy_db(devset_db, tmp_path / "newer.db")
    with sqlite3.connect(newer) as conn:
        conn.execute("update alembic_version set version_num = '9999_future'")
    result = govcrawl_cli("stats", "--database", f"sqlite:///{newer}")
    assert result.code == 2 and "newer" in result.err and result.err.count("\n") == 1
