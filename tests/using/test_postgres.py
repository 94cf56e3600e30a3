"""The same reads on PostgreSQL (ILIKE over pg_trgm instead of FTS5)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.postgres


def test_filters_search_show_stats_export_reprocess_on_postgres(
        pg_devset, devset_env, tmp_path, govcrawl_cli, monkeypatch):
    sqlite_url = f"sqlite:///{devset_env}"

    def ids(*argv: str, url: str) -> list:
        result = govcrawl_cli("query", "--limit", "0", *argv, "--database", url)
        assert result.code == 0, result.err
        return sorted(r["url"] for r in result.jsonl())

    for argv in ((), ("--search", "检察"), ("--search", "扫黑除恶"), ("--search", "掃黑除惡"),
                 ("--search", "%"), ("--province", "广东"), ("--source", "法治日报"),
                 ("--since", "2022-05-10", "--until", "2022-08-16"), ("--collapse",)):
        assert ids(*argv, url=pg_devset) == ids(*argv, url=sqlite_url), argv
    shown = json.loads(govcrawl_cli("show", "1", "--json", "--database", pg_devset).out)
    assert shown["response"]["sha256"] and shown["fields"]["title"]["value"]
    stats = govcrawl_cli("stats", "--json", "--database", pg_devset).jsonl()
    assert sum(r["articles"] for r in stats) == 36
    warc = tmp_path / "pg.warc.gz"
    assert govcrawl_cli("export", "--format", "warc", "-o", str(warc),
                        "--database", pg_devset).code == 0
    again = govcrawl_cli("import", "--warc", str(warc), "--database", pg_devset)
    assert "skipped 36" in again.out, again.out
    assert "0 changed" in govcrawl_cli("reprocess", "--database", pg_devset).out
