"""`govcrawl simulator`: serve the synthetic portals on loopback until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `simulator` subcommand."""
    parser = subparsers.add_parser(
        "simulator",
        help="serve synthetic 政法 portals on loopback (for crawl tests)",
        description="Serve deterministic synthetic portals. The first line printed is the base "
        "URL; then one 'portal-id start-url' line per start URL.",
    )
    add_arguments(parser)
    parser.add_argument("--declarations", metavar="FILE",
                        help="also write the portals' declarations (ids sim_*) to FILE as TOML, "
                        "for GOVCRAWL_PORTALS: crawl them with `govcrawl crawl`, `seed`, "
                        "`workers`")
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by `govcrawl simulator` and `python -m govcrawl.simulator`."""
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--size", type=int, default=100, help="articles per portal (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--faults", default="",
                        help="fault spec, e.g. '404=0.05,500=0.02,challenge-412=0.02,slow=0.01,"
                        "slow-delay=2,crawl-delay=1,robots=0.01,robots-disallow=/search/'")


def run(args: argparse.Namespace) -> int:
    """Start the server, print its URLs, block until interrupted."""
    from govcrawl.simulator import FaultPlan, Simulator

    try:
        plan = FaultPlan.parse(args.faults, seed=args.seed)
    except ValueError as exc:
        print(f"govcrawl simulator: {exc}", file=sys.stderr)
        return 2
    if args.size < 0:
        print("govcrawl simulator: --size must be >= 0", file=sys.stderr)
        return 2
    sim = Simulator(size=args.size, seed=args.seed, faults=plan)
    base = sim.start(host=args.host, port=args.port)
    if getattr(args, "declarations", None):
        _write_declarations(sim, args.declarations)
    print(base, flush=True)
    for portal in sim.truth_portals() + sim.discovery_portals():  # home pages come last
        for url in portal["start_urls"]:
            print(f"{portal['id']} {url}", flush=True)
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sim.stop()
    return 0


def _write_declarations(sim, path: str) -> None:
    """Write atomically: a script waiting for the file never reads half of it."""
    import os

    from govcrawl.demo import simulator_declarations
    from govcrawl.portals.registry import to_toml

    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as out:
        out.write(to_toml(simulator_declarations(sim)))
    os.replace(partial, path)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m govcrawl.simulator`."""
    parser = argparse.ArgumentParser(prog="python -m govcrawl.simulator",
                                     description=run.__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
