"""Scale-out: many worker processes share one crawl through Redis (scrapy-redis).

Switched on by GOVCRAWL_REDIS_URL: settings.py then lists the `ScaleOut` Scrapy add-on in
ADDONS; without it this module is never imported and nothing imports redis. The archive
(GOVCRAWL_DATABASE_URL, on PostgreSQL for several workers) stays the record of truth; Redis
holds only work in progress.

Keys per crawl, all under `<prefix>:<spider>:` (GOVCRAWL_REDIS_PREFIX, default "govcrawl"):
  requests   scrapy-redis priority queue (scrapy-redis serialisation)
  dupefilter fingerprints of requests seen in this crawl (compact 8-byte digests)
  ledger     requests taken from the queue and not yet confirmed: id -> owner, request
  attempts   recovery count per request fingerprint (bounded by GOVCRAWL_RECOVER_ATTEMPTS)
  lost       requests given up after too many recoveries: fingerprint -> URL
  crawl      started_at, state (running/done), counters
  workers    worker id -> heartbeat (state, idle_since, beat, run id in the archive)
  lock       the worker reconciling the ledger (broken by others once it is presumed dead)
Every key `seed` writes expires after GOVCRAWL_REDIS_TTL unless heartbeats renew it. The
per-host politeness budget shared by all workers is govcrawl/politeness.py.

Why a ledger: scrapy-redis removes a request from Redis when a worker takes it, so a killed
worker's in-flight requests would be lost. Taking a request records it in the ledger in the same
Lua script; the entry is released when the request's outcome is durable (its children are queued,
or its page is in the archive). A worker presumed dead has its entries settled by a live one at
once; when every live worker has been idle for GOVCRAWL_IDLE_SECONDS, one of them reconciles:
entries whose URL the archive holds are released, the rest re-queued (dont_filter). Only then
is the crawl done, its queue, fingerprints and ledger deleted (that is what bounds Redis), and
the workers stop.

Each worker's run row in the archive is its own: a worker whose heartbeat stopped gets its run
marked aborted by a live one (`abort_dead_runs`); nothing else touches a sibling's run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import socket
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, ScrapyDeprecationWarning
from scrapy.settings import BaseSettings
from scrapy_redis import picklecompat
from scrapy_redis.connection import get_redis, get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from govcrawl import dedup

logger = logging.getLogger(__name__)

LEDGER_META = "govcrawl_ledger"  # request.meta: the ledger entry this request continues
# request.meta of a callback's output request: the ledger entry of the page that produced it,
# released once every such request has reached the scheduler (never serialised to Redis).
PARENT_META = "govcrawl_ledger_parent"
TICK_SECONDS = 1.0
CLOCK_SLACK = timedelta(minutes=5)  # archive rows this much older than the crawl still count
DONE_TTL = 3600  # a finished crawl's summary stays this long (workers that start late exit)

# scrapy-redis 0.9.1 under Scrapy 2.13+: its scheduler passes `spider=` to the stats collector
# and calls Spider.log(), both deprecated. Ignored by name, for scrapy_redis modules only.
SCRAPY_REDIS_WARNINGS = (
    r"Passing a 'spider' argument to StatsCollector\.\w+\(\) is deprecated",
    r"Spider\.log\(\) is deprecated",
)

# Pop the best request and record it in the ledger atomically (a kill between the two would
# lose it). KEYS: queue, ledger, id counter; ARGV: owner. Returns {id, request} or nil.
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0)
if #r == 0 then return nil end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], id, ARGV[1] .. '\\n' .. r[1])
return {id, r[1]}
"""

# Queue a request unless its fingerprint was seen, and release the ledger entry it continues,
# atomically: marking a fingerprint seen and queueing its request as two steps would let a kill
# between them lose the request for good (a re-fetched parent finds it "seen").
# KEYS: queue, dupefilter, ledger; ARGV: fingerprint ('' = don't filter), score, request,
# released entry ('' = none). Returns 1 when queued.
_PUSH = """
local queued = 1
if ARGV[1] ~= '' and redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  queued = 0
else
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
end
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[3], ARGV[4]) end
return queued
"""

