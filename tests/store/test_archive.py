"""Archive writes: outcomes, identity, versions, duplicate groups, crawl state, reprocess."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factory import T0, entry
from sqlalchemy import select, text

from govcrawl.records import Media
from govcrawl.store import query
from govcrawl.store.schema import article_versions, articles

BODY = (
    "5月9日，最高人民检察院党组书记、检察长张军主持召开党组会，贯彻落实中共中央关于加强新时代"
    "检察机关法律监督工作的意见，研究讨论质量建设年以检察工作高质量发展服务经济社会高质量发展的"
    "具体举措。会议要求，要把质量建设年的要求抓实抓细，以更优的检察履职实绩为党分忧、为民解难。"
)
OTHER = (
    "7月8日，岳阳市委政法委召开政法工作推进会议，传达学习上级有关会议精神，总结前一阶段工作，"
    "部署下一步重点任务。会议要求，要聚焦群众关切，持续深化执法司法规范化建设，认真办理群众来信来访。"
)


def _statuses(outcomes) -> list[str]:
    return [o.status for o in outcomes]


def test_new_unchanged_updated_reject(archive) -> None:
    out = archive.store_batch([entry("http://x.cn/a.html", BODY),
                               entry("http://x.cn/b.html", kind="challenge")])
    assert _statuses(out) == ["new", "reject"]
    later = T0 + timedelta(days=1)
    out = archive.store_batch([entry("https://x.cn/a.html#top", BODY, fetched_at=later)])
    assert _statuses(out) == ["unchanged"]  # http/https + fragment: same article, not inserted
    assert archive.count("articles") == 1 and archive.count("responses") == 3
    with archive.read_engine.connect() as conn:
        first, last = conn.execute(select(articles.c.first_seen, articles.c.last_seen)).one()
    assert (first, last) == (T0, later)
    out = archive.store_batch([entry("http://x.cn/a.html", BODY + "（完）", title="新标题",
                                     fetched_at=later + timedelta(hours=1))])
    assert _statuses(out) == ["updated"] and set(out[0].changed) == {"title", "body_text"}
    with archive.read_engine.connect() as conn:
        v = conn.execute(select(article_versions)).one()
        title, body = conn.execute(select(articles.c.title, articles.c.body_text)).one()
    assert v.changed == ["title", "body_text"] and v.old_values["title"] == "标题"
    assert v.old_values["body_text"] == BODY and (title, body) == ("新标题", BODY + "（完）")
    assert archive.count("articles") == 1 and archive.count("rejects") == 1
    assert query.reject_counts(archive) == {("challenge", "ruishu"): 1}


def test_founder_node_variants_are_one_article(archive) -> None:
    base = "http://www.legaldaily.com.cn/index_article/content/2022-03/04/content_8681543.htm"
    out = archive.store_batch([entry(base + "?node=5955", BODY), entry(base + "?node=80", BODY)])
    assert _statuses(out) == ["new", "unchanged"]
    assert archive.is_known(base + "?node=1") and not archive.is_known(base + "x")
    assert archive.known_article_urls("p1") == {base}


def test_batch_is_one_transaction(archive) -> None:
    bad = entry("http://x.cn/b.html", BODY, portal="no-such-portal")  # FK violation
    with pytest.raises(Exception, match="FOREIGN KEY"):
        archive.store_batch([entry("http://x.cn/a.html", BODY), bad])
    assert archive.count("articles") == 0 and archive.count("responses") == 0


def test_exact_duplicate_head_rule_and_repointing(archive) -> None:
    # a mirror arrives first, then a later official copy, then the earliest official copy
    out = archive.store_batch([
        entry("http://mirror.cn/a.html", BODY, portal="m1", is_mirror=True,
              published_at="2022-05-09"),
    ])
    mirror = out[0].article_id
    assert out[0].status == "new"
    out = archive.store_batch([entry("http://hn.cn/a.html", BODY, portal="p2",
                                     published_at="2022-05-11T09:00:00+08:00")])
    second = out[0].article_id
    assert out[0].status == "new" and out[0].head_id == second  # official beats mirror
    out = archive.store_batch([entry("http://x.cn/a.html", BODY, published_at="2022-05-10")])
    first = out[0].article_id
    assert out[0].head_id == first
    with archive.read_engine.connect() as conn:
        links = dict(conn.execute(select(articles.c.id, articles.c.duplicate_of)).all())
    assert links == {mirror: first, second: first, first: None}  # no chains
    # a later copy joins the group as a duplicate of the head
    out = archive.store_batch([entry("http://other.cn/a.html", BODY, portal="p2",
                                     published_at="2022-06-01")])
    assert out[0].status == "duplicate" and out[0].head_id == first
    group = query.group_of(archive, mirror)
    assert group is not None and group.head.id == first
    assert sorted(c.id for c in group.copies) == sorted([mirror, second, out[0].article_id])
    assert query.group_of(archive, first).head.id == first
    assert {c.similarity for c in group.copies} == {1.0}


def test_near_duplicate_mirror_is_linked_and_twin_is_not(archive) -> None:
    archive.store_batch([entry("http://x.cn/a.html", BODY)])
    copy = "首页 > 新闻中心 > 政法要闻\n" + BODY.replace("，", ",") + "\n责任编辑：李婷"
    twin = BODY.replace("张军", "王伟").replace("5月9日", "6月2日")
    out = archive.store_batch([
        entry("http://m.cn/a.html", copy, portal="m1", is_mirror=True),
        entry("http://y.cn/b.html", twin, portal="p2"),
        entry("http://y.cn/c.html", OTHER, portal="p2"),
    ])
    assert _statuses(out) == ["duplicate", "new", "new"]
    assert out[0].head_id == 1 and 0.85 <= out[0].similarity <= 1.0
    g = query.group_of(archive, out[0].article_id)
    assert g.head.id == 1 and [c.url for c in g.copies] == ["http://m.cn/a.html"]


def test_band_lookup_uses_index(archive) -> None:
    with archive.read_engine.connect() as conn:
        plan = conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT article_id FROM article_bands WHERE key IN (1, 2, 3)"
        )).all()
    assert "USING INDEX ix_article_bands_key_band" in " ".join(str(r) for r in plan)


def test_media_stored_and_replaced_on_update(archive) -> None:
    pics = [Media("http://x.cn/1.jpg", "image", "现场"), Media("http://x.cn/a.pdf", "attachment")]
    archive.store_batch([entry("http://x.cn/a.html", BODY, media=pics)])
    assert archive.count("media") == 2
    archive.store_batch([entry("http://x.cn/a.html", BODY, editor="李婷", media=pics[:1])])
    assert archive.count("media") == 1 and archive.count("article_versions") == 1


def test_runs_and_stale_running_runs_are_aborted(archive) -> None:
    r1 = archive.start_run("chinapeace", {"since": "2024-01-01"})
    r2 = archive.start_run("chinapeace", {})
    archive.finish_run(r2, "finished", {"items": 10})
    with archive.read_engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, status FROM runs")).all())
    assert rows == {r1: "aborted", r2: "finished"}
    with pytest.raises(ValueError):
        archive.finish_run(r2, "done", {})


def test_record_reject_without_response(archive) -> None:
    run = archive.start_run("s", {})
    archive.record_reject("http://x.cn/a.html", run, "error", "dns", "NXDOMAIN", portal_id="p1")
    assert query.reject_counts(archive, run) == {("error", "dns"): 1}


def test_fetch_backoff(archive) -> None:
    url = "http://x.cn/a.html"
    assert archive.due_for_retry(url)
    d1 = archive.note_fetch_failure(url, "error", now=T0)
    d2 = archive.note_fetch_failure(url, "error", now=T0)
    d3 = archive.note_fetch_failure(url + "#x", "blocked", now=T0)  # same URL identity
    assert (d1 - T0, d2 - T0, d3 - T0) == (timedelta(minutes=5), timedelta(minutes=10),
                                           timedelta(minutes=20))
    assert not archive.due_for_retry(url, now=T0 + timedelta(minutes=19))
    assert archive.due_for_retry(url, now=T0 + timedelta(minutes=20))
    for _ in range(20):
        last = archive.note_fetch_failure(url, "error", now=T0)
    assert last - T0 == timedelta(days=7)  # capped
    archive.note_fetch_success(url)
    assert archive.due_for_retry(url, now=T0)


def test_channel_progress(archive) -> None:
    ch = "http://x.cn/chinapeace/c100007/index.shtml"
    assert archive.get_channel_progress("p1", ch) is None
    archive.set_channel_progress("p1", ch, last_page=3, backfill_complete=False)
    archive.set_channel_progress("p1", ch, last_page=9, backfill_complete=True)
    got = archive.get_channel_progress("p1", ch)
    assert got["last_page"] == 9 and got["backfill_complete"] is True


def test_mark_removed_and_revisit(archive) -> None:
    h = {"Content-Type": "text/html", "ETag": '"abc"', "Last-Modified": "Fri, 10 May 2024 08:00:00 GMT"}
    archive.store_batch([
        # published long ago, though first seen today: not revisited
        entry("http://x.cn/old.html", OTHER, published_at="2024-04-01"),
        entry("http://x.cn/a.html", BODY, headers=h, published_at="2024-05-10T09:30:00+08:00"),
        entry("http://x.cn/b.html", BODY + "续", fetched_at=T0 + timedelta(hours=1),
              published_at="2024-05-10T09:30:00+08:00"),
        # no publish time: counts from when it was first seen
        entry("http://x.cn/undated.html", "县法院开展送法进校园活动，向师生讲解未成年人保护法。" * 3,
              published_at=None,
              fetched_at=T0 + timedelta(hours=2)),
    ])
    assert archive.mark_removed("http://x.cn/b.html", T0 + timedelta(days=2), "404")
    assert not archive.mark_removed("http://x.cn/none.html", T0, "404")
    got = archive.articles_for_revisit("p1", since=T0 - timedelta(days=1))
    assert got == [("http://x.cn/a.html", '"abc"', "Fri, 10 May 2024 08:00:00 GMT"),
                   ("http://x.cn/undated.html", None, None)]
    with archive.read_engine.connect() as conn:
        ev = conn.execute(text("SELECT event, detail FROM article_events")).one()
    assert ev[0] == "removed" and "404" in ev[1]


def test_iter_responses_and_apply_reprocessed(archive) -> None:
    gbk = "<html><body>法院</body></html>".encode("gbk")
    archive.store_batch([entry("http://x.cn/a.html", BODY, html=gbk),
                         entry("http://x.cn/c.html", kind="stub")])
    got = list(archive.iter_responses(portal_id="p1", chunk=1))
    assert [rid for rid, _ in got] == [1, 2]
    assert got[0][1].body == gbk and got[0][1].fetched_at == T0  # exact bytes back
    # re-extraction finds an article in the former stub and a better title in the first page
    page = entry("http://x.cn/c.html", OTHER).page
    assert archive.apply_reprocessed([(2, page)])[0].status == "new"
    page = entry("http://x.cn/a.html", BODY, title="更正后的标题").page
    (out,) = archive.apply_reprocessed([(1, page)])
    assert out.status == "updated" and out.changed == ["title"]


def test_safe_from_a_worker_thread(archive) -> None:
    import asyncio

    async def main():
        return await asyncio.gather(*[
            asyncio.to_thread(archive.store_batch, [entry(f"http://x.cn/{i}.html", f"{BODY}{i}")])
            for i in range(8)
        ])

    results = asyncio.run(main())
    assert sorted(r[0].status for r in results).count("new") >= 1
    assert archive.count("articles") == 8


def _head_of(archive, url: str) -> int | None:
    with archive.read_engine.connect() as conn:
        return conn.execute(select(articles.c.duplicate_of).where(articles.c.url == url)).scalar()


def _id_of(archive, url: str) -> int:
    with archive.read_engine.connect() as conn:
        return conn.execute(select(articles.c.id).where(articles.c.url == url)).scalar()


def test_an_edit_that_rewrites_a_copy_takes_it_out_of_its_group(archive) -> None:
    archive.store_batch([entry("http://a.cn/1.html", BODY)])
    archive.store_batch([entry("http://b.cn/1.html", BODY + "（责任编辑：李婷）", portal="p2",
                               fetched_at=T0 + timedelta(hours=1))])
    head = _id_of(archive, "http://a.cn/1.html")
    assert _head_of(archive, "http://b.cn/1.html") == head
    [outcome] = archive.store_batch([entry("http://b.cn/1.html", OTHER, portal="p2",
                                           fetched_at=T0 + timedelta(days=1))])
    assert outcome.status == "updated" and outcome.head_id == outcome.article_id
    assert _head_of(archive, "http://b.cn/1.html") is None
    with archive.read_engine.connect() as conn:
        events = conn.execute(text("SELECT event FROM article_events")).scalars().all()
    assert "unlinked" in events


def test_an_edit_that_turns_an_article_into_a_copy_links_it(archive) -> None:
    archive.store_batch([entry("http://a.cn/1.html", BODY)])
    archive.store_batch([entry("http://b.cn/2.html", OTHER, portal="p2",
                               fetched_at=T0 + timedelta(hours=1))])
    assert _head_of(archive, "http://b.cn/2.html") is None
    [outcome] = archive.store_batch([entry("http://b.cn/2.html", BODY + "（来源：中国长安网）",
                                           portal="p2", fetched_at=T0 + timedelta(days=1))])
    head = _id_of(archive, "http://a.cn/1.html")
    assert outcome.head_id == head
    assert _head_of(archive, "http://b.cn/2.html") == head


def test_when_a_head_is_rewritten_its_remaining_copies_stay_together(archive) -> None:
    archive.store_batch([entry("http://a.cn/1.html", BODY)])
    archive.store_batch([entry("http://b.cn/1.html", BODY, portal="p2",
                               fetched_at=T0 + timedelta(hours=1))])
    archive.store_batch([entry("http://c.cn/1.html", BODY + "（编辑：王磊）", portal="p2",
                               fetched_at=T0 + timedelta(hours=2))])
    archive.store_batch([entry("http://a.cn/1.html", OTHER, fetched_at=T0 + timedelta(days=1))])
    b, c = _id_of(archive, "http://b.cn/1.html"), _id_of(archive, "http://c.cn/1.html")
    assert _head_of(archive, "http://a.cn/1.html") is None
    heads = {_head_of(archive, "http://b.cn/1.html") or b, _head_of(archive, "http://c.cn/1.html") or c}
    assert heads == {b}  # b, the earlier copy, now heads what is left of the group


def test_work_before_the_transaction_does_not_decide_what_is_new(archive, sqlite_url) -> None:
    """Keys and compression are prepared before the write lock is taken; what another writer
    stores in between is still seen, so a URL it archived meanwhile is not inserted twice."""
    from govcrawl.store import open_archive

    other = open_archive(sqlite_url)
    prepare = archive._prepare

    def prepare_then_other_writer(entries):
        batch = prepare(entries)
        other.store_batch([entry("http://x.cn/a.html", BODY)])
        return batch

    archive._prepare = prepare_then_other_writer
    try:
        out = archive.store_batch([entry("http://x.cn/a.html", BODY + "（完）",
                                         fetched_at=T0 + timedelta(hours=1)),
                                   entry("http://y.cn/b.html", BODY, portal="p2")])
    finally:
        other.close()
    assert _statuses(out) == ["updated", "duplicate"]
    assert archive.count("articles") == 2 and archive.count("responses") == 3
    assert out[1].head_id == out[0].article_id == 1


def test_duplicate_keys_computed_by_the_caller_are_not_computed_again(archive, monkeypatch):
    """Extraction workers compute an article's keys beside the page; the writer uses them."""
    from govcrawl import dedup

    first = entry("http://x.cn/a.html", BODY)
    copy = entry("http://y.cn/a.html", "首页 > 要闻\n" + BODY, portal="p2")
    edit = entry("http://x.cn/a.html", BODY + "（完）", fetched_at=T0 + timedelta(hours=1))
    for e in (first, copy, edit):
        e.keys = dedup.body_keys(e.page.body_text)

    def no_recompute(text):
        raise AssertionError("keys computed again")

    monkeypatch.setattr(dedup, "body_keys", no_recompute)
    assert _statuses(archive.store_batch([first, copy])) == ["new", "duplicate"]
    [out] = archive.store_batch([edit])
    assert out.status == "updated" and out.head_id == 1
