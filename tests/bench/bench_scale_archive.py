"""Costs as the archive grows: the same crawl, import and reprocess into archives of 0, 100k, …
articles, and the peers a user would otherwise run on the same pages.

Run by hand (needs the bench extra for GNE: `pip install -e ".[bench]"`):

    python tests/bench/bench_scale_archive.py [--sizes 0,100000] [--pages 2000]

The simulator serves one portal (中国长安网's dialect) with --pages articles on loopback,
politeness off. For each size an SQLite archive of that many articles is built directly, as
bench_archive builds its lookup and search corpora (news-like bodies through the FTS5 trigram
triggers, one response row and 16 LSH band rows per article; response bodies are one byte, as
no hot path reads another article's body), then copied for each process:

* crawl: `govcrawl crawl` of the portal into the archive (list pages, articles, extraction
  workers, the archive writer), pages/s and CPU per page of the crawl process and of its
  extraction workers; the simulator's CPU (this process) beside them;
* import: `import --warc` of the crawled responses (a WARC exported from the first crawl);
* reprocess: of the crawled articles (`--portal`), once as they are (nothing changed) and once
  after their titles were altered in SQL (every article updated, with a version);

plus, once, a bare Scrapy spider (no callback work) and the Scrapy + GNE + SQLAlchemy peer
(tests/bench/peer_spider.py) fetching the same article URLs. Each measured process is a fresh
subprocess; CPU is that of the operation (process_time around it; extraction workers' from
RUSAGE_CHILDREN); memory is the process's peak, its largest extraction worker's peak, and the
peak of the whole tree's summed RSS (sampled every 0.1 s; see TreeMemory).
Ratios are to the smallest size (0: the empty archive).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "store"), str(ROOT / "tests" / "bench")]

from bench_crawl import FAST, worker_bare  # noqa: E402

PORTAL = "changan"
PORTAL_ID = f"sim_{PORTAL}"
SETTINGS = {**FAST, "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False}
STAMP = "2024-05-10T00:00:00+00:00"


# --------------------------------------------------------------------------- the archive


def build_archive(path: Path, n: int, seed: int = 7) -> None:
    """An archive of n articles of a `bulk` portal, written directly in SQL (see the module
    docstring); migrations, triggers and indexes are the real ones."""
    from bench_archive import news_article, news_length

    from govcrawl.store import open_archive

    with open_archive(f"sqlite:///{path}") as arc:
        arc.ensure_portal("bulk", "既有文章")
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    chunk = 10_000
    for start in range(0, n, chunk):
        resp, arts, bands = [], [], []
        for i in range(start + 1, min(n, start + chunk) + 1):
            key = f"//www.portal{i % 37}.gov.cn/c1000{i % 50}/2024-05/10/content_{i}.shtml"
            sha = hashlib.sha256(f"page{i}".encode()).hexdigest()
            resp.append((i, "http:" + key, key, sha, STAMP))
            title, body = news_article(rng, news_length(rng))
            arts.append((i, "http:" + key, "http:" + key, key, title, body,
                         hashlib.sha256(body.encode()).hexdigest(), i))
            bands += [(b, rng.randrange(-2**62, 2**62), i) for b in range(16)]
        with conn:
            conn.executemany(
                "INSERT INTO responses (id, url, url_key, status, method, headers, "
                "request_headers, body, body_compression, body_size, body_sha256, fetched_at, "
                "kind, replaced_bytes, portal_id) VALUES (?, ?, ?, 200, 'GET', '{}', '{}', "
                "x'00', 'zlib', 1, ?, ?, 'article', 0, 'bulk')", resp)
            conn.executemany(
                "INSERT INTO articles (id, portal_id, url, canonical_url, url_key, title, "
                "body_text, published_at, provenance, warnings, repairs, is_mirror, "
                "content_hash, first_seen, last_seen, response_id) VALUES (?, 'bulk', ?, ?, ?, "
                f"?, ?, '2024-05-10', '{{}}', '[]', '[]', 0, ?, '{STAMP}', '{STAMP}', ?)", arts)
            conn.executemany(
                'INSERT INTO article_bands (band, "key", article_id) VALUES (?, ?, ?)', bands)
    conn.close()


def export_warc(db: Path, warc: Path) -> int:
    """The portal's archived responses as a govcrawl WARC export; returns how many."""
    from govcrawl.export import WarcExporter
    from govcrawl.store import open_archive

    n = 0
    with open_archive(f"sqlite:///{db}") as arc, warc.open("wb") as out:
        exporter = WarcExporter(out)
        for _, raw in arc.iter_responses(PORTAL_ID):
            exporter.write(raw.url, raw, {"WARC-Govcrawl-Portal": PORTAL_ID})
            n += 1
    return n


# --------------------------------------------------------------------------- measured processes


def _portal(workdir: str):
    from govcrawl.portals.registry import parse_toml

    [portal], _ = parse_toml(Path(workdir, "portal.toml").read_text("utf-8"), "bench")
    return portal


