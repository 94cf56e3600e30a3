"""Run portal spiders in one process and turn their stats into a report and an exit status.

Used by `govcrawl crawl`, `govcrawl demo` and the overridden `scrapy crawl`. Exit statuses a
scheduler can act on (Scrapy's own `crawl` exits 0 even when every request failed):
0 the run worked (nothing new is fine); 1 a portal failed entirely (no list page could be
read); 3 storage failed (items were spilled); 4 a portal's article pages stopped yielding a
title, body or publish time (its template probably changed).
"""

from __future__ import annotations

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


def assess(portal_id: str, run_id: int | None, stats: Mapping[str, Any]) -> PortalReport:
    """Judge one portal's run from its stats."""
    report = PortalReport(portal_id, run_id, dict(stats))
    if report.count("list_pages") and not report.count("list_pages_ok"):
        report.problems.append(f"{portal_id} failed entirely: no list page could be read")
    elif not report.count("list_pages"):
        report.problems.append(f"{portal_id} failed entirely: no list page was fetched "
                               "(robots.txt, DNS or connection failure)")
    robots_failed = [k for k in stats if k.startswith("robotstxt/exception_count/")
                     or (k.startswith("robotstxt/response_status_count/5"))]
    if robots_failed:
        report.problems.append(f"{portal_id} failed entirely: its robots.txt could not be read "
                               f"({robots_failed[0].rsplit('/', 1)[-1]})")
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
    return report


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
