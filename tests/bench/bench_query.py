"""Query/export benchmark (run by hand): `python tests/bench/bench_query.py [--quick]`.

Builds an archive of 100k articles (10k with --quick) directly in SQL (one response row per
article with a zlib-compressed HTML body; the FTS trigger indexes titles and bodies), then prints:

1. latency of filtered listings through `store.read.iter_articles` (as `govcrawl query` runs);
2. full-text search latency with 2-character and 4-character terms (frequent and absent);
3. export throughput in articles/s for JSONL and WARC (gzipped), every article.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import sys
import tempfile
import time
import zlib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

from bench_archive import synthetic_body  # noqa: E402
from sqlalchemy import text  # noqa: E402

from govcrawl.export import WarcExporter, write_jsonl  # noqa: E402
from govcrawl.store import open_archive  # noqa: E402
from govcrawl.store import read as R  # noqa: E402
from govcrawl.store.schema import articles, responses  # noqa: E402

PROVINCES = ["广东", "湖南", "四川", "江苏", "甘肃", None]
SOURCES = ["法治日报", "检察日报", "人民法院报", "中国长安网", "新华社", "本网"]
EDITORS = ["王磊", "李婷", "张慧", "赵敏", "孙倩", "周楠"]
PORTALS = 20


def build(url: str, n: int) -> None:
    arc = open_archive(url)
    for p in range(PORTALS):
        arc.ensure_portal(f"p{p}", f"门户{p}", level="province",
                          province=PROVINCES[p % len(PROVINCES)])
    rng = random.Random(5)
    chunk = 10_000
    for start in range(0, n, chunk):
        resp_rows, art_rows = [], []
        for i in range(start, min(n, start + chunk)):
            body = synthetic_body(rng, 300)
            title = f"{rng.choice(['扫黑除恶', '平安建设', '执法规范', '营商环境'])}工作会议第{i}次"
            html = (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                    f"<h1>{title}</h1><p>{body}</p></body></html>").encode()
            key = f"//www.p{i % PORTALS}.gov.cn/c{i % 50}/2024/content_{i}.shtml"
            day = date.fromordinal(date(2018, 1, 1).toordinal() + rng.randrange(2500))
            published = (day.isoformat() if i % 3 else
                         f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00+08:00")
            resp_rows.append({
                "id": i + 1, "url": "http:" + key, "url_key": key, "final_url": "http:" + key,
                "status": 200, "method": "GET",
                "headers": {"Content-Type": "text/html; charset=utf-8", "Server": "nginx"},
                "request_headers": {"User-Agent": "govcrawl"}, "body": zlib.compress(html, 6),
                "body_compression": "zlib", "body_size": len(html),
                "body_sha256": hashlib.sha256(html).hexdigest(),
                "fetched_at": "2024-05-10T00:00:00+00:00", "kind": "article",
                "replaced_bytes": 0, "portal_id": f"p{i % PORTALS}"})
            art_rows.append({
                "id": i + 1, "portal_id": f"p{i % PORTALS}", "url": "http:" + key,
                "canonical_url": "http:" + key, "url_key": key, "title": title,
                "source": rng.choice(SOURCES), "author": None, "editor": rng.choice(EDITORS),
                "published_at": published, "published_precision": "day" if i % 3 else "minute",
                "body_text": body, "provenance": {}, "warnings": [], "repairs": [],
                "is_mirror": False, "content_hash": hashlib.sha256(body.encode()).hexdigest(),
                "duplicate_of": (i + 1) - 7 if i % 10 == 9 else None,
                "similarity": 0.97 if i % 10 == 9 else None,
                "first_seen": "2024-05-10T00:00:00+00:00",
                "last_seen": "2024-05-10T00:00:00+00:00", "response_id": i + 1})
        with arc.engine.begin() as conn:
            conn.execute(responses.insert(), resp_rows)
            conn.execute(articles.insert(), art_rows)
    with arc.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    arc.close()


def timed(fn, rounds: int = 5) -> tuple[float, int]:
    fn()  # warm the page cache
    times, n = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, n


def bench_listing(arc, n: int) -> None:
    cases = {
        "no filter, newest published first": R.Filters(),
        "--portal p3 --collapse": R.Filters(portal="p3", collapse=True),
        "--province 广东 --since 2022-01-01 --until 2022-12-31": R.Filters(
            province="广东", since=date(2022, 1, 1), until=date(2022, 12, 31)),
        "--source 检察日报 --editor 王磊 --sort first_seen": R.Filters(
            source="检察日报", editor="王磊", sort="first_seen"),
    }
    for label, f in cases.items():
        ms, rows = timed(lambda f=f: len(list(R.iter_articles(arc, f))))
        print(f"listing at {n:,} articles: {label}: median {ms:.1f} ms, {rows} rows (limit 50)")


def bench_search(arc, n: int) -> None:
    for term in ("法院", "禁毒", "扫黑除恶", "营商环境", "禁毒宣传", "掃黑除惡"):
        f = R.Filters(search=term)
        ms, rows = timed(lambda f=f: len(list(R.iter_articles(arc, f))))
        print(f"search {term!r} ({len(term)} chars) at {n:,} articles: median {ms:.1f} ms, "
              f"{rows} rows (limit 50, newest published first)")


def bench_export(arc, n: int, work: Path) -> None:
    everything = R.Filters(limit=None)
    t0 = time.perf_counter()
    with (work / "out.jsonl").open("w", encoding="utf-8") as fh:
        count = write_jsonl(R.iter_articles(arc, everything, body=True), fh)
    dt = time.perf_counter() - t0
    size = (work / "out.jsonl").stat().st_size / 2**20
    print(f"export jsonl: {count:,} articles in {dt:.2f} s = {count / dt:,.0f} articles/s "
          f"({size:.0f} MiB)")
    t0 = time.perf_counter()
    count = 0
    with (work / "out.warc.gz").open("wb") as fh:
        writer = WarcExporter(fh, gzip=True)
        for record, raw in R.iter_articles_raw(arc, everything):
            writer.write(record["url"], raw)
            count += 1
    dt = time.perf_counter() - t0
    size = (work / "out.warc.gz").stat().st_size / 2**20
    print(f"export warc.gz: {count:,} articles in {dt:.2f} s = {count / dt:,.0f} articles/s "
          f"({size:.0f} MiB)")


def main() -> None:
    n = 10_000 if "--quick" in sys.argv else 100_000
    (ROOT / "output").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "output") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work}/bench.db"
        t0 = time.perf_counter()
        build(url, n)
        print(f"built {n:,} articles (300-char bodies, one raw response each) in "
              f"{time.perf_counter() - t0:.1f} s")
        arc = open_archive(url)
        try:
            bench_listing(arc, n)
            bench_search(arc, n)
            bench_export(arc, n, work)
        finally:
            arc.close()


if __name__ == "__main__":
    main()
