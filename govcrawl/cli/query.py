"""`govcrawl query`: list archived articles by portal, place, byline, date, text and state.

Also holds the archive/filter options shared by `show`, `stats`, `export`, `import` and
`reprocess`, so every command spells and checks them the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any

from govcrawl.cli import UsageError
from govcrawl.cli.output import (
    add_dated_arg,
    add_format_args,
    chosen_format,
    dated_from,
    fit,
    warn_deprecated,
    write_csv_records,
    write_table,
)
from govcrawl.store import Archive, ArchiveError, open_archive
from govcrawl.store import read as R
from govcrawl.store.db import open_reader

# ------------------------------------------------------------------ shared by the read commands


def add_database_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL",
                        help="archive URL (default: $GOVCRAWL_DATABASE_URL or "
                             "sqlite:///output/govcrawl.db)")


def open_for(url: str | None, create: bool = False) -> Archive:
    """The archive to write (upgraded if older), or a UsageError: missing file (unless
    `create`), foreign or newer archive."""
    try:
        if not create:
            R.require_existing(url)
        return open_archive(url)
    except (FileNotFoundError, ArchiveError) as exc:
        raise UsageError(str(exc)) from None


def open_to_read(url: str | None) -> Archive:
    """The archive opened read-only (never created, migrated or locked for writing), or a
    UsageError: missing or empty file, foreign, older or newer archive."""
    try:
        return open_reader(url)
    except ArchiveError as exc:
        raise UsageError(str(exc)) from None


def day(value: str | None, flag: str) -> Any:
    """A dated filter's value as a date, or a UsageError naming the flag."""
    if value is None:
        return None
    try:
        return R.parse_day(value, flag)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def known_portal_ids(archive: Archive) -> set[str]:
    """Portals the archive has rows for, plus every declared one."""
    from govcrawl.portals.registry import load_registry

    return R.known_portals(archive) | set(load_registry().portals)


def check_portal(archive: Archive, portal: str | None) -> None:
    if portal is not None and portal not in known_portal_ids(archive):
        raise UsageError(f"unknown portal {portal!r} (see `govcrawl stats` or `govcrawl portals`)")


def add_filter_args(parser: argparse.ArgumentParser, limit_help: str) -> None:
    g = parser.add_argument_group("filters")
    g.add_argument("--portal", metavar="ID", help="only this portal")
    g.add_argument("--province", help="only portals of this province (e.g. 广东)")
    g.add_argument("--source", metavar="TEXT", help="来源 contains TEXT")
    g.add_argument("--author", metavar="TEXT", help="作者 contains TEXT")
    g.add_argument("--editor", metavar="TEXT", help="责任编辑 contains TEXT")
    add_dated_arg(g, "--published-since", "published on or after this day")
    add_dated_arg(g, "--published-until", "published on or before this day", old="--until")
    g.add_argument("--search", metavar="TEXT", action="append",
                   help="title or body contains every word of TEXT (AND; \"quoted phrase\" "
                        "kept whole; any length; simplified or traditional); repeat to add "
                        "words")
    g.add_argument("--edited", action="store_true", help="only articles changed since archived")
    g.add_argument("--removed", action="store_true", help="only articles a portal took down")
    g.add_argument("--collapse", action="store_true",
                   help="one row per story: group heads only (default: copies included)")
    g.add_argument("--sort", choices=R.SORTS, default="published",
                   help="newest published first (default), newest first_seen, or by portal")
    g.add_argument("--limit", type=int, metavar="N", help=f"at most N articles ({limit_help}; "
                   "0 = all)")


def filters_from(args: argparse.Namespace, archive: Archive,
                 default_limit: int | None = None) -> R.Filters:
    """Checked Filters from the parsed options (UsageError on a bad value); `default_limit`
    applies when no --limit was given."""
    check_portal(archive, args.portal)
    limit = default_limit if args.limit is None else args.limit
    try:
        f = R.Filters(
            portal=args.portal, province=args.province, source=args.source, author=args.author,
            editor=args.editor, since=dated_from(args, "--published-since"),
            until=dated_from(args, "--published-until", old="--until"),
            search=" ".join(args.search or ()) or None,
            edited=args.edited, removed=args.removed, collapse=args.collapse, sort=args.sort,
            limit=limit or None)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    warn_deprecated(args)
    return f


# ------------------------------------------------------------------------------------ query

#: Rows shown on a terminal when no --limit is given (a pipe or file gets every row).
TERMINAL_LIMIT = 50


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query", help="list archived articles matching filters",
        description="List archived articles. Output: a table on a terminal, JSON lines when "
                    "piped (or --format). Copies of a syndicated story are listed with "
                    "duplicate_of = their group head; --collapse shows heads only. A terminal "
                    f"shows the first {TERMINAL_LIMIT} unless --limit; a pipe or file gets "
                    "every match; when a limit cuts the list, the count of all matches is "
                    "printed (on stderr for jsonl and csv).")
    add_filter_args(parser, limit_help=f"default: {TERMINAL_LIMIT} on a terminal, all when "
                                       "piped")
    add_format_args(parser, excel=True, default=None)
    add_database_arg(parser)
    parser.set_defaults(func=run)


def table_rows(records: Iterable[dict[str, Any]]) -> list[list[str]]:
    return [[str(r["id"]), (r["published_at"] or "")[:16].replace("T", " "), r["portal"] or "",
             str(r["duplicate_of"] or ""), fit(r["source"] or "", 16), r["title"] or ""]
            for r in records]


def cut_note(shown: int, total: int) -> str:
    return f"showing {shown} of {total} — `--limit 0` for all"


def run(args: argparse.Namespace) -> int:
    from govcrawl.export import write_jsonl

    fmt = chosen_format(args)
    archive = open_to_read(args.database)
    with archive:
        f = filters_from(args, archive, TERMINAL_LIMIT if sys.stdout.isatty() else None)
        records = R.iter_articles(archive, f)
        if fmt == "table":
            rows = table_rows(records)
            write_table(("id", "published", "portal", "copy of", "source", "title"), rows,
                        sys.stdout, right=("id", "copy of"), stretch="title")
            n = len(rows)
        elif fmt == "csv":
            n = write_csv_records(records, sys.stdout, excel=args.excel)
        else:
            n = write_jsonl(records, sys.stdout)
        total = R.count_articles(archive, f) if f.limit is not None and n == f.limit else n
    if total > n:
        print(f"({cut_note(n, total)})", file=sys.stdout if fmt == "table" else sys.stderr)
    elif fmt == "table":
        print(f"({n} article{'s' if n != 1 else ''})")
    return 0