# Heartbeat: record the worker and keep the crawl's keys alive, unless the crawl is done (its
# summary then keeps its short expiry). KEYS: workers, crawl, then the keys to keep alive.
_BEAT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('HGET', KEYS[2], 'state') == 'done' then return 0 end
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return 1
"""

# Delete a lock if `ARGV[1]` still holds it (its holder finished, or was presumed dead).
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Forget a worker presumed dead, unless it beat again meanwhile (it was only slow).
# KEYS: workers; ARGV: worker id, the heartbeat that was judged stale.
_FORGET = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


# -- settings --------------------------------------------------------------------------------------
class ScaleOut:
    """Scrapy add-on: the portal spiders on the shared Redis scheduler, ledger and budget.

    Listed in ADDONS by govcrawl/settings.py when GOVCRAWL_REDIS_URL is set. Scheduler, queue,
    duplicate filter and downloader are set at "addon" priority, below the project's, the
    portal's and `-s`; the coordinator and the ledger middleware join the project's components.
    Its numbers (GOVCRAWL_IDLE_SECONDS, ...) are project settings like any other, checked by
    govcrawl/settings_check.py before a crawl starts.
    """

    def update_settings(self, settings: BaseSettings) -> None:
        prefix = settings["GOVCRAWL_REDIS_PREFIX"]
        for name, value in {
            "REDIS_URL": settings["GOVCRAWL_REDIS_URL"],
            "SCHEDULER": "govcrawl.distributed.Scheduler",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_CLASS": "govcrawl.distributed.LedgerQueue",
            "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
            "DUPEFILTER_CLASS": "govcrawl.distributed.CompactDupeFilter",
            # one per-host delay and concurrency for all workers (govcrawl/politeness.py)
            "DOWNLOADER": "govcrawl.politeness.BudgetDownloader",
        }.items():
            settings.set(name, value, "addon")
        settings.set_in_component_priority_dict("EXTENSIONS", Coordinator, 120)
        # outermost: it sees exactly what reaches the engine
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", LedgerMiddleware, 10)


@dataclass(frozen=True)
class Keys:
    """Redis keys of one spider's crawl."""

    prefix: str
    spider: str

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return f"{self.prefix}:{self.spider}:{name}"

    def all(self) -> list[str]:
        return [getattr(self, n) for n in ("requests", "dupefilter", "ledger", "ledger_id",
                                           "attempts", "lost", "crawl", "workers", "lock")]


def fingerprint(request: scrapy.Request) -> bytes:
    """8 bytes of SHA-1 over method, canonical URL and body (scrapy-redis hashes the same
    fields, as 40 hex characters): a third of the memory, collisions ~1e-8 at 1M URLs."""
    from w3lib.url import canonicalize_url

    data = json.dumps({"method": request.method, "url": canonicalize_url(request.url),
                       "body": (request.body or b"").hex()}, sort_keys=True)
    return hashlib.sha1(data.encode()).digest()[:8]


def redis_now(server) -> float:
    """Redis server time: one clock for heartbeats of workers on different machines."""
    seconds, micros = server.time()
    return seconds + micros / 1e6


# -- scheduler, queue, dupefilter ------------------------------------------------------------------
class CompactDupeFilter(RFPDupeFilter):
    """scrapy-redis's Redis set of fingerprints, with 8-byte binary members."""

    def request_fingerprint(self, request: scrapy.Request) -> bytes:
        return fingerprint(request)

    def close(self, reason: str = "") -> None:
        """Keep the set: it is shared by the crawl's workers (deleted when the crawl is done)."""


class LedgerQueue(PriorityQueue):
    """scrapy-redis's priority queue; taking a request records it in the crawl's ledger, and
    putting one marks its fingerprint seen in the same step."""

    owner = ""

    def __init__(self, server, spider, key, serializer=None) -> None:
        super().__init__(server, spider, key, serializer or picklecompat)
        self.keys = keys_for(spider.settings, spider.name)
        self._pop = server.register_script(_POP)
        self._push = server.register_script(_PUSH)
        self.owner = worker_id(spider.name)

    def push_unseen(self, request: scrapy.Request, release: bytes | None = None,
                    client=None) -> bool:
        """Queue `request` unless seen (dont_filter: always) and release the ledger entry
        `release`, in one atomic step; `client` may be a transaction pipeline."""
        return self._put(request, not request.dont_filter, release, client)

    def push_many(self, requests: Iterable[scrapy.Request], release: Iterable[bytes] = ()
                  ) -> None:
        """Queue requests unconditionally and release ledger entries in one transaction."""
        pipe = self.server.pipeline(transaction=True)
        for request in requests:
            self._put(request, False, None, pipe)
        for entry in release:
            pipe.hdel(self.keys.ledger, entry)
        pipe.execute()

    def push(self, request: scrapy.Request) -> None:
        self._put(request, False, request.meta.get(LEDGER_META), None)

    def _put(self, request: scrapy.Request, check_seen: bool, release: bytes | None,
             client) -> bool:
        request.meta.pop(LEDGER_META, None)
        return bool(self._push(
            keys=[self.key, self.keys.dupefilter, self.keys.ledger],
            args=[fingerprint(request) if check_seen else b"", -request.priority,
                  self._encode_request(request), release or b""],
            client=client))

    def pop(self, timeout: int = 0) -> scrapy.Request | None:
        found = self._pop(keys=[self.key, self.keys.ledger, self.keys.ledger_id],
                          args=[self.owner])
        if not found:
            return None
        entry, data = found
        request = self._decode_request(data)
        request.meta[LEDGER_META] = str(entry).encode()
        return request


