"""`govcrawl import`: saved pages and WARC records go the crawl's way into the archive."""

from __future__ import annotations

import json
from pathlib import Path

from govcrawl import ingest
from govcrawl.portals.registry import load_registry, portal_from_mapping
from tests.using.usehelpers import copy_db, sql


def _sidecar(pages: Path, page_id: str) -> dict:
    return json.loads((pages / f"{page_id}.json").read_text("utf-8"))


def test_devset_import_gives_36_articles_and_the_4_non_articles_as_rejects(
        devset_db, devset_pages, devset_gold):
    articles = {url for (url,) in sql(devset_db, "select url from articles")}
    expected = {_sidecar(devset_pages, i)["url"] for i, g in devset_gold.items()
                if "not_article" not in g}
    assert len(expected) == 36
    assert articles == expected
    rejects = {(url, kind) for url, kind in sql(devset_db, "select url, kind from rejects")}
    assert rejects == {(_sidecar(devset_pages, i)["url"], g["not_article"])
                       for i, g in devset_gold.items() if "not_article" in g}
    assert sql(devset_db, "select count(*) from responses") == [(40,)]
    # the gold fields came through extract_page as a crawl would store them
    by_url = {r[0]: r[1:] for r in sql(devset_db, "select url, title, editor from articles")}
    page1 = _sidecar(devset_pages, "001")["url"]
    assert by_url[page1] == (devset_gold["001"]["title"], devset_gold["001"]["editor"])


def test_devset_import_records_a_run_and_links_the_syndicated_copies(devset_db, devset_pages):
    runs = sql(devset_db, "select spider, status, stats from runs")
    assert [(s, st) for s, st, _ in runs] == [("import", "finished")]
    stats = json.loads(runs[0][2])
    assert stats["new"] + stats.get("duplicate", 0) == 36 and stats["reject"] == 4
    # dev 001, 002 and 035 are one article (devset README): one head, two copies
    urls = [_sidecar(devset_pages, i)["url"] for i in ("001", "002", "035")]
    heads = {r[0] or r[1] for r in sql(
        devset_db, "select duplicate_of, id from articles where url in (?, ?, ?)", *urls)}
    assert len(heads) == 1


def test_pages_are_attributed_by_host_else_to_unknown(devset_db, devset_pages):
    portal = dict(sql(devset_db, "select url, portal_id from articles"))
    spp = _sidecar(devset_pages, "004")["url"]
    assert spp.startswith("https://www.spp.gov.cn/") and portal[spp] == "spp"
    illustrative = _sidecar(devset_pages, "008")["url"]
    assert ".example.gov.cn" in illustrative and portal[illustrative] == "unknown"
    declared = load_registry("").get("spp")
    assert sql(devset_db, "select name from portals where id = 'spp'") == [(declared.name,)]


def test_resolver_prefers_the_portal_whose_article_pattern_matches():
    a = portal_from_mapping({"id": "port_a", "name": "A", "dialect": "generic",
                             "start_urls": ["http://h.cn/a/"], "article_pattern": "/a/\\d+"})
    b = portal_from_mapping({"id": "port_b", "name": "B", "dialect": "generic",
                             "start_urls": ["http://h.cn/b/"], "article_pattern": "/b/\\d+"})
    resolver = ingest.PortalResolver([a, b])
    assert resolver.resolve("http://h.cn/b/12").id == "port_b"
    assert resolver.resolve("http://www.h.cn/a/3").id == "port_a"  # sub-domains, as Scrapy
    assert resolver.resolve("http://xh.cn/a/3") is None
    assert resolver.resolve("http://elsewhere.cn/b/12") is None


def test_importing_the_same_pages_twice_adds_nothing(devset_copy, devset_pages, govcrawl_cli):
    tables = ("articles", "responses", "rejects", "article_versions", "media", "article_bands")
    before = {t: sql(devset_copy, f"select count(*) from {t}") for t in tables}
    result = govcrawl_cli("import", str(devset_pages))
    assert result.code == 0, result.err
    assert "skipped 40" in result.out and "new" not in result.out
    assert result.err == ""  # no progress lines when stderr is not a terminal
    assert {t: sql(devset_copy, f"select count(*) from {t}") for t in tables} == before
    assert sql(devset_copy, "select count(*) from runs where spider = 'import'") == [(2,)]


def test_import_of_one_page_with_a_new_body_is_stored_as_a_new_version(
        devset_copy, devset_pages, tmp_path, govcrawl_cli):
    meta = _sidecar(devset_pages, "004")
    page = (devset_pages / "004.html").read_bytes().replace(
        "以案释法".encode(meta["true_encoding"]), "以案说法".encode(meta["true_encoding"]))
    assert page != (devset_pages / "004.html").read_bytes()
    (tmp_path / "p.html").write_bytes(page)
    (tmp_path / "p.json").write_text(json.dumps(meta), "utf-8")
    result = govcrawl_cli("import", str(tmp_path / "p.html"))
    assert result.code == 0 and "updated 1" in result.out, result.out + result.err
    (title,) = sql(devset_copy, "select title from articles where url = ?", meta["url"])[0]
    assert "以案说法" in title
    old = sql(devset_copy, "select old_values from article_versions")
    assert len(old) == 1 and "以案释法" in json.loads(old[0][0])["title"]


def test_import_bad_input_exits_2_with_one_line(tmp_path, govcrawl_cli, devset_pages):
    db = f"sqlite:///{tmp_path}/a.db"
    missing = govcrawl_cli("import", str(tmp_path / "nope.html"), "--database", db)
    assert missing.code == 2 and missing.err.count("\n") == 1 and "nope.html" in missing.err
    not_warc = govcrawl_cli("import", "--warc", str(devset_pages / "001.html"), "--database", db)
    assert not_warc.code == 2 and "not a WARC" in not_warc.err
    (tmp_path / "other.db").write_bytes(b"not sqlite at all, just text" * 10)
    foreign = govcrawl_cli("import", str(devset_pages / "001.html"),
                           "--database", f"sqlite:///{tmp_path}/other.db")
    assert foreign.code == 2 and "not a SQLite database" in foreign.err


def test_resolver_uses_declared_portals_for_a_copy(devset_db, tmp_path, devset_pages):
    """A user declaration for an illustrative host claims its pages on import."""
    db = copy_db(devset_db, tmp_path / "a.db")
    toml = tmp_path / "p.toml"
    toml.write_text('[[portal]]\nid = "jszf"\nname = "江苏政法网"\nprovince = "江苏"\n'
                    'dialect = "generic"\nstart_urls = ["http://jszf.example.gov.cn/"]\n',
                    "utf-8")
    fresh = tmp_path / "fresh.db"
    from govcrawl.store import open_archive

    with open_archive(f"sqlite:///{fresh}") as arc:
        resolver = ingest.PortalResolver(load_registry(str(toml)).portals.values())
        ingest.import_saved_pages(arc, [devset_pages / "008.html"], resolver)
    assert sql(fresh, "select portal_id from articles") == [("jszf",)]
    assert sql(fresh, "select province from portals where id = 'jszf'") == [("江苏",)]
    assert db.exists()
