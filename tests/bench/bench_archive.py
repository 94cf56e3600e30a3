"""Archive benchmarks (run by hand): `python tests/bench/bench_archive.py [--quick] [--only …]`.

1. batched insert rate of news-like articles through Archive.store_batch on SQLite (the call
   the ArchivePipeline makes), in batches of the pipeline's default size (`--batch` to change);
2. exact-duplicate (content_hash) and URL (url_key) lookup time at 100k and 1M articles
   (the bulk rows are written directly in SQL; lookups go through SQLAlchemy as the archive does);
3. search latency for 2-character and 4-character queries at 100k articles, on issue #4's
   random 300-character bodies and on news-like ones.

The inserted articles are realistic on purpose. Issue #4's first figures used random characters
from a 96-character vocabulary (no real trigram statistics: every trigram rare, a huge term
dictionary) and a 7-11 KB page made mostly of one repeated nav string (which compresses for
almost nothing). Here a body is sentences shuffled into paragraphs, 60 % real Chinese news prose
(the CWCED gold bodies and the 政法 devset pages under tests/data) and 40 % 政法 news phrasing
(the simulator's phrase bank, names, places and figures filled in), with a log-normal length
(median 1,000 characters, 5-95 % about 300-3,300); each raw page is a real CWCED page (8-100 KB
of real markup, 46 KB on average with the article) with the article put in its middle.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "store")]

from factory import entry  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from govcrawl.store import open_archive, query  # noqa: E402
from govcrawl.store.schema import articles  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
#: GOVCRAWL_BATCH_SIZE: what ArchivePipeline hands to store_batch.
from govcrawl.settings import GOVCRAWL_BATCH_SIZE as PIPELINE_BATCH  # noqa: E402

HAN = (
    "法院检察公安司法政法委员会党组书记召开会议研究部署工作推进平安建设法治宣传教育扫黑除恶常态化"
    "矛盾纠纷多元化解执法规范知识产权保护未成年人营商环境群众来信来访基层治理审判执行案件办理监督"
)


PHRASES = ["最高人民法院", "人民检察院", "扫黑除恶", "营商环境", "公益诉讼", "平安建设", "矛盾纠纷",
           "司法公正", "执法规范", "法治宣传"]


def synthetic_body(rng: random.Random, n: int) -> str:
    """n random characters from a 政法 vocabulary, with a few real phrases, and a unique tail.

    Issue #4's corpus, kept for comparison and for bench_query.
    """
    chars = [rng.choice(HAN) for _ in range(n)]
    for _ in range(n // 100):
        at = rng.randrange(n)
        chars[at:at] = rng.choice(PHRASES)
    return "".join(chars) + f"（编号{rng.getrandbits(48)}）"


_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+[”’」』）)]*")
_HAN_CHAR = re.compile(r"[\u4e00-\u9fff]")


@cache
def news_sentences() -> tuple[str, ...]:
    """Sentences of real Chinese news prose: CWCED gold bodies plus the 政法 devset bodies."""
    from devtext import page_body  # tests/store: lxml + OpenCC, only needed here

    texts = [p.read_text(encoding="utf-8") for p in
             sorted((DATA / "cwced/cleaned").glob("*.txt"))]
    for meta in sorted((DATA / "devset/pages").glob("*.json")):
        if '"status": 200' in meta.read_text(encoding="utf-8"):
            texts.append(page_body(meta.stem))
    out = []
    for t in texts:
        flat = re.sub(r"\s+", "", t)  # CWCED wraps lines inside sentences
        for s in _SENTENCE.findall(flat):
            if 8 <= len(s) <= 300 and len(_HAN_CHAR.findall(s)) >= 0.6 * len(s):
                out.append(s)
    return tuple(out)


@cache
def chrome_pages() -> tuple[tuple[bytes, str], ...]:
    """Real page markup (CWCED originals as fetched) and the codec its text is in."""
    pages = []
    for p in sorted((DATA / "cwced/original").glob("*.html")):
        raw = p.read_bytes()
        try:
            raw.decode("utf-8")
            pages.append((raw, "utf-8"))
        except UnicodeDecodeError:
            pages.append((raw, "gb18030"))
    return tuple(pages)


@cache
def zhengfa_templates() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(titles, sentences) of the simulator's 政法 phrase bank, with {slots} still in them."""
    from govcrawl.simulator.corpus import phrases

    ph = phrases()
    titles = tuple(t for topic in ph["topics"].values() for t in topic["titles"])
    sentences = tuple(s for topic in ph["topics"].values()
                      for key in ("lead", "body", "close") for s in topic[key])
    return titles, sentences + tuple(ph["general"])


