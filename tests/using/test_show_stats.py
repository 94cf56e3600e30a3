"""`govcrawl show` and `govcrawl stats` on the imported dev set."""

from __future__ import annotations

import hashlib
import json
import sqlite3

from tests.using.usehelpers import sql


def _page_url(pages, page_id: str) -> str:
    return json.loads((pages / f"{page_id}.json").read_text("utf-8"))["url"]


def test_show_json_has_fields_provenance_encoding_and_raw_response(
        devset_env, devset_pages, govcrawl_cli):
    url = _page_url(devset_pages, "003")
    result = govcrawl_cli("show", url, "--json")
    assert result.code == 0, result.err
    a = json.loads(result.out)
    assert a["url"] == url
    assert a["fields"]["editor"]["value"] == "王磊" and a["fields"]["editor"]["provenance"]
    assert a["fields"]["body_text"]["provenance"] is not None
    assert "王磊" in a["byline_raw"]
    assert a["encoding"]["name"] and a["encoding"]["reason"]
    body = (devset_pages / "003.html").read_bytes()
    raw = a["response"]
    assert raw["sha256"] == hashlib.sha256(body).hexdigest() and raw["size"] == len(body)
    assert raw["status"] == 200 and raw["fetched_at"]
    sidecar = json.loads((devset_pages / "003.json").read_text("utf-8"))
    assert raw["headers"] == sidecar["headers"]
    # by id gives the same record
    assert json.loads(govcrawl_cli("show", str(a["id"]), "--json").out) == a


def test_show_lists_the_other_copies_with_similarity(devset_env, devset_pages, govcrawl_cli):
    a = json.loads(govcrawl_cli("show", _page_url(devset_pages, "002"), "--json").out)
    others = {m["url"]: m for m in a["group"]}
    assert set(others) == {_page_url(devset_pages, "001"), _page_url(devset_pages, "035")}
    head = [m for m in a["group"] if m["head"]]
    if a["duplicate_of"] is not None:
        assert len(head) == 1 and head[0]["id"] == a["duplicate_of"]
        assert 0 < a["similarity"] <= 1
    assert all(m["similarity"] for m in a["group"] if not m["head"])
    text = govcrawl_cli("show", _page_url(devset_pages, "002")).out
    assert "same article elsewhere" in text and _page_url(devset_pages, "035") in text


def test_show_versions_and_removal(devset_copy, govcrawl_cli):
    from datetime import UTC, datetime

    from govcrawl.ingest import PortalResolver, reprocess
    from govcrawl.store import open_archive

    (title,) = sql(devset_copy, "select title from articles where id = 5")[0]
    with sqlite3.connect(devset_copy) as conn:
        conn.execute("update articles set title = '旧标题', editor = '某编辑' where id = 5")
    with open_archive(f"sqlite:///{devset_copy}") as arc:
        reprocess(arc, PortalResolver([]))
        url = sql(devset_copy, "select url from articles where id = 5")[0][0]
        arc.mark_removed(url, datetime(2024, 3, 1, tzinfo=UTC), "404")
    a = json.loads(govcrawl_cli("show", "5", "--json").out)
    assert len(a["versions"]) == 1
    changed = a["versions"][0]["changed"]
    assert changed["title"] == {"old": "旧标题", "new": title}
    assert changed["editor"]["old"] == "某编辑"
    assert a["removed_at"] == "2024-03-01T00:00:00+00:00"
    assert [e["event"] for e in a["events"]] == ["removed"]
    text = govcrawl_cli("show", "5").out
    assert "旧标题 → " + title in text and "removed:     2024-03-01" in text


def test_show_unknown_article_exits_2(devset_env, govcrawl_cli):
    for key in ("999999", "http://nowhere.example.cn/a.html"):
        result = govcrawl_cli("show", key)
        assert result.code == 2 and result.err.count("\n") == 1 and "no article" in result.err


def test_stats_per_portal_match_the_tables(devset_env, govcrawl_cli):
    result = govcrawl_cli("stats", "--json")
    assert result.code == 0, result.err
    rows = {r["portal"]: r for r in result.jsonl()}
    for pid, n, dups, first, last in sql(
            devset_env, "select portal_id, count(*), count(duplicate_of), "
            "min(substr(published_at, 1, 10)), max(substr(published_at, 1, 10)) "
            "from articles group by portal_id"):
        r = rows[pid]
        assert (r["articles"], r["duplicates"], r["first_published"], r["last_published"]) == (
            n, dups, first, last)
    rejects = {}
    for pid, kind, n in sql(devset_env, "select portal_id, kind, count(*) from rejects "
                                        "group by portal_id, kind"):
        rejects.setdefault(pid, {})[kind] = n
    assert {p: r["rejects"] for p, r in rows.items() if r["rejects"]} == rejects
    assert sum(r["articles"] for r in rows.values()) == 36
    table = govcrawl_cli("stats").out
    # 9: www.sc.jcy.gov.cn belongs to the shipped jcy_provincial family
    assert table.splitlines()[0].startswith("portal") and "(9 portals, 36 articles)" in table
    future = govcrawl_cli("stats", "--since", "2999-01-01", "--json").jsonl()
    assert all(r["articles"] == 0 and r["rejects"] == {} for r in future)
    assert govcrawl_cli("stats", "--since", "yesterday").code == 2
