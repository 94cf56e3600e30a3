"""Near-duplicate benchmarks (run by hand): `python tests/bench/bench_syndication.py [--quick]`.

1. thresholds chosen on half A of the generated pairs; precision/recall on held-back half B and
   on the devset pairs (crude lxml body extraction, tests/store/devtext.py), with the 300
   negative pairs of distinct articles sharing boilerplate sentences (tests/store/stockgen.py)
   beside the generated ones;
2. the same half B stored through the archive: precision/recall of the final groups, and every
   link in the archive checked (under the threshold, chained, or not verified against its head);
3. grouping time per new article (`Archive._regroup`, inside store_batch) at 100k archived
   news-like articles (bench_archive.py's generator, with keys and band rows);
4. LSH candidate lookup (the band-key IN query the archive runs) at 100k and 1M fingerprints.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "store")]

import devtext  # noqa: E402
import numpy as np  # noqa: E402
import pairgen  # noqa: E402
import stockgen  # noqa: E402
import syndication_eval as ev  # noqa: E402
from factory import entry  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from govcrawl import dedup  # noqa: E402
from govcrawl.store import open_archive  # noqa: E402
from govcrawl.store.archive import Archive  # noqa: E402
from govcrawl.store.schema import article_bands, articles  # noqa: E402


def all_pairs() -> list[pairgen.Pair]:
    return pairgen.generate() + stockgen.negative_pairs()


def bench_quality() -> None:
    t0 = time.perf_counter()
    pairs = all_pairs()
    rows = ev.evaluate_pairs(pairs)
    dt = time.perf_counter() - t0
    counts = Counter((p.half, p.same) for p in pairs)
    print(f"pairs: {len(pairs)} generated and compared in {dt:.1f} s; "
          + ", ".join(f"half {h} {'same' if s else 'different'} {n}"
                      for (h, s), n in sorted(counts.items())))
    (cont, num, gaps), f1 = ev.choose(rows["A"])
    print(f"chosen on half A: containment >= {cont}, numbers >= {num}, gaps <= {gaps} "
          f"(F1 {f1:.4f}); shipped in govcrawl.dedup: {dedup.CONTAINMENT_THRESHOLD}, "
          f"{dedup.NUMBERS_THRESHOLD}, {dedup.MAX_GAPS}")
    ship = (dedup.CONTAINMENT_THRESHOLD, dedup.NUMBERS_THRESHOLD, dedup.MAX_GAPS)
    for half in ("A", "B"):
        s = ev.score(rows[half], *ship)
        print(f"half {half}: precision {s.precision:.4f} recall {s.recall:.4f} "
              f"(tp {s.tp} fp {s.fp} fn {s.fn} tn {s.tn})")
    kinds = Counter()
    wrong = Counter()
    for p, (c, same) in zip([p for p in pairs if p.half == "B"], rows["B"], strict=True):
        kinds[p.kind if not same else "same"] += 1
        wrong[p.kind if not same else "same"] += ev.decide(c, *ship) != same
    print("half B errors by family: " + ", ".join(f"{k} {wrong[k]}/{n}"
                                                  for k, n in sorted(kinds.items())))
    margin_same = min(c.containment for c, same in rows["B"] if same)
    print(f"half B lowest containment of a true copy: {margin_same:.3f}")
    lsh = [p for p in pairs if p.same and p.half == "B"]
    found = sum(bool(set(dedup.band_keys(dedup.fingerprint(p.a)))
                     & set(dedup.band_keys(dedup.fingerprint(p.b)))) for p in lsh)
    print(f"LSH candidate recall on half B copies: {found}/{len(lsh)}")
    tp = fp = fn = tn = 0
    for a, b, same in devtext.pairs():
        c = dedup.compare(devtext.page_body(a), devtext.page_body(b), exhaustive=True)
        tp += c.same and same
        fp += c.same and not same
        fn += same and not c.same
        tn += not same and not c.same
        print(f"devset {a}-{b} same={same}: containment {c.containment:.3f} numbers "
              f"{c.numbers:.2f} gaps {c.gaps} -> linked={c.same}")
    print(f"devset pairs: tp {tp} fp {fp} fn {fn} tn {tn}")


def bench_archive_groups(work: Path) -> None:
    """Half B through the archive: each pair's a and b on two portals, one store_batch."""
    pairs = [p for p in all_pairs() if p.half == "B"]
    arc = open_archive(f"sqlite:///{work}/groups.db")
    arc.ensure_portal("p1", "一")
    arc.ensure_portal("p2", "二")
    batch = []
    for i, p in enumerate(pairs):
        batch += [entry(f"http://a.cn/{i}.html", p.a), entry(f"http://b.cn/{i}.html", p.b,
                                                             portal="p2")]
    t0 = time.perf_counter()
    outcomes = arc.store_batch(batch)
    dt = time.perf_counter() - t0
    with arc.read_engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(
            articles.c.id, articles.c.duplicate_of, articles.c.similarity, articles.c.body_text))}
    arc.close()
    head = {i: r.duplicate_of or i for i, r in rows.items()}
    tp = fp = fn = tn = 0
    for i, p in enumerate(pairs):
        linked = head[outcomes[2 * i].article_id] == head[outcomes[2 * i + 1].article_id]
        tp += linked and p.same
        fp += linked and not p.same
        fn += p.same and not linked
        tn += not p.same and not linked
    s = ev.Score(tp, fp, fn, tn)
    bad = 0
    links = [r for r in rows.values() if r.duplicate_of is not None]
    for r in links:
        h = rows[r.duplicate_of]
        bad += (h.duplicate_of is not None or r.similarity < dedup.CONTAINMENT_THRESHOLD
                or not dedup.compare(r.body_text, h.body_text).same)
    print(f"archive, half B ({len(batch)} articles, one batch, {dt:.1f} s): precision "
          f"{s.precision:.4f} recall {s.recall:.4f} (tp {tp} fp {fp} fn {fn} tn {tn}); "
          f"{len(links)} links, {bad} under the threshold, chained or unverified")


