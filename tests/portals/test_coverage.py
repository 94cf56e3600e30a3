"""Coverage by province: `govcrawl stats --by-province` and the browse page (issue 19, item 5)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from govcrawl import cli, ingest
from govcrawl.coverage import NATIONAL, OTHER, PROVINCES, months_up_to, province_coverage
from govcrawl.portals.registry import load_registry, portal_from_mapping
from govcrawl.store import open_archive


def _portal(pid: str, province: str | None, level: str = "provincial", kind: str = "homepage"):
    return portal_from_mapping({
        "id": pid, "name": pid, "dialect": "discover", "level": level, "province": province,
        "start_urls": [f"http://{pid}.example/"],
        "evidence": {"kind": kind, "year": 2022, "source": "x", "confidence": "low"}})


def test_rows_follow_the_province_order_and_keep_undeclared_archived_portals() -> None:
    declared = [_portal("gs", "甘肃"), _portal("bj", "北京", kind="pattern"),
                _portal("nat", None, level="national"), _portal("fam", None)]
    counts = {"gs": {"per_month": {"2024-01": 3, "2024-03": 2}, "last_published": "2024-03-09"},
              "gone": {"name": "旧站", "province": "北京", "level": "provincial",
                       "per_month": {"2023-12": 4}, "last_published": "2023-12-30"}}
    rows = province_coverage(declared, counts)
    assert [(r.province, r.portal) for r in rows] == [
        (NATIONAL, "nat"), ("北京", "bj"), ("北京", "gone"), ("甘肃", "gs"), (OTHER, "fam")]
    gs = rows[3]
    assert (gs.articles, gs.last_published, gs.evidence) == (5, "2024-03-09", "homepage 2022 low")
    assert gs.recent(months_up_to("2024-03", 3)) == [3, 0, 2]
    gone = rows[2]
    assert (gone.declared, gone.evidence, gone.articles) == (False, None, 4)


def test_months_cross_the_year() -> None:
    assert months_up_to("2024-02", 4) == ["2023-11", "2023-12", "2024-01", "2024-02"]


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Path:
    """The dev-set pages imported under the shipped declarations, each portal row carrying
    its evidence as a crawl records it (pipelines: ensure_portal(…, evidence=…))."""
    db = tmp_path_factory.mktemp("coverage") / "archive.db"
    registry = load_registry("")
    with open_archive(f"sqlite:///{db}") as arc:
        resolver = ingest.PortalResolver(registry.portals.values())
        report = ingest.import_saved_pages(arc, [testdata / "devset" / "pages"], resolver)
        assert report.errors == []
        for pid in [row[0] for row in sqlite3.connect(db).execute("SELECT id FROM portals")]:
            if pid in registry.portals:
                portal = registry.portals[pid]
                arc.ensure_portal(pid, portal.name, level=portal.level,
                                  province=portal.province, evidence=portal.evidence_label())
    return db


def test_stats_by_province_lists_every_declared_portal_with_what_the_archive_holds(
        archive_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("GOVCRAWL_DATABASE_URL", f"sqlite:///{archive_db}")
    monkeypatch.setenv("GOVCRAWL_PORTALS", "")
    assert cli.main(["stats", "--by-province", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    registry = load_registry("")
    assert {r["portal"] for r in rows if r["declared"]} == set(registry.portals)
    with sqlite3.connect(archive_db) as conn:
        held = dict(conn.execute("SELECT portal_id, COUNT(*) FROM articles GROUP BY 1"))
        newest = dict(conn.execute("SELECT portal_id, substr(MAX(published_at), 1, 10) "
                                   "FROM articles GROUP BY 1"))
    assert sum(held.values()) > 0
    for row in rows:
        assert row["articles"] == held.get(row["portal"], 0) == sum(row["per_month"].values())
        assert row["last_published"] == newest.get(row["portal"])
        if row["declared"]:
            assert row["evidence"] == registry.portals[row["portal"]].evidence_label()
    order = [r["province"] for r in rows]
    assert order[0] == NATIONAL and [p for p in PROVINCES if p in order] == sorted(
        set(order) & set(PROVINCES), key=PROVINCES.index)

    assert cli.main(["stats", "--by-province", "--months", "3"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:6] == ["province", "portal", "name", "evidence",
                                               "articles", "last"]
    for province in PROVINCES[:31]:
        assert f"\n{province} " in out
    provinces = {r["province"] for r in rows}
    with_articles = {r["province"] for r in rows if r["articles"]}
    assert "homepage 2022 low" in out
    assert out.rstrip().endswith(f"({len(provinces)} provinces and groups, {len(rows)} portals; "
                                 f"articles archived in {len(with_articles)} of them)")


@pytest.mark.slow
def test_the_browse_page_shows_evidence_last_article_and_monthly_rate(archive_db: Path) -> None:
    from govcrawl.browse import DB_NAME, build_datasette

    async def main() -> list[dict]:
        ds = build_datasette(archive_db)
        await ds.invoke_startup()
        try:
            response = await ds.client.get(f"/{DB_NAME}/coverage_by_province.json?_shape=array")
            assert response.status_code == 200, response.text[:2000]
            return response.json()
        finally:
            ds.get_database(DB_NAME).close()

    rows = {r["portal_id"]: r for r in asyncio.run(main())}
    registry = load_registry("")
    with sqlite3.connect(archive_db) as conn:
        stats = {pid: (n, newest, first) for pid, n, newest, first in conn.execute(
            "SELECT portal_id, COUNT(*), substr(MAX(published_at), 1, 10), "
            "substr(MIN(published_at), 1, 7) FROM articles GROUP BY 1")}
    assert set(rows) == {pid for (pid,) in sqlite3.connect(archive_db).execute(
        "SELECT id FROM portals")}
    for pid, row in rows.items():
        n, newest, first = stats.get(pid, (0, None, None))
        assert (row["articles"], row["last_published"]) == (n, newest)
        if pid in registry.portals:
            assert row["evidence"] == registry.portals[pid].evidence_label()
            assert row["province"] == (registry.portals[pid].province or (
                "(national)" if registry.portals[pid].level == "national" else "(no province)"))
        if n:
            span = months_up_to(newest[:7], 1000).index(newest[:7]) - months_up_to(
                newest[:7], 1000).index(first) + 1
            assert abs(row["articles_per_month"] - n / span) <= 0.05 + 1e-9
