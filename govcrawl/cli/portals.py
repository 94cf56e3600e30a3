"""`govcrawl portals`: list the declared portals; `govcrawl portals check`: run the live canary.

Listing shows each declaration (and, when the archive exists, its last run) so a researcher sees
what `scrapy crawl <id>` would do. Declaration errors go to stderr: one bad user file never
hides the others. `check` exits 1 when any portal's list gives no links or its articles give no
title or publish time, so a scheduler can alert before a crawl silently yields nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from govcrawl.cli import UsageError
from govcrawl.portals.registry import Portal, Registry, load_registry


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "portals", help="list declared portals, or check them against the live sites",
        description="List declared portals (shipped and GOVCRAWL_PORTALS) with their last run. "
                    "`portals check` fetches a start channel, one more list page and a few "
                    "articles per portal and reports what extraction found.")
    parser.add_argument("--database", metavar="URL",
                        help="archive to read last runs from (default: GOVCRAWL_DATABASE_URL, "
                             "else output/govcrawl.db)")
    parser.add_argument("--json", action="store_true", help="one JSON object per portal")
    parser.set_defaults(func=run_list)
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    check = sub.add_parser(
        "check", help="live canary: do the declarations still match the sites?",
        description="Fetch each portal's start channel, one more list page and a few articles "
                    "(govcrawl User-Agent, robots.txt honoured). Exit 1 when a portal's list "
                    "gives no article links or its articles give no title or publish time.")
    check.add_argument("portals", nargs="*", metavar="ID", help="portal ids")
    check.add_argument("--all", action="store_true", help="every declared portal")
    check.add_argument("--articles", type=int, default=3, metavar="N",
                       help="articles to fetch per portal (default 3)")
    check.add_argument("--delay", type=float, default=None, metavar="SECONDS",
                       help="pause between requests to a host (default: the portal's "
                            "download_delay, else DOWNLOAD_DELAY)")
    check.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                       help="per-request timeout (default 30)")
    check.add_argument("--json", action="store_true", help="one JSON report per portal")
    check.set_defaults(func=run_check)


def _print_errors(registry: Registry) -> None:
    for error in registry.errors:
        print(f"govcrawl portals: declaration skipped: {error}", file=sys.stderr)


def last_runs(database: str | None) -> dict[str, dict[str, Any]]:
    """The newest run of each spider, if an archive exists; {} when there is none."""
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from govcrawl.store.db import ArchiveError, open_reader, resolve_url
    from govcrawl.store.schema import runs

    url = resolve_url(database)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return {}
        if not Path(parsed.database).is_file():
            return {}  # never create an archive just to list portals
    try:
        archive = open_reader(url)
    except ArchiveError as exc:
        print(f"govcrawl portals: last runs not shown: {exc}", file=sys.stderr)
        return {}
    try:
        newest = select(func.max(runs.c.id)).group_by(runs.c.spider).scalar_subquery()
        query = select(runs.c.spider, runs.c.status, runs.c.started_at, runs.c.finished_at) \
            .where(runs.c.id.in_(newest))
        with archive.read_engine.connect() as conn:
            return {row.spider: {"status": row.status, "started_at": _iso(row.started_at),
                                 "finished_at": _iso(row.finished_at)}
                    for row in conn.execute(query)}
    finally:
        archive.close()


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)


def run_list(args: argparse.Namespace) -> int:
    registry = load_registry()
    _print_errors(registry)
    runs = last_runs(args.database)
    rows = []
    for portal in registry.portals.values():
        row = {"id": portal.id, "name": portal.name, "level": portal.level,
               "province": portal.province, "dialect": portal.dialect,
               "source": portal.source}
        if portal.id in runs:
            row["last_run"] = runs[portal.id]
        rows.append(row)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    for row in rows:
        line = (f"{row['id']:<16} {row['name']}  {row['level']}"
                f"{' ' + row['province'] if row['province'] else ''}  {row['dialect']}")
        run = row.get("last_run")
        if run:
            line += f"  last run {run['started_at']} {run['status']}"
        print(line)
    return 0


def _chosen(registry: Registry, ids: list[str], everything: bool) -> list[Portal]:
    if everything == bool(ids):
        raise UsageError("name portal ids, or give --all (not both)")
    unknown = [p for p in ids if p not in registry.portals]
    if unknown:
        raise UsageError(f"unknown portal(s): {', '.join(unknown)} (see `govcrawl portals`)")
    return list(registry.portals.values()) if everything else [registry.portals[p] for p in ids]


def run_check(args: argparse.Namespace) -> int:
    from govcrawl.canary import check_portals

    if args.articles < 1:
        raise UsageError("--articles must be at least 1")
    if args.delay is not None and args.delay < 0:
        raise UsageError("--delay must not be negative")
    registry = load_registry()
    _print_errors(registry)
    portals = _chosen(registry, args.portals, args.all)
    failed = 0
    for report in check_portals(portals, articles=args.articles, delay=args.delay,
                                timeout=args.timeout):
        failed += not report.ok
        if args.json:
            print(json.dumps(report.as_dict(), ensure_ascii=False), flush=True)
        else:
            print("\n".join(report.lines()), flush=True)
    return 1 if failed else 0
