"""`govcrawl demo`: crawl the bundled portal simulator into the archive, offline, in a minute.

It starts the simulator on a loopback port, crawls every simulated portal with the real
spiders and pipelines into output/govcrawl.db under the current directory (or
GOVCRAWL_DATABASE_URL), and prints the run report and a few archived articles. Run again, it
downloads no known article and says so (the port is fixed so the URLs stay the same).
"""

from __future__ import annotations

import argparse
import errno
from pathlib import Path

from govcrawl.cli import UsageError

DEMO_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="crawl the bundled offline portal simulator into the archive",
        description="Start the portal simulator on loopback and crawl it into the archive.")
    parser.add_argument("--size", type=int, default=30, help="articles per portal (default 30)")
    parser.add_argument("--port", type=int, default=DEMO_PORT,
                        help=f"simulator port (default {DEMO_PORT}; keep it the same between "
                             "runs so known articles are recognised)")
    parser.add_argument("--faults", default="404=0.03,500=0.02,challenge-412=0.02,waf-403=0.02",
                        help="simulator fault spec (default: a few of each kind)")
    parser.add_argument("--publish", type=int, default=0, metavar="N",
                        help="publish N new articles per portal before crawling")
    parser.set_defaults(func=run)


def fault_summary(served: dict[str, int]) -> str:
    """The simulator's error responses by status, e.g. `404 ×3, 500 ×6` ('' when none)."""
    return ", ".join(f"{status} ×{n}" for status, n in served.items() if int(status) >= 400)


def run(args: argparse.Namespace) -> int:
    from govcrawl.cli.crawl import log_note, preflight, quiet_console
    from govcrawl.crawl import overall_status, run_portals
    from govcrawl.demo import simulator_declarations
    from govcrawl.simulator import FaultPlan, Simulator
    from govcrawl.store import query
    from govcrawl.store.db import open_archive, resolve_url

    if args.size < 1:
        raise UsageError("--size must be at least 1")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: expected 0 to 65535")
    if args.publish < 0:
        raise UsageError("--publish must not be negative")
    try:
        plan = FaultPlan.parse(args.faults, seed=0)
    except ValueError as exc:
        raise UsageError(f"--faults: {exc}") from exc
    # The simulator's faults are the point of the demo: counted below, not ERRORs on the console.
    settings = quiet_console({"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                              "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "GOVCRAWL_BACKOFF_MAX": 0.5,
                              "GOVCRAWL_LOG_DIR": "output/logs",
                              "GOVCRAWL_EXPECTED_FAULTS": True}, verbose=False)
    preflight(settings, {})  # the environment's settings and the archive, before the simulator
    simulator = Simulator(size=args.size, seed=0, faults=plan)
    if args.publish:
        simulator.publish(args.publish)
    try:
        base = simulator.start(port=args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {args.port} is in use; pass --port") from exc
        raise
    try:
        print(f"simulator: {base} ({args.size} articles per portal)")
        print(f"archive:   {resolve_url(None)}")
        Path("output/logs").mkdir(parents=True, exist_ok=True)
        reports = run_portals(simulator_declarations(simulator), settings)
    finally:
        simulator.stop()
    print()
    for report in reports:
        print("\n".join(report.lines()))
    new = sum(r.count("stored/new") + r.count("stored/duplicate") for r in reports)
    known = sum(r.count("articles_known_skipped") for r in reports)
    print()
    if not new and known:
        print(f"Nothing new: {known} known articles were skipped without downloading them.")
    else:
        print(f"{new} articles archived this run; {known} known articles skipped.")
    faults = fault_summary(simulator.stats()["status"])
    if faults:
        print(f"Simulated faults served: {faults}; expected, and recorded as rejects above "
              f"(details in {log_note(settings)}).")
    archive = open_archive(None)
    try:
        rows = query.list_articles(archive, limit=5)
    finally:
        archive.close()
    if rows:
        print("\nLatest archived articles:")
        for row in rows:
            copy = f"  (copy of {row['head_id']})" if row["head_id"] != row["id"] else ""
            print(f"  [{row['id']}] {row['published_at']}  {row['portal']}  {row['title']}{copy}")
    return overall_status(reports)
