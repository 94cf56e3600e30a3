"""Run portal spiders in one process and turn their stats into a report and an exit status.

Used by `govcrawl crawl`, `govcrawl demo` and the overridden `scrapy crawl`. Exit statuses a
scheduler can act on (Scrapy's own `crawl` exits 0 even when every request failed):
0 the run worked (nothing new is fine); 1 a portal failed entirely (no list page could be
read); 3 storage failed (items were spilled, or lost if even the spill failed); 4 a portal's
article pages stopped yielding a title, body or publish time (its template probably changed).
A backfill that stopped short is a NOTICE (stats `govcrawl/backfill_incomplete`), not a failure:
the next run resumes it. `run_status` is the same judgment for the run's row in the archive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govcrawl.portals.registry import Portal

EXIT_OK, EXIT_PORTAL_FAILED, EXIT_USAGE, EXIT_STORAGE, EXIT_TEMPLATE = 0, 1, 2, 3, 4
# A portal whose articles miss a core field this often (with at least MIN_ARTICLES articles)
# is reported as a changed template.
DRIFT_SHARE = 0.5
DRIFT_MIN_ARTICLES = 5


@dataclass
class PortalReport:
    portal: str
    run_id: int | None
    stats: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    def count(self, key: str) -> int:
        return int(self.stats.get(f"govcrawl/{key}", 0) or 0)

    @property
    def rejects(self) -> dict[str, int]:
        return {k.removeprefix("govcrawl/items/"): int(v) for k, v in sorted(self.stats.items())
                if k.startswith("govcrawl/items/") and not k.endswith("/article")}

    def exit_status(self) -> int:
        if self.stats.get("govcrawl/storage_failed"):
            return EXIT_STORAGE
        if "failed entirely" in " ".join(self.problems):
            return EXIT_PORTAL_FAILED
        if self.problems:
            return EXIT_TEMPLATE
        return EXIT_OK

    def lines(self) -> list[str]:
        rejects = ", ".join(f"{k} {v}" for k, v in self.rejects.items()) or "none"
        out = [
            f"{self.portal} (run {self.run_id}): list pages {self.count('list_pages')}, "
            f"articles new {self.count('stored/new')}, updated {self.count('stored/updated')}, "
            f"duplicate {self.count('stored/duplicate')}, unchanged "
            f"{self.count('stored/unchanged')}, known skipped "
            f"{self.count('articles_known_skipped')}",
            f"  rejects: {rejects}; extraction warnings {self.count('extraction_warnings')}",
        ]
        out.extend(f"  PROBLEM: {p}" for p in self.problems)
        unfinished = self.count("backfill_incomplete")
        if unfinished:
            channels = self.stats.get("govcrawl/backfill_incomplete_channels") or []
            out.append(f"  NOTICE: the backfill of {unfinished} channel(s) stopped short; the "
                       f"next run resumes it: {', '.join(channels[:3])}")
        return out


def count_extraction(stats, page) -> None:
    """Per-kind counts, and the missing core fields that reveal a changed template."""
    stats.inc_value(f"govcrawl/pages/{page.kind}")
    if page.kind == "article":
        for name in ("title", "body_text", "published_at"):
            if not getattr(page, name):
                stats.inc_value(f"govcrawl/missing/{name}")
        if page.warnings:
            stats.inc_value("govcrawl/extraction_warnings", len(page.warnings))


#: Why a request failed, in words, by the class name of the error Scrapy raised.
FAILURE_WORDS = {
    "CannotResolveHostError": "DNS lookup failed",
    "DNSLookupError": "DNS lookup failed",
    "DownloadConnectionRefusedError": "connection refused",
    "ConnectionRefusedError": "connection refused",
    "DownloadTimeoutError": "timed out",
    "TCPTimedOutError": "timed out",
    "TimeoutError": "timed out",
    "ResponseDataLossError": "response cut short",
    "ResponseNeverReceived": "connection closed without a response",
    "ConnectionLost": "connection lost",
}


def failure_reason(stats_key: str) -> str:
    """A failure stats key's tail in words: `…/503` → 503, `…/<class '….CannotResolveHostError'>`
    → DNS lookup failed; an unknown error → its class name."""
    tail = stats_key.rsplit("/", 1)[-1]
    name = re.sub(r"^<class '(?:[\w.]+\.)?(\w+)'>$", r"\1", tail)
    return FAILURE_WORDS.get(name, name)


def assess(portal_id: str, run_id: int | None, stats: Mapping[str, Any]) -> PortalReport:
    """Judge one portal's run from its stats."""
    report = PortalReport(portal_id, run_id, dict(stats))
    if report.count("list_pages") and not report.count("list_pages_ok"):
        report.problems.append(f"{portal_id} failed entirely: no list page could be read")
    elif not report.count("list_pages") and stats.get("dupefilter/filtered"):
        # Scrapy's duplicate filter dropped the start requests: a JOBDIR kept from a finished
        # run remembers them. Nothing was fetched, and the cause is not the portal.
        report.problems.append(f"{portal_id} failed entirely: no list page was fetched (its "
                               "start requests were dropped as already seen; is a JOBDIR of a "
                               "finished run still given? remove it to crawl again)")
    elif not report.count("list_pages"):
        report.problems.append(f"{portal_id} failed entirely: no list page was fetched "
                               "(robots.txt, DNS or connection failure)")
    robots_failed = [k for k in stats if k.startswith("robotstxt/exception_count/")
                     or (k.startswith("robotstxt/response_status_count/5"))]
    if robots_failed:
        report.problems.append(f"{portal_id} failed entirely: its robots.txt could not be read "
                               f"({failure_reason(robots_failed[0])})")
    articles = report.count("pages/article")
    if articles >= DRIFT_MIN_ARTICLES:
        for name in ("title", "body_text", "published_at"):
            missing = report.count(f"missing/{name}")
            if missing / articles >= DRIFT_SHARE:
                report.problems.append(
                    f"{portal_id}: {missing} of {articles} articles have no {name} "
                    "(the template probably changed)")
    if stats.get("govcrawl/storage_failed"):
        report.problems.append(f"storage failed: {stats['govcrawl/storage_failed']}; items "
                               f"spilled to {stats.get('govcrawl/spill_file')}")
    if stats.get("govcrawl/spill_failed"):
        report.problems.append(f"the spill file could not be written either "
                               f"({stats['govcrawl/spill_failed']}): {report.count('lost')} "
                               "item(s) NOT saved, their URLs are in the log")
    return report