class Scheduler(RedisScheduler):
    """scrapy-redis's scheduler with the ledger hand-over for requests seen before."""

    @classmethod
    def from_crawler(cls, crawler):
        for message in SCRAPY_REDIS_WARNINGS:
            warnings.filterwarnings("ignore", message=message,
                                    category=ScrapyDeprecationWarning, module=r"scrapy_redis\.")
        return super().from_crawler(crawler)

    def enqueue_request(self, request: scrapy.Request) -> bool:
        """scrapy-redis checks the duplicate filter, then queues: here both are one step."""
        parent = request.meta.pop(PARENT_META, None)
        previous = request.meta.get(LEDGER_META)  # a redirect or retry of a taken request
        queued = self.queue.push_unseen(request, previous)
        if not queued:
            self.df.log(request, self.spider)
        elif self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        coordinator = _coordinator(self.spider.crawler)
        if parent and coordinator is not None:
            coordinator.handed_over(parent)
        return queued


# -- per-crawl state (pure core + thin Redis helpers) ----------------------------------------------
def keys_for(settings, spider: str) -> Keys:
    return Keys(settings["GOVCRAWL_REDIS_PREFIX"], spider)


def worker_id(spider: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{spider}"


def begin_crawl(server, keys: Keys, *, restart: bool = False,
                queue: LedgerQueue | None = None,
                starts: Iterable[scrapy.Request] = (), ttl: int) -> int | None:
    """Start a crawl unless one is running (or, without restart, finished recently).

    A new crawl forgets the previous one's leftovers and gets its start requests queued in the
    same transaction: a seeder killed half-way must not leave a "running" crawl with nothing
    to do. Every key it writes expires after `ttl` unless a worker's heartbeat renews it (a
    crawl seeded and never worked on does not stay forever). Returns how many start requests
    it queued, or None if it did not start the crawl.
    """
    with server.pipeline(transaction=True) as pipe:
        pipe.watch(keys.crawl)
        state = pipe.hget(keys.crawl, "state")
        if state is not None and (state == b"running" or not restart):
            pipe.reset()
            return None
        started = datetime.now(UTC).isoformat()
        pipe.multi()
        pipe.delete(*[k for k in keys.all() if k != keys.workers])
        pipe.hset(keys.crawl, mapping={"state": "running", "started_at": started})
        starts = list(starts)
        for request in starts:
            assert queue is not None, "start requests are queued through `queue`"
            queue.push_unseen(request, client=pipe)
        expire_keys(pipe, keys, ttl)
        try:
            results = pipe.execute()
        except Exception as exc:  # WatchError: another process started it first
            if type(exc).__name__ == "WatchError":
                return None
            raise
    return sum(1 for queued in results[-len(keys.all()) - len(starts):-len(keys.all())]
               if queued)


def expire_keys(client, keys: Keys, ttl: int) -> None:
    """Set the expiry of every key of the crawl that exists (`client`: server or pipeline)."""
    for key in keys.all():
        client.expire(key, ttl)


def finished_recently(spider: str, info: Mapping[str, str]) -> str:
    """Why a worker of a crawl that has just finished does nothing, and how to crawl again."""
    return (f"{spider}: the crawl finished at {info.get('finished_at', '?')} and is kept "
            f"{DONE_TTL // 60} minutes so late workers stop; nothing to do. To crawl again now, "
            f"start a new crawl: `govcrawl seed {spider}`, then start the workers.")


def crawl_info(server, keys: Keys) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in server.hgetall(keys.crawl).items()}


