"""`govcrawl crawl [--all | ID...]`: crawl portals, exit with a status for schedulers."""

from __future__ import annotations

import argparse

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
        raise UsageError(f"unknown portal(s): {', '.join(unknown)} (see `govcrawl portals`)")
    return list(registry.portals.values()) if every else [registry.portals[p] for p in ids]


def run(args: argparse.Namespace) -> int:
    from govcrawl.crawl import overall_status, run_portals

    portals = select_portals(args.portals, args.all)
    spider_args = _pairs(args.spider_args, "-a")
    from govcrawl.spiders.portal import ArgumentError, PortalSpider

    try:  # validate the arguments before any crawl starts
        type("Check", (PortalSpider,), {"name": "check", "portal": portals[0]})(**spider_args)
    except (ArgumentError, TypeError) as exc:
        raise UsageError(str(exc)) from exc
    reports = run_portals(portals, _pairs(args.settings, "-s"), spider_args)
    for report in reports:
        print("\n".join(report.lines()))
    return overall_status(reports)
