"""`govcrawl stats`: per portal, what the archive holds and how the last run went."""

from __future__ import annotations

import argparse
import json
import sys

from govcrawl.cli.query import add_database_arg, day, open_to_read
from govcrawl.store import read as R


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats", help="per portal: articles, duplicates, rejects, dates, last run",
        description="Per portal: articles, duplicates (copies of a story held elsewhere), "
                    "rejects by kind, first and last publish date, and the last run. With "
                    "--since, only what was archived (and runs started) from that day on.")
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="archived on or after this day")
    parser.add_argument("--json", action="store_true", help="one JSON object per portal")
    add_database_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    since = day(args.since, "--since")
    archive = open_to_read(args.database)
    with archive:
        rows = R.portal_stats(archive, since)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    head = (f"{'portal':<16} {'articles':>8} {'dups':>6}  {'published':<23}  {'last run':<22}"
            "  rejects")
    out = [head]
    for r in rows:
        span = f"{r['first_published'] or '':<10} … {r['last_published'] or '':<10}" \
            if r["first_published"] else ""
        run_ = r["last_run"]
        last = f"#{run_['id']} {run_['status']} {(run_['started_at'] or '')[:10]}" if run_ else "—"
        rej = ", ".join(f"{k} {n}" for k, n in r["rejects"].items()) or "—"
        out.append(f"{r['portal']:<16} {r['articles']:>8} {r['duplicates']:>6}  {span:<23}  "
                   f"{last:<22}  {rej}")
    total = sum(r["articles"] for r in rows)
    out.append(f"({len(rows)} portals, {total} articles)")
    sys.stdout.write("\n".join(out) + "\n")
    return 0
