"""`govcrawl import PATH... [--warc]`: saved pages or WARC files into the archive, as a crawl.

Each response goes through extract_page and Archive.store_batch, attributed to the declared
portal whose allowed_domains hold its host (else to `unknown`); already archived responses
(same URL, same bytes) are skipped, so re-importing adds nothing. One `import` run row.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from govcrawl.cli import UsageError
from govcrawl.cli.output import ProgressLine
from govcrawl.cli.query import add_database_arg, open_for
from govcrawl.store.db import archive_file_named, resolve_url

ORDER = ("new", "duplicate", "updated", "unchanged", "reject", "skipped")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import", help="import saved pages (with <stem>.json sidecars) or WARC files",
        description="Import saved pages (raw bytes; a <stem>.json sidecar gives url, status, "
                    "headers and optionally fetched_at) or, with --warc, the response records "
                    "of WARC files. Folders are read for page files (or *.warc, *.warc.gz).",
        epilog="Exit status: 0 everything imported; 1 some saved pages could not be read (the "
               "others were imported); 2 bad input: a missing file, a file that is not a WARC, "
               "or a damaged WARC (truncated, or garbage inside), whose whole records before "
               "the damage are imported and whose damage is named by byte offset.")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--warc", action="store_true", help="the inputs are WARC files")
    add_database_arg(parser)
    parser.set_defaults(func=run)


def _looks_like_warc(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(8)
    return head.startswith((b"WARC/", b"\x1f\x8b"))


def summary(counts: dict[str, int]) -> str:
    keys = [k for k in ORDER if k in counts] + sorted(set(counts) - set(ORDER))
    return ", ".join(f"{k} {counts[k]}" for k in keys) or "nothing"


def run(args: argparse.Namespace) -> int:
    from govcrawl import ingest
    from govcrawl.portals.registry import load_registry

    paths = [Path(p) for p in args.paths]
    url = resolve_url(args.database)
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
        if path.is_file() and archive_file_named(path, url) is not None:
            # Reading it with plain file I/O while our own connection is open would also drop
            # this process's SQLite locks on it (see govcrawl.store.db).
            raise UsageError(f"{path}: is the archive being imported into")
        if args.warc and path.is_file() and not _looks_like_warc(path):
            raise UsageError(f"{path}: not a WARC file")
    resolver = ingest.PortalResolver(load_registry().portals.values())
    archive = open_for(args.database, create=True)
    # Saved pages are counted up front; a WARC's records only as they are read.
    bar = ProgressLine("import", "responses",
                       None if args.warc else len(ingest.saved_page_files(paths)))
    with archive:
        if args.warc:
            report = ingest.import_warcs(archive, paths, resolver, bar.message)
        else:
            report = ingest.import_saved_pages(archive, paths, resolver, bar.message)
    bar.close()
    for error in report.errors + report.damaged:
        print(f"govcrawl import: {error}", file=sys.stderr)
    print(f"import (run {report.run_id}): {summary(report.counts)}")
    return 2 if report.damaged else 1 if report.errors else 0