def crawl_started(server, keys: Keys) -> datetime:
    started = server.hget(keys.crawl, "started_at")
    return datetime.fromisoformat(started.decode()) if started else datetime.now(UTC)


@dataclass
class WorkerState:
    state: str
    idle_since: float | None
    beat: float
    run: int | None = None  # the worker's row in the archive's runs table


def live_workers(server, keys: Keys, timeout: float, now: float | None = None
                 ) -> dict[str, WorkerState]:
    """Workers whose heartbeat is fresher than `timeout` seconds (by the Redis clock)."""
    now = redis_now(server) if now is None else now
    return {wid: state for wid, state in all_workers(server, keys).items()
            if now - state.beat < timeout}


def all_workers(server, keys: Keys) -> dict[str, WorkerState]:
    """Every worker in the crawl's list, live or not (a dead one stays until recovered)."""
    return {wid.decode(): WorkerState(**json.loads(raw))
            for wid, raw in server.hgetall(keys.workers).items()}


def abort_dead_runs(server, keys: Keys, archive, timeout: float, by: str,
                    now: float | None = None) -> dict[str, int | None]:
    """Recovery's record of workers that died: each one whose heartbeat is older than
    `timeout` gets its run `aborted` (when, which worker, who found it), and leaves the
    worker list. Returns dead worker id -> the run aborted (None: it had ended already).

    Only a dead worker's run: a live sibling's is never touched (each worker's run is its
    own), and a run that ended meanwhile keeps its status. A worker presumed dead that was
    only slow beats again and, finishing, records its run's end as usual.
    """
    now = redis_now(server) if now is None else now
    forget = server.register_script(_FORGET)
    dead: dict[str, int | None] = {}
    for wid, raw in server.hgetall(keys.workers).items():
        state = WorkerState(**json.loads(raw))
        if now - state.beat < timeout:
            continue
        aborted = state.run is not None and _abort_run(archive, state.run, {
            "worker": wid.decode(), "by": by,
            "why": f"no heartbeat for {now - state.beat:.0f} s (timeout {timeout:g} s)",
            "last_beat": datetime.fromtimestamp(state.beat, UTC).isoformat()})
        forget(keys=[keys.workers], args=[wid, raw])
        dead[wid.decode()] = state.run if aborted else None
    return dead


def _abort_run(archive, run_id: int, why: dict[str, str]) -> bool:
    """Mark a run `aborted` now, with `why` in its stats, if it is still `running`."""
    from sqlalchemy import select, update

    from govcrawl.store.schema import runs
    from govcrawl.store.state import utc_now

    with archive._write() as conn:
        stats = conn.execute(select(runs.c.stats).where(runs.c.id == run_id,
                                                        runs.c.status == "running")).first()
        if stats is None:
            return False
        conn.execute(update(runs).where(runs.c.id == run_id, runs.c.status == "running")
                     .values(status="aborted", finished_at=utc_now(),
                             stats={**(stats[0] or {}), "govcrawl/aborted": why}))
    return True


def all_quiet(workers: Mapping[str, WorkerState], now: float, idle_seconds: float) -> bool:
    """Every live worker idle for at least idle_seconds: nobody can queue anything new."""
    return bool(workers) and all(
        w.state == "idle" and w.idle_since is not None and now - w.idle_since >= idle_seconds
        for w in workers.values())


def archived_since(archive, url_keys: Iterable[str], since: datetime) -> set[str]:
    """URL keys with a response or a reject in the archive since `since` (durable outcomes)."""
    from sqlalchemy import select, union

    from govcrawl.store.schema import rejects, responses

    wanted = sorted(set(url_keys))
    found: set[str] = set()
    with archive.read_engine.connect() as conn:
        for i in range(0, len(wanted), 1000):
            chunk = wanted[i:i + 1000]
            query = union(
                select(responses.c.url_key).where(responses.c.url_key.in_(chunk),
                                                  responses.c.fetched_at >= since),
                select(rejects.c.url_key).where(rejects.c.url_key.in_(chunk),
                                                rejects.c.at >= since))
            found.update(conn.execute(query).scalars())
    return found


@dataclass
class Recovery:
    """What one reconciliation did."""

    confirmed: int = 0  # ledger entries whose outcome the archive holds
    requeued: int = 0
    lost: list[str] = field(default_factory=list)
    skipped: int = 0  # in flight at a live, busy worker

    @property
    def settled(self) -> bool:
        return self.requeued == 0 and self.skipped == 0


