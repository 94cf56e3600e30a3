"""The same archive on the real PostgreSQL server (pg_trgm search, JSON, timestamps, refusals)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factory import T0, entry
from sqlalchemy import text

from govcrawl.store import ArchiveError, open_archive, query
from govcrawl.store.db import head_revision

pytestmark = pytest.mark.postgres

BODY = (
    "最高人民法院今天发布一批知识产权司法保护典型案例，涉及商标、专利和著作权纠纷，"
    "要求各级法院依法平等保护中外权利人合法权益，营造良好营商环境。"
)


def test_store_dedup_and_versions(pg_archive) -> None:
    out = pg_archive.store_batch([
        entry("http://x.cn/a.html", BODY),
        entry("https://x.cn/a.html", BODY),
        entry("http://y.cn/a.html", "首页 > 要闻\n" + BODY, portal="p2"),
        entry("http://x.cn/c.html", kind="challenge"),
    ])
    assert [o.status for o in out] == ["new", "unchanged", "duplicate", "reject"]
    out = pg_archive.store_batch([entry("http://x.cn/a.html", BODY, title="新", fetched_at=T0 + timedelta(1))])
    assert out[0].status == "updated"
    g = query.group_of(pg_archive, out[0].article_id)
    assert [c.url for c in g.copies] == ["http://y.cn/a.html"]
    with pg_archive.read_engine.connect() as conn:
        first_seen, published = conn.execute(text(
            "SELECT first_seen, published_at FROM articles WHERE id = 1")).one()
    assert first_seen == "2024-05-10T08:00:00+00:00" and published == "2022-05-10"


def test_search_two_and_four_characters(pg_archive) -> None:
    pg_archive.store_batch([entry("http://x.cn/a.html", BODY, title="典型案例发布"),
                            entry("http://x.cn/b.html", "检察机关开展公益诉讼专项监督活动。" * 3)])
    assert {h.url for h in query.search(pg_archive, "法院")} == {"http://x.cn/a.html"}
    assert {h.url for h in query.search(pg_archive, "检察")} == {"http://x.cn/b.html"}
    assert {h.url for h in query.search(pg_archive, "公益诉讼")} == {"http://x.cn/b.html"}
    assert {h.url for h in query.search(pg_archive, "知識產權")} == {"http://x.cn/a.html"}
    assert query.search(pg_archive, "%' OR 1=1 --") == []


def test_trigram_index_serves_han_queries(pg_archive) -> None:
    """The server's locale keeps Han characters in trigrams, and ILIKE can use the GIN index."""
    with pg_archive.read_engine.connect() as conn:
        assert len(conn.execute(text("SELECT show_trgm('法院')")).scalar()) == 3
        conn.execute(text("SET enable_seqscan = off"))
        plan = " ".join(r[0] for r in conn.execute(text(
            "EXPLAIN SELECT id FROM articles WHERE body_text ILIKE '%公益诉讼%'")))
    assert "ix_articles_body_trgm" in plan


def test_refuses_newer_archive(pg_url) -> None:
    arc = open_archive(pg_url)
    with arc.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(ArchiveError, match="newer than this govcrawl"):
        open_archive(pg_url)
    with arc.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :head"),
                     {"head": head_revision()})
    arc.close()


def test_crawl_state(pg_archive) -> None:
    pg_archive.note_fetch_failure("http://x.cn/a.html", "error", now=T0)
    assert not pg_archive.due_for_retry("http://x.cn/a.html", now=T0)
    pg_archive.set_channel_progress("p1", "http://x.cn/l.html", last_page=2, backfill_complete=True)
    assert pg_archive.get_channel_progress("p1", "http://x.cn/l.html")["last_page"] == 2
    run = pg_archive.start_run("s", {"法": 1})
    pg_archive.finish_run(run, "finished", {"n": 1})
