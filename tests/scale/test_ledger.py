"""The Redis side of scale-out, without a crawl: seeding, the seen-and-queued step, the ledger.

What matters is that no request can be marked seen without being queued (a kill in between
would lose it: its re-fetched parent finds it "seen"), and that a crawl never starts without
its start requests."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.settings import Settings

from govcrawl import distributed as d

pytestmark = [pytest.mark.redis]


class Spider(scrapy.Spider):
    name = "ledger_test"


@pytest.fixture
def spider(redis_server):
    spider = Spider()
    spider.settings = Settings({"GOVCRAWL_REDIS_PREFIX": redis_server.govcrawl_prefix})
    return spider


@pytest.fixture
def keys(spider):
    return d.keys_for(spider.settings, spider.name)


@pytest.fixture
def queue(redis_server, spider, keys):
    return d.LedgerQueue(redis_server, spider, keys.requests)


def queued_urls(queue) -> list[str]:
    return [queue._decode_request(raw).url for raw in queue.server.zrange(queue.key, 0, -1)]


def test_seeding_starts_the_crawl_with_its_start_requests(redis_server, keys, queue):
    starts = [scrapy.Request("http://127.0.0.1/a"), scrapy.Request("http://127.0.0.1/b"),
              scrapy.Request("http://127.0.0.1/a")]
    assert d.begin_crawl(redis_server, keys, queue=queue, starts=starts, ttl=60) == 2
    assert d.crawl_info(redis_server, keys)["state"] == "running"
    assert sorted(queued_urls(queue)) == ["http://127.0.0.1/a", "http://127.0.0.1/b"]
    assert redis_server.scard(keys.dupefilter) == 2
    # a second worker joins: nothing is queued twice
    assert d.begin_crawl(redis_server, keys, queue=queue, starts=starts, ttl=60) is None
    assert len(queued_urls(queue)) == 2


def test_a_seen_request_is_not_queued_but_releases_its_entry(redis_server, keys, queue):
    assert queue.push_unseen(scrapy.Request("http://127.0.0.1/x"))
    taken = queue.pop()
    entry = taken.meta[d.LEDGER_META]
    assert redis_server.hexists(keys.ledger, entry)
    # a redirect of the taken request back to a URL already seen: filtered, entry released
    again = scrapy.Request("http://127.0.0.1/x", meta={d.LEDGER_META: entry})
    assert not queue.push_unseen(again, release=entry)
    assert not redis_server.hexists(keys.ledger, entry)
    assert queued_urls(queue) == []
    assert queue.push_unseen(scrapy.Request("http://127.0.0.1/x", dont_filter=True))
    assert queued_urls(queue) == ["http://127.0.0.1/x"]


def test_a_request_that_cannot_be_queued_is_not_marked_seen(redis_server, keys, queue):
    def not_a_spider_method(response):  # pragma: no cover - never called
        return None

    request = scrapy.Request("http://127.0.0.1/y", callback=not_a_spider_method)
    with pytest.raises(ValueError):
        queue.push_unseen(request)
    assert redis_server.scard(keys.dupefilter) == 0
    # so once the cause is gone the same URL still gets queued
    assert queue.push_unseen(scrapy.Request("http://127.0.0.1/y"))
    assert queued_urls(queue) == ["http://127.0.0.1/y"]


def test_popping_records_the_taker_in_the_ledger(redis_server, keys, queue):
    queue.push_unseen(scrapy.Request("http://127.0.0.1/low"))
    queue.push_unseen(scrapy.Request("http://127.0.0.1/high", priority=10))
    taken = queue.pop()
    assert taken.url == "http://127.0.0.1/high"  # best priority first
    owner, _, raw = redis_server.hget(keys.ledger, taken.meta[d.LEDGER_META]).partition(b"\n")
    assert owner.decode() == d.worker_id(Spider.name)
    assert queue._decode_request(raw).url == taken.url
