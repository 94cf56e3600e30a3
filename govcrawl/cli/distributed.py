"""`govcrawl seed` and `govcrawl workers`: run one crawl on many processes through Redis.

Both need GOVCRAWL_REDIS_URL (and GOVCRAWL_DATABASE_URL on PostgreSQL for several workers).
redis and scrapy-redis are imported only when one of these commands runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any

from govcrawl.cli import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    seed = subparsers.add_parser(
        "seed", help="queue portals' start channels in Redis for workers",
        description="Start a shared crawl: queue the portals' start requests in Redis. With "
                    "--recover, re-queue requests taken by workers that died (automatic when "
                    "the last worker goes idle).")
    _portal_args(seed)
    seed.add_argument("--recover", action="store_true",
                      help="settle the ledger now instead of seeding")
    seed.set_defaults(func=run_seed)
    workers = subparsers.add_parser(
        "workers", help="run N worker processes on a shared crawl",
        description="Run worker processes (`govcrawl crawl` with the Redis scheduler) until the "
                    "crawl is done, recovering the work of workers that die. Exit status as "
                    "for `govcrawl crawl`, judged on all workers' runs together.")
    _portal_args(workers)
    workers.add_argument("--processes", type=int, default=2, metavar="N",
                         help="worker processes to run on this machine (default 2)")
    workers.add_argument("--status", action="store_true",
                         help="print the crawl's progress and exit")
    workers.add_argument("-s", dest="settings", action="append", default=[],
                         metavar="NAME=VALUE", help="Scrapy setting for the workers")
    workers.set_defaults(func=run_workers)


def _portal_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("portals", nargs="*", metavar="ID", help="portal ids")
    parser.add_argument("--all", action="store_true", help="every declared portal")
    parser.add_argument("-a", dest="spider_args", action="append", default=[],
                        metavar="NAME=VALUE", help="spider argument (as for govcrawl crawl)")


def _context(args: argparse.Namespace):
    """(redis server, Scrapy settings, chosen portals); usage errors as UsageError."""
    url = os.environ.get("GOVCRAWL_REDIS_URL")
    if not url:
        raise UsageError("set GOVCRAWL_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    from scrapy.settings import Settings

    from govcrawl.cli.crawl import _pairs, select_portals
    from govcrawl.distributed import server_from_url
    from govcrawl.settings_check import check_settings

    portals = select_portals(args.portals, args.all)
    settings = Settings()
    settings.setmodule("govcrawl.settings", priority="project")
    problems = check_settings(settings, os.environ)
    if problems:
        raise UsageError("; ".join(problems))
    args.spider_pairs = _pairs(args.spider_args, "-a")
    return server_from_url(url), settings, portals


def run_seed(args: argparse.Namespace) -> int:
    from govcrawl import distributed as d
    from govcrawl.store.db import open_archive

    server, settings, portals = _context(args)
    archive = open_archive(settings.get("GOVCRAWL_DATABASE_URL"))
    try:
        for portal in portals:
            spider = d.make_spider(portal, settings, args.spider_pairs)
            spider.archive = archive
            if args.recover:
                keys = d.keys_for(settings, spider.name)
                timeout = settings.getfloat("GOVCRAWL_WORKER_TIMEOUT")
                busy = [w for w, s in d.live_workers(server, keys, timeout).items()
                        if s.state == "busy"]
                result = d.reconcile(server, spider, archive, busy_owners=busy,
                                     max_attempts=settings.getint("GOVCRAWL_RECOVER_ATTEMPTS"))
                print(f"{portal.id}: {result.confirmed} confirmed by the archive, "
                      f"{result.requeued} re-queued, {len(result.lost)} given up, "
                      f"{result.skipped} in flight at busy workers")
                continue
            archive.ensure_portal(portal.id, portal.name, level=portal.level,
                                  province=portal.province)
            started, queued = d.seed(server, spider)
            print(f"{portal.id}: {'new crawl' if started else 'crawl in progress'}, "
                  f"{queued} start request(s) queued")
    finally:
        archive.close()
    return 0


def run_workers(args: argparse.Namespace) -> int:
    from govcrawl import distributed as d
    from govcrawl.crawl import assess, overall_status
    from govcrawl.store.db import open_archive

    server, settings, portals = _context(args)
    archive = open_archive(settings.get("GOVCRAWL_DATABASE_URL"))
    try:
        if args.status:
            timeout = settings.getfloat("GOVCRAWL_WORKER_TIMEOUT")
            for portal in portals:
                keys = d.keys_for(settings, portal.id)
                print(d.status_line(d.status(server, keys, timeout),
                                    d.stored_articles(archive, portal.id)))
            return 0
        if args.processes < 1:
            raise UsageError("--processes must be at least 1")
        finished = [p for p in portals
                    if d.crawl_info(server, d.keys_for(settings, p.id)).get("state") == "done"]
        for portal in finished:
            print(d.finished_recently(portal.id, d.crawl_info(
                server, d.keys_for(settings, portal.id))), file=sys.stderr)
        portals = [p for p in portals if p not in finished]
        if not portals:
            return 0
        started_at = time.time()
        rounds = settings.getint("GOVCRAWL_RECOVER_ATTEMPTS") + 1
        for _ in range(rounds):
            _run_round(args, [p.id for p in portals])
            if not _settle(server, settings, archive, portals):
                break  # done: nothing left to recover
        reports = [assess(p.id, None, d.sum_stats(_run_stats(archive, p.id, started_at)))
                   for p in portals]
        for report in reports:
            print("\n".join(report.lines()))
        return overall_status(reports)
    finally:
        archive.close()


def _run_round(args: argparse.Namespace, portal_ids: list[str]) -> None:
    """Start the worker processes and wait for all of them (forwarding SIGTERM/SIGINT)."""
    command = [sys.executable, "-m", "govcrawl", "crawl", *portal_ids]
    for pair in args.spider_args:
        command += ["-a", pair]
    for pair in args.settings:
        command += ["-s", pair]
    children = [subprocess.Popen(command) for _ in range(args.processes)]

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for child in children:
            child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _settle(server, settings, archive, portals) -> bool:
    """After every worker exited: recover what they left; True when another round is needed."""
    from govcrawl import distributed as d

    again = False
    for portal in portals:
        keys = d.keys_for(settings, portal.id)
        if d.crawl_info(server, keys).get("state") != "running":
            continue
        spider = d.make_spider(portal, settings)
        result = d.reconcile(server, spider, archive,
                             max_attempts=settings.getint("GOVCRAWL_RECOVER_ATTEMPTS"))
        if result.requeued or server.zcard(keys.requests):
            print(f"{portal.id}: workers exited with work left; {result.requeued} re-queued",
                  file=sys.stderr)
            again = True
        else:
            d.finish_crawl(server, keys)
    return again


def _run_stats(archive, portal_id: str, since: float) -> list[dict]:
    """Stats of the portal's runs that started since the workers were launched."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from govcrawl.store.schema import runs

    started = datetime.fromtimestamp(since - 1, UTC)
    with archive.read_engine.connect() as conn:
        return [dict(r.stats or {}) for r in conn.execute(
            select(runs.c.stats).where(runs.c.spider == portal_id,
                                       runs.c.started_at >= started))]