def fill_articles(arc: Archive, n: int) -> None:
    """n distinct news-like articles written directly, keys and band rows too: sentences of
    real news prose and filled-in 政法 phrasing (bench_archive's mix and length distribution),
    drawn from a fixed pool so 100k build in minutes."""
    import bench_archive as ba

    rng = random.Random(n)
    prose, (_, zhengfa) = ba.news_sentences(), ba.zhengfa_templates()
    pool = [ba._fill(rng.choice(zhengfa), rng) for _ in range(20_000)]
    with arc.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO responses (url, url_key, status, method, headers, request_headers, body, "
            "body_compression, body_size, body_sha256, fetched_at, kind, replaced_bytes) VALUES "
            "('http://x.cn/', '//x.cn/', 200, 'GET', '{}', '{}', x'00', 'zlib', 1, '', "
            "'2024-01-01T00:00:00+00:00', 'article', 0)"))
    for start in range(0, n, 10_000):
        rows, bands = [], []
        for i in range(start, min(n, start + 10_000)):
            size, paras, para = ba.news_length(rng), [], ""
            while sum(map(len, paras)) + len(para) < size:
                para += rng.choice(pool) if rng.random() < 0.4 else rng.choice(prose)
                if rng.random() < 0.35:
                    paras, para = [*paras, para], ""
            body = "\n".join([*paras, para] if para else paras)
            k = dedup.body_keys(body)
            key = f"//www.portal{i % 37}.gov.cn/2024-05/10/content_{i}.shtml"
            rows.append({"id": i + 1, "portal_id": "p1", "url": "http:" + key,
                         "canonical_url": "http:" + key, "url_key": key, "title": f"第{i}号",
                         "body_text": body, "published_at": f"2024-{1 + i % 12:02d}-10",
                         "provenance": "{}", "warnings": "[]", "repairs": "[]", "is_mirror": 0,
                         "content_hash": k.content_hash, "fingerprint": k.fingerprint.hex(),
                         "first_seen": "2024-05-10T00:00:00+00:00",
                         "last_seen": "2024-05-10T00:00:00+00:00", "response_id": 1})
            bands += [(b, key_, i + 1) for b, key_ in dedup.band_keys(k.fingerprint)]
        with arc.engine.begin() as conn:
            conn.execute(articles.insert(), rows)
            conn.exec_driver_sql(
                'INSERT INTO article_bands (band, "key", article_id) VALUES (?, ?, ?)', bands)


