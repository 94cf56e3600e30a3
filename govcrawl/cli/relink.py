"""`govcrawl relink [--portal ID]`: recompute the syndication groups of archived articles.

After a change to the duplicate rule or its thresholds, the stored links are brought in line
with what the rule says of the articles now (docs/syndication.md). Removed and re-pointed links
are kept as article events; a second run changes nothing.
"""

from __future__ import annotations

import argparse

from govcrawl.cli.query import add_database_arg, check_portal, open_for


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "relink", help="recompute duplicate groups from the archived articles",
        description="Recompute which articles are copies of which (duplicate_of) with the "
                    "current rule, and report the links added, removed and re-pointed.")
    parser.add_argument("--portal", metavar="ID",
                        help="only the groups this portal's articles are part of")
    add_database_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    archive = open_for(args.database)
    with archive:
        check_portal(archive, args.portal)
        r = archive.relink(args.portal)
    print(f"relink: {r.articles} articles checked; links added {r.added}, removed {r.removed}, "
          f"re-pointed {r.repointed}")
    return 0
