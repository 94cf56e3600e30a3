"""Scale-out end to end: workers share a crawl through the real Redis into one PostgreSQL
archive, and the archive matches the simulator's ground truth exactly, even when a worker is
SIGKILLed mid-crawl."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [
    pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow,
    # scrapy-redis 0.9.1 under Scrapy 2.13+, by name and for its modules only
    pytest.mark.filterwarnings(
        "ignore:Passing a 'spider' argument to StatsCollector:"
        "scrapy.exceptions.ScrapyDeprecationWarning:scrapy_redis"),
    pytest.mark.filterwarnings(
        "ignore:Spider.log\\(\\) is deprecated:scrapy.exceptions.ScrapyDeprecationWarning:"
        "scrapy_redis"),
]

PORTALS = ("sim_spp", "sim_changan", "sim_county")


def assert_archive_matches(site, portals) -> None:
    """Every expected article stored exactly once; syndicated copies linked to one head."""
    expected = site.expected_articles(*portals)
    rows = site.sql("SELECT url, url_key, id, duplicate_of FROM articles")
    urls = [r[0] for r in rows]
    assert len(urls) == len(set(urls)) == len({r[1] for r in rows})  # nothing stored twice
    assert set(urls) == expected
    ids = {r[0]: (r[2], r[3]) for r in rows}
    for group in site.syndication_groups(*portals):
        heads = {dup or aid for aid, dup in (ids[u] for u in group if u in ids)}
        assert len(heads) <= 1, group


def assert_redis_bounded(server, prefix: str, portals) -> None:
    """After the crawl: queue, fingerprints and ledger gone; the rest expires."""
    for portal in portals:
        crawl = {k.decode(): v.decode() for k, v in server.hgetall(f"{prefix}:{portal}:crawl")
                 .items()}
        assert crawl["state"] == "done", crawl
        for name in ("requests", "dupefilter", "ledger", "attempts"):
            assert not server.exists(f"{prefix}:{portal}:{name}")
    for key in server.scan_iter(match=f"{prefix}:*"):
        assert 0 < server.ttl(key) <= 3600, key


def test_no_switch_imports_no_redis():
    code = ("import sys, govcrawl.settings, govcrawl.cli.distributed, govcrawl.spiders.loader;"
            "from govcrawl.cli import build_parser; build_parser();"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('redis', 'scrapy_redis')];"
            "assert not bad, bad; "
            "assert 'Scheduler' not in repr(getattr(govcrawl.settings, 'SCHEDULER', ''))")
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr


def test_three_workers_archive_matches_truth(scale_site, redis_server):
    site = scale_site(size=14)
    seeded = site.run("seed", *PORTALS)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert seeded.stdout.count("new crawl, 1 start request(s) queued") == 3, seeded.stdout
    result = site.run("workers", *PORTALS, "--processes", "3", "-s",
                      "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO")
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert "progress sim_spp:" in result.stderr  # the periodic progress line
    assert_archive_matches(site, PORTALS)
    workers = site.sql("SELECT count(DISTINCT pid) FROM runs")[0][0]
    assert workers == 3
    assert_redis_bounded(redis_server, redis_server.govcrawl_prefix, PORTALS)
    status = site.run("workers", *PORTALS, "--status")
    assert status.returncode == 0
    assert "sim_spp: done, queue 0" in status.stdout
    assert "stored articles 14" in status.stdout


def wait_for_a_busy_worker(server, ledger_key: str, workers, least: int = 3):
    """The worker holding the most taken-but-unconfirmed requests, once one holds `least`."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        owners = [raw.split(b"\n", 1)[0].decode() for raw in server.hgetall(ledger_key).values()]
        held = {w: sum(1 for o in owners if f":{w.pid}:" in o) for w in workers}
        best = max(held, key=held.get)
        if held[best] >= least:
            return best, held[best]
        time.sleep(0.05)
    raise AssertionError("no worker ever held work")


def test_sigkilled_worker_is_recovered_automatically(scale_site, redis_server, tmp_path):
    portal = "sim_changan"
    site = scale_site(size=60)
    prefix = redis_server.govcrawl_prefix
    slow = ("-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
            "-s", "GOVCRAWL_BATCH_SIZE=1000", "-s", "GOVCRAWL_BATCH_SECONDS=30")
    # plain `scrapy crawl` workers: the first one seeds the crawl itself
    workers = [site.worker(portal, *slow, log=tmp_path / f"worker{i}.log") for i in range(3)]
    try:
        victim, owned = wait_for_a_busy_worker(redis_server, f"{prefix}:{portal}:ledger", workers)
        victim.send_signal(signal.SIGKILL)  # its pending batch and in-flight requests die too
        survivors = [w for w in workers if w is not victim]
        for worker in survivors:
            worker.wait(timeout=180)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    logs = "".join((tmp_path / f"worker{workers.index(w)}.log").read_text("utf-8", "replace")
                   for w in survivors)
    assert "recovery:" in logs, logs[-4000:]
    crawl = {k.decode(): v.decode()
             for k, v in redis_server.hgetall(f"{prefix}:{portal}:crawl").items()}
    assert int(crawl["requeued"]) + int(crawl["confirmed_by_recovery"]) >= owned
    assert_archive_matches(site, (portal,))
    assert_redis_bounded(redis_server, prefix, (portal,))
    stats = [json.loads(s) if isinstance(s, str) else s
             for (s,) in site.sql("SELECT stats FROM runs WHERE status = 'finished'")]
    assert len(stats) == 2  # the killed worker's run never finished
