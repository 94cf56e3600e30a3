"""The `govcrawl` command line: one module per subcommand, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module registers one subcommand and sets `func(args) -> int` on its parser.
COMMAND_MODULES = (
    "extract",
    "crawl",
    "demo",
    "simulator",
    "load_spill",
    "portals",
    "save_page",
    "browse",
    "query",
    "show",
    "stats",
    "export",
    "import_cmd",
    "reprocess",
    "distributed",
)


class UsageError(Exception):
    """A bad argument or input the user can fix: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govcrawl",
        description="Crawl, repair, extract and archive Chinese political-legal news portals.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"govcrawl.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"govcrawl {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