def worker_crawl(workdir: str, db: str) -> dict:
    from govcrawl.crawl import run_portals

    os.environ["GOVCRAWL_DATABASE_URL"] = f"sqlite:///{db}"
    portal = _portal(workdir)
    cpu, started = time.process_time(), time.perf_counter()
    [report] = run_portals([portal], {**SETTINGS, "GOVCRAWL_LOG_DIR": f"{workdir}/logs"})
    return {"items": int(report.stats.get("response_received_count", 0)),
            "seconds": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
            "stored": report.count("stored/new") + report.count("stored/duplicate")}


def worker_import(workdir: str, db: str) -> dict:
    from govcrawl import ingest
    from govcrawl.store import open_archive

    with open_archive(f"sqlite:///{db}") as arc:
        resolver = ingest.PortalResolver([_portal(workdir)])
        cpu, started = time.process_time(), time.perf_counter()
        report = ingest.import_warcs(arc, [Path(workdir, "pages.warc.gz")], resolver)
    return {"items": sum(report.counts.values()), "seconds": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu, "stored": report.get("new")}


def worker_reprocess(workdir: str, db: str) -> dict:
    from govcrawl import ingest
    from govcrawl.store import open_archive

    with open_archive(f"sqlite:///{db}") as arc:
        resolver = ingest.PortalResolver([_portal(workdir)])
        cpu, started = time.process_time(), time.perf_counter()
        report = ingest.reprocess(arc, resolver, portal_id=PORTAL_ID)
    return {"items": sum(report.counts.values()), "seconds": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu, "stored": report.get("updated")}


def worker_peer(workdir: str, db: str) -> dict:
    import peer_spider

    urls = Path(workdir, "urls.txt").read_text("utf-8").split()
    cpu, started = time.process_time(), time.perf_counter()
    stats = peer_spider.run(urls, f"sqlite:///{db}", SETTINGS)
    return {"items": int(stats.get("response_received_count", 0)),
            "seconds": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
            "stored": int(stats.get("item_scraped_count", 0))}


def worker_scrapy(workdir: str, db: str) -> dict:
    cpu = time.process_time()
    figures = worker_bare("", 0, workdir)
    return {"items": figures["pages"], "seconds": figures["seconds"],
            "cpu_s": time.process_time() - cpu, "stored": 0}


def _status_mb(pid: int | str, field: str) -> float:
    """A memory figure of /proc/<pid>/status in MB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeMemory(threading.Thread):
    """Samples the process tree's memory every 0.1 s: the largest worker's peak (VmHWM) and the
    tree's summed RSS. Not ru_maxrss: Linux keeps a forked child's maxrss from its parent's size
    at the fork, so a worker (or this process) would report its parent's memory."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.worker_mb = self.tree_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            pids = [p.pid for p in multiprocessing.active_children()]
            self.worker_mb = max([self.worker_mb, *(_status_mb(p, "VmHWM") for p in pids)])
            tree = _status_mb("self", "VmRSS") + sum(_status_mb(p, "VmRSS") for p in pids)
            self.tree_mb = max(self.tree_mb, tree)

    def stop(self) -> None:
        self._done.set()
        self.join()


WORKERS = {"crawl": worker_crawl, "import": worker_import, "reprocess": worker_reprocess,
           "reprocess*": worker_reprocess, "bare-scrapy": worker_scrapy, "peer": worker_peer}