def bench_grouping(work: Path, n: int, new: int = 1000, batch: int = 100) -> None:
    """Store `new` articles (a third copies of archived ones, published later; a third
    stock-sentence articles; a third distinct) into an archive of n, in pipeline-sized batches."""
    import bench_archive as ba

    arc = open_archive(f"sqlite:///{work}/grouping{n}.db")
    arc.ensure_portal("p1", "一")
    arc.ensure_portal("p2", "二")
    t0 = time.perf_counter()
    fill_articles(arc, n)
    build = time.perf_counter() - t0
    rng = random.Random(7)
    with arc.read_engine.connect() as conn:
        olds = conn.execute(select(articles.c.body_text).where(
            articles.c.id.in_(rng.sample(range(1, n + 1), new // 3)))).scalars().all()
    stock = stockgen.corpus(n=new // 3)
    bodies = [pairgen.vary(b.split("\n"), "", rng, "chrome") for b in olds]
    bodies = ["\n".join(b) for b in bodies] + stock
    bodies += [ba.news_article(rng, ba.news_length(rng))[1] for _ in range(new - len(bodies))]
    rng.shuffle(bodies)
    entries = [entry(f"http://new.cn/{i}.html", b, portal="p2", published_at="2025-01-01")
               for i, b in enumerate(bodies)]
    spent = [0.0]
    regroup = Archive._regroup

    def timed(self, *args, **kwargs):
        t = time.perf_counter()
        try:
            return regroup(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    Archive._regroup = timed
    try:
        t0 = time.perf_counter()
        outcomes = []
        for i in range(0, len(entries), batch):
            outcomes += arc.store_batch(entries[i : i + batch])
        total = time.perf_counter() - t0
    finally:
        Archive._regroup = regroup
    dups = sum(o.status == "duplicate" for o in outcomes)
    print(f"grouping at {n:,} archived articles (built in {build:.0f} s): {len(entries)} new in "
          f"batches of {batch}, {dups} linked as copies; grouping {spent[0] / len(entries) * 1e3:.2f}"
          f" ms/article of {total / len(entries) * 1e3:.2f} ms/article for the whole store_batch")
    arc.close()


def fill_bands(db_path: Path, n: int, rng: np.random.Generator) -> list[list[int]]:
    """n fingerprints' worth of band rows written directly (plain sqlite3, no FK check: the
    benchmark measures the band index, not articles); returns the band keys of 200 probes."""
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("DROP INDEX ix_article_bands_key_band")
    con.execute("DROP INDEX ix_article_bands_article_id")
    chunk = 50_000
    probes = []
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        keys = rng.integers(-(2**62), 2**62, size=(m, dedup.BANDS), dtype=np.int64)
        probes += keys[: max(1, 200 * m // n)].tolist()
        ids = np.repeat(np.arange(start + 1, start + m + 1), dedup.BANDS)
        bands = np.tile(np.arange(dedup.BANDS), m)
        con.execute("BEGIN")
        con.executemany("INSERT INTO article_bands (band, key, article_id) VALUES (?, ?, ?)",
                        zip(bands.tolist(), keys.ravel().tolist(), ids.tolist(), strict=True))
        con.execute("COMMIT")
    con.execute("CREATE INDEX ix_article_bands_key_band ON article_bands (key, band)")
    con.execute("CREATE INDEX ix_article_bands_article_id ON article_bands (article_id)")
    con.close()
    return probes[:200]


def bench_candidates(work: Path, sizes: list[int]) -> None:
    res = {}
    for n in sizes:
        open_archive(f"sqlite:///{work}/bands{n}.db").close()
        t0 = time.perf_counter()
        probes = fill_bands(work / f"bands{n}.db", n, np.random.default_rng(n))
        arc = open_archive(f"sqlite:///{work}/bands{n}.db")
        build = time.perf_counter() - t0
        rng = random.Random(n)
        misses = [[rng.getrandbits(62) for _ in range(dedup.BANDS)] for _ in range(200)]
        out = {}
        for label, keysets in (("hit", probes), ("miss", misses)):
            best = float("inf")
            with arc.read_engine.connect() as conn:
                for _ in range(3):
                    t0 = time.perf_counter()
                    for ks in keysets:
                        conn.execute(select(article_bands.c.key, article_bands.c.article_id)
                                     .where(article_bands.c.key.in_(ks))).all()
                    best = min(best, (time.perf_counter() - t0) / len(keysets))
            out[label] = best * 1e6
        res[n] = out
        print(f"candidates at {n:>9,} fingerprints ({n * dedup.BANDS:,} band rows, built in "
              f"{build:.1f} s): {dedup.BANDS}-key lookup hit {out['hit']:.1f} µs, "
              f"miss {out['miss']:.1f} µs (200 probes, best of 3)")
        arc.close()
    if len(sizes) == 2:
        a, b = (res[s] for s in sizes)
        print(f"ratio big/small: hit {b['hit'] / a['hit']:.2f}, miss {b['miss'] / a['miss']:.2f}")


def main() -> None:
    quick = "--quick" in sys.argv
    bench_quality()
    (ROOT / "output").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "output") as tmp:
        bench_archive_groups(Path(tmp))
        bench_grouping(Path(tmp), 10_000 if quick else 100_000)
        bench_candidates(Path(tmp), [10_000, 100_000] if quick else [100_000, 1_000_000])


if __name__ == "__main__":
    main()
