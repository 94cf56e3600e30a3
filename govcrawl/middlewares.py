"""HostBackoffMiddleware: slow down a host that answers with challenges or blocks.

AutoThrottle adapts to latency only; a 412/521 challenge or a 403 shell arrives fast, so it
would keep the pace. This middleware doubles the host's download delay on each such response
(up to GOVCRAWL_BACKOFF_MAX seconds) and relaxes it again after normal responses. In a
scaled-out crawl the delay is the host's shared one (govcrawl/politeness.py): a challenge seen
by one worker slows every worker down.
"""

from __future__ import annotations

import logging

from govcrawl.politeness import backed_off, budget_of, relaxed

logger = logging.getLogger(__name__)

BACKOFF_STATUSES = frozenset({403, 412, 429, 503, 512, 521})


class HostBackoffMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.max_delay = crawler.settings.getfloat("GOVCRAWL_BACKOFF_MAX")
        self.base_delay = crawler.settings.getfloat("DOWNLOAD_DELAY", 0.0)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        slot_key = request.meta.get("download_slot")
        slots = self.crawler.engine.downloader.slots
        slot = slots.get(slot_key) if slot_key else None
        if slot is None:
            return response
        challenged = response.status in BACKOFF_STATUSES
        if not challenged and not 200 <= response.status < 300:
            return response
        budget = budget_of(self.crawler)
        if budget is not None:  # the reservation takes the larger of this and slot.delay
            delay = budget.back_off(slot_key, challenged, self.base_delay, self.max_delay)
        elif challenged:
            delay = slot.delay = backed_off(slot.delay, self.base_delay, self.max_delay)
        else:
            slot.delay = relaxed(slot.delay, self.base_delay)
        if challenged:
            self.crawler.stats.inc_value("govcrawl/backoff")
            logger.info("host %s answered %s: delay now %.1fs", slot_key, response.status,
                        delay, extra={"spider": self.crawler.spider})
        return response
