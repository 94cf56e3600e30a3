"""Crawl-wide per-host politeness: one delay and one concurrency budget per host in Redis.

Scrapy's download slots are per process (and per spider), so N workers of a scaled-out crawl
would each keep the promised delay and still hit a host N times as often. With scale-out on
(GOVCRAWL_REDIS_URL), `BudgetDownloader` asks Redis before every request it sends to a host:
one Lua script (`_RESERVE`) gives the request the next start time the host allows (its
previous start plus the delay) and a lease on one of the host's concurrent places, or says the
host is full. The delay is the largest of the asking slot's own (DOWNLOAD_DELAY, AutoThrottle,
the portal's setting), the host's robots.txt `Crawl-delay` and its challenge/WAF backoff, the
last two shared by every worker. A lease lives GOVCRAWL_WORKER_TIMEOUT seconds and its worker
renews it every second while the download runs, so a killed worker's places come back within
that time. A host's keys expire an hour after its last request.

Keys, under `<prefix>:@host:<host>` (GOVCRAWL_REDIS_PREFIX; hosts are shared by all spiders):
  (hash)    next = earliest start of the host's next request, crawl_delay, backoff
  :leases   (sorted set) lease token -> expiry, the host's requests in progress

Only the timing rules below are pure; the Redis side is the scripts and a thin client.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from time import monotonic
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later, create_looping_call
from scrapy.utils.defer import _schedule_coro

logger = logging.getLogger(__name__)

BACKOFF_FLOOR = 5.0  # the first backoff step, seconds
BUSY_POLL = 0.1  # seconds before asking again when a host's concurrent places are all taken
RENEW_SECONDS = 1.0


def backed_off(delay: float, base: float, ceiling: float) -> float:
    """The delay after a challenge or block: doubled, at least BACKOFF_FLOOR, at most ceiling."""
    return min(ceiling, max(delay * 2, BACKOFF_FLOOR, base))


def relaxed(delay: float, base: float) -> float:
    """The delay after a normal response: back towards base by a fifth."""
    return max(base, delay * 0.8) if delay > base else delay


# Reserve the next start for one request to a host. KEYS: host hash, leases; ARGV: token, the
# asking slot's delay, max concurrent requests, lease seconds, key TTL. Returns the seconds to
# wait before starting (as text: Lua numbers become integers) or 'busy' (no place free).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 'busy' end
local h = redis.call('HMGET', KEYS[1], 'next', 'crawl_delay', 'backoff')
local delay = math.max(tonumber(ARGV[2]), tonumber(h[2] or 0), tonumber(h[3] or 0))
local start = math.max(now, tonumber(h[1] or 0))
redis.call('HSET', KEYS[1], 'next', string.format('%.6f', start + delay))
redis.call('ZADD', KEYS[2], start + tonumber(ARGV[4]), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return string.format('%.6f', start - now)
"""

# Renew this worker's leases (only those still held). KEYS: leases; ARGV: lease seconds, tokens.
_RENEW = """
local t = redis.call('TIME')
local expiry = tonumber(t[1]) + tonumber(t[2]) / 1e6 + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
return 1
"""

# Move a host's shared backoff after a response. KEYS: host hash; ARGV: 'up' or 'down', the
# base delay, the ceiling, key TTL, the first step. Same rules as backed_off() and relaxed().
# Returns the new delay.
_BACKOFF = """
local b = tonumber(redis.call('HGET', KEYS[1], 'backoff') or 0)
local base = tonumber(ARGV[2])
local new = b
if ARGV[1] == 'up' then
  new = math.min(tonumber(ARGV[3]), math.max(b * 2, tonumber(ARGV[5]), base))
elseif b > base then
  new = math.max(base, b * 0.8)
end
if new ~= b then
  redis.call('HSET', KEYS[1], 'backoff', string.format('%.6f', new))
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return string.format('%.6f', new)
"""


class HostBudget:
    """The Redis side: reserve, renew and release places; share Crawl-delay and backoff."""

    def __init__(self, server, prefix: str, lease_seconds: float, ttl: int) -> None:
        self.server = server
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self.ttl = ttl
        self._reserve = server.register_script(_RESERVE)
        self._renew = server.register_script(_RENEW)
        self._backoff = server.register_script(_BACKOFF)

    def key(self, host: str) -> str:
        return f"{self.prefix}:@host:{host}"

    def reserve(self, host: str, token: str, delay: float, concurrency: int) -> float | None:
        """Seconds until this request may start (its place is held from now), or None when
        the host has no free place."""
        key = self.key(host)
        answer = self._reserve(keys=[key, f"{key}:leases"],
                               args=[token, f"{delay:.6f}", max(1, concurrency),
                                     f"{self.lease_seconds:.3f}", self.ttl])
        return None if answer == b"busy" else float(answer)

    def renew(self, host: str, tokens: Iterable[str]) -> None:
        tokens = list(tokens)
        if tokens:
            self._renew(keys=[f"{self.key(host)}:leases"],
                        args=[f"{self.lease_seconds:.3f}", *tokens])

    def release(self, host: str, tokens: Iterable[str]) -> None:
        tokens = list(tokens)
        if tokens:
            self.server.zrem(f"{self.key(host)}:leases", *tokens)

    def set_crawl_delay(self, host: str, delay: float) -> None:
        key = self.key(host)
        with self.server.pipeline(transaction=True) as pipe:
            pipe.hset(key, "crawl_delay", f"{delay:.6f}")
            pipe.expire(key, self.ttl)
            pipe.execute()

    def back_off(self, host: str, up: bool, base: float, ceiling: float) -> float:
        """The host's shared backoff delay after a challenge (up) or a normal response."""
        return float(self._backoff(keys=[self.key(host)],
                                   args=["up" if up else "down", f"{base:.6f}",
                                         f"{ceiling:.6f}", self.ttl, BACKOFF_FLOOR]))