def _fill(template: str, rng: random.Random) -> str:
    from govcrawl.simulator.corpus import phrases

    ph = phrases()
    return template.format(
        city=rng.choice(ph["cities"]), county=rng.choice(ph["counties"]),
        province=rng.choice(ph["provinces"]), crime=rng.choice(ph["crimes"]),
        name=rng.choice(ph["surnames"]) + rng.choice(ph["given"]),
        year=rng.randint(2018, 2024), month=rng.randint(1, 12), day=rng.randint(1, 28),
        num=rng.randint(100, 9999), num2=rng.randint(2, 60), money=rng.randint(12, 3800),
        pct=rng.randint(12, 99), years=rng.randint(1, 12))


def news_length(rng: random.Random, median: int = 1000) -> int:
    """A body length: log-normal, median `median`, sigma 0.7 (short notices to long reports)."""
    return max(120, min(12_000, int(rng.lognormvariate(math.log(median), 0.7))))


def news_article(rng: random.Random, n_chars: int) -> tuple[str, str]:
    """(title, body) about n_chars long, in paragraphs: 40 % of the sentences 政法 news
    phrasing (simulator phrase bank, slots filled: names, places, figures), 60 % real news prose."""
    prose = news_sentences()
    titles, zhengfa = zhengfa_templates()
    paras, para, size = [], "", 0
    while size < n_chars:
        s = _fill(rng.choice(zhengfa), rng) if rng.random() < 0.4 else rng.choice(prose)
        para += s
        size += len(s)
        if rng.random() < 0.35:
            paras.append(para)
            para = ""
    if para:
        paras.append(para)
    return _fill(rng.choice(titles), rng), "\n".join(paras)


def news_page(rng: random.Random, title: str, body: str) -> bytes:
    """A real page's markup with the article in the middle, in that page's encoding."""
    chrome, codec = rng.choice(chrome_pages())
    cut = len(chrome) // 2
    article = f"<h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in body.split("\n"))
    return chrome[:cut] + article.encode(codec, "replace") + chrome[cut:]


def news_entries(rng: random.Random, total: int, body_chars: int | None, start: int = 0) -> list:
    """StoreEntry values for `total` distinct articles (body length fixed, or log-normal)."""
    out = []
    for i in range(start, start + total):
        title, body = news_article(rng, body_chars or news_length(rng))
        url = f"http://www.chinapeace.gov.cn/chinapeace/c1000{i % 97}/2024-05/10/content_{i}.shtml"
        out.append(entry(url, body, title=title, html=news_page(rng, title, body)))
    return out


def bench_insert(workdir: Path, total: int, batch: int, body_chars: int | None) -> float:
    """Articles/s of store_batch into a fresh archive; returns the rate."""
    arc = open_archive(f"sqlite:///{workdir}/insert-{body_chars}.db")
    arc.ensure_portal("p1", "门户")
    entries = news_entries(random.Random(1), total, body_chars)
    body = statistics.mean(len(e.page.body_text) for e in entries)
    raw_kb = statistics.mean(len(e.raw.body) for e in entries) / 1024
    t0 = time.perf_counter()
    for i in range(0, total, batch):
        arc.store_batch(entries[i : i + batch])
    dt = time.perf_counter() - t0
    kind = f"{body_chars}-char" if body_chars else "news-length"
    print(f"insert: {total} articles ({kind} bodies, mean {body:,.0f} chars; {raw_kb:.1f} KB raw "
          f"HTML each), batches of {batch}: {dt:.2f} s = {total / dt:,.0f} articles/s")
    arc.close()
    fts_only_ceiling(workdir / f"fts-only-{body_chars}.db", entries, batch)
    return total / dt


def fts_only_ceiling(path: Path, entries: list, batch: int) -> None:
    """The same titles and bodies into a bare FTS5 trigram table and nothing else: no archive
    that keeps the trigram index issue #4 asks for can insert faster than this."""
    texts = [(e.page.title, e.page.body_text) for e in entries]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(title, body_text, tokenize='trigram')")
    conn.execute("INSERT INTO f(f, rank) VALUES ('automerge', 8)")  # as migration 0004 sets
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        with conn:
            conn.executemany("INSERT INTO f VALUES (?, ?)", texts[i : i + batch])
    dt = time.perf_counter() - t0
    conn.close()
    print(f"insert:   ceiling, the same texts into a bare FTS5 trigram table only: "
          f"{len(texts) / dt:,.0f} articles/s")


