"""Archive benchmarks (run by hand): `python tests/bench/bench_archive.py [--quick]`.

1. batched insert rate of synthetic articles through Archive.store_batch on SQLite;
2. exact-duplicate (content_hash) and URL (url_key) lookup time at 100k and 1M articles
   (the bulk rows are written directly in SQL; lookups go through SQLAlchemy as the archive does);
3. FTS latency for a 2-character and a 4-character query at 100k articles.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "store")]

from factory import entry  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from govcrawl.store import open_archive, query  # noqa: E402
from govcrawl.store.schema import articles  # noqa: E402

HAN = (
    "法院检察公安司法政法委员会党组书记召开会议研究部署工作推进平安建设法治宣传教育扫黑除恶常态化"
    "矛盾纠纷多元化解执法规范知识产权保护未成年人营商环境群众来信来访基层治理审判执行案件办理监督"
)


PHRASES = ["最高人民法院", "人民检察院", "扫黑除恶", "营商环境", "公益诉讼", "平安建设", "矛盾纠纷",
           "司法公正", "执法规范", "法治宣传"]


def synthetic_body(rng: random.Random, n: int) -> str:
    """n random characters from a 政法 vocabulary, with a few real phrases, and a unique tail."""
    chars = [rng.choice(HAN) for _ in range(n)]
    for _ in range(n // 100):
        at = rng.randrange(n)
        chars[at:at] = rng.choice(PHRASES)
    return "".join(chars) + f"（编号{rng.getrandbits(48)}）"


def bench_insert(workdir: Path, total: int, batch: int, body_chars: int) -> None:
    arc = open_archive(f"sqlite:///{workdir}/insert.db")
    arc.ensure_portal("p1", "门户")
    rng = random.Random(1)
    html_pad = "<div class='nav'>" + "首页 新闻 政法 " * 300 + "</div>"
    entries = []
    for i in range(total):
        body = synthetic_body(rng, body_chars)
        html = f"<html><head><title>{i}</title></head><body>{html_pad}<p>{body}</p></body></html>"
        entries.append(entry(f"http://x.cn/{i}.html", body, title=f"标题{i}", html=html.encode()))
    raw_kb = statistics.mean(len(e.raw.body) for e in entries) / 1024
    t0 = time.perf_counter()
    for i in range(0, total, batch):
        arc.store_batch(entries[i : i + batch])
    dt = time.perf_counter() - t0
    print(f"insert: {total} articles ({body_chars}-char bodies, {raw_kb:.1f} KB raw HTML each), "
          f"batches of {batch}: {dt:.2f} s = {total / dt:,.0f} articles/s")
    arc.close()


def bulk_fill(arc, n: int, body_chars: int, rng: random.Random) -> list[tuple[str, str]]:
    """Write n article rows directly (one response row shared); return some (hash, key) probes."""
    with arc.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO responses (url, url_key, status, method, headers, request_headers, body, "
            "body_compression, body_size, body_sha256, fetched_at, kind, replaced_bytes) VALUES "
            "('http://x.cn/', '//x.cn/', 200, 'GET', '{}', '{}', x'00', 'zlib', 1, '', "
            "'2024-01-01T00:00:00+00:00', 'article', 0)"))
    probes = []
    chunk = 20_000
    for start in range(0, n, chunk):
        rows = []
        for i in range(start, min(n, start + chunk)):
            body = synthetic_body(rng, body_chars) if body_chars else None
            h = hashlib.sha256(f"body{i}".encode()).hexdigest()
            key = f"//www.portal{i % 37}.gov.cn/c1000{i % 50}/2024-05/10/content_{i}.shtml"
            rows.append({"portal_id": "p1", "url": "http:" + key, "canonical_url": "http:" + key,
                         "url_key": key, "title": f"第{i}号", "body_text": body,
                         "provenance": "{}", "warnings": "[]", "repairs": "[]", "is_mirror": 0,
                         "content_hash": h, "first_seen": "2024-05-10T00:00:00+00:00",
                         "last_seen": "2024-05-10T00:00:00+00:00", "response_id": 1})
            if i % 997 == 0:
                probes.append((h, key))
        with arc.engine.begin() as conn:
            conn.execute(articles.insert(), rows)
    return probes


def time_lookups(arc, probes, rounds: int = 3) -> tuple[float, float]:
    def per(q) -> float:
        best = float("inf")
        with arc.read_engine.connect() as conn:
            for _ in range(rounds):
                t0 = time.perf_counter()
                for h, key in probes:
                    conn.execute(q(h, key)).first()
                best = min(best, (time.perf_counter() - t0) / len(probes))
        return best * 1e6

    hash_us = per(lambda h, k: select(articles.c.id, articles.c.duplicate_of)
                  .where(articles.c.content_hash == h).limit(1))
    url_us = per(lambda h, k: select(articles.c.id).where(articles.c.url_key == k))
    return hash_us, url_us


def bench_lookups(workdir: Path, sizes: list[int]) -> None:
    results = {}
    for n in sizes:
        arc = open_archive(f"sqlite:///{workdir}/lookup{n}.db")
        arc.ensure_portal("p1", "门户")
        rng = random.Random(n)
        t0 = time.perf_counter()
        probes = bulk_fill(arc, n, 0, rng)
        build = time.perf_counter() - t0
        misses = [(hashlib.sha256(f"miss{i}".encode()).hexdigest(), f"//miss/{i}")
                  for i in range(len(probes))]
        hit_h, hit_u = time_lookups(arc, probes)
        miss_h, _ = time_lookups(arc, misses)
        results[n] = (hit_h, hit_u, miss_h)
        print(f"lookups at {n:>9,} articles (built in {build:.1f} s): content_hash hit "
              f"{hit_h:.1f} µs, miss {miss_h:.1f} µs; url_key hit {hit_u:.1f} µs "
              f"({len(probes)} probes, best of 3)")
        arc.close()
    if len(sizes) == 2:
        small, big = (results[s] for s in sizes)
        print(f"ratio big/small: content_hash hit {big[0] / small[0]:.2f}, "
              f"miss {big[2] / small[2]:.2f}; url_key {big[1] / small[1]:.2f}")


def bench_fts(workdir: Path, n: int) -> None:
    arc = open_archive(f"sqlite:///{workdir}/fts.db")
    arc.ensure_portal("p1", "门户")
    t0 = time.perf_counter()
    bulk_fill(arc, n, 300, random.Random(7))
    print(f"fts: {n:,} articles with 300-char bodies built in {time.perf_counter() - t0:.1f} s")
    for q in ("法院", "检察", "禁毒", "扫黑除恶", "营商环境", "禁毒宣传"):  # 禁毒: no hits, full scan
        query.search(arc, q, limit=20)  # warm the page cache
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            hits = query.search(arc, q, limit=20)
            times.append(time.perf_counter() - t0)
        print(f"fts: search({q!r}) at {n:,} articles: median {statistics.median(times) * 1e3:.1f}"
              f" ms, {len(hits)} hits (limit 20)")
    arc.close()


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory(dir=ROOT / "output") as tmp:
        work = Path(tmp)
        bench_insert(work, 2_000 if quick else 20_000, 500, 300)
        bench_insert(work, 2_000 if quick else 10_000, 500, 1500)
        bench_lookups(work, [10_000, 100_000] if quick else [100_000, 1_000_000])
        bench_fts(work, 10_000 if quick else 100_000)


if __name__ == "__main__":
    main()
