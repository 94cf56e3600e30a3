"""`govcrawl query`: list archived articles by portal, place, byline, date, text and state.

Also holds the archive/filter options shared by `show`, `stats`, `export`, `import` and
`reprocess`, so every command spells and checks them the same way.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import unicodedata
from collections.abc import Callable
from typing import Any, TextIO

from govcrawl.cli import UsageError
from govcrawl.store import Archive, ArchiveError, open_archive
from govcrawl.store import read as R
from govcrawl.store.db import open_reader

FORMATS = ("table", "jsonl", "csv")


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
    """A --since/--until value as a date, or a UsageError naming the flag."""
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


def add_filter_args(parser: argparse.ArgumentParser, limit: int | None) -> None:
    g = parser.add_argument_group("filters")
    g.add_argument("--portal", metavar="ID", help="only this portal")
    g.add_argument("--province", help="only portals of this province (e.g. 广东)")
    g.add_argument("--source", metavar="TEXT", help="来源 contains TEXT")
    g.add_argument("--author", metavar="TEXT", help="作者 contains TEXT")
    g.add_argument("--editor", metavar="TEXT", help="责任编辑 contains TEXT")
    g.add_argument("--since", metavar="YYYY-MM-DD", help="published on or after this day")
    g.add_argument("--until", metavar="YYYY-MM-DD", help="published on or before this day")
    g.add_argument("--search", metavar="TEXT",
                   help="title or body contains TEXT (any length; simplified or traditional)")
    g.add_argument("--edited", action="store_true", help="only articles changed since archived")
    g.add_argument("--removed", action="store_true", help="only articles a portal took down")
    g.add_argument("--collapse", action="store_true",
                   help="one row per story: group heads only (default: copies included)")
    g.add_argument("--sort", choices=R.SORTS, default="published",
                   help="newest published first (default), newest first_seen, or by portal")
    g.add_argument("--limit", type=int, default=limit, metavar="N",
                   help=f"at most N articles (default {limit if limit is not None else 'all'}; "
                        "0 = all)")


def filters_from(args: argparse.Namespace, archive: Archive) -> R.Filters:
    """Checked Filters from the parsed options (UsageError on a bad value)."""
    check_portal(archive, args.portal)
    try:
        return R.Filters(
            portal=args.portal, province=args.province, source=args.source, author=args.author,
            editor=args.editor, since=day(args.since, "--since"),
            until=day(args.until, "--until"), search=args.search, edited=args.edited,
            removed=args.removed, collapse=args.collapse, sort=args.sort,
            limit=None if args.limit in (None, 0) else args.limit)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def progress_printer() -> Callable[[str], None]:
    """Progress on stderr, only when stderr is a terminal (quiet in pipes and logs)."""
    if not sys.stderr.isatty():
        return lambda _msg: None

    def show(msg: str) -> None:
        sys.stderr.write(f"\r{msg}\x1b[K")
        sys.stderr.flush()

    return show


def end_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")


# ------------------------------------------------------------------------------------ query


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query", help="list archived articles matching filters",
        description="List archived articles. Output: a table on a terminal, JSON lines when "
                    "piped (or --format). Copies of a syndicated story are listed with "
                    "duplicate_of = their group head; --collapse shows heads only.")
    add_filter_args(parser, limit=50)
    parser.add_argument("--format", choices=FORMATS,
                        help="table (default on a terminal), jsonl (default when piped), csv")
    add_database_arg(parser)
    parser.set_defaults(func=run)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, width: int) -> str:
    out, used = [], 0
    for c in text:
        w = 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if used + w > width:
            return "".join(out[:-1]) + "…" if out else ""
        out.append(c)
        used += w
    return "".join(out)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def write_table(records: list[dict[str, Any]], out: TextIO) -> None:
    """Aligned columns (CJK counted double width); titles cut to the terminal width."""
    cols = ("id", "published", "portal", "copy of", "source", "title")
    rows = [(str(r["id"]), (r["published_at"] or "")[:16].replace("T", " "), r["portal"] or "",
             str(r["duplicate_of"] or ""), _fit(r["source"] or "", 16), r["title"] or "")
            for r in records]
    widths = [max([_width(c)] + [_width(row[i]) for row in rows]) for i, c in enumerate(cols)]
    room = shutil.get_terminal_size((120, 20)).columns - sum(widths[:-1]) - 2 * (len(cols) - 1)
    widths[-1] = max(10, min(widths[-1], room))
    out.write("  ".join(_pad(c, w) for c, w in zip(cols, widths, strict=True)).rstrip() + "\n")
    for row in rows:
        cells = [*row[:-1], _fit(row[-1], widths[-1])]
        out.write("  ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()
                  + "\n")
    out.write(f"({len(rows)} article{'s' if len(rows) != 1 else ''})\n")


def run(args: argparse.Namespace) -> int:
    from govcrawl.export import write_csv, write_jsonl

    fmt = args.format or ("table" if sys.stdout.isatty() else "jsonl")
    archive = open_to_read(args.database)
    with archive:
        f = filters_from(args, archive)
        records = R.iter_articles(archive, f)
        if fmt == "table":
            write_table(list(records), sys.stdout)
        elif fmt == "csv":
            write_csv(records, sys.stdout)
        else:
            write_jsonl(records, sys.stdout)
    return 0
