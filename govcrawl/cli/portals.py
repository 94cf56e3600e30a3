"""`govcrawl portals`: list the declared portals; `govcrawl portals check`: run the live canary.

Listing shows each declaration (and, when the archive exists, its last run) so a researcher sees
what `scrapy crawl <id>` would do. Declaration errors go to stderr: one bad user file never
hides the others. `check` exits 1 when any portal's list gives no links or its articles give no
title or publish time, so a scheduler can alert before a crawl silently yields nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from govcrawl.cli import UsageError
from govcrawl.cli.output import BOM, add_format_args, chosen_format, write_table
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
    add_format_args(parser, excel=True)
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
    check.add_argument("--json", action="store_true",
                       help="one JSON report per portal (its one-row summary under \"row\"); "
                            "the summary line goes to stderr")
    check.add_argument("--write", metavar="FILE", type=Path,
                       help="write the declarations this check verified to FILE (a TOML file "
                            "for GOVCRAWL_PORTALS; entries already there for other portals "
                            "are kept), with evidence \"pattern\" and the discovered "
                            "article_pattern")
    check.set_defaults(func=run_check)


def _print_errors(registry: Registry) -> None:
    for error in registry.errors:
        print(f"govcrawl portals: declaration skipped: {error}", file=sys.stderr)
    for pid, shipped in registry.replaced.items():
        print(f"govcrawl portals: {pid}: {registry.portals[pid].source} replaces the "
              f"declaration in {shipped}", file=sys.stderr)


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
    rows: list[dict[str, Any]] = []
    for portal in registry.portals.values():
        row: dict[str, Any] = {"id": portal.id, "name": portal.name, "level": portal.level,
               "province": portal.province, "dialect": portal.dialect,
               "evidence": portal.evidence_label(), "source": portal.source}
        if portal.id in runs:
            row["last_run"] = runs[portal.id]
        rows.append(row)
    fmt = chosen_format(args)
    if fmt == "jsonl":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    headers: tuple[str, ...] = ("id", "name", "level", "province", "dialect", "evidence")
    table = [[row["id"], row["name"], row["level"], row["province"] or "", row["dialect"],
              row["evidence"] or "not given"] for row in rows]
    if runs:  # a column only when the archive has runs to show
        headers += ("run",)
        for line, row in zip(table, rows, strict=True):
            run = row.get("last_run")
            line.append(f"last run {run['started_at']} {run['status']}" if run else "")
    if fmt == "csv":
        if args.excel:
            sys.stdout.write(BOM)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerows([headers, *table])
    else:
        write_table(headers, table, sys.stdout)
    return 0


def _chosen(registry: Registry, ids: list[str], everything: bool) -> list[Portal]:
    if everything == bool(ids):
        raise UsageError("name portal ids, or give --all (not both)")
    unknown = [p for p in ids if p not in registry.portals]
    if unknown:
        raise UsageError(f"unknown portal(s): {', '.join(unknown)} (see `govcrawl portals`)")
    return list(registry.portals.values()) if everything else [registry.portals[p] for p in ids]


ROW_COLUMNS = ("portal", "ok", "evidence", "reachable", "robots", "list_pages",
               "article_links", "articles_extracted")


def format_rows(rows: list[dict[str, Any]]) -> list[str]:
    """The one-row-per-portal table: the columns, then the pattern and what to change."""
    shown = {True: "ok", False: "FAILED", None: "-"}
    cells = [[shown.get(row[c], str(row[c])) if not isinstance(row[c], int) or
              isinstance(row[c], bool) else str(row[c]) for c in ROW_COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(ROW_COLUMNS)]
    out = ["  ".join(c.ljust(w) for c, w in zip(ROW_COLUMNS, widths, strict=True)).rstrip()]
    for row, line in zip(rows, cells, strict=True):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        how = row["dialect"] + (f" · {' | '.join(row['patterns'])}" if row["patterns"] else "")
        out.append(f"    {how}")
        out.append(f"    to do: {row['advice']}")
    return out


def write_verified(path: Path, verified: list[Portal]) -> None:
    """Merge verified declarations into a user TOML file (others in it are kept)."""
    from govcrawl.portals.registry import parse_toml, to_toml

    kept: list[Portal] = []
    if path.is_file():
        existing, errors = parse_toml(path.read_text("utf-8"), str(path))
        if errors:
            raise UsageError(f"--write {path}: cannot merge into it: {errors[0]}")
        ids = {p.id for p in verified}
        kept = [p for p in existing if p.id not in ids]
    header = ("# Declarations verified by `govcrawl portals check --write`. Name this file in "
              "GOVCRAWL_PORTALS:\n# each replaces the shipped declaration of the same id.\n\n")
    path.write_text(header + to_toml([*kept, *verified]), "utf-8")


def run_check(args: argparse.Namespace) -> int:
    from datetime import date

    from govcrawl.canary import check_portals, summary_line, verified_declarations

    if args.articles < 1:
        raise UsageError("--articles must be at least 1")
    if args.delay is not None and args.delay < 0:
        raise UsageError("--delay must not be negative")
    registry = load_registry()
    _print_errors(registry)
    portals = _chosen(registry, args.portals, args.all)
    reports = []
    for report in check_portals(portals, articles=args.articles, delay=args.delay,
                                timeout=args.timeout):
        reports.append(report)
        if args.json:
            print(json.dumps(report.as_dict(), ensure_ascii=False), flush=True)
        else:
            print("\n".join(report.lines()), flush=True)
    summary = summary_line(reports)
    if args.json:
        print(summary, file=sys.stderr)
    else:
        print()
        print("\n".join(format_rows([r.row() for r in reports])))
        print(summary)
    if args.write:
        verified = verified_declarations(portals, reports, date.today())
        write_verified(args.write, verified)
        print(f"wrote {len(verified)} verified declaration(s) to {args.write}",
              file=sys.stderr if args.json else sys.stdout)
    return 0 if all(r.ok for r in reports) else 1
