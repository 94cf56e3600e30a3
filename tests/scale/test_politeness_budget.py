"""The crawl-wide per-host budget's Redis scripts (govcrawl/politeness.py) on the real Redis:
starts spaced by the delay whoever asks, concurrent places shared and given back, a dead
worker's places expiring, Crawl-delay and challenge backoff shared by every worker; and the
simulator's per-host log of request times that the end-to-end politeness tests measure."""

from __future__ import annotations

import time

import pytest

from govcrawl.politeness import BACKOFF_FLOOR, HostBudget, backed_off, relaxed

pytestmark = pytest.mark.redis


@pytest.fixture
def budget(redis_server) -> HostBudget:
    return HostBudget(redis_server, redis_server.govcrawl_prefix, lease_seconds=5, ttl=60)


def test_starts_are_spaced_by_the_delay_across_askers(budget):
    # three workers asking at once get consecutive starts, one delay apart
    waits = [budget.reserve("h", f"w{i}:0", 0.5, 5) for i in range(3)]
    assert waits[0] == pytest.approx(0, abs=0.05)
    assert waits[1] == pytest.approx(0.5, abs=0.05)
    assert waits[2] == pytest.approx(1.0, abs=0.05)
    assert budget.reserve("other", "w0:1", 0.5, 5) == pytest.approx(0, abs=0.05)  # per host


def test_concurrent_places_are_shared_and_given_back(budget):
    assert budget.reserve("h", "a:0", 0, 2) is not None
    assert budget.reserve("h", "b:0", 0, 2) is not None
    assert budget.reserve("h", "c:0", 0, 2) is None  # both places taken, by two workers
    budget.release("h", ["a:0"])
    assert budget.reserve("h", "c:0", 0, 2) is not None


def test_a_dead_workers_place_expires_unless_renewed(redis_server):
    budget = HostBudget(redis_server, redis_server.govcrawl_prefix, lease_seconds=0.3, ttl=60)
    assert budget.reserve("h", "live:0", 0, 2) is not None
    assert budget.reserve("h", "dead:0", 0, 2) is not None
    for _ in range(3):  # the live worker renews; the killed one cannot
        time.sleep(0.15)
        budget.renew("h", ["live:0"])
    assert budget.reserve("h", "new:0", 0, 2) is not None  # the dead one's place came back
    assert budget.reserve("h", "new:1", 0, 2) is None  # the live one's did not


def test_crawl_delay_and_backoff_are_floors_for_every_worker(budget):
    budget.set_crawl_delay("h", 2.0)
    assert budget.reserve("h", "a:0", 0.1, 5) == pytest.approx(0, abs=0.05)
    assert budget.reserve("h", "b:0", 0.1, 5) == pytest.approx(2.0, abs=0.05)
    assert budget.back_off("g", True, 1.0, 120) == BACKOFF_FLOOR  # worker a is challenged
    budget.reserve("g", "a:1", 1.0, 5)
    assert budget.reserve("g", "b:1", 1.0, 5) == pytest.approx(BACKOFF_FLOOR, abs=0.05)


def test_shared_backoff_follows_the_single_worker_rules(budget):
    local, shared = 1.0, None
    for challenged in (True, True, True, False, False, True, False, False, False, False):
        local = backed_off(local, 1.0, 12.0) if challenged else relaxed(local, 1.0)
        shared = budget.back_off("h", challenged, 1.0, 12.0)
        assert shared == pytest.approx(local)
    assert relaxed(0.5, 1.0) == 0.5  # below the base (a portal's own faster setting): kept


def _crawler(budget: HostBudget | None, delay: float = 1.0):
    """The parts of a crawler HostBackoffMiddleware uses: settings, a slot, stats, a budget."""
    from types import SimpleNamespace

    from scrapy.core.downloader import Slot
    from scrapy.settings import Settings
    from scrapy.statscollectors import MemoryStatsCollector

    crawler = SimpleNamespace(settings=Settings({"DOWNLOAD_DELAY": delay,
                                                 "GOVCRAWL_BACKOFF_MAX": 60.0}), spider=None)
    crawler.stats = MemoryStatsCollector(crawler)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(
        slots={"h": Slot(2, delay, 0)}, budget=budget))
    return crawler


@pytest.mark.parametrize("shared", [False, True])
def test_backoff_middleware_slows_the_host_on_challenges(budget, shared):
    from scrapy.http import Request, Response

    from govcrawl.middlewares import HostBackoffMiddleware

    crawlers = [_crawler(budget if shared else None) for _ in range(2)]
    first, second = (HostBackoffMiddleware(c) for c in crawlers)
    request = Request("http://h/a", meta={"download_slot": "h"})
    first.process_response(request, Response("http://h/a", status=412))
    first.process_response(request, Response("http://h/a", status=521))
    assert crawlers[0].stats.get_value("govcrawl/backoff") == 2
    if shared:  # the second worker's next start waits for the first one's backoff
        budget.reserve("h", "w:0", 1.0, 2)
        assert budget.reserve("h", "w:1", 1.0, 2) == pytest.approx(10.0, abs=0.05)
        second.process_response(request, Response("http://h/a", status=200))
        assert budget.back_off("h", False, 1.0, 60) == pytest.approx(10.0 * 0.8 * 0.8)
    else:
        assert crawlers[0].engine.downloader.slots["h"].delay == 10.0
        first.process_response(request, Response("http://h/a", status=200))
        assert crawlers[0].engine.downloader.slots["h"].delay == pytest.approx(8.0)
        assert crawlers[1].engine.downloader.slots["h"].delay == 1.0  # per process


def test_simulator_records_request_times_per_host():
    import json
    import urllib.request

    from govcrawl.simulator import Simulator

    with Simulator(size=2) as sim:
        before = time.time()
        for host in ("127.0.0.1", "localhost"):
            urllib.request.urlopen(sim.base_url.replace("127.0.0.1", host) + "/robots.txt",
                                   timeout=10).read()
        with urllib.request.urlopen(sim.base_url + "/_control/request-times",
                                    timeout=10) as answer:
            times = json.load(answer)
    assert set(times) == {"127.0.0.1", "localhost"}
    assert len(times["localhost"]) == 1 and times["localhost"][0] >= before
    assert len(times["127.0.0.1"]) == 2  # the control request itself is recorded too
