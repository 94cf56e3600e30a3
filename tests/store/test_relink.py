"""`Archive.relink` / `govcrawl relink`: groups recomputed after a rule change, removed links
kept as events, idempotent; and run counts taken from the groups at the end of a run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factory import T0, entry
from sqlalchemy import select, text, update

from govcrawl import dedup
from govcrawl.cli import main
from govcrawl.store.schema import articles

BODY = ("最高人民检察院召开党组会议，研究部署检察工作高质量发展的具体举措。会议指出，要坚持以"
        "人民为中心，依法履行法律监督职责，推动检察工作现代化。会议强调，要加强队伍建设。")
# the same story with one phrase reworded: a copy at containment 0.85, not at 0.99
REWORDED = BODY.replace("具体举措", "若干措施")
OTHER = ("江苏省高级人民法院发布知识产权司法保护典型案例，涉及商标侵权、不正当竞争和专利纠纷，"
         "为市场主体提供明确的行为指引，持续优化法治化营商环境。")


def _links(arc) -> dict[str, str | None]:
    with arc.read_engine.connect() as conn:
        rows = conn.execute(select(articles.c.id, articles.c.url, articles.c.duplicate_of)).all()
    url = {r.id: r.url for r in rows}
    return {r.url: url.get(r.duplicate_of) for r in rows}


def _events(arc) -> list[tuple[str, str]]:
    with arc.read_engine.connect() as conn:
        return [(e, d) for e, d in conn.execute(text("SELECT event, detail FROM article_events"))]


def test_relink_after_a_threshold_change_and_a_second_run_changes_nothing(
        archive, monkeypatch) -> None:
    archive.store_batch([entry("http://a.cn/1.html", BODY, published_at="2024-05-01"),
                         entry("http://b.cn/1.html", REWORDED, portal="p2",
                               published_at="2024-05-02"),
                         entry("http://c.cn/1.html", OTHER, portal="p2")])
    assert _links(archive)["http://b.cn/1.html"] == "http://a.cn/1.html"
    monkeypatch.setattr(dedup, "CONTAINMENT_THRESHOLD", 0.99)  # a stricter rule
    report = archive.relink()
    assert (report.added, report.removed, report.repointed) == (0, 1, 0)
    assert report.articles == 3
    assert _links(archive)["http://b.cn/1.html"] is None
    [(event, detail)] = _events(archive)
    assert event == "unlinked" and '"relink"' in detail
    again = archive.relink()
    assert (again.added, again.removed, again.repointed) == (0, 0, 0)
    monkeypatch.setattr(dedup, "CONTAINMENT_THRESHOLD", 0.85)  # back: the link returns
    assert archive.relink().added == 1
    assert _links(archive)["http://b.cn/1.html"] == "http://a.cn/1.html"


def test_relink_repairs_a_chained_link_and_a_link_under_the_threshold(archive) -> None:
    """Links left by the old re-pointing: a copy pointing at a copy, and at an unlike head."""
    out = archive.store_batch([
        entry("http://a.cn/1.html", BODY, published_at="2024-05-01"),
        entry("http://b.cn/1.html", BODY + "（责任编辑：李婷）", portal="p2",
              published_at="2024-05-02"),
        entry("http://c.cn/1.html", OTHER, portal="p2")])
    a, b, c = (o.article_id for o in out)
    with archive.engine.begin() as conn:
        conn.execute(update(articles).where(articles.c.id == a).values(duplicate_of=b,
                                                                       similarity=1.0))
        conn.execute(update(articles).where(articles.c.id == b).values(duplicate_of=None))
        conn.execute(update(articles).where(articles.c.id == c).values(duplicate_of=a,
                                                                       similarity=0.345))
    report = archive.relink(portal_id="p2")
    assert (report.added, report.removed, report.repointed) == (1, 2, 0)
    assert _links(archive) == {"http://a.cn/1.html": None, "http://b.cn/1.html":
                               "http://a.cn/1.html", "http://c.cn/1.html": None}


def test_relink_of_one_portal_leaves_unrelated_groups_alone(archive, monkeypatch) -> None:
    archive.store_batch([entry("http://a.cn/1.html", BODY), entry("http://m.cn/1.html", BODY,
                                                                 portal="m1", is_mirror=True),
                         entry("http://a.cn/2.html", OTHER),
                         entry("http://b.cn/2.html", OTHER + "责任编辑：王磊", portal="p2")])
    with archive.engine.begin() as conn:  # both groups broken by hand
        conn.execute(update(articles).values(duplicate_of=None, similarity=None))
    report = archive.relink(portal_id="m1")
    assert report.added == 1 and report.articles == 2
    links = _links(archive)
    assert links["http://m.cn/1.html"] == "http://a.cn/1.html"
    assert links["http://b.cn/2.html"] is None  # not reachable from portal m1


def test_relink_command(archive, sqlite_url, capsys) -> None:
    archive.store_batch([entry("http://a.cn/1.html", BODY),
                         entry("http://b.cn/1.html", BODY, portal="p2")])
    with archive.engine.begin() as conn:
        conn.execute(update(articles).values(duplicate_of=None, similarity=None))
    assert main(["relink", "--database", sqlite_url]) == 0
    assert "links added 1, removed 0, re-pointed 0" in capsys.readouterr().out
    assert main(["relink", "--portal", "p2", "--database", sqlite_url]) == 0
    assert "links added 0, removed 0, re-pointed 0" in capsys.readouterr().out
    assert main(["relink", "--portal", "nope", "--database", sqlite_url]) == 2


@pytest.mark.parametrize("later_is_better", [True, False])
def test_run_counts_are_what_the_archive_holds_at_the_end(archive, later_is_better) -> None:
    """A head stored early becomes a copy when an earlier-published copy arrives later in the
    run: counted by outcome that is "new 2", but the archive holds one head and one copy."""
    first = archive.store_batch([entry("http://b.cn/1.html", BODY, portal="p2",
                                       published_at="2024-05-02")])
    second = archive.store_batch([entry(
        "http://a.cn/1.html", BODY, published_at="2024-05-01" if later_is_better else "2024-05-03",
        fetched_at=T0 + timedelta(hours=1))])
    stored = [o.article_id for o in first + second if o.status in ("new", "duplicate")]
    with archive.read_engine.connect() as conn:
        copies = conn.execute(text(
            "SELECT COUNT(*) FROM articles WHERE duplicate_of IS NOT NULL")).scalar_one()
    assert copies == 1
    assert archive.copies_among(stored) == copies
    by_outcome = sum(o.status == "duplicate" for o in first + second)
    assert by_outcome == (0 if later_is_better else 1)  # why the report must not count outcomes
