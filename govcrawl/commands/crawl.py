"""`scrapy crawl` with an exit status a scheduler can act on.

Scrapy's own crawl exits 0 even when every request failed. This one judges the run the way
`govcrawl crawl` does (govcrawl.crawl.assess): 1 when the portal failed entirely, 3 when
storage failed, 4 when article pages stopped yielding a title, body or publish time.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from govcrawl.crawl import assess


class Command(ScrapyCrawlCommand):
    def _create_crawler(self, spname):
        self._crawler = super()._create_crawler(spname)
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        self._crawler = None
        super().run(args, opts)
        crawler = self._crawler
        if self.exitcode or crawler is None or crawler.spider is None:
            return
        spider = crawler.spider
        if getattr(spider, "portal", None) is None:
            return  # a hand-written spider: Scrapy's own status
        report = assess(spider.name, getattr(spider, "run_id", None), crawler.stats.get_stats())
        for line in report.lines():
            print(line)
        self.exitcode = report.exit_status()
