"""`govcrawl load-spill FILE…`: load spill files written while the archive was unusable."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "load-spill", help="load spill files (output/spill-*.jsonl) into the archive"
    )
    parser.add_argument("files", nargs="+", type=Path, help="spill files to load")
    parser.add_argument("--database", help="archive URL (default: $GOVCRAWL_DATABASE_URL or "
                        "sqlite:///output/govcrawl.db)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from govcrawl.cli import UsageError
    from govcrawl.store import ArchiveError, open_archive, spill

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        raise UsageError(f"no such spill file: {', '.join(missing)}")
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
    return 0
