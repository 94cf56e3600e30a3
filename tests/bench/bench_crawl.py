"""Crawl throughput and memory: govcrawl with all pipelines against a bare Scrapy spider.

Run by hand: python tests/bench/bench_crawl.py [--sizes 5000 25000] [--breakdown]
Each size serves one simulated portal (中国长安网's dialect) with that many articles on
loopback, politeness off. govcrawl crawls it as a user does (list pages, articles, decoding,
repair, extraction, dedup, archive in SQLite); the bare spider fetches the same article URLs
with no callback work and no pipelines. Each crawl runs in its own process, which reports its
pages/s and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PORTAL = "changan"
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "ERROR",
        "GOVCRAWL_BACKOFF_MAX": 0}


# --breakdown: where govcrawl's time goes, by what is switched off
VARIANTS = {
    "govcrawl": {},
    "in-process": {"GOVCRAWL_EXTRACT_WORKERS": 0},  # extraction on the reactor thread
    "no-archive": {"ITEM_PIPELINES": {"govcrawl.pipelines.ExtractionPipeline": 100}},
}


def worker_govcrawl(base_url: str, size: int, workdir: str, variant: str = "govcrawl") -> dict:
    from govcrawl.crawl import run_portals
    from govcrawl.portals.registry import parse_toml

    Path(workdir, "archive.db").unlink(missing_ok=True)
    os.environ["GOVCRAWL_DATABASE_URL"] = f"sqlite:///{workdir}/archive.db"
    [portal], _ = parse_toml(Path(workdir, "portal.toml").read_text("utf-8"), "bench")
    started = time.perf_counter()
    [report] = run_portals([portal], {**FAST, "GOVCRAWL_LOG_DIR": f"{workdir}/logs",
                                      **VARIANTS[variant]})
    seconds = time.perf_counter() - started
    pages = int(report.stats.get("response_received_count", 0))
    stored = report.count("stored/new") + report.count("stored/duplicate")
    return {"pages": pages, "seconds": seconds, "stored": stored}


def worker_bare(base_url: str, size: int, workdir: str) -> dict:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = Path(workdir, "urls.txt").read_text("utf-8").split()

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, callback=self.parse)

        def parse(self, response):
            return None

    process = CrawlerProcess({**FAST, "TELNETCONSOLE_ENABLED": False,
                              "REMOTE_CONTROL_ENABLED": False})
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    started = time.perf_counter()
    process.start()
    seconds = time.perf_counter() - started
    return {"pages": int(crawler.stats.get_value("response_received_count", 0)),
            "seconds": seconds, "stored": 0}


def run_worker(kind: str, base_url: str, size: int, workdir: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--base", base_url, "--size", str(size),
         "--workdir", workdir], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 25000])
    parser.add_argument("--breakdown", action="store_true",
                        help="also crawl with extraction in-process and with no archive")
    parser.add_argument("--worker")
    parser.add_argument("--base")
    parser.add_argument("--size", type=int)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    if args.worker:
        if args.worker == "bare":
            figures = worker_bare(args.base, args.size, args.workdir)
        else:
            figures = worker_govcrawl(args.base, args.size, args.workdir, args.worker)
        own = resource.getrusage(resource.RUSAGE_SELF)
        figures["cpu_s"] = own.ru_utime + own.ru_stime  # the crawl process alone
        figures["max_rss_mb"] = own.ru_maxrss / 1024
        # the extraction worker processes, measured once they have exited
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        figures["worker_rss_mb"] = children.ru_maxrss / 1024
        figures["worker_cpu_s"] = children.ru_utime + children.ru_stime
        print(json.dumps(figures))
        return

    from govcrawl.demo import simulator_declarations
    from govcrawl.portals.registry import to_toml
    from govcrawl.simulator import Simulator

    kinds = ["bare", "govcrawl"] + (["in-process", "no-archive"] if args.breakdown else [])
    # CPU per page: the crawl process, its extraction workers, and the simulator serving it
    # (this parent process); on N cores no crawl can beat N * 1000 / total pages/s.
    print(f"{'articles':>9} {'crawler':<10} {'pages':>7} {'seconds':>8} {'pages/s':>8} "
          f"{'ms CPU/pg':>9} {'workers':>7} {'server':>6} {'total':>6} {'peak MB':>8} "
          f"{'worker MB':>10} {'stored':>7}")
    results = {}
    for size in args.sizes:
        with Simulator(size=size, seed=1) as simulator, \
                tempfile.TemporaryDirectory() as workdir:
            base = simulator.url("/")
            [portal] = [p for p in simulator_declarations(simulator) if p.id == f"sim_{PORTAL}"]
            Path(workdir, "portal.toml").write_text(to_toml([portal]), "utf-8")
            Path(workdir, "urls.txt").write_text(
                "\n".join(a["url"] for a in simulator.iter_articles(PORTAL)), "utf-8")
            for kind in kinds:
                before = time.process_time()
                figures = run_worker(kind, base, size, workdir)
                served = time.process_time() - before
                figures["server_cpu_s"] = served
                results[(size, kind)] = figures
                rate = figures["pages"] / figures["seconds"]
                per_page = [1000 * s / figures["pages"]
                            for s in (figures["cpu_s"], figures["worker_cpu_s"], served)]
                print(f"{size:>9} {kind:<10} {figures['pages']:>7} {figures['seconds']:>8.1f} "
                      f"{rate:>8.0f} {per_page[0]:>9.2f} {per_page[1]:>7.2f} {per_page[2]:>6.2f} "
                      f"{sum(per_page):>6.2f} {figures['max_rss_mb']:>8.1f} "
                      f"{figures['worker_rss_mb']:>10.1f} {figures['stored']:>7}", flush=True)
    cores = os.cpu_count() or 1
    for size in args.sizes:
        ours, bare = results[(size, "govcrawl")], results[(size, "bare")]
        bare_rate = bare["pages"] / bare["seconds"]
        ratio = (ours["pages"] / ours["seconds"]) / bare_rate
        print(f"{size} articles: govcrawl runs at {ratio:.2f}x the bare spider's pages/s")
        cpu_ms = 1000 * sum(ours[k] for k in ("cpu_s", "worker_cpu_s", "server_cpu_s"))
        cap = cores * 1000 / (cpu_ms / ours["pages"])
        print(f"{size} articles: at {cpu_ms / ours['pages']:.2f} ms CPU per page in all, no "
              f"schedule on {cores} cores beats {cap:.0f} pages/s = {cap / bare_rate:.2f}x the "
              f"bare spider")
    if len(args.sizes) >= 2:
        small, large = min(args.sizes), max(args.sizes)
        for kind in ("govcrawl", "bare"):
            growth = results[(large, kind)]["max_rss_mb"] - results[(small, kind)]["max_rss_mb"]
            print(f"{kind}: peak memory grows {growth:+.1f} MB from {small} to {large} articles")


if __name__ == "__main__":
    main()