def reconcile(server, spider: scrapy.Spider, archive, *, busy_owners: Iterable[str] = (),
              max_attempts: int = 3, owners: Iterable[str] | None = None) -> Recovery:
    """Settle the ledger: release entries the archive confirms, re-queue the others.

    With `owners`, only those workers' entries (workers just presumed dead: their work goes
    back to the queue at once instead of when the crawl is quiet).
    """
    keys = keys_for(spider.settings, spider.name)
    queue = LedgerQueue(server, spider, keys.requests)
    busy = {o.encode() for o in busy_owners}
    only = None if owners is None else {o.encode() for o in owners}
    entries: list[tuple[bytes, scrapy.Request]] = []
    out = Recovery()
    for entry, raw in server.hgetall(keys.ledger).items():
        owner, _, data = raw.partition(b"\n")
        if only is not None and owner not in only:
            continue
        if owner in busy:
            out.skipped += 1
            continue
        entries.append((entry, queue._decode_request(data)))
    since = crawl_started(server, keys) - CLOCK_SLACK
    done = archived_since(archive, (dedup.url_key(r.url) for _, r in entries), since)
    for entry, request in entries:
        if dedup.url_key(request.url) in done:
            server.hdel(keys.ledger, entry)
            out.confirmed += 1
            continue
        fp = fingerprint(request)
        if server.hincrby(keys.attempts, fp, 1) > max_attempts:
            server.hset(keys.lost, fp, request.url)
            server.hdel(keys.ledger, entry)
            out.lost.append(request.url)
            continue
        request = request.replace(dont_filter=True)
        queue.push_many([request], [entry])
        out.requeued += 1
    if out.requeued or out.confirmed or out.lost:
        server.hincrby(keys.crawl, "requeued", out.requeued)
        server.hincrby(keys.crawl, "confirmed_by_recovery", out.confirmed)
        server.hincrby(keys.crawl, "lost", len(out.lost))
    return out


def finish_crawl(server, keys: Keys) -> bool:
    """Mark the crawl done and drop its bulky keys, if the queue and ledger are empty.

    This is what bounds Redis: fingerprints live only as long as their crawl.
    """
    with server.pipeline(transaction=True) as pipe:
        pipe.watch(keys.requests, keys.ledger)
        if pipe.zcard(keys.requests) or pipe.hlen(keys.ledger):
            pipe.reset()
            return False
        seen = pipe.scard(keys.dupefilter)
        pipe.multi()
        pipe.hset(keys.crawl, mapping={"state": "done", "seen": seen,
                                       "finished_at": datetime.now(UTC).isoformat()})
        pipe.delete(keys.requests, keys.dupefilter, keys.ledger, keys.ledger_id, keys.attempts)
        for key in (keys.crawl, keys.lost, keys.workers):
            pipe.expire(key, DONE_TTL)
        pipe.execute()
    return True


def status(server, keys: Keys, timeout: float) -> dict[str, Any]:
    """Queue length, seen set size, ledger size, workers and crawl state, for display."""
    workers = live_workers(server, keys, timeout)
    info = crawl_info(server, keys)
    return {
        "spider": keys.spider, "state": info.get("state", "none"),
        "started_at": info.get("started_at"), "queued": server.zcard(keys.requests),
        "seen": server.scard(keys.dupefilter), "in_flight": server.hlen(keys.ledger),
        "workers": len(workers),
        "busy": sum(1 for w in workers.values() if w.state == "busy"),
        "requeued": int(info.get("requeued", 0)), "lost": int(info.get("lost", 0)),
        "redis_bytes": sum(server.memory_usage(k) or 0 for k in keys.all()),
    }


def status_line(s: Mapping[str, Any], stored: int | None = None) -> str:
    line = (f"{s['spider']}: {s['state']}, queue {s['queued']}, seen {s['seen']}, in flight "
            f"{s['in_flight']}, workers {s['workers']} ({s['busy']} busy), requeued "
            f"{s['requeued']}, lost {s['lost']}, redis {s['redis_bytes'] / 1024:.0f} KiB")
    return line if stored is None else f"{line}, stored articles {stored}"


def stored_articles(archive, portal_id: str) -> int:
    from sqlalchemy import func, select

    from govcrawl.store.schema import articles

    with archive.read_engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(articles)
                            .where(articles.c.portal_id == portal_id)).scalar_one()


