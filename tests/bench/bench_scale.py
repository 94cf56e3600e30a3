"""Scale-out throughput and Redis memory: 1, 2 and 3 workers on one shared crawl.

Run by hand: python tests/bench/bench_scale.py [--size 600] [--workers 1 2 3] [--fingerprints N]
Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (trust auth). Each run gets a
throwaway database and Redis key prefix (both removed after). The simulator serves one portal
(中国长安网's dialect) with --size articles on loopback, politeness off; `govcrawl workers`
crawls it with N processes. pages/s is wall time from launch to the last worker's exit, so
it includes process start-up and the idle quiet period (GOVCRAWL_IDLE_SECONDS=2).
Memory: the dupefilter set for --fingerprints URLs, scrapy-redis's 40-hex members against
govcrawl's 8-byte ones (MEMORY USAGE, exact).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

REDIS_URL = "redis://127.0.0.1:6379/0"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PORTAL = "sim_changan"


def crawl(simulator_toml: Path, workers: int, workdir: Path) -> dict:
    import redis
    from sqlalchemy import create_engine, text

    name = f"govcrawl_scale_bench_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    prefix = f"govcrawl-bench-{secrets.token_hex(4)}"
    server = redis.Redis.from_url(REDIS_URL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCRAWL_")}
    env.update({"GOVCRAWL_PORTALS": str(simulator_toml), "GOVCRAWL_DATABASE_URL": url,
                "GOVCRAWL_REDIS_URL": REDIS_URL, "GOVCRAWL_REDIS_PREFIX": prefix,
                "GOVCRAWL_IDLE_SECONDS": "2", "GOVCRAWL_WORKER_TIMEOUT": "5",
                "GOVCRAWL_LOG_DIR": str(workdir / "logs"), "PYTHONPATH": str(ROOT)})
    cli = [sys.executable, "-m", "govcrawl"]
    try:
        subprocess.run([*cli, "seed", PORTAL], env=env, check=True, capture_output=True)
        peak = {"bytes": 0}
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*cli, "workers", PORTAL, "--processes", str(workers), "-s", "DOWNLOAD_DELAY=0",
             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False", "-s",
             "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s",
             "LOG_LEVEL=ERROR"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        while proc.poll() is None:
            keys = list(server.scan_iter(match=f"{prefix}:*"))
            peak["bytes"] = max(peak["bytes"], sum(server.memory_usage(k) or 0 for k in keys))
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        engine = create_engine(url)
        with engine.connect() as conn:
            pages = conn.execute(text(
                "SELECT coalesce(sum((stats->>'response_received_count')::int), 0) FROM runs"
            )).scalar_one()
            articles, distinct = conn.execute(text(
                "SELECT count(*), count(DISTINCT url_key) FROM articles")).one()
        engine.dispose()
        return {"workers": workers, "pages": pages, "seconds": seconds,
                "articles": articles, "distinct": distinct, "peak_redis": peak["bytes"],
                "exit": proc.returncode}
    finally:
        for key in list(server.scan_iter(match=f"{prefix}:*")):
            server.delete(key)
        server.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fingerprint_memory(n: int) -> dict[str, int]:
    """Bytes used by a Redis set of n fingerprints, in both encodings."""
    import hashlib

    import redis

    server = redis.Redis.from_url(REDIS_URL)
    out = {}
    for label, size in (("scrapy-redis sha1 hex (40 B)", None), ("govcrawl 8-byte digest", 8)):
        key = f"govcrawl-bench-{secrets.token_hex(4)}:fingerprints"
        try:
            for start in range(0, n, 10000):
                pipe = server.pipeline(transaction=False)
                members = []
                for i in range(start, min(n, start + 10000)):
                    digest = hashlib.sha1(f"https://example.gov.cn/a/{i}.html".encode())
                    members.append(digest.hexdigest() if size is None else digest.digest()[:size])
                pipe.sadd(key, *members)
                pipe.execute()
            out[label] = server.memory_usage(key, samples=0)
        finally:
            server.delete(key)
    server.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--fingerprints", type=int, default=1_000_000)
    args = parser.parse_args()

    import tempfile

    from govcrawl.demo import simulator_declarations
    from govcrawl.portals.registry import to_toml
    from govcrawl.simulator import Simulator

    print(f"cpus {os.cpu_count()}, portal {PORTAL}, {args.size} articles, loopback simulator")
    with tempfile.TemporaryDirectory() as tmp, Simulator(size=args.size, seed=7) as simulator:
        toml = Path(tmp, "portals.toml")
        toml.write_text(to_toml(simulator_declarations(simulator)), "utf-8")
        base = None
        for n in args.workers:
            r = crawl(toml, n, Path(tmp))
            rate = r["pages"] / r["seconds"]
            base = base or rate
            print(f"workers {n}: {r['pages']} pages in {r['seconds']:.1f} s = {rate:.1f} "
                  f"pages/s (x{rate / base:.2f}); articles {r['articles']} "
                  f"(distinct {r['distinct']}); peak Redis {r['peak_redis'] / 1024:.0f} KiB; "
                  f"exit {r['exit']}", flush=True)
    for label, used in fingerprint_memory(args.fingerprints).items():
        print(f"dupefilter, {args.fingerprints} fingerprints, {label}: {used / 2**20:.1f} MiB "
              f"({used / args.fingerprints:.0f} B per URL)")


if __name__ == "__main__":
    main()