# Close reasons of a run stopped from outside (a signal, the process shutting down).
ABORT_REASONS = frozenset({"shutdown", "cancelled"})


def run_status(portal_id: str, stats: Mapping[str, Any], reason: str, *,
               share: bool = False) -> tuple[str, str | None]:
    """The run row's final status and, unless it finished, why: `failed` when storage failed
    or the portal failed entirely (unless the run is a `share` of a scale-out crawl, judged
    as a whole), `aborted` when it was stopped from outside, else `finished`."""
    if stats.get("govcrawl/storage_failed"):
        return "failed", f"storage failed: {stats['govcrawl/storage_failed']}"
    if reason in ABORT_REASONS:
        return "aborted", f"stopped: {reason}"
    if not share:
        failure = next((p for p in assess(portal_id, None, stats).problems
                        if "failed entirely" in p), None)
        if failure is not None:
            return "failed", failure
    if reason == "finished" or reason.startswith("closespider_"):  # or a limit asked for
        return "finished", None
    return "failed", f"closed: {reason}"


def run_portals(portals: Iterable[Portal], settings: Mapping[str, Any] | None = None,
                spider_args: Mapping[str, Any] | None = None) -> list[PortalReport]:
    """Crawl the portals in one process (one shared reactor) and report on each."""
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings

    from govcrawl.spiders.loader import spider_class_for

    # The package is the project: its settings apply from any directory, scrapy.cfg or not.
    project = Settings()
    project.setmodule("govcrawl.settings", priority="project")
    project.setdict(dict(settings or {}), priority="cmdline")
    process = AsyncCrawlerProcess(project)
    crawlers = []
    for portal in portals:
        crawler = process.create_crawler(spider_class_for(portal))
        crawlers.append((portal, crawler))
        process.crawl(crawler, **dict(spider_args or {}))
    process.start()
    reports = []
    for portal, crawler in crawlers:
        spider = crawler.spider
        reports.append(assess(portal.id, getattr(spider, "run_id", None),
                              crawler.stats.get_stats()))
    return reports


def overall_status(reports: Iterable[PortalReport]) -> int:
    """The worst status among the portals (storage > portal failure > template drift)."""
    statuses = {r.exit_status() for r in reports}
    for status in (EXIT_STORAGE, EXIT_PORTAL_FAILED, EXIT_TEMPLATE):
        if status in statuses:
            return status
    return EXIT_OK