def server_from_url(url: str):
    return get_redis(url=url, socket_timeout=30, socket_connect_timeout=30)


def sum_stats(runs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Add up the numeric stats of a crawl's worker runs (assess judges the crawl as a whole)."""
    total: dict[str, Any] = {}
    for stats in runs:
        for key, value in stats.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
            elif key not in total:
                total[key] = value
    return total


# -- worker side: spider middleware + coordinator extension ----------------------------------------
class LedgerMiddleware:
    """Release a taken request once its output is durable; only the first worker yields starts.

    A list page is done when its callback's requests are queued (they carry their own ledger
    entries); a page that produced items is done when the archive holds it (the Coordinator
    checks); a response that produced nothing is done at once.
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start):
        """The first worker seeds the crawl: its start requests go straight to Redis, in the
        transaction that starts the crawl; the others join without yielding any."""
        spider = self.crawler.spider
        server = get_redis_from_settings(self.crawler.settings)
        keys = keys_for(self.crawler.settings, spider.name)
        seeded = None
        state = server.hget(keys.crawl, "state")
        if state == b"done":
            logger.warning("%s", finished_recently(spider.name, crawl_info(server, keys)))
            return
        if state is None:
            requests, others = [], []
            async for item_or_request in start:
                (requests if isinstance(item_or_request, scrapy.Request) else others).append(
                    item_or_request)
            seeded = begin_crawl(server, keys, queue=LedgerQueue(server, spider, keys.requests),
                                 starts=requests,
                                 ttl=self.crawler.settings.getint("GOVCRAWL_REDIS_TTL"))
        if seeded is None:
            logger.info("%s: joining the crawl in Redis (not yielding start requests)",
                        spider.name)
            return
        logger.info("%s: no crawl in Redis: this worker seeded it with %d start request(s)",
                    spider.name, seeded)
        for item in others:
            yield item

    def process_spider_output(self, response, result):
        produced = False
        for out in result:
            produced = self._track(response, out) or produced
            yield out
        self._done(response, produced)

    async def process_spider_output_async(self, response, result):
        produced = False
        async for out in result:
            produced = self._track(response, out) or produced
            yield out
        self._done(response, produced)

    def _track(self, response, out) -> bool:
        """Mark an output request with its page's entry; True for an item.

        Scrapy reads a callback's output ahead into a queue, so the output being exhausted
        does not mean its requests were scheduled: each one reports when it is.
        """
        if not isinstance(out, scrapy.Request):
            return True
        coordinator = _coordinator(self.crawler)
        request = response.request
        entry = request.meta.get(LEDGER_META) if request is not None else None
        if coordinator is not None and entry:
            out.meta[PARENT_META] = entry
            coordinator.hand_over_started(entry)
        return False

    def _done(self, response, produced: bool) -> None:
        coordinator = _coordinator(self.crawler)
        request = response.request
        entry = request.meta.get(LEDGER_META) if request is not None else None
        if coordinator is None or not entry:
            return
        if produced:
            coordinator.await_durable(entry, request.url)
        else:
            coordinator.output_finished(entry)


def _coordinator(crawler) -> Coordinator | None:
    return getattr(crawler, "_govcrawl_coordinator", None)


class Coordinator:
    """Heartbeat, durable confirmation, automatic recovery, idle close and progress logging."""

    def __init__(self, crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.server = get_redis_from_settings(settings)
        self._beat_script = self.server.register_script(_BEAT)
        self._unlock = self.server.register_script(_UNLOCK)
        self.idle_seconds = settings.getfloat("GOVCRAWL_IDLE_SECONDS")
        self.timeout = settings.getfloat("GOVCRAWL_WORKER_TIMEOUT")
        self.progress_every = settings.getfloat("GOVCRAWL_PROGRESS_SECONDS")
        self.max_attempts = settings.getint("GOVCRAWL_RECOVER_ATTEMPTS")
        self.ttl = settings.getint("GOVCRAWL_REDIS_TTL")
        self.awaiting: dict[bytes, str] = {}  # ledger entry -> url_key, until archived
        self.handing_over: dict[bytes, int] = {}  # entry -> its output requests not scheduled
        self.output_done: set[bytes] = set()  # entries whose callback output is exhausted
        self.idle_since: float | None = None
        self.closing = False
        self.keys: Keys | None = None
        self.id = ""
        self._task: asyncio.Task | None = None
        self._last_progress = 0.0
        crawler._govcrawl_coordinator = self

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def spider_opened(self, spider) -> None:
        self.keys = keys_for(self.crawler.settings, spider.name)
        self.id = worker_id(spider.name)
        self._beat("busy")
        self._task = asyncio.get_running_loop().create_task(self._run())

    def spider_idle(self, spider) -> None:
        if not self.closing:
            raise DontCloseSpider

    async def spider_closed(self, spider, reason) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.keys is not None:
            self.server.hdel(self.keys.workers, self.id)

    def item_scraped(self, item, response, spider) -> None:
        """Errback items skip spider middlewares: their request comes with the Failure."""
        request = getattr(response, "request", None)
        if request is not None and not isinstance(response, scrapy.http.Response):
            entry = request.meta.get(LEDGER_META)
            if entry:
                self.await_durable(entry, request.url)

    def await_durable(self, entry: bytes, url: str) -> None:
        self.awaiting[entry] = dedup.url_key(url)

    def release(self, entry: bytes) -> None:
        assert self.keys is not None, "ledger entries exist only after spider_opened"
        self.server.hdel(self.keys.ledger, entry)

    def hand_over_started(self, entry: bytes) -> None:
        self.handing_over[entry] = self.handing_over.get(entry, 0) + 1

    def handed_over(self, entry: bytes) -> None:
        """One output request of `entry`'s page reached the scheduler (queued or filtered)."""
        left = self.handing_over.get(entry, 0) - 1
        if left > 0:
            self.handing_over[entry] = left
            return
        self.handing_over.pop(entry, None)
        if entry in self.output_done:
            self.output_done.discard(entry)
            self.release(entry)

    def output_finished(self, entry: bytes) -> None:
        """The page's output is exhausted: release it once its requests are all scheduled."""
        if self.handing_over.get(entry):
            self.output_done.add(entry)
        else:
            self.release(entry)

    # -- the loop ----------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self.closing:
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis or the archive hiccuped: try again next tick
                logger.exception("scale-out coordinator tick failed")
            await asyncio.sleep(TICK_SECONDS)

    async def _tick(self) -> None:
        assert self.keys is not None, "the loop is started by spider_opened"
        engine, spider = self.crawler.engine, self.crawler.spider
        idle = engine.spider_is_idle()
        if idle:
            await self._flush_pipeline()
        if self.awaiting:
            await self._confirm()
        now = redis_now(self.server)
        if not idle:
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now
        self._beat("idle" if idle else "busy", now)
        if any(now - w.beat >= self.timeout
               for w in all_workers(self.server, self.keys).values()):
            dead = await asyncio.to_thread(abort_dead_runs, self.server, self.keys,
                                           spider.archive, self.timeout, self.id, now)
            for wid, run in dead.items():
                logger.warning("%s: worker %s presumed dead (no heartbeat for %g s): %s",
                               spider.name, wid, self.timeout,
                               f"its run {run} aborted" if run else "no run of it was running")
            if dead:
                await self._reconcile(owners=list(dead))
        slot = getattr(engine, "_slot", None)  # Scrapy's; None once the spider closes
        if slot is not None and not self.closing and self.server.zcard(self.keys.requests):
            # work is waiting: ask the scheduler now, not at the engine's 5 s heartbeat
            slot.nextcall.schedule()
        if now - self._last_progress >= self.progress_every:
            self._last_progress = now
            await self._log_progress()
        if not idle:
            return
        state = self.server.hget(self.keys.crawl, "state")
        if state in (None, b"done"):
            return self._close("crawl done" if state else "no crawl in Redis")
        workers = live_workers(self.server, self.keys, self.timeout, now)
        if not all_quiet(workers, now, self.idle_seconds) or self.server.zcard(
                self.keys.requests):
            return
        result = await self._reconcile(
            busy_owners=[w for w, s in workers.items() if s.state == "busy"])
        if result is not None and result.settled and finish_crawl(self.server, self.keys):
            self._close("crawl done")

    async def _reconcile(self, **how: Any) -> Recovery | None:
        """Reconcile under the crawl's lock (None: another live worker holds it). A lock
        whose holder is presumed dead is broken, so a reconciler killed mid-way stalls
        nobody for longer than GOVCRAWL_WORKER_TIMEOUT."""
        assert self.keys is not None, "called from the loop started by spider_opened"
        spider = self.crawler.spider
        if not self.server.set(self.keys.lock, self.id, nx=True, ex=300):
            holder = self.server.get(self.keys.lock)
            if holder is None or holder.decode() in live_workers(self.server, self.keys,
                                                                 self.timeout):
                return None
            self._unlock(keys=[self.keys.lock], args=[holder])
            logger.warning("%s: released the recovery lock of dead worker %s", spider.name,
                           holder.decode())
            if not self.server.set(self.keys.lock, self.id, nx=True, ex=300):
                return None
        try:
            result = await asyncio.to_thread(reconcile, self.server, spider, spider.archive,
                                             max_attempts=self.max_attempts, **how)
        finally:
            self._unlock(keys=[self.keys.lock], args=[self.id])
        if result.requeued or result.confirmed or result.lost:
            logger.warning("%s: recovery: %d confirmed by the archive, %d re-queued, "
                           "%d given up %s", spider.name, result.confirmed,
                           result.requeued, len(result.lost), result.lost[:5])
        self.crawler.stats.inc_value("govcrawl/scale/requeued", result.requeued)
        return result

    def _beat(self, state: str, now: float | None = None) -> None:
        assert self.keys is not None, "set by spider_opened before the first beat"
        now = redis_now(self.server) if now is None else now
        beat = json.dumps({"state": state, "idle_since": self.idle_since, "beat": now,
                           "run": getattr(self.crawler.spider, "run_id", None)})
        others = [k for k in self.keys.all() if k not in (self.keys.workers, self.keys.crawl)]
        self._beat_script(keys=[self.keys.workers, self.keys.crawl, *others],
                          args=[self.id, beat, self.ttl])

    async def _flush_pipeline(self) -> None:
        for pipeline in getattr(self.crawler.engine.scraper.itemproc, "middlewares", ()):
            if hasattr(pipeline, "flush"):
                await pipeline.flush()

    async def _confirm(self) -> None:
        assert self.keys is not None, "called from the loop started by spider_opened"
        pending = dict(self.awaiting)
        since = crawl_started(self.server, self.keys) - CLOCK_SLACK
        done = await asyncio.to_thread(archived_since, self.crawler.spider.archive,
                                       pending.values(), since)
        confirmed = [e for e, key in pending.items() if key in done]
        if confirmed:
            self.server.hdel(self.keys.ledger, *confirmed)
            for entry in confirmed:
                self.awaiting.pop(entry, None)

    async def _log_progress(self) -> None:
        spider = self.crawler.spider
        assert self.keys is not None, "called from the loop started by spider_opened"
        stored = await asyncio.to_thread(stored_articles, spider.archive, spider.portal.id)
        logger.info("progress %s", status_line(status(self.server, self.keys, self.timeout),
                                               stored))

    def _close(self, why: str) -> None:
        if self.closing:
            return
        self.closing = True
        logger.info("%s: %s; worker %s stops", self.crawler.spider.name, why, self.id)
        asyncio.get_running_loop().create_task(
            self.crawler.engine.close_spider_async(reason="finished"))


# -- seeding (used by `govcrawl seed`) -------------------------------------------------------------
def make_spider(portal, settings, spider_args: Mapping[str, str] | None = None):
    """A portal spider outside a crawl: to build its start requests and (de)serialise them."""
    from govcrawl.spiders.loader import spider_class_for

    spider = spider_class_for(portal)(**dict(spider_args or {}))
    spider.settings = settings
    return spider


async def _start_requests(spider) -> list[scrapy.Request]:
    return [r async for r in spider.start() if isinstance(r, scrapy.Request)]


def seed(server, spider, *, restart: bool = True) -> tuple[bool, int]:
    """Queue a portal's start requests; returns (started a new crawl, requests queued)."""
    keys = keys_for(spider.settings, spider.name)
    queue = LedgerQueue(server, spider, keys.requests)
    requests = asyncio.run(_start_requests(spider))
    ttl = spider.settings.getint("GOVCRAWL_REDIS_TTL")
    queued = begin_crawl(server, keys, restart=restart, queue=queue, starts=requests, ttl=ttl)
    if queued is not None:
        return True, queued
    queued = sum(queue.push_unseen(r) for r in requests)
    if crawl_info(server, keys).get("state") == "running":  # a finished one keeps its expiry
        expire_keys(server, keys, ttl)
    return False, queued
