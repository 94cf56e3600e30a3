"""Near-duplicate benchmarks (run by hand): `python tests/bench/bench_syndication.py [--quick]`.

1. thresholds chosen on half A of the generated pairs; precision/recall on held-back half B and
   on the devset pairs (crude lxml body extraction, tests/store/devtext.py);
2. LSH candidate lookup (the band-key IN query the archive runs) at 100k and 1M fingerprints.
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
import syndication_eval as ev  # noqa: E402
from sqlalchemy import select  # noqa: E402

from govcrawl import dedup  # noqa: E402
from govcrawl.store import open_archive  # noqa: E402
from govcrawl.store.schema import article_bands  # noqa: E402


def bench_quality() -> None:
    t0 = time.perf_counter()
    pairs = pairgen.generate()
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
        bench_candidates(Path(tmp), [10_000, 100_000] if quick else [100_000, 1_000_000])


if __name__ == "__main__":
    main()
