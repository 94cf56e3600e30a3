"""`govcrawl export --format jsonl|csv|warc -o PATH`: selected articles out of the archive.

Same filters as `query` (all articles unless --limit). JSONL and CSV carry the record fields plus
the body; WARC carries each article's archived response (body bytes as stored) and request.

The output never clobbers: the archive being read (or its -wal/-shm/-journal) is refused as a
target, an existing file is replaced only with --force, and the export is written to a temporary
file beside the target that is renamed over it only once complete, so a failed or interrupted
export leaves the target as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO, overload

from govcrawl.cli import UsageError
from govcrawl.cli.output import ProgressLine, write_csv_records
from govcrawl.cli.query import (
    add_database_arg,
    add_filter_args,
    cut_note,
    filters_from,
    open_to_read,
)
from govcrawl.store import read as R
from govcrawl.store.db import archive_file_named, resolve_url


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export selected articles as JSONL, CSV or WARC",
        description="Export the articles `query` would select (all by default). WARC: a "
                    "response record with the archived body and headers, and the request "
                    "record, per article; `govcrawl import --warc` reads it back.")
    parser.add_argument("--format", choices=("jsonl", "csv", "warc"),
                        help="required unless --json or --excel")
    parser.add_argument("--json", dest="format", action="store_const", const="jsonl",
                        help="same as --format jsonl")
    parser.add_argument("--excel", action="store_true",
                        help="CSV for spreadsheets: starts with a UTF-8 BOM so Excel shows "
                             "Chinese correctly (implies --format csv)")
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="output file ('-' = stdout, jsonl/csv only); .warc.gz is gzipped")
    parser.add_argument("--force", action="store_true",
                        help="replace the output file if it exists (never the archive itself)")
    add_filter_args(parser, limit_help="default: all")
    add_database_arg(parser)
    parser.set_defaults(func=run)


def _counted(records: Iterator[Any], bar: ProgressLine) -> Iterator[Any]:
    for n, record in enumerate(records, 1):
        bar.update(n)
        yield record


def check_target(output: str, database: str | None, force: bool) -> Path:
    """The file `-o output` will be written to (symlinks followed), or a UsageError: it is the
    archive being read (or one of its -wal/-shm/-journal files), a directory, or an existing
    file and not `force`."""
    target = Path(os.path.realpath(output))
    if not target.parent.is_dir():
        raise UsageError(f"-o {output}: no such directory {Path(output).parent}")
    own = archive_file_named(target, resolve_url(database))
    if own is not None:
        raise UsageError(f"-o {output}: that is the archive being exported ({own}); "
                         "choose another file")
    if target.is_dir():
        raise UsageError(f"-o {output}: is a directory")
    if target.is_file() and not force:
        raise UsageError(f"-o {output}: file exists; pass --force to replace it")
    return target


@overload
def replacing(target: Path, mode: Literal["wb"],
              force: bool) -> contextlib.AbstractContextManager[BinaryIO]: ...
@overload
def replacing(target: Path, mode: Literal["w"],
              force: bool) -> contextlib.AbstractContextManager[TextIO]: ...
@contextlib.contextmanager
def replacing(target: Path, mode: str, force: bool) -> Iterator[Any]:  # typed by the overloads
    """A file to write that becomes `target` only when the block ends without an error: it is
    written beside the target and renamed over it (linked, when not `force`, so a file that
    appeared meanwhile is not replaced). Devices and pipes (/dev/null, a FIFO) are written
    in place."""
    binary = "b" in mode
    encoding = None if binary else "utf-8"
    newline = None if binary else ""
    if target.exists() and not target.is_file():
        with target.open(mode, encoding=encoding, newline=newline) as fh:
            yield fh
        return
    part = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            if target.is_file():
                os.chmod(part, target.stat().st_mode & 0o7777)
            yield fh
        if force:
            os.replace(part, target)
        else:
            try:
                os.link(part, target)
            except FileExistsError:
                raise UsageError(f"{target}: a file appeared there during the export; "
                                 "pass --force to replace it") from None
            except OSError:  # a file system without hard links
                os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def run(args: argparse.Namespace) -> int:
    from govcrawl.export import PORTAL_HEADER, WarcExporter, write_jsonl

    if args.excel:
        if args.format not in (None, "csv"):
            raise UsageError(f"--excel writes CSV; it cannot be combined with --format "
                             f"{args.format}")
        args.format = "csv"
    if args.format is None:
        raise UsageError("say what to write: --format jsonl|csv|warc (or --json, --excel)")
    if args.output == "-" and args.format == "warc":
        raise UsageError("-o -: WARC output must go to a file")
    out_path = None if args.output == "-" else check_target(args.output, args.database,
                                                            args.force)
    archive = open_to_read(args.database)
    with archive:
        f = filters_from(args, archive)
        bar = ProgressLine("export", "articles")
        if bar.live:  # the total costs a count: only for a terminal
            matching = R.count_articles(archive, f)
            bar.total = matching if f.limit is None else min(f.limit, matching)
        if args.format == "warc":
            assert out_path is not None
            missing = 0
            with replacing(out_path, "wb", args.force) as fh:
                writer = WarcExporter(fh, gzip=args.output.endswith(".gz"))
                n = 0
                for record, raw in _counted(R.iter_articles_raw(archive, f), bar):
                    if raw is None:
                        missing += 1
                        continue
                    writer.write(record["url"], raw, {"WARC-Govcrawl-Article-Id":
                                                      str(record["id"]),
                                                      PORTAL_HEADER: record["portal"]})
                    n += 1
            bar.close()
            if missing:
                print(f"govcrawl export: {missing} articles have no archived response, skipped",
                      file=sys.stderr)
            selected = n + missing
        else:
            records = _counted(R.iter_articles(archive, f, body=True), bar)
            writer_fn = write_jsonl if args.format == "jsonl" else (
                lambda rs, fh: write_csv_records(rs, fh, body=True, excel=args.excel))
            if out_path is None:
                n = writer_fn(records, sys.stdout)
            else:
                with replacing(out_path, "w", args.force) as out:
                    n = writer_fn(records, out)
            bar.close()
            selected = n
        total = R.count_articles(archive, f) if selected == f.limit else selected
    if total > selected:  # --limit cut the export: say so, as `query` does
        print(f"govcrawl export: {cut_note(selected, total)}", file=sys.stderr)
    if out_path is not None:
        print(f"exported {n} articles to {args.output} ({args.format})", file=sys.stderr)
    return 0
