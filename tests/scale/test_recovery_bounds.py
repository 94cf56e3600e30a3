"""Scale-out recovery is prompt and its edges are clear: what `seed` writes expires, a crawl
finished recently says so (and how to start another), a killed worker's requests are back in
the queue within GOVCRAWL_WORKER_TIMEOUT and a second, and a dead reconciler's lock is broken."""

from __future__ import annotations

import signal
import time

import pytest

from govcrawl.distributed import Keys, finish_crawl

pytestmark = [
    pytest.mark.redis, pytest.mark.postgres,
    pytest.mark.filterwarnings(
        "ignore:Passing a 'spider' argument to StatsCollector:"
        "scrapy.exceptions.ScrapyDeprecationWarning:scrapy_redis"),
    pytest.mark.filterwarnings(
        "ignore:Spider.log\\(\\) is deprecated:scrapy.exceptions.ScrapyDeprecationWarning:"
        "scrapy_redis"),
]


def test_seed_keys_expire_and_a_finished_crawl_says_how_to_start_again(scale_site,
                                                                       redis_server):
    site = scale_site(size=3)
    prefix = redis_server.govcrawl_prefix
    seeded = site.run("seed", "sim_changan")
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    written = list(redis_server.scan_iter(match=f"{prefix}:*"))
    assert {k.decode().rsplit(":", 1)[1] for k in written} >= {"crawl", "requests"}
    for key in written:  # no worker has beaten yet: the seed itself set the expiry
        assert 0 < redis_server.ttl(key) <= 3 * 86400, key
    keys = Keys(prefix, "sim_changan")
    redis_server.delete(keys.requests)  # as if the workers had done it all
    assert finish_crawl(redis_server, keys)
    again = site.run("workers", "sim_changan", "--processes", "1")
    assert again.returncode == 0, again.stdout + again.stderr[-3000:]
    assert "the crawl finished at" in again.stderr
    assert "`govcrawl seed sim_changan`" in again.stderr
    assert site.sql("SELECT count(*) FROM runs")[0][0] == 0  # no worker was started
    assert "new crawl" in site.run("seed", "sim_changan").stdout


@pytest.mark.slow
def test_killed_worker_is_requeued_promptly_despite_a_dead_reconcilers_lock(
        scale_site, redis_server, tmp_path):
    portal = "sim_changan"
    site = scale_site(size=40)
    keys = Keys(redis_server.govcrawl_prefix, portal)
    slow = ("-s", "DOWNLOAD_DELAY=0.2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
            "-s", "GOVCRAWL_BATCH_SIZE=1000", "-s", "GOVCRAWL_BATCH_SECONDS=30")
    workers = [site.worker(portal, *slow, log=tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        deadline = time.monotonic() + 90
        victim = None
        while victim is None and time.monotonic() < deadline:
            owners = [raw.split(b"\n", 1)[0].decode()
                      for raw in redis_server.hgetall(keys.ledger).values()]
            victim = next((w for w in workers if any(f":{w.pid}:" in o for o in owners)), None)
            time.sleep(0.05)
        assert victim is not None, "no worker ever held work"
        redis_server.set(keys.lock, f"ghost:1:{portal}", ex=300)  # a reconciler killed mid-way
        victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        while any(f":{victim.pid}:".encode() in raw.split(b"\n", 1)[0]
                  for raw in redis_server.hgetall(keys.ledger).values()):
            assert time.monotonic() - killed < 3 + 1 + 2, "the killed worker's work stalled"
            time.sleep(0.05)
        survivor = next(w for w in workers if w is not victim)
        survivor.wait(timeout=120)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    log = (tmp_path / f"worker{workers.index(survivor)}.log").read_text("utf-8", "replace")
    assert "released the recovery lock of dead worker ghost" in log, log[-3000:]
    assert redis_server.hget(keys.crawl, "state") == b"done"
    stored = {r[0] for r in site.sql("SELECT url FROM articles")}
    assert stored == site.expected_articles(portal)
