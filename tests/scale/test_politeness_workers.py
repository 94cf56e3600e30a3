"""Scale-out stays polite and shares work: measured at the simulator, which records when each
request arrived per host.

* three workers never hit a host faster than one worker's promise (one request per delay);
* work waiting on latency is shared: three workers finish a multi-portal crawl >= 2.5x sooner
  than one, because new requests reach Redis at once and idle workers take them.
"""

from __future__ import annotations

import bisect

import pytest

from govcrawl.demo import simulator_declarations
from govcrawl.portals.registry import to_toml
from govcrawl.simulator import FaultPlan, Simulator

pytestmark = [
    pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:Passing a 'spider' argument to StatsCollector:"
        "scrapy.exceptions.ScrapyDeprecationWarning:scrapy_redis"),
    pytest.mark.filterwarnings(
        "ignore:Spider.log\\(\\) is deprecated:scrapy.exceptions.ScrapyDeprecationWarning:"
        "scrapy_redis"),
]


def peak_per_window(times: list[float], window: float = 1.0) -> int:
    """The most requests that arrived within any `window` seconds."""
    times = sorted(times)
    return max(bisect.bisect_left(times, t + window) - i for i, t in enumerate(times))


def test_peak_per_window():
    assert peak_per_window([0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert peak_per_window([0, 2, 4]) == 1


def test_three_workers_keep_one_workers_per_host_rate(scale_site):
    delay = 0.1
    site = scale_site(size=40)
    result = site.run("workers", "sim_changan", "--processes", "3",
                      "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"DOWNLOAD_DELAY={delay}",
                      "-s", "DOWNLOAD_DELAY_JITTER=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    times = site.simulator.request_times()["127.0.0.1"]
    assert len(times) > 40
    workers = site.sql("SELECT count(DISTINCT pid) FROM runs WHERE stats::text LIKE "
                       "'%downloader/request_count%'")[0][0]
    assert workers >= 2  # the work really was shared
    # one worker sends one request per delay: at most 1/delay (+1 at the window's edge, +1 for
    # a start its event loop ran late) in any second, however many workers there are
    assert peak_per_window(times) <= 1 / delay + 2, peak_per_window(times)


def test_three_workers_finish_waiting_bound_crawl_much_sooner(scale_site, redis_server,
                                                              tmp_path):
    """Three portals on three hosts (127.0.0.2-4), every article 2 s slow; a worker keeps one
    request in flight per portal, the hosts allow three: one worker waits, three share."""
    size = 12
    plan = FaultPlan.parse("slow=1,slow-delay=2", seed=5)
    sims = [Simulator(size=size, seed=5, faults=plan) for _ in range(3)]
    declarations, portals = [], []
    try:
        for i, sim in enumerate(sims):
            sim.start(host=f"127.0.0.{i + 2}")
            declaration = simulator_declarations(sim)[i]
            declarations.append(declaration)
            portals.append(declaration.id)
        (tmp_path / "hosts.toml").write_text(to_toml(declarations), "utf-8")
        spans = {}
        for processes in (1, 3):
            site = scale_site(size=1)  # an empty archive for each run
            site.env["GOVCRAWL_PORTALS"] = str(tmp_path / "hosts.toml")
            site.env["GOVCRAWL_REDIS_PREFIX"] = f"{redis_server.govcrawl_prefix}:{processes}"
            for sim in sims:
                sim.arrivals.clear()
            result = site.run("workers", *portals, "--processes", str(processes),
                              "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0.05",
                              "-s", "CONCURRENT_REQUESTS=1",
                              "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=3")
            assert result.returncode == 0, result.stdout + result.stderr[-4000:]
            times = sorted(t for sim in sims for ts in sim.request_times().values()
                           for t in ts)
            spans[processes] = times[-1] - times[0]
            stored = site.sql("SELECT count(*) FROM articles")[0][0]
            assert stored == 3 * size
        assert spans[1] >= 2.5 * spans[3], spans
    finally:
        for sim in sims:
            sim.stop()
