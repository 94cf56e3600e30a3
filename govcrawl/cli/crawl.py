"""`govcrawl crawl [--all | ID...]`: crawl portals, exit with a status for schedulers."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Mapping
from typing import Any

from govcrawl.cli import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "crawl", help="crawl declared portals into the archive",
        description="Crawl portals into the archive. Exit status: 0 worked, 1 a portal failed "
                    "entirely, 2 bad arguments, 3 storage failed, 4 a portal's template changed.")
    parser.add_argument("portals", nargs="*", metavar="ID", help="portal ids (see `scrapy list`)")
    parser.add_argument("--all", action="store_true", help="every declared portal")
    parser.add_argument("-a", dest="spider_args", action="append", default=[],
                        metavar="NAME=VALUE", help="spider argument (since, until, max_pages, "
                        "full, revisit_days), as with scrapy crawl -a")
    parser.add_argument("-s", dest="settings", action="append", default=[],
                        metavar="NAME=VALUE", help="Scrapy setting, as with scrapy crawl -s")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show Scrapy's log on the console too (by default only warnings "
                             "and errors; the whole log is in each run's log file)")
    parser.set_defaults(func=run)


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise UsageError(f"{flag} {value!r}: expected NAME=VALUE")
        pairs[name] = setting
    return pairs


def select_portals(ids: list[str], every: bool) -> list:
    """The declared portals named on the command line (or all of them), or a usage error."""
    from govcrawl.portals.registry import load_registry

    registry = load_registry()
    if every == bool(ids):
        raise UsageError("name portal ids, or give --all (not both)")
    unknown = [p for p in ids if p not in registry.portals]
    if unknown:
        close = difflib.get_close_matches(unknown[0], registry.portals, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(f"unknown portal(s): {', '.join(unknown)} ({hint}`govcrawl portals` "
                         "or `scrapy list` shows the ids)")
    return list(registry.portals.values()) if every else [registry.portals[p] for p in ids]


def quiet_console(settings: dict[str, Any], verbose: bool) -> dict[str, Any]:
    """`settings` with the console kept to warnings and errors (Scrapy's INFO stream still goes
    to each run's log file, see govcrawl.extensions.RunLog) and a live progress line on a
    terminal; a LOG_LEVEL or GOVCRAWL_PROGRESS given with -s wins."""
    quiet = dict(settings)
    if not verbose:
        quiet.setdefault("LOG_LEVEL", "WARNING")
    quiet.setdefault("GOVCRAWL_PROGRESS", sys.stderr.isatty())
    return quiet


def log_note(settings: Mapping[str, Any]) -> str | None:
    """Where each run's log file is, for the line after the report (None when disabled)."""
    from scrapy.settings import Settings

    merged = Settings()
    merged.setmodule("govcrawl.settings", priority="project")
    merged.setdict(dict(settings), priority="cmdline")
    directory = merged.get("GOVCRAWL_LOG_DIR")
    return f"{directory}/<portal>-<run>.log" if directory else None


def preflight(settings: Mapping[str, Any], spider_args: Mapping[str, str]) -> None:
    """Refuse bad spider arguments, settings or database before any run row, log file or
    archive exists: a UsageError (one line, exit 2) instead of a traceback mid-crawl."""
    from scrapy.settings import Settings

    from govcrawl.settings_check import check_archive, check_settings
    from govcrawl.spiders.portal import ArgumentError, parse_arguments

    try:
        parse_arguments(spider_args)
    except ArgumentError as exc:
        raise UsageError(str(exc)) from exc
    merged = Settings()  # as run_portals builds them
    merged.setmodule("govcrawl.settings", priority="project")
    merged.setdict(dict(settings), priority="cmdline")
    problems = check_settings(merged, os.environ)
    if problems:
        raise UsageError("; ".join(problems))
    problem = check_archive(merged.get("GOVCRAWL_DATABASE_URL"))
    if problem:
        raise UsageError(problem)


def run(args: argparse.Namespace) -> int:
    from govcrawl.crawl import overall_status, run_portals

    portals = select_portals(args.portals, args.all)
    spider_args = _pairs(args.spider_args, "-a")
    settings = quiet_console(_pairs(args.settings, "-s"), args.verbose)
    preflight(settings, spider_args)
    reports = run_portals(portals, settings, spider_args)
    for report in reports:
        print("\n".join(report.lines()))
    note = log_note(settings)
    if note:
        print(f"logs: {note}")
    return overall_status(reports)
