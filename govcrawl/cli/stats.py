"""`govcrawl stats`: per portal, what the archive holds and how the last run went."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from govcrawl.cli.output import (
    add_dated_arg,
    add_format_args,
    chosen_format,
    dated_from,
    warn_deprecated,
    write_rows,
    write_table,
)
from govcrawl.cli.query import add_database_arg, open_to_read
from govcrawl.store import read as R

CSV_KEYS = ("portal", "name", "province", "articles", "duplicates", "first_published",
            "last_published", "last_run_id", "last_run_status", "last_run_started_at",
            "rejects")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats", help="per portal: articles, duplicates, rejects, dates, last run",
        description="Per portal: articles, duplicates (copies of a story held elsewhere), "
                    "rejects by kind, first and last publish date, and the last run. With "
                    "--archived-since, only what was archived (and runs started) from that "
                    "day on.")
    add_dated_arg(parser, "--archived-since", "archived (first seen) on or after this day, UTC")
    parser.add_argument("--by-province", action="store_true",
                        help="coverage per province: every declared portal with its evidence "
                             "level, last article date and articles per month")
    parser.add_argument("--months", type=int, default=6, metavar="N",
                        help="with --by-province: months shown, up to the archive's newest "
                             "(default 6)")
    add_format_args(parser, excel=True)
    add_database_arg(parser)
    parser.set_defaults(func=run)


def _flat(r: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: the last run spread over columns, rejects as "kind n; kind n"."""
    run_ = r["last_run"] or {}
    return {**{k: r[k] for k in CSV_KEYS if k in r},
            "last_run_id": run_.get("id"), "last_run_status": run_.get("status"),
            "last_run_started_at": run_.get("started_at"),
            "rejects": "; ".join(f"{k} {n}" for k, n in r["rejects"].items())}


COVERAGE_KEYS = ("province", "portal", "name", "evidence", "declared", "articles",
                 "last_published", "per_month")


def run_by_province(args: argparse.Namespace, fmt: str) -> int:
    """`stats --by-province`: every declared portal (and any archived one no longer declared)
    grouped by province, with what the archive holds from it."""
    from dataclasses import asdict

    from govcrawl.cli import UsageError
    from govcrawl.coverage import archive_counts, months_up_to, province_coverage
    from govcrawl.portals.registry import load_registry

    if args.months < 1:
        raise UsageError("--months must be at least 1")
    if dated_from(args, "--archived-since") is not None:
        raise UsageError("--by-province covers the whole archive; drop --archived-since")
    archive = open_to_read(args.database)
    with archive:
        counts = archive_counts(archive)
    rows = province_coverage(load_registry().portals.values(), counts)
    if fmt == "jsonl":
        write_rows((asdict(row) for row in rows), fmt, sys.stdout, fieldnames=COVERAGE_KEYS)
        return 0
    if fmt == "csv":
        write_rows(({**asdict(row), "per_month": "; ".join(
            f"{m} {n}" for m, n in sorted(row.per_month.items()))} for row in rows),
            fmt, sys.stdout, fieldnames=COVERAGE_KEYS, excel=args.excel)
        return 0
    dated = [m for row in rows for m in row.per_month if m]
    months = months_up_to(max(dated), args.months) if dated else []
    table, previous = [], None
    for row in rows:
        table.append([row.province if row.province != previous else "", row.portal, row.name,
                      row.evidence or "not declared", str(row.articles),
                      row.last_published or "—", " ".join(map(str, row.recent(months)))])
        previous = row.province
    per_month = f"per month {months[0]}…{months[-1]}" if months else "per month"
    write_table(("province", "portal", "name", "evidence", "articles", "last article",
                 per_month), table, sys.stdout, right=("articles",), stretch="name")
    provinces = {r.province for r in rows}
    held = {r.province for r in rows if r.articles}
    print(f"({len(provinces)} provinces and groups, {len(rows)} portals; articles archived "
          f"in {len(held)} of them)")
    return 0


def run(args: argparse.Namespace) -> int:
    fmt = chosen_format(args)
    if args.by_province:
        return run_by_province(args, fmt)
    since = dated_from(args, "--archived-since")
    warn_deprecated(args)
    archive = open_to_read(args.database)
    with archive:
        rows = R.portal_stats(archive, since)
    if fmt in ("jsonl", "csv"):
        write_rows(rows if fmt == "jsonl" else (_flat(r) for r in rows), fmt, sys.stdout,
                   fieldnames=CSV_KEYS, excel=args.excel)
        return 0
    table = []
    for r in rows:
        run_ = r["last_run"]
        table.append([
            r["portal"], r["name"] or "", str(r["articles"]), str(r["duplicates"]),
            f"{r['first_published']} … {r['last_published']}" if r["first_published"] else "",
            f"#{run_['id']} {run_['status']} {(run_['started_at'] or '')[:10]}" if run_ else "—",
            ", ".join(f"{k} {n}" for k, n in r["rejects"].items()) or "—"])
    write_table(("portal", "name", "articles", "dups", "published", "last run", "rejects"),
                table, sys.stdout, right=("articles", "dups"), stretch="name")
    total = sum(r["articles"] for r in rows)
    print(f"({len(rows)} portals, {total} articles)")
    return 0