def measure(kind: str, workdir: Path, db: Path) -> dict:
    """Run one measured process; the simulator's CPU meanwhile is this process's."""
    before = time.process_time()
    out = subprocess.run([sys.executable, __file__, "--worker", kind, "--workdir", str(workdir),
                          "--db", str(db)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{out.stderr[-3000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["server_cpu_s"] = time.process_time() - before
    return figures


# --------------------------------------------------------------------------- report

HEADER = (f"{'archive':>9} {'process':<12} {'items':>6} {'seconds':>7} {'items/s':>8} "
          f"{'ms CPU/item':>11} {'workers':>7} {'server':>6} {'peak MB':>7} {'worker MB':>9} {'tree MB':>7} "
          f"{'done':>5}   ratio to empty: {'CPU/item':>8} {'items/s':>7} {'peak':>5}")


def row(size: int, kind: str, f: dict, base: dict | None) -> str:
    n = max(1, f["items"])
    cpu, workers = 1000 * f["cpu_s"] / n, 1000 * f["worker_cpu_s"] / n
    server = 1000 * f["server_cpu_s"] / n if kind in ("crawl", "bare-scrapy", "peer") else 0.0
    line = (f"{size:>9} {kind:<12} {f['items']:>6} {f['seconds']:>7.1f} "
            f"{f['items'] / f['seconds']:>8.0f} {cpu:>11.2f} {workers:>7.2f} {server:>6.2f} "
            f"{f['max_rss_mb']:>7.0f} {f['worker_rss_mb']:>9.0f} {f['tree_mb']:>7.0f} "
            f"{f['stored']:>5}")
    if base is not None:
        b = max(1, base["items"])
        own = (f["cpu_s"] + f["worker_cpu_s"]) / n / ((base["cpu_s"] + base["worker_cpu_s"]) / b)
        rate = (f["items"] / f["seconds"]) / (base["items"] / base["seconds"])
        peak = f["tree_mb"] / base["tree_mb"]
        line += f"   {'':>15} {own:>8.2f} {rate:>7.2f} {peak:>5.2f}"
    return line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="0,100000",
                    help="archive sizes in articles, comma-separated (default 0,100000: ~10 "
                         "minutes on 2 cores; 1000000 adds ~30 minutes and ~8 GB of disk)")
    ap.add_argument("--pages", type=int, default=2000, help="simulated articles to crawl")
    ap.add_argument("--keep", type=Path, help="a folder to keep the built archives in, "
                    "reused when already there (archive-<size>.db)")
    ap.add_argument("--worker")
    ap.add_argument("--workdir")
    ap.add_argument("--db")
    args = ap.parse_args()
    if args.worker:
        sampler = TreeMemory()
        sampler.start()
        figures = WORKERS[args.worker](args.workdir, args.db)
        sampler.stop()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the extraction workers
        figures.update(max_rss_mb=_status_mb("self", "VmHWM"), worker_rss_mb=sampler.worker_mb,
                       tree_mb=max(sampler.tree_mb, _status_mb("self", "VmHWM")),
                       worker_cpu_s=children.ru_utime + children.ru_stime)
        print(json.dumps(figures))
        return

    from govcrawl.demo import simulator_declarations
    from govcrawl.portals.registry import to_toml
    from govcrawl.simulator import Simulator

    sizes = sorted(int(s) for s in args.sizes.split(","))
    (ROOT / "output").mkdir(exist_ok=True)
    with Simulator(size=args.pages, seed=1) as simulator, \
            tempfile.TemporaryDirectory(dir=ROOT / "output") as tmp:
        work = Path(tmp)
        [portal] = [p for p in simulator_declarations(simulator) if p.id == PORTAL_ID]
        (work / "portal.toml").write_text(to_toml([portal]), "utf-8")
        (work / "urls.txt").write_text(
            "\n".join(a["url"] for a in simulator.iter_articles(PORTAL)), "utf-8")
        print(f"{args.pages} simulated articles of {PORTAL_ID}; archives of {sizes} articles; "
              f"{os.cpu_count()} cores", flush=True)
        print(HEADER, flush=True)
        peers = {kind: measure(kind, work, work / f"{kind}.db")
                 for kind in ("bare-scrapy", "peer")}
        for kind, f in peers.items():
            print(row(0, kind, f, None), flush=True)
        results: dict[tuple[int, str], dict] = {}
        for size in sizes:
            store = args.keep or work
            store.mkdir(parents=True, exist_ok=True)
            base = store / f"archive-{size}.db"
            if not base.exists():
                t0 = time.perf_counter()
                build_archive(base, size)
                print(f"{size:>9} built in {time.perf_counter() - t0:.0f} s, "
                      f"{base.stat().st_size / 2**20:,.0f} MB", flush=True)
            crawled, imported = work / f"crawl-{size}.db", work / f"import-{size}.db"
            shutil.copy(base, crawled)
            shutil.copy(base, imported)
            results[(size, "crawl")] = measure("crawl", work, crawled)
            if not (work / "pages.warc.gz").exists():
                export_warc(crawled, work / "pages.warc.gz")
            results[(size, "import")] = measure("import", work, imported)
            results[(size, "reprocess")] = measure("reprocess", work, crawled)
            with sqlite3.connect(crawled) as conn:  # what an older extractor might have stored
                conn.execute("UPDATE articles SET title = title || '_旧' WHERE portal_id = ?",
                             (PORTAL_ID,))
            conn.close()
            results[(size, "reprocess*")] = measure("reprocess*", work, crawled)
            for kind in ("crawl", "import", "reprocess", "reprocess*"):
                print(row(size, kind, results[(size, kind)],
                          results[(sizes[0], kind)]), flush=True)
            for path in (crawled, imported):
                path.unlink()
            if args.keep is None:
                base.unlink()
        print("reprocess* = after the crawled articles' titles were altered (all updated)")
        ours = results[(sizes[0], "crawl")]
        ours_ms = 1000 * (ours["cpu_s"] + ours["worker_cpu_s"]) / ours["items"]
        ours_mb = ours["tree_mb"]
        for kind, f in peers.items():
            ms = 1000 * f["cpu_s"] / f["items"]
            print(f"crawl into the {sizes[0]}-article archive vs {kind}: {ours_ms / ms:.2f}x the "
                  f"CPU per page ({ours_ms:.2f} ms against {ms:.2f}), "
                  f"{(ours['items'] / ours['seconds']) / (f['items'] / f['seconds']):.2f}x the "
                  f"pages/s, {ours_mb / f['tree_mb']:.2f}x the peak RSS of the process tree "
                  f"({ours_mb:.0f} MB against {f['tree_mb']:.0f})")


if __name__ == "__main__":
    main()