def budget_of(crawler) -> HostBudget | None:
    """The crawl-wide budget, when the crawler's downloader uses one."""
    downloader = getattr(getattr(crawler, "engine", None), "downloader", None)
    return getattr(downloader, "budget", None)


class BudgetDownloader(Downloader):
    """Scrapy's downloader, with every request's start granted by the host's Redis budget.

    The slot's own delay check is replaced by the reservation (the reserved start is the
    moment the request is sent, so workers never bunch up), and the worker stops taking
    requests from the shared queue while one already waits here: requests it cannot send yet
    stay in Redis, where idle workers take them.
    """

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        from scrapy_redis.connection import get_redis_from_settings

        from govcrawl.distributed import DONE_TTL, worker_id

        settings = crawler.settings
        self.budget = HostBudget(
            get_redis_from_settings(settings),
            settings["GOVCRAWL_REDIS_PREFIX"],
            lease_seconds=settings.getfloat("GOVCRAWL_WORKER_TIMEOUT"),
            ttl=DONE_TTL)
        self._owner = worker_id(crawler.spidercls.name)
        self._tokens = itertools.count()
        self._keys: dict[int, str] = {}  # id(slot) -> its key (Slot has __slots__)
        self._leases: dict[str, dict[str, Request | None]] = {}  # host -> token -> request
        self._waiting: dict[str, str] = {}  # token -> host, reserved but not started yet
        self._renewal: Any = None

    def needs_backout(self) -> bool:
        """Take no more requests while any waits for its host: the rest stay shared."""
        return super().needs_backout() or any(slot.queue for slot in self.slots.values())

    def _get_slot(self, request: Request, spider=None) -> tuple[str, Slot]:
        key, slot = super()._get_slot(request)
        self._keys[id(slot)] = key
        return key, slot

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        host = self._keys[id(slot)]
        self._release_finished(host, slot)
        while slot.queue and slot.free_transfer_slots() > 0:
            token = f"{self._owner}:{next(self._tokens)}"
            try:
                wait = self.budget.reserve(host, token, slot.download_delay(), slot.concurrency)
            except Exception:  # Redis unreachable: try again shortly, never send unbudgeted
                logger.exception("politeness budget: reserving a request to %s failed", host)
                wait = None
            if wait is None:
                slot.latercall = call_later(BUSY_POLL, self._latercall, slot)
                return
            request, queue_dfd = slot.queue.popleft()
            if wait > 0:
                self._waiting[token] = host
                slot.latercall = call_later(wait, self._start_later, slot, host, token, request,
                                            queue_dfd)
                return
            self._start(slot, host, token, request, queue_dfd)

    def _start(self, slot: Slot, host: str, token: str, request: Request, queue_dfd) -> None:
        slot.lastseen = monotonic()
        slot.transferring.add(request)  # counted now: the task may start on the next loop turn
        self._leases.setdefault(host, {})[token] = request
        _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
        self._start_renewal()

    def _start_later(self, slot: Slot, host: str, token: str, request: Request,
                     queue_dfd) -> None:
        slot.latercall = None
        self._waiting.pop(token, None)
        self._start(slot, host, token, request, queue_dfd)
        self._process_queue(slot)

    def _release_finished(self, host: str, slot: Slot) -> None:
        """Give back the places of this host's downloads that ended."""
        leases = self._leases.get(host, {})
        finished = [t for t, r in leases.items() if r not in slot.transferring]
        if not finished:
            return
        for token in finished:
            del leases[token]
        try:
            self.budget.release(host, finished)
        except Exception:  # the lease then expires by itself
            logger.exception("politeness budget: releasing leases of %s failed", host)

    def _start_renewal(self) -> None:
        if self._renewal is None:
            self._renewal = create_looping_call(self._renew)
            self._renewal.start(RENEW_SECONDS, now=False)

    def _renew(self) -> None:
        for host, leases in self._leases.items():
            try:
                self.budget.renew(host, leases)
            except Exception:
                logger.exception("politeness budget: renewing leases of %s failed", host)

    def close(self) -> None:
        if self._renewal is not None and self._renewal.running:
            self._renewal.stop()
        for token, host in self._waiting.items():
            self._leases.setdefault(host, {})[token] = None
        for host, leases in self._leases.items():
            try:
                self.budget.release(host, leases)
            except Exception:
                logger.exception("politeness budget: releasing leases of %s failed", host)
        self._leases.clear()
        self._waiting.clear()
        super().close()