def bulk_fill(arc, n: int, body_chars: int | None, rng: random.Random) -> list[tuple[str, str]]:
    """Write n article rows directly (one response row shared); return some (hash, key) probes.

    body_chars: 0 = no body; N = issue #4's random N-character text; None = news-like articles.
    """
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
            title, body = f"第{i}号", None
            if body_chars is None:
                title, body = news_article(rng, news_length(rng))
            elif body_chars:
                body = synthetic_body(rng, body_chars)
            h = hashlib.sha256(f"body{i}".encode()).hexdigest()
            key = f"//www.portal{i % 37}.gov.cn/c1000{i % 50}/2024-05/10/content_{i}.shtml"
            rows.append({"portal_id": "p1", "url": "http:" + key, "canonical_url": "http:" + key,
                         "url_key": key, "title": title, "body_text": body,
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


def bench_fts(workdir: Path, n: int, body_chars: int | None) -> None:
    """Search latency at n articles: issue #4's random 300-character bodies, or news-like ones
    (body_chars None), where common trigrams have long posting lists and bodies are longer."""
    arc = open_archive(f"sqlite:///{workdir}/fts-{body_chars}.db")
    arc.ensure_portal("p1", "门户")
    t0 = time.perf_counter()
    bulk_fill(arc, n, body_chars, random.Random(7))
    corpus = f"random {body_chars}-char" if body_chars else "news-like"
    print(f"fts: {n:,} articles with {corpus} bodies built in {time.perf_counter() - t0:.1f} s")
    # 禁毒 has no hits in the random text, 鲲鹏 none in the news text; the widest pair is the
    # two-character query whose trigram expansion is longest (the slowest case).
    with arc.read_engine.connect() as conn:
        widest, n_terms = conn.execute(text(
            "SELECT substr(term, 1, 2) AS pair, count(*) FROM articles_fts_terms "
            "WHERE trim(substr(term, 1, 2), ' ' || char(9, 10, 13, 12288)) = substr(term, 1, 2) "
            "GROUP BY pair ORDER BY count(*) DESC LIMIT 1")).one()
    print(f"fts: widest two-character query {widest!r} expands to {n_terms} trigrams")
    for q in ("法院", "检察", "禁毒", "鲲鹏", widest, "扫黑除恶", "营商环境", "禁毒宣传"):
        query.search(arc, q, limit=20)  # warm the page cache
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            hits = query.search(arc, q, limit=20)
            times.append(time.perf_counter() - t0)
        print(f"fts: search({q!r}) at {n:,} {corpus} articles: median "
              f"{statistics.median(times) * 1e3:.1f} ms, {len(hits)} hits (limit 20)")
    arc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--only", choices=("insert", "lookups", "fts"), action="append",
                    help="run only these parts (repeatable; default all)")
    ap.add_argument("--fts-articles", type=int, default=100_000,
                    help="articles in each search corpus (default 100,000; 1,000,000 takes "
                         "~25 min and ~14 GB of disk for the news-like one)")
    ap.add_argument("--batch", type=int, default=PIPELINE_BATCH,
                    help=f"store_batch size (default {PIPELINE_BATCH}, the pipeline's)")
    args = ap.parse_args()
    parts = set(args.only or ("insert", "lookups", "fts"))
    quick = args.quick
    with tempfile.TemporaryDirectory(dir=ROOT / "output") as tmp:
        work = Path(tmp)
        if "insert" in parts:
            bench_insert(work, 2_000 if quick else 20_000, args.batch, None)
            bench_insert(work, 2_000 if quick else 10_000, args.batch, 300)
            bench_insert(work, 1_000 if quick else 5_000, args.batch, 1500)
        if "lookups" in parts:
            bench_lookups(work, [10_000, 100_000] if quick else [100_000, 1_000_000])
        if "fts" in parts:
            bench_fts(work, 10_000 if quick else args.fts_articles, 300)
            bench_fts(work, 10_000 if quick else args.fts_articles, None)


if __name__ == "__main__":
    main()
