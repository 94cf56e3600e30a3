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
    "relink",
)


class UsageError(Exception):
    """A bad argument or input the user can fix: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govcrawl",
        description="Crawl, repair, extract and archive Chinese political-legal news portals.",
    )
    from govcrawl import __version__
    from govcrawl.cli.output import add_examples

    parser.add_argument("--version", action="version", version=f"govcrawl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"govcrawl.cli.{name}").register(subparsers)
    add_examples(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # No command is an incomplete command line: the help, on stderr, with argparse's
        # usage-error status 2, so a script that lost its command fails instead of passing.
        parser.print_help(sys.stderr)
        return 2
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
        return status
    except BrokenPipeError:  # the reader went away (`govcrawl query | head`): not an error
        from govcrawl.cli.output import quiet_broken_pipe

        return quiet_broken_pipe()
    except UsageError as exc:
        print(f"govcrawl {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from govcrawl.store.db import ArchiveError

        if not isinstance(exc, ArchiveError):
            raise
        # A database no command can use (its message is one line): bad input, not a bug.
        print(f"govcrawl {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
