"""`govcrawl load-spill FILE…`: load spill files written while the archive was unusable.

Every file is checked line by line before the archive is opened, so a file that is not a
spill file (missing, a directory, not JSON lines, a line of the wrong shape) is refused in
one line naming the file and line, and nothing is written. A damaged LAST line is what a
crash while spilling leaves: the whole lines before it are loaded, and the command still
exits 2 naming the damaged line, so the loss is never silent.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "load-spill", help="load spill files (output/spill-*.jsonl) into the archive",
        description="Load spill files, which a crawl writes to output/spill-*.jsonl when the "
                    "archive cannot be written, into the archive as the crawl would have.")
    parser.add_argument("files", nargs="+", type=Path, help="spill files to load")
    parser.add_argument("--database", metavar="URL",
                        help="archive URL (default: $GOVCRAWL_DATABASE_URL or "
                             "sqlite:///output/govcrawl.db)")
    parser.set_defaults(func=run)


def check_file(path: Path) -> str | None:
    """The problem of a damaged last line (its whole lines still load), or None; a UsageError
    when nothing of the file can be loaded."""
    from govcrawl.cli import UsageError
    from govcrawl.store import spill

    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a spill file (not UTF-8 text at byte {exc.start})"
                         ) from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror})") from exc
    whole = 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            spill._decode(line)  # what spill.read does to each line
        except json.JSONDecodeError as exc:
            if index >= len(lines) - 2 and whole:  # the last line, as spill.read skips it
                return (f"{path} line {index + 1}: damaged last line not loaded ({exc.msg}); "
                        f"the {whole} whole entries before it were loaded")
            raise UsageError(f"{path} line {index + 1}: not a spill entry ({exc.msg}); "
                             "nothing loaded") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError(f"{path} line {index + 1}: not a spill entry "
                             f"({type(exc).__name__}: {exc}); nothing loaded") from exc
        whole += 1
    return None


def run(args: argparse.Namespace) -> int:
    from govcrawl.cli import UsageError
    from govcrawl.store import ArchiveError, open_archive, spill

    damaged = [problem for problem in map(check_file, args.files) if problem]
    try:
        archive = open_archive(args.database)
    except ArchiveError as exc:
        raise UsageError(str(exc)) from exc
    with archive:
        for path in args.files:
            outcomes = spill.load(path, archive)
            path.rename(path.with_name(path.name + ".loaded"))
            counts = Counter(o.status for o in outcomes)
            summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(f"{path}: {len(outcomes)} entries loaded ({summary})")
    if damaged:
        raise UsageError("; ".join(damaged))
    return 0
