"""Benchmark: pages per second the simulator serves from one core.

Runs `python -m govcrawl.simulator` in a subprocess pinned to one CPU, then hammers article
URLs from client threads with keep-alive connections for a bounded number of requests.
Two passes: cold (every URL rendered for the first time) and warm (revisits, cached bytes).

    python tests/bench/bench_simulator.py [--size 25000] [--requests 4000] [--threads 8]
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from govcrawl.simulator.corpus import PORTALS, article_path  # noqa: E402


def _hammer(base: str, paths: list[str], threads: int) -> tuple[float, int, int]:
    """Fetch every path once across `threads` keep-alive clients; returns (secs, ok, bytes)."""
    host = urlsplit(base)
    lock = threading.Lock()
    cursor = iter(paths)
    totals = {"ok": 0, "bytes": 0}

    def worker() -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        ok = size = 0
        try:
            while True:
                with lock:
                    path = next(cursor, None)
                if path is None:
                    break
                conn.request("GET", path)
                resp = conn.getresponse()
                data = resp.read()
                ok += resp.status == 200
                size += len(data)
        finally:
            conn.close()
            with lock:
                totals["ok"] += ok
                totals["bytes"] += size

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - t0, totals["ok"], totals["bytes"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=25_000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "govcrawl.simulator", "--port", "0", "--size", str(args.size)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                            preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    try:
        base = proc.stdout.readline().strip()
        for _ in range(8):
            proc.stdout.readline()
        # URLs are a pure function of (seed, portal, index): compute them client-side
        per_portal = args.requests // len(PORTALS) + 1
        step = max(1, args.size // per_portal)
        paths = [article_path(0, portal, index).split("?")[0] for index in
                 range(0, args.size, step)[:per_portal] for portal in PORTALS][: args.requests]
        print(f"simulator: size={args.size} articles/portal x 8 portals, server pinned to 1 CPU, "
              f"{args.threads} client threads, {len(paths)} article requests per pass")
        for label in ("cold (first render)", "warm (revisit, cached)"):
            secs, ok, size = _hammer(base, paths if label.startswith("cold") else
                                     paths[-2000:] * max(1, len(paths) // 2000), args.threads)
            n = len(paths) if label.startswith("cold") else len(paths[-2000:]) * max(
                1, len(paths) // 2000)
            print(f"{label:24s} {n:6d} requests in {secs:6.2f} s = {n / secs:7.0f} pages/s "
                  f"({ok} x 200, {size / n / 1024:.1f} KiB/page avg)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
