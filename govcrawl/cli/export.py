"""`govcrawl export --format jsonl|csv|warc -o PATH`: selected articles out of the archive.

Same filters as `query` (all articles unless --limit). JSONL and CSV carry the record fields plus
the body; WARC carries each article's archived response (body bytes as stored) and request.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govcrawl.cli import UsageError
from govcrawl.cli.query import (
    add_database_arg,
    add_filter_args,
    end_progress,
    filters_from,
    open_for,
    progress_printer,
)
from govcrawl.store import read as R


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export selected articles as JSONL, CSV or WARC",
        description="Export the articles `query` would select (all by default). WARC: a "
                    "response record with the archived body and headers, and the request "
                    "record, per article; `govcrawl import --warc` reads it back.")
    parser.add_argument("--format", choices=("jsonl", "csv", "warc"), required=True)
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="output file ('-' = stdout, jsonl/csv only); .warc.gz is gzipped")
    add_filter_args(parser, limit=None)
    add_database_arg(parser)
    parser.set_defaults(func=run)


def _counted(records: Iterator[Any], show: Any, every: int = 500) -> Iterator[Any]:
    n = 0
    for n, record in enumerate(records, 1):
        if n % every == 0:
            show(f"export: {n} articles")
        yield record
    show(f"export: {n} articles")


def run(args: argparse.Namespace) -> int:
    from govcrawl.export import WarcExporter, write_csv, write_jsonl

    if args.output == "-" and args.format == "warc":
        raise UsageError("-o -: WARC output must go to a file")
    out_path = None if args.output == "-" else Path(args.output)
    if out_path is not None and not out_path.parent.is_dir():
        raise UsageError(f"-o {args.output}: no such directory {out_path.parent}")
    archive = open_for(args.database)
    show = progress_printer()
    with archive:
        f = filters_from(args, archive)
        if args.format == "warc":
            assert out_path is not None
            missing = 0
            with out_path.open("wb") as fh:
                writer = WarcExporter(fh, gzip=out_path.name.endswith(".gz"))
                n = 0
                for record, raw in _counted(R.iter_articles_raw(archive, f), show):
                    if raw is None:
                        missing += 1
                        continue
                    writer.write(record["url"], raw, {"WARC-Govcrawl-Article-Id":
                                                      str(record["id"]),
                                                      "WARC-Govcrawl-Portal": record["portal"]})
                    n += 1
            end_progress()
            if missing:
                print(f"govcrawl export: {missing} articles have no archived response, skipped",
                      file=sys.stderr)
        else:
            records = _counted(R.iter_articles(archive, f, body=True), show)
            writer_fn = write_jsonl if args.format == "jsonl" else (
                lambda rs, fh: write_csv(rs, fh, body=True))
            if out_path is None:
                n = writer_fn(records, sys.stdout)
            else:
                with out_path.open("w", encoding="utf-8", newline="") as fh:
                    n = writer_fn(records, fh)
            end_progress()
    if out_path is not None:
        print(f"exported {n} articles to {out_path} ({args.format})", file=sys.stderr)
    return 0
