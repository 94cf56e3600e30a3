"""`govcrawl reprocess`: re-run extraction over archived raw responses, no network.

After an extractor fix, this brings stored articles up to date; old values are kept as
versions, and a second run with the same code changes nothing.
"""

from __future__ import annotations

import argparse

from govcrawl.cli.import_cmd import summary
from govcrawl.cli.output import ProgressLine, add_dated_arg, dated_from, warn_deprecated
from govcrawl.cli.query import add_database_arg, check_portal, open_for


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reprocess", help="re-extract archived responses with the current code",
        description="Re-run extraction over each article's archived response (and every "
                    "non-article response) and store what changed; old values become versions.")
    parser.add_argument("--portal", metavar="ID", help="only this portal's responses")
    add_dated_arg(parser, "--fetched-since", "only responses fetched on or after this day (UTC)")
    add_database_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from govcrawl import ingest
    from govcrawl.portals.registry import load_registry

    since = dated_from(args, "--fetched-since")
    archive = open_for(args.database)
    with archive:
        check_portal(archive, args.portal)
        warn_deprecated(args)
        resolver = ingest.PortalResolver(load_registry().portals.values())
        bar = ProgressLine("reprocess", "responses")
        report = ingest.reprocess(archive, resolver, args.portal, since, bar.message,
                                  total=bar.set_total)
    bar.close()
    changed = report.get("updated") + report.get("new") + report.get("duplicate") \
        + report.get("reclassified") + report.get("reject")
    print(f"reprocess (run {report.run_id}): {changed} changed; {summary(report.counts)}")
    return 0
